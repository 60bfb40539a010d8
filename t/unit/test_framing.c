/*
 * test_framing.c -- unit tests of prx_http_framing() (message body framing
 * from Transfer-Encoding and Content-Length; RFC 9112 6.3 with the strict
 * choices documented in http_parse.h).
 */
#include "unit.h"
#include "http_parse.h"

#define MAXV 4

typedef struct {
    const char *name;
    const char *te[MAXV];     /* NULL-terminated; all NULL: no header */
    const char *cl[MAXV];
    int response;
    prx_frame_kind want;
    apr_off_t length;         /* checked for PRX_FRAME_LENGTH */
} frame_case;

static const frame_case cases[] = {
    /* -- no framing headers -- */
    { "response without framing reads until close", { NULL }, { NULL }, 1,
      PRX_FRAME_CLOSE, 0 },
    { "request without framing has no body", { NULL }, { NULL }, 0,
      PRX_FRAME_NONE, 0 },

    /* -- Content-Length -- */
    { "plain length", { NULL }, { "42" }, 1, PRX_FRAME_LENGTH, 42 },
    { "zero length", { NULL }, { "0" }, 1, PRX_FRAME_LENGTH, 0 },
    { "request length", { NULL }, { "7" }, 0, PRX_FRAME_LENGTH, 7 },
    { "surrounding whitespace", { NULL }, { " \t12 \t" }, 1, PRX_FRAME_LENGTH,
      12 },
    { "leading zeros", { NULL }, { "007" }, 1, PRX_FRAME_LENGTH, 7 },
    { "largest value 2^63-1", { NULL }, { "9223372036854775807" }, 1,
      PRX_FRAME_LENGTH, APR_INT64_C(9223372036854775807) },
    { "2^63 overflows", { NULL }, { "9223372036854775808" }, 1,
      PRX_FRAME_ERROR, 0 },
    { "far past 2^64", { NULL }, { "184467440737095516160" }, 1,
      PRX_FRAME_ERROR, 0 },
    { "many leading zeros still fit", { NULL },
      { "0000000000000000000000000000009223372036854775807" }, 1,
      PRX_FRAME_LENGTH, APR_INT64_C(9223372036854775807) },
    { "same value in a list", { NULL }, { "5, 5,5" }, 1, PRX_FRAME_LENGTH,
      5 },
    { "same value in two headers", { NULL }, { "5", "5" }, 1,
      PRX_FRAME_LENGTH, 5 },
    { "same number spelt differently", { NULL }, { "5", "05" }, 1,
      PRX_FRAME_LENGTH, 5 },
    { "different values in a list", { NULL }, { "5, 6" }, 1,
      PRX_FRAME_ERROR, 0 },
    { "different values in two headers", { NULL }, { "5", "6" }, 1,
      PRX_FRAME_ERROR, 0 },
    { "plus sign", { NULL }, { "+5" }, 1, PRX_FRAME_ERROR, 0 },
    { "minus sign", { NULL }, { "-1" }, 1, PRX_FRAME_ERROR, 0 },
    { "empty value", { NULL }, { "" }, 1, PRX_FRAME_ERROR, 0 },
    { "blank value", { NULL }, { "  " }, 1, PRX_FRAME_ERROR, 0 },
    { "empty list element", { NULL }, { "5," }, 1, PRX_FRAME_ERROR, 0 },
    { "empty leading element", { NULL }, { ",5" }, 1, PRX_FRAME_ERROR, 0 },
    { "hex", { NULL }, { "0x10" }, 1, PRX_FRAME_ERROR, 0 },
    { "trailing garbage", { NULL }, { "5a" }, 1, PRX_FRAME_ERROR, 0 },
    { "inner space", { NULL }, { "1 2" }, 1, PRX_FRAME_ERROR, 0 },
    { "decimal point", { NULL }, { "5.0" }, 1, PRX_FRAME_ERROR, 0 },
    { "one good, one bad", { NULL }, { "5", "x" }, 1, PRX_FRAME_ERROR, 0 },

    /* -- Transfer-Encoding -- */
    { "chunked", { "chunked" }, { NULL }, 1, PRX_FRAME_CHUNKED, 0 },
    { "chunked in a request", { "chunked" }, { NULL }, 0, PRX_FRAME_CHUNKED,
      0 },
    { "case-insensitive", { "ChUnKeD" }, { NULL }, 1, PRX_FRAME_CHUNKED, 0 },
    { "whitespace around", { " \tchunked\t " }, { NULL }, 1,
      PRX_FRAME_CHUNKED, 0 },
    { "empty elements ignored", { ", ,chunked,," }, { NULL }, 1,
      PRX_FRAME_CHUNKED, 0 },
    { "empty header then chunked", { "", "chunked" }, { NULL }, 1,
      PRX_FRAME_CHUNKED, 0 },
    { "chunked twice in a list", { "chunked, chunked" }, { NULL }, 1,
      PRX_FRAME_ERROR, 0 },
    { "chunked twice in two headers", { "chunked", "chunked" }, { NULL }, 1,
      PRX_FRAME_ERROR, 0 },
    { "gzip then chunked", { "gzip, chunked" }, { NULL }, 1,
      PRX_FRAME_ERROR, 0 },
    { "chunked then gzip", { "chunked", "gzip" }, { NULL }, 1,
      PRX_FRAME_ERROR, 0 },
    { "identity", { "identity" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "gzip only", { "gzip" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "chunked with a parameter", { "chunked;q=1" }, { NULL }, 1,
      PRX_FRAME_ERROR, 0 },
    { "near miss", { "chunke" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "chunked with junk", { "chunkedx" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "quoted", { "\"chunked\"" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "vertical tab", { "\vchunked" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "empty value", { "" }, { NULL }, 1, PRX_FRAME_ERROR, 0 },
    { "only commas", { " , ," }, { NULL }, 1, PRX_FRAME_ERROR, 0 },

    /* -- both: never pick one -- */
    { "TE and CL", { "chunked" }, { "5" }, 1, PRX_FRAME_ERROR, 0 },
    { "TE and CL in a request", { "chunked" }, { "5" }, 0, PRX_FRAME_ERROR,
      0 },
    { "TE and empty CL", { "chunked" }, { "" }, 1, PRX_FRAME_ERROR, 0 },
    { "bad TE and CL", { "gzip" }, { "5" }, 1, PRX_FRAME_ERROR, 0 },
};

static apr_array_header_t *make_list(apr_pool_t *p, const char *const *v)
{
    apr_array_header_t *a = apr_array_make(p, 1, sizeof(const char *));
    int i;

    for (i = 0; i < MAXV && v[i]; i++) {
        APR_ARRAY_PUSH(a, const char *) = v[i];
    }
    return a;
}

static void test_cases(apr_pool_t *p)
{
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const frame_case *tc = &cases[i];
        apr_off_t len = -1;
        prx_frame_kind k;

        k = prx_http_framing(make_list(p, tc->te), make_list(p, tc->cl),
                             tc->response, &len);
        if (tc->want == PRX_FRAME_LENGTH) {
            CHECK(k == tc->want && len == tc->length,
                  "%s: kind %d length %" APR_OFF_T_FMT, tc->name, (int)k,
                  len);
        }
        else {
            CHECK(k == tc->want, "%s: kind %d (want %d)", tc->name, (int)k,
                  (int)tc->want);
        }
    }
}

/* NULL arrays mean "no such header"; a NULL length pointer is allowed */
static void test_nulls(apr_pool_t *p)
{
    static const char *const five[] = { "5", NULL };
    static const char *const chunked[] = { "chunked", NULL };
    apr_array_header_t *cl = make_list(p, five);
    apr_array_header_t *te = make_list(p, chunked);
    apr_array_header_t *holes = apr_array_make(p, 2, sizeof(const char *));
    apr_off_t len = -1;

    CHECK(prx_http_framing(NULL, NULL, 1, &len) == PRX_FRAME_CLOSE,
          "NULL lists, response");
    CHECK(prx_http_framing(NULL, NULL, 0, NULL) == PRX_FRAME_NONE,
          "NULL lists, request, NULL length");
    CHECK(prx_http_framing(NULL, cl, 1, &len) == PRX_FRAME_LENGTH && len == 5,
          "NULL TE with CL");
    CHECK(prx_http_framing(te, NULL, 1, NULL) == PRX_FRAME_CHUNKED,
          "TE with NULL CL");
    CHECK(prx_http_framing(NULL, cl, 1, NULL) == PRX_FRAME_LENGTH,
          "CL with NULL length pointer");
    len = 99;
    prx_http_framing(te, NULL, 1, &len);
    CHECK(len == 0, "length is zeroed for other framings");
    /* a NULL element counts as an empty value */
    APR_ARRAY_PUSH(holes, const char *) = NULL;
    CHECK(prx_http_framing(NULL, holes, 1, &len) == PRX_FRAME_ERROR,
          "NULL Content-Length element is invalid");
    APR_ARRAY_PUSH(holes, const char *) = "chunked";
    CHECK(prx_http_framing(holes, NULL, 1, &len) == PRX_FRAME_CHUNKED,
          "NULL Transfer-Encoding element is an empty one");
}

int main(void)
{
    apr_pool_t *p = unit_init();

    test_cases(p);
    test_nulls(p);
    return unit_done(p);
}
