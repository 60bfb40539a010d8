/*
 * test_chunked.c -- unit tests of the chunked transfer coding decoder of
 * modules/proxy/http/http_parse.c (RFC 9112 7.1, strict variant).
 *
 * Every case is fed whole, byte by byte (with empty feeds in between), at
 * every split point and, for short inputs, at every pair of split points.
 * Each feed must decode the same body and trailers, stop at the same
 * offset and return data spans that lie inside the piece being fed.
 */
#include "unit.h"
#include "http_parse.h"

#define S(lit) lit, sizeof(lit) - 1
#define ANY (-1)

typedef struct {
    const char *name;
    const char *in;
    apr_size_t len;
    apr_size_t max_line;      /* 0: 64 */
    apr_size_t max_trailers;  /* 0: 4096; (apr_size_t)-1 means 0 */
    prx_hp_status st;
    long stop;                /* offset where decoding ended, ANY */
    const char *body;         /* NULL: do not check */
    const char *trailers;     /* "line|" each, NULL: do not check */
} chunk_case;

#define NO_TRAILERS ((apr_size_t)-1)

static const chunk_case cases[] = {
    /* -- well-formed -- */
    { "one chunk", S("5\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_DONE, 15,
      "hello", "" },
    { "stops after the last CRLF", S("5\r\nhello\r\n0\r\n\r\nEXTRA"), 0, 0,
      PRX_HP_DONE, 15, "hello", "" },
    { "no data at all", S("0\r\n\r\n"), 0, 0, PRX_HP_DONE, 5, "", "" },
    { "two chunks, both hex cases",
      S("a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "0123456789abcdefghijk", "" },
    { "bare LF everywhere", S("5\nhello\n0\n\n"), 0, 0, PRX_HP_DONE, 11,
      "hello", "" },
    { "mixed line ends", S("5\r\nhello\n3\nabc\r\n0\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "helloabc", "" },
    { "CRLF inside data is data", S("4\r\n\r\n\r\n\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "\r\n\r\n", "" },
    { "binary data", S("3\r\n\0\xff\r\r\n0\r\n\r\n"), 0, 0, PRX_HP_DONE,
      ANY, NULL, "" },
    { "leading zeros", S("0005\r\nhello\r\n000\r\n\r\n"), 0, 0, PRX_HP_DONE,
      ANY, "hello", "" },
    { "16 digits", S("0000000000000005\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "hello", "" },
    { "largest size", S("7fffffffffffffff\r\nabc"), 0, 0, PRX_HP_NEED_MORE,
      21, "abc", NULL },
    { "extension", S("5;foo=bar\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_DONE,
      ANY, "hello", "" },
    { "extensions with BWS",
      S("5 ; foo = bar ;baz\t;q\r\nhello\r\n0 ;x\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "hello", "" },
    { "quoted extension",
      S("5;foo=\"a b;\\\"c\\\\\" ;n=\"\"\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "hello", "" },
    { "quoted extension with obs-text", S("5;x=\"\xe9\"\r\nhello\r\n0\r\n\r\n"),
      0, 0, PRX_HP_DONE, ANY, "hello", "" },
    { "token characters in extensions", S("1;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~"
                                          "\r\nx\r\n0\r\n\r\n"),
      0, 0, PRX_HP_DONE, ANY, "x", "" },
    { "whitespace after the size", S("5 \t\r\nhello\r\n0\t\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "hello", "" },
    { "trailers", S("5\r\nhello\r\n0\r\nX-T: 1\r\nY:2\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "hello", "X-T: 1|Y:2|" },
    { "trailer with obs-text and HT", S("0\r\nX: a\tb\x80\r\n\r\n"), 0, 0,
      PRX_HP_DONE, ANY, "", "X: a\tb\x80|" },

    /* -- incomplete -- */
    { "empty input", S(""), 0, 0, PRX_HP_NEED_MORE, 0, "", NULL },
    { "inside data", S("5\r\nhel"), 0, 0, PRX_HP_NEED_MORE, 6, "hel", NULL },
    { "before last CRLF", S("5\r\nhello\r\n0\r\n"), 0, 0, PRX_HP_NEED_MORE,
      13, "hello", NULL },
    { "inside a trailer", S("0\r\nX: y"), 0, 0, PRX_HP_NEED_MORE, 7, "",
      NULL },

    /* -- chunk sizes -- */
    { "empty size", S("\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 0,
      NULL, NULL },
    { "empty size before extension", S(";x\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 0,
      NULL, NULL },
    { "leading space", S(" 5\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 0, NULL, NULL },
    { "plus sign", S("+5\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 0,
      NULL, NULL },
    { "minus sign", S("-5\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 0,
      NULL, NULL },
    { "0x prefix", S("0x5\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 1,
      NULL, NULL },
    { "17 digits", S("00000000000000005\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 16, NULL, NULL },
    { "2^63 overflows", S("8000000000000000\r\n"), 0, 0, PRX_HP_BAD_CHUNK,
      15, NULL, NULL },
    { "2^64-1 overflows", S("ffffffffffffffff\r\n"), 0, 0, PRX_HP_BAD_CHUNK,
      15, NULL, NULL },
    { "not hex", S("g\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 0, NULL, NULL },
    { "hex then junk", S("5g\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 1, NULL, NULL },
    { "junk after whitespace", S("5 x\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 2, NULL, NULL },
    { "NUL in size line", S("5\0\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 1, NULL, NULL },
    { "bare CR after size", S("5\rhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 2, NULL, NULL },
    { "CR CR LF after size", S("5\r\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 2, NULL, NULL },
    { "size line exactly max_line (16)", S("5;aaaaaaaaaaaaaa\r\nhello\r\n"
                                           "0\r\n\r\n"),
      16, 0, PRX_HP_DONE, ANY, "hello", "" },
    { "size line one past max_line", S("5;aaaaaaaaaaaaaaa\r\nhello\r\n"
                                       "0\r\n\r\n"),
      16, 0, PRX_HP_TOO_LONG, 16, NULL, NULL },
    { "long whitespace past max_line", S("5                \r\n"), 16, 0,
      PRX_HP_TOO_LONG, 16, NULL, NULL },

    /* -- extensions -- */
    { "semicolon alone", S("5;\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 2, NULL, NULL },
    { "semicolon and space", S("5; \r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 3, NULL, NULL },
    { "no name", S("5;=x\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK,
      2, NULL, NULL },
    { "no value", S("5;a=\r\nhello\r\n0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK,
      4, NULL, NULL },
    { "separator as value", S("5;a= @\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 5, NULL, NULL },
    { "unterminated quote", S("5;a=\"x\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 6, NULL, NULL },
    { "escaped line end in quote", S("5;a=\"x\\\r\nhello\r\n0\r\n\r\n"),
      0, 0, PRX_HP_BAD_CHUNK, 7, NULL, NULL },
    { "two tokens as value", S("5;a=b c\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 6, NULL, NULL },
    { "two tokens as name", S("5;a b\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 4, NULL, NULL },
    { "control in quoted value", S("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), 0,
      0, PRX_HP_BAD_CHUNK, 5, NULL, NULL },
    { "DEL in token value", S("5;a=x\x7f\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 5, NULL, NULL },
    { "separator in name", S("5;a@b\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 3, NULL, NULL },
    { "junk after quoted value", S("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 7, NULL, NULL },
    { "bare CR in extension", S("5;a\rb\r\nhello\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 4, NULL, NULL },

    /* -- after the data -- */
    { "junk instead of CRLF", S("5\r\nhelloX\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 8, "hello", NULL },
    { "next size instead of CRLF", S("5\r\nhello0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 8, "hello", NULL },
    { "bare CR after data", S("5\r\nhello\rX0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 9, "hello", NULL },
    { "CR CR after data", S("5\r\nhello\r\r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 9, "hello", NULL },
    { "space after data", S("5\r\nhello \r\n0\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 8, "hello", NULL },

    /* -- trailers -- */
    { "obs-fold in trailers", S("0\r\nA: 1\r\n b\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 13, NULL, NULL },
    { "trailer without colon", S("0\r\nbogus\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 10, NULL, NULL },
    { "space before colon in trailer", S("0\r\nA : b\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 10, NULL, NULL },
    { "bad trailer name", S("0\r\nA(b): c\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, ANY, NULL, NULL },
    { "bare CR in trailer", S("0\r\nA: b\rc\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 8, NULL, NULL },
    { "bare CR as last line", S("0\r\n\rX"), 0, 0, PRX_HP_BAD_CHUNK, 4,
      NULL, NULL },
    { "NUL in trailer", S("0\r\nA: \0\r\n\r\n"), 0, 0, PRX_HP_BAD_CHUNK, 6,
      NULL, NULL },
    { "control in trailer", S("0\r\nA: \x01\r\n\r\n"), 0, 0,
      PRX_HP_BAD_CHUNK, 6, NULL, NULL },
    { "trailers exactly max_trailers (10)", S("0\r\nA: 12345\r\n\r\n"), 0,
      10, PRX_HP_DONE, ANY, "", "A: 12345|" },
    { "trailers one past max_trailers", S("0\r\nA: 123456\r\n\r\n"), 0, 10,
      PRX_HP_TOO_LONG, 14, NULL, NULL },
    { "two trailers over max_trailers", S("0\r\nA: 1\r\nB: 2\r\n\r\n"), 0,
      10, PRX_HP_TOO_LONG, 15, NULL, NULL },
    { "max_trailers 0, no trailers", S("0\r\n\r\n"), 0, NO_TRAILERS,
      PRX_HP_DONE, 5, "", "" },
    { "max_trailers 0, one trailer", S("0\r\nA: b\r\n\r\n"), 0, NO_TRAILERS,
      PRX_HP_TOO_LONG, 3, NULL, NULL },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

typedef struct {
    apr_pool_t *p;
    const char *lines;
    int fail;                 /* make the callback refuse */
} trailer_acc;

static int on_trailer(void *baton, const char *line, apr_size_t len)
{
    trailer_acc *acc = baton;

    if (line[len] != '\0' || strlen(line) != len) {
        acc->lines = apr_pstrcat(acc->p, acc->lines, "<bad terminator>",
                                 NULL);
    }
    acc->lines = apr_pstrcat(acc->p, acc->lines,
                             apr_pstrmemdup(acc->p, line, len), "|", NULL);
    return acc->fail;
}

typedef struct {
    prx_hp_status st;
    apr_size_t stop;
    const char *body;
    apr_size_t body_len;
    const char *desc;
} chunk_result;

/*
 * Decode `in` fed in pieces cut at `cuts` (sorted; pieces may be empty),
 * checking the contract of every call on the way.
 */
static void decode(apr_pool_t *p, const char *name, const char *in,
                   apr_size_t len, apr_size_t max_line, apr_size_t max_tr,
                   int fail_trailer, const apr_size_t *cuts, int ncuts,
                   chunk_result *r)
{
    prx_chunked c;
    trailer_acc acc = { p, "", fail_trailer };
    char *body = apr_palloc(p, len + 1);
    apr_size_t blen = 0, start = 0, end, pos, consumed, dlen;
    prx_hp_status st = PRX_HP_NEED_MORE;
    const char *data;
    int k, done = 0;

    prx_chunked_init(&c, max_line, max_tr);
    c.trailer = on_trailer;
    c.baton = &acc;
    r->stop = 0;
    for (k = 0; k <= ncuts && !done; k++) {
        end = k < ncuts ? cuts[k] : len;
        pos = start;
        do {
            char *piece = unit_piece(in + pos, end - pos);

            consumed = (apr_size_t)-1;
            st = prx_chunked_decode(&c, piece, end - pos, &consumed,
                                    &data, &dlen);
            if (consumed > end - pos) {
                CHECK(0, "%s: consumed %lu of %lu", name,
                      (unsigned long)consumed, (unsigned long)(end - pos));
                consumed = end - pos;
            }
            if (st == PRX_HP_DATA) {
                if (!CHECK(dlen > 0 && data >= piece
                           && data + dlen <= piece + consumed,
                           "%s: data span outside the consumed input",
                           name)) {
                    free(piece);
                    done = 1;
                    break;
                }
                memcpy(body + blen, data, dlen);
                blen += dlen;
            }
            else if (st == PRX_HP_NEED_MORE) {
                if (consumed != end - pos) {
                    CHECK(0, "%s: NEED_MORE with input left", name);
                }
            }
            else {
                done = 1;
            }
            free(piece);
            pos += consumed;
        } while (!done && st == PRX_HP_DATA && pos < end);
        r->stop = pos;
        start = end;
    }
    /* an input ending exactly after data is still incomplete */
    if (st == PRX_HP_DATA) {
        st = PRX_HP_NEED_MORE;
    }
    r->st = st;
    r->body = body;
    r->body_len = blen;
    r->desc = apr_psprintf(p, "%s@%lu body=[%s] tr=[%s]",
                           prx_hp_status_str(st), (unsigned long)r->stop,
                           unit_esc(p, body, blen),
                           unit_esc(p, acc.lines, strlen(acc.lines)));
    if (st != PRX_HP_NEED_MORE) {
        /* finished: the same answer again, nothing consumed */
        prx_hp_status again = prx_chunked_decode(&c, "0\r\n\r\n", 5,
                                                 &consumed, &data, &dlen);

        if (again != st || consumed != 0) {
            r->desc = apr_pstrcat(p, r->desc, " not-sticky", NULL);
        }
    }
    if (st == PRX_HP_DONE || st == PRX_HP_NEED_MORE) {
        r->desc = apr_pstrcat(p, r->desc, " tr=", acc.lines, NULL);
    }
}

static apr_size_t case_max_tr(const chunk_case *tc)
{
    if (tc->max_trailers == NO_TRAILERS) {
        return 0;
    }
    return tc->max_trailers ? tc->max_trailers : 4096;
}

static void check_case(apr_pool_t *parent, const chunk_case *tc)
{
    apr_pool_t *p;
    apr_size_t ml = tc->max_line ? tc->max_line : 64, mt = case_max_tr(tc);
    apr_size_t i, j, *cuts;
    chunk_result whole, r;
    const char *wdesc;
    long runs = 0, bad = 0;
    int ok = 1;

    apr_pool_create(&p, parent);
    decode(parent, tc->name, tc->in, tc->len, ml, mt, 0, NULL, 0, &whole);
    wdesc = whole.desc;
    ok &= CHECK(whole.st == tc->st, "%s: result %s (want %s)", tc->name,
                prx_hp_status_str(whole.st), prx_hp_status_str(tc->st));
    if (tc->stop != ANY) {
        ok &= CHECK(whole.stop == (apr_size_t)tc->stop,
                    "%s: stops at %lu (want %ld)", tc->name,
                    (unsigned long)whole.stop, tc->stop);
    }
    if (tc->body) {
        ok &= CHECK(whole.body_len == strlen(tc->body)
                    && memcmp(whole.body, tc->body, whole.body_len) == 0,
                    "%s: body [%s]", tc->name,
                    unit_esc(p, whole.body, whole.body_len));
    }
    if (tc->trailers) {
        ok &= CHECK(strstr(wdesc, apr_pstrcat(p, " tr=", tc->trailers,
                                              NULL)) != NULL,
                    "%s: trailers in %s", tc->name, wdesc);
    }
    ok &= CHECK(strstr(wdesc, "not-sticky") == NULL, "%s: sticky result",
                tc->name);
    CHECK(ok, "%s: whole feed", tc->name);

    cuts = apr_palloc(parent, sizeof(*cuts) * (2 * tc->len + 1));
    for (i = 0; i < tc->len; i++) {
        cuts[2 * i] = i;
        cuts[2 * i + 1] = i + 1;
    }
    decode(p, tc->name, tc->in, tc->len, ml, mt, 0, cuts, (int)(2 * tc->len),
           &r);
    CHECK(strcmp(r.desc, wdesc) == 0, "%s: byte by byte gives %s", tc->name,
          r.desc);

    UNIT_QUIET_BEGIN();
    for (i = 0; i <= tc->len; i++) {
        apr_size_t two[2];

        two[0] = i;
        apr_pool_clear(p);
        decode(p, tc->name, tc->in, tc->len, ml, mt, 0, two, 1, &r);
        runs++;
        if (!CHECK(strcmp(r.desc, wdesc) == 0, "%s: split at %lu gives %s",
                   tc->name, (unsigned long)i, r.desc)) {
            bad++;
        }
        if (tc->len > 80) {
            continue;
        }
        for (j = i; j <= tc->len; j++) {
            two[1] = j;
            apr_pool_clear(p);
            decode(p, tc->name, tc->in, tc->len, ml, mt, 0, two, 2, &r);
            runs++;
            if (!CHECK(strcmp(r.desc, wdesc) == 0,
                       "%s: split at %lu+%lu gives %s", tc->name,
                       (unsigned long)i, (unsigned long)j, r.desc)) {
                bad++;
            }
        }
    }
    UNIT_QUIET_END();
    CHECK(bad == 0, "%s: %ld split feeds agree with the whole feed",
          tc->name, runs);
    apr_pool_destroy(p);
}

/* init raises a size-line limit below the documented floor */
static void test_floor(void)
{
    prx_chunked c;
    apr_size_t consumed, dlen;
    const char *data;

    prx_chunked_init(&c, 0, 0);
    CHECK(c.max_line == 16 && c.trailer == NULL,
          "init: max_line floor 16, no callback");
    CHECK(prx_chunked_decode(&c, S("0000000000000001;\r\n"), &consumed,
                             &data, &dlen) == PRX_HP_TOO_LONG
          && consumed == 16, "init: the floor is the limit");
}

/* a trailer callback's refusal ends decoding */
static void test_trailer_refused(apr_pool_t *p)
{
    chunk_result r;

    decode(p, "refused", S("0\r\nA: b\r\n\r\n"), 64, 4096, 1, NULL, 0, &r);
    CHECK(r.st == PRX_HP_BAD_CHUNK && r.stop == 9,
          "trailer callback refusal gives BAD_CHUNK (%s)", r.desc);
}

/* no callback: trailers are checked and dropped */
static void test_no_callback(void)
{
    prx_chunked c;
    apr_size_t consumed, dlen;
    const char *data;

    prx_chunked_init(&c, 64, 4096);
    CHECK(prx_chunked_decode(&c, S("0\r\nA: b\r\n\r\n"), &consumed, &data,
                             &dlen) == PRX_HP_DONE && consumed == 11,
          "no callback: valid trailer dropped");
    prx_chunked_init(&c, 64, 4096);
    CHECK(prx_chunked_decode(&c, S("0\r\nA b\r\n\r\n"), &consumed, &data,
                             &dlen) == PRX_HP_BAD_CHUNK,
          "no callback: invalid trailer still refused");
}

/* the trailer line buffer bound: sizeof(tline) - 1 bytes */
static void test_long_trailer(apr_pool_t *p)
{
    prx_chunked probe;
    apr_size_t max = sizeof(probe.tline) - 1;
    char *in = apr_palloc(p, max + 16), *d;
    chunk_result r;

    d = in;
    memcpy(d, "0\r\nX: ", 6);
    d += 6;
    memset(d, 'v', max - 3);
    d += max - 3;
    memcpy(d, "\r\n\r\n", 4);
    d += 4;
    decode(p, "long trailer", in, (apr_size_t)(d - in), 64, 1 << 20, 0,
           NULL, 0, &r);
    CHECK(r.st == PRX_HP_DONE, "trailer line of exactly %lu bytes (%s)",
          (unsigned long)max, prx_hp_status_str(r.st));

    d = in + 6;
    memset(d, 'v', max - 2);
    d += max - 2;
    memcpy(d, "\r\n\r\n", 4);
    d += 4;
    decode(p, "too long trailer", in, (apr_size_t)(d - in), 64, 1 << 20, 0,
           NULL, 0, &r);
    CHECK(r.st == PRX_HP_TOO_LONG && r.stop == 3 + max,
          "trailer line of %lu bytes is too long (%s)", (unsigned long)max + 1,
          r.desc);
}

/* a big chunk is returned in spans as the input arrives, never buffered */
static void test_big_chunk(apr_pool_t *p)
{
    apr_size_t n = 100000, total = 0, consumed, dlen, pos;
    char *in = apr_palloc(p, n + 32);
    int hl = sprintf(in, "%lx\r\n", (unsigned long)n), spans = 0, ok = 1;
    prx_chunked c;
    const char *data;
    prx_hp_status st = PRX_HP_NEED_MORE;

    memset(in + hl, 'z', n);
    memcpy(in + hl + n, "\r\n0\r\n\r\n", 7);
    prx_chunked_init(&c, 64, 0);
    for (pos = 0; pos < hl + n + 7; pos += 4096) {
        apr_size_t end = pos + 4096 > hl + n + 7 ? hl + n + 7 : pos + 4096;
        apr_size_t at = pos;

        while (at < end) {
            st = prx_chunked_decode(&c, in + at, end - at, &consumed, &data,
                                    &dlen);
            if (st == PRX_HP_DATA) {
                ok &= data + dlen <= in + end;
                total += dlen;
                spans++;
            }
            at += consumed;
            if (st != PRX_HP_DATA && st != PRX_HP_NEED_MORE) {
                break;
            }
        }
    }
    CHECK(ok && st == PRX_HP_DONE && total == n && spans == 25,
          "100000-byte chunk in 4 KiB reads: %d spans, %lu bytes, %s", spans,
          (unsigned long)total, prx_hp_status_str(st));
}

int main(void)
{
    apr_pool_t *p = unit_init();
    apr_size_t i;

    for (i = 0; i < NCASES; i++) {
        apr_pool_t *cp;

        apr_pool_create(&cp, p);
        check_case(cp, &cases[i]);
        apr_pool_destroy(cp);
    }
    test_floor();
    test_trailer_refused(p);
    test_no_callback();
    test_long_trailer(p);
    test_big_chunk(p);
    return unit_done(p);
}
