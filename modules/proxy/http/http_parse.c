/*
 * http_parse.c -- the HTTP/1.x wire codecs of mod_proxy_http: response head
 * parsing, Content-Length / Transfer-Encoding framing decisions and the
 * chunked transfer coding decoder.
 *
 * Everything here works on bytes handed in by the caller and never does
 * I/O; what to do with a result (502, logging, closing the backend
 * connection) is decided in http_response.c. The parsers are strict on
 * purpose: they face untrusted backends, and a message that two HTTP
 * implementations could frame differently is refused, not repaired.
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "http_parse.h"

/* Largest value an apr_off_t may take (it is 64 bits wide on every
 * platform httpd supports with large files). */
#define OFF_MAX ((apr_off_t)(((apr_uint64_t)1 << 63) - 1))

static const char *const status_names[] = {
    "DONE", "NEED_MORE", "DATA", "HTTP09", "TOO_LONG", "TOO_MANY",
    "BAD_STATUS", "BAD_HEADER", "NO_COLON", "BAD_CHUNK"
};

const char *prx_hp_status_str(prx_hp_status st)
{
    if ((unsigned int)st >= sizeof(status_names) / sizeof(status_names[0])) {
        return "UNKNOWN";
    }
    return status_names[st];
}

/* -- character classes */

/* RFC 9110 tchar: the characters of a token (field names, codings,
 * chunk extension names and unquoted values). */
static const unsigned char tchar_map[256] = {
    /* 0x00-0x1f: controls */
    0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
    /* SP ! " # $ % & ' ( ) * + , - . / */
    0,1,0,1,1,1,1,1, 0,0,1,1,0,1,1,0,
    /* 0-9 : ; < = > ? */
    1,1,1,1,1,1,1,1, 1,1,0,0,0,0,0,0,
    /* @ A-O */
    0,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,
    /* P-Z [ \ ] ^ _ */
    1,1,1,1,1,1,1,1, 1,1,1,0,0,0,1,1,
    /* ` a-o */
    1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,
    /* p-z { | } ~ DEL */
    1,1,1,1,1,1,1,1, 1,1,1,0,1,0,1,0
    /* 0x80-0xff: 0 */
};

/* A table, not a test chain: this runs for every byte of every header
 * name of every response. */
static int is_tchar(unsigned char c)
{
    return tchar_map[c];
}

/* A byte allowed in a field value or reason phrase: HT, SP, VCHAR and
 * obs-text. Every other control character (NUL, CR, LF, DEL...) is not. */
static int is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Whether the `len` bytes at `s` are all field bytes (is_field_char).
 * This runs over every header value of every response, so eight bytes are
 * tested at a time: a word passes when none of its bytes is below 0x20 or
 * is DEL (0x80-0xff, obs-text, are allowed); a word that does not pass,
 * which is rare (HT in a value), is looked at byte by byte. */
static int all_field_chars(const unsigned char *s, apr_size_t len)
{
    const apr_uint64_t ones = APR_UINT64_C(0x0101010101010101);
    const apr_uint64_t highs = APR_UINT64_C(0x8080808080808080);
    apr_size_t i = 0, k;

    for (; i + 8 <= len; i += 8) {
        apr_uint64_t w, del;

        memcpy(&w, s + i, 8);
        del = w ^ (ones * 0x7f);
        /* a byte below 0x20 (with its high bit clear), or a zero byte of
         * w ^ 0x7f...: exact for every byte below 0x80 */
        if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) {
            for (k = i; k < i + 8; k++) {
                if (!is_field_char(s[k])) {
                    return 0;
                }
            }
        }
    }
    for (; i < len; i++) {
        if (!is_field_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* -- header fields */

/*
 * Check one header line `line` of `len` bytes (no terminator) and locate
 * its parts without allocating. On PRX_HP_DONE *name_len is the length of
 * the name and [*val_off, *val_off + *val_len) the trimmed value.
 */
static prx_hp_status field_check(const char *line, apr_size_t len,
                                 apr_size_t *name_len, apr_size_t *val_off,
                                 apr_size_t *val_len)
{
    const unsigned char *s = (const unsigned char *)line;
    apr_size_t n, start, end;
    int name_ok = 1;

    /* A leading SP/HT is obsolete line folding (RFC 9112 5.2): unfolding it
     * ourselves could join lines another parser keeps apart. */
    if (len > 0 && is_ows(s[0])) {
        return PRX_HP_BAD_HEADER;
    }
    /* one pass up to the colon: every byte must be a field byte, and the
     * name a token (which also refuses "Name : value", read as "Name" by
     * some peers) */
    for (n = 0; n < len && s[n] != ':'; n++) {
        if (!tchar_map[s[n]]) {
            if (!is_field_char(s[n])) {
                return PRX_HP_BAD_HEADER;
            }
            name_ok = 0;
        }
    }
    if (!all_field_chars(s + n, len - n)) {
        return PRX_HP_BAD_HEADER;
    }
    if (n == len) {
        return PRX_HP_NO_COLON;
    }
    *name_len = n;
    if (n == 0 || !name_ok) {
        return PRX_HP_BAD_HEADER;
    }
    start = *name_len + 1;
    end = len;
    while (start < end && is_ows(s[start])) {
        start++;
    }
    while (end > start && is_ows(s[end - 1])) {
        end--;
    }
    *val_off = start;
    *val_len = end - start;
    return PRX_HP_DONE;
}

prx_hp_status prx_http_field_parse(apr_pool_t *p, const char *line,
                                   apr_size_t len, prx_http_field *out)
{
    apr_size_t name_len = 0, val_off = 0, val_len = 0;
    prx_hp_status st;

    st = field_check(line, len, &name_len, &val_off, &val_len);
    if (st != PRX_HP_DONE) {
        return st;
    }
    out->name = apr_pstrmemdup(p, line, name_len);
    out->value = apr_pstrmemdup(p, line + val_off, val_len);
    return PRX_HP_DONE;
}

/* -- response head */

/* Head parser states (prx_http_head.state). */
enum {
    HS_PREFIX = 0,  /* first line, still matching "HTTP/" */
    HS_STATUS,      /* rest of the status line */
    HS_FIELDS,      /* header field lines */
    HS_FINISHED     /* a final result is stored in h->result */
};

static const char http_prefix[] = "HTTP/";
#define HTTP_PREFIX_LEN (sizeof(http_prefix) - 1)

void prx_http_head_init(prx_http_head *h, apr_pool_t *pool,
                        apr_size_t max_line, int max_fields,
                        prx_badheader_mode mode)
{
    memset(h, 0, sizeof(*h));
    /* The floors keep the status line and its prefix check inside the
     * buffer whatever a caller passes. */
    if (max_line < 64) {
        max_line = 64;
    }
    if (max_fields < 1) {
        max_fields = 1;
    }
    h->pool = pool;
    h->max_line = max_line;
    h->max_fields = max_fields;
    h->badheader = mode;
    h->reason = "";
    h->fields = apr_array_make(pool, 16, sizeof(prx_http_field));
    h->line = apr_palloc(pool, max_line + 1);
    h->state = HS_PREFIX;
}

static prx_hp_status head_finish(prx_http_head *h, prx_hp_status st)
{
    h->state = HS_FINISHED;
    h->result = st;
    return st;
}

/* "HTTP/d.d ddd" at the start of `s` (the mask of a status line). */
static int looks_like_status(const char *s, apr_size_t len)
{
    return len >= 12 && memcmp(s, http_prefix, HTTP_PREFIX_LEN) == 0
           && apr_isdigit(s[5]) && s[6] == '.' && apr_isdigit(s[7])
           && s[8] == ' ' && apr_isdigit(s[9]) && apr_isdigit(s[10])
           && apr_isdigit(s[11]);
}

/*
 * Parse the complete status line in h->line: "HTTP/1.d SP ddd", then the
 * end of the line, SP + reason, or a reason glued to the code (some
 * backends omit the space; the code is still unambiguous unless a fourth
 * digit follows).
 */
static prx_hp_status head_status_line(prx_http_head *h)
{
    const char *s = h->line;
    apr_size_t len = h->line_len, rpos;

    if (!looks_like_status(s, len) || s[9] == '0') {
        return PRX_HP_BAD_STATUS;
    }
    h->major = s[5] - '0';
    h->minor = s[7] - '0';
    if (h->major != 1) {
        return PRX_HP_BAD_STATUS;
    }
    h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    rpos = 12;
    if (rpos < len) {
        if (apr_isdigit(s[rpos])) {
            return PRX_HP_BAD_STATUS;
        }
        if (s[rpos] == ' ') {
            rpos++;
        }
    }
    if (!all_field_chars((const unsigned char *)s + rpos, len - rpos)) {
        return PRX_HP_BAD_STATUS;
    }
    /* status_line is "ddd reason" (or "ddd" without a reason); the
     * reason is its tail */
    {
        apr_size_t rlen = len - rpos;
        char *sl = apr_palloc(h->pool, 4 + rlen + 1);

        memcpy(sl, s + 9, 3);
        if (rlen) {
            sl[3] = ' ';
            memcpy(sl + 4, s + rpos, rlen);
            sl[4 + rlen] = '\0';
            h->reason = sl + 4;
        }
        else {
            sl[3] = '\0';
            h->reason = sl + 3;
        }
        h->status_line = sl;
    }
    return PRX_HP_DONE;
}

static void head_warn(prx_http_head *h, int bit)
{
    h->warnings |= bit;
    if (h->warn_line == NULL) {
        h->warn_line = apr_pstrmemdup(h->pool, h->line, h->line_len);
    }
}

/*
 * A complete non-empty header line is in h->line. @return PRX_HP_NEED_MORE
 * to go on with the next line, PRX_HP_DONE when the line ended the head
 * (StartBody), or an error.
 */
static prx_hp_status head_field_line(prx_http_head *h)
{
    apr_size_t name_len = 0, val_off = 0, val_len = 0;
    prx_http_field *f;
    prx_hp_status st;

    st = field_check(h->line, h->line_len, &name_len, &val_off, &val_len);
    if (st == PRX_HP_BAD_HEADER) {
        return st;
    }
    if (st == PRX_HP_NO_COLON) {
        /* spec http.md 6.2: a repeated status line is dropped whatever
         * the ProxyBadHeader policy says */
        if (looks_like_status(h->line, h->line_len)) {
            head_warn(h, PRX_HPW_STRAY_STATUS);
            return PRX_HP_NEED_MORE;
        }
        switch (h->badheader) {
        case PRX_BADHDR_IGNORE:
            head_warn(h, PRX_HPW_DROPPED_LINE);
            return PRX_HP_NEED_MORE;
        case PRX_BADHDR_STARTBODY:
            if (h->fields->nelts == 0) {
                head_warn(h, PRX_HPW_NO_HEADERS);
                return PRX_HP_DONE;
            }
            head_warn(h, PRX_HPW_STARTED_BODY);
            h->body_prefix = apr_pstrcat(h->pool,
                                         apr_pstrmemdup(h->pool, h->line,
                                                        h->line_len),
                                         "\r\n", NULL);
            h->body_prefix_len = h->line_len + 2;
            return PRX_HP_DONE;
        default:
            return PRX_HP_NO_COLON;
        }
    }
    if (h->fields->nelts >= h->max_fields) {
        return PRX_HP_TOO_MANY;
    }
    f = apr_array_push(h->fields);
    {
        /* one copy of the line holds both strings */
        char *copy = apr_pstrmemdup(h->pool, h->line, val_off + val_len);
        copy[name_len] = '\0';
        f->name = copy;
        f->value = copy + val_off;
    }
    return PRX_HP_NEED_MORE;
}

/* A line terminator was read: act on the line in h->line. */
static prx_hp_status head_end_of_line(prx_http_head *h)
{
    prx_hp_status st;

    h->line[h->line_len] = '\0';
    switch (h->state) {
    case HS_PREFIX:
        /* Only reached for an empty line: anything else leaves
         * HS_PREFIX or is HTTP/0.9 before its terminator. */
        h->empty_lines++;
        h->warnings |= PRX_HPW_LEADING_EMPTY;
        return PRX_HP_NEED_MORE;
    case HS_STATUS:
        st = head_status_line(h);
        if (st != PRX_HP_DONE) {
            return st;
        }
        h->state = HS_FIELDS;
        h->line_len = 0;
        return PRX_HP_NEED_MORE;
    default:
        if (h->line_len == 0) {
            return PRX_HP_DONE;
        }
        st = head_field_line(h);
        h->line_len = 0;
        return st;
    }
}

/* Length of the run of bytes at `s` that are neither CR, LF nor NUL:
 * three library scans (vectorised in libc) cost less than a test of every
 * byte against three values. */
static apr_size_t plain_run(const char *s, apr_size_t len)
{
    const char *lf = memchr(s, '\n', len), *cr;
    apr_size_t n = lf ? (apr_size_t)(lf - s) : len;

    cr = memchr(s, '\r', n);
    if (cr) {
        n = (apr_size_t)(cr - s);
    }
    return strnlen(s, n);
}

prx_hp_status prx_http_head_parse(prx_http_head *h, const char *buf,
                                  apr_size_t len, apr_size_t *consumed)
{
    apr_size_t i;
    prx_hp_status st;

    *consumed = 0;
    if (h->state == HS_FINISHED) {
        return h->result;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if (h->saw_cr) {
            if (c != '\n') {
                *consumed = i;
                return head_finish(h, PRX_HP_BAD_HEADER);
            }
            h->saw_cr = 0;
        }
        else if (h->state == HS_PREFIX
                 && !(h->line_len == 0 && h->empty_lines == 0
                      && (c == '\r' || c == '\n'))) {
            /* Decide HTTP/0.9 as soon as a byte differs from "HTTP/": what
             * was read so far becomes the start of the body. Only the
             * very first line may instead be a (tolerated) empty one. */
            if (c != (unsigned char)http_prefix[h->line_len]) {
                *consumed = i;
                h->body_prefix = apr_pstrmemdup(h->pool, h->line,
                                                h->line_len);
                h->body_prefix_len = h->line_len;
                return head_finish(h, PRX_HP_HTTP09);
            }
            h->line[h->line_len++] = (char)c;
            if (h->line_len == HTTP_PREFIX_LEN) {
                h->state = HS_STATUS;
            }
            continue;
        }
        else if (c == '\r') {
            h->saw_cr = 1;
            continue;
        }
        else if (c != '\n') {
            apr_size_t run = plain_run(buf + i, len - i);
            if (run > 1) {
                /* the bytes up to the next CR, LF or NUL go in at once
                 * (the same as one by one, only cheaper) */
                if (h->line_len + run > h->max_line) {
                    *consumed = i + (h->max_line - h->line_len);
                    return head_finish(h, PRX_HP_TOO_LONG);
                }
                memcpy(h->line + h->line_len, buf + i, run);
                h->line_len += run;
                i += run - 1;
                continue;
            }
            if (c == '\0') {
                *consumed = i;
                return head_finish(h, PRX_HP_BAD_HEADER);
            }
            if (h->line_len >= h->max_line) {
                *consumed = i;
                return head_finish(h, PRX_HP_TOO_LONG);
            }
            h->line[h->line_len++] = (char)c;
            continue;
        }
        st = head_end_of_line(h);
        if (st != PRX_HP_NEED_MORE) {
            *consumed = i + 1;
            return head_finish(h, st);
        }
    }
    *consumed = len;
    return PRX_HP_NEED_MORE;
}

/* -- framing */

/*
 * Call `fn` for each non-empty, OWS-trimmed element of the comma lists in
 * the `const char *` array `a`. Stops at the first non-zero return.
 * @return the number of elements seen, or -1 when `fn` failed.
 */
typedef int (*list_fn)(const char *elt, apr_size_t len, void *baton);

static int for_each_element(const apr_array_header_t *a, int keep_empty,
                            list_fn fn, void *baton)
{
    int i, count = 0;

    for (i = 0; i < a->nelts; i++) {
        const char *v = APR_ARRAY_IDX(a, i, const char *);
        const char *end;

        if (v == NULL) {
            v = "";
        }
        for (;;) {
            const char *b, *e;

            end = strchr(v, ',');
            if (end == NULL) {
                end = v + strlen(v);
            }
            b = v;
            e = end;
            while (b < e && is_ows((unsigned char)*b)) {
                b++;
            }
            while (e > b && is_ows((unsigned char)e[-1])) {
                e--;
            }
            if (b < e || keep_empty) {
                if (fn(b, (apr_size_t)(e - b), baton)) {
                    return -1;
                }
                count++;
            }
            if (*end == '\0') {
                break;
            }
            v = end + 1;
        }
    }
    return count;
}

static int te_element(const char *elt, apr_size_t len, void *baton)
{
    int *chunked = baton;

    if (len == 7 && strncasecmp(elt, "chunked", 7) == 0) {
        *chunked = 1;
        return 0;
    }
    return 1;
}

typedef struct {
    apr_off_t value;
    int seen;
} cl_state;

static int cl_element(const char *elt, apr_size_t len, void *baton)
{
    cl_state *cs = baton;
    apr_off_t v = 0;
    apr_size_t i;

    if (len == 0) {
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (!apr_isdigit(elt[i])) {
            return 1;
        }
        if (v > (OFF_MAX - (elt[i] - '0')) / 10) {
            return 1;
        }
        v = v * 10 + (elt[i] - '0');
    }
    if (cs->seen && v != cs->value) {
        return 1;
    }
    cs->seen = 1;
    cs->value = v;
    return 0;
}

prx_frame_kind prx_http_framing(const apr_array_header_t *te,
                                const apr_array_header_t *cl, int response,
                                apr_off_t *length)
{
    int has_te = te != NULL && te->nelts > 0;
    int has_cl = cl != NULL && cl->nelts > 0;

    if (length) {
        *length = 0;
    }
    /* RFC 9112 6.3: both together is the classic smuggling vector; a
     * proxy must not pick one. */
    if (has_te && has_cl) {
        return PRX_FRAME_ERROR;
    }
    if (has_te) {
        int chunked = 0;

        /* "chunked, chunked" or "gzip, chunked" would need decoding we do
         * not do; exactly one chunked is the only framing we relay. */
        if (for_each_element(te, 0, te_element, &chunked) != 1) {
            return PRX_FRAME_ERROR;
        }
        return PRX_FRAME_CHUNKED;
    }
    if (has_cl) {
        cl_state cs = { 0, 0 };

        if (for_each_element(cl, 1, cl_element, &cs) < 1) {
            return PRX_FRAME_ERROR;
        }
        if (length) {
            *length = cs.value;
        }
        return PRX_FRAME_LENGTH;
    }
    return response ? PRX_FRAME_CLOSE : PRX_FRAME_NONE;
}

/* -- chunked transfer coding */

/* Decoder states (prx_chunked.state). The size line grammar (RFC 9112
 * 7.1.1) is  size [BWS] *( ";" BWS name [BWS "=" BWS value] BWS ) CRLF
 * where value is a token or a quoted-string; whitespace between the size
 * and the line end is tolerated as BWS. */
enum {
    CS_SIZE_START = 0, /* first hex digit */
    CS_SIZE,           /* further hex digits */
    CS_EXT_BWS,        /* whitespace before ';' or the line end */
    CS_EXT_NAME_START, /* after ';' */
    CS_EXT_NAME,
    CS_EXT_AFTER_NAME, /* whitespace after a name */
    CS_EXT_VAL_START,  /* after '=' */
    CS_EXT_VAL_TOKEN,
    CS_EXT_QUOTED,
    CS_EXT_QUOTED_ESC,
    CS_SIZE_LF,        /* CR of the size line read */
    CS_DATA,
    CS_DATA_END,       /* CRLF after the chunk data */
    CS_DATA_LF,
    CS_TRAILER,        /* trailer lines, or the final empty line */
    CS_TRAILER_LF,
    CS_FINISHED        /* c->result holds the final result */
};

#define CHUNK_MAX_DIGITS 16

void prx_chunked_init(prx_chunked *c, apr_size_t max_line,
                      apr_size_t max_trailers)
{
    memset(c, 0, sizeof(*c));
    c->max_line = max_line < 16 ? 16 : max_line;
    c->max_trailers = max_trailers;
    c->state = CS_SIZE_START;
}

static prx_hp_status chunk_finish(prx_chunked *c, prx_hp_status st)
{
    c->state = CS_FINISHED;
    c->result = st;
    return st;
}

/*
 * One byte of a chunk-size line other than its CR/LF terminator.
 * @return PRX_HP_NEED_MORE to go on, or PRX_HP_BAD_CHUNK.
 */
static prx_hp_status chunk_size_byte(prx_chunked *c, unsigned char ch)
{
    int hv;

    switch (c->state) {
    case CS_SIZE_START:
        hv = hex_value(ch);
        if (hv < 0) {
            return PRX_HP_BAD_CHUNK;
        }
        c->remaining = hv;
        c->digits = 1;
        c->state = CS_SIZE;
        return PRX_HP_NEED_MORE;
    case CS_SIZE:
        hv = hex_value(ch);
        if (hv >= 0) {
            /* 16 hex digits already reach 2^64: stop there, and refuse
             * values an apr_off_t cannot hold. */
            if (++c->digits > CHUNK_MAX_DIGITS
                || c->remaining > (OFF_MAX >> 4)) {
                return PRX_HP_BAD_CHUNK;
            }
            c->remaining = (c->remaining << 4) | hv;
            return PRX_HP_NEED_MORE;
        }
        if (is_ows(ch)) {
            c->state = CS_EXT_BWS;
            return PRX_HP_NEED_MORE;
        }
        break;
    case CS_EXT_BWS:
        if (is_ows(ch)) {
            return PRX_HP_NEED_MORE;
        }
        break;
    case CS_EXT_NAME_START:
        if (is_ows(ch)) {
            return PRX_HP_NEED_MORE;
        }
        if (is_tchar(ch)) {
            c->state = CS_EXT_NAME;
            return PRX_HP_NEED_MORE;
        }
        return PRX_HP_BAD_CHUNK;
    case CS_EXT_NAME:
    case CS_EXT_AFTER_NAME:
        if (c->state == CS_EXT_NAME && is_tchar(ch)) {
            return PRX_HP_NEED_MORE;
        }
        if (is_ows(ch)) {
            c->state = CS_EXT_AFTER_NAME;
            return PRX_HP_NEED_MORE;
        }
        if (ch == '=') {
            c->state = CS_EXT_VAL_START;
            return PRX_HP_NEED_MORE;
        }
        break;
    case CS_EXT_VAL_START:
        if (is_ows(ch)) {
            return PRX_HP_NEED_MORE;
        }
        if (ch == '"') {
            c->state = CS_EXT_QUOTED;
            return PRX_HP_NEED_MORE;
        }
        if (is_tchar(ch)) {
            c->state = CS_EXT_VAL_TOKEN;
            return PRX_HP_NEED_MORE;
        }
        return PRX_HP_BAD_CHUNK;
    case CS_EXT_VAL_TOKEN:
        if (is_tchar(ch)) {
            return PRX_HP_NEED_MORE;
        }
        if (is_ows(ch)) {
            c->state = CS_EXT_BWS;
            return PRX_HP_NEED_MORE;
        }
        break;
    case CS_EXT_QUOTED:
        if (ch == '"') {
            c->state = CS_EXT_BWS;
            return PRX_HP_NEED_MORE;
        }
        if (ch == '\\') {
            c->state = CS_EXT_QUOTED_ESC;
            return PRX_HP_NEED_MORE;
        }
        return is_field_char(ch) ? PRX_HP_NEED_MORE : PRX_HP_BAD_CHUNK;
    case CS_EXT_QUOTED_ESC:
        c->state = CS_EXT_QUOTED;
        return is_field_char(ch) ? PRX_HP_NEED_MORE : PRX_HP_BAD_CHUNK;
    default:
        return PRX_HP_BAD_CHUNK;
    }
    /* The states that break out of the switch may start an extension. */
    if (ch == ';') {
        c->state = CS_EXT_NAME_START;
        return PRX_HP_NEED_MORE;
    }
    return PRX_HP_BAD_CHUNK;
}

/* Can the size line end in the current state? Not after ';', '=' or
 * inside a quoted string, and not before the first digit. */
static int chunk_size_line_may_end(const prx_chunked *c)
{
    return c->state == CS_SIZE || c->state == CS_EXT_BWS
           || c->state == CS_EXT_NAME || c->state == CS_EXT_AFTER_NAME
           || c->state == CS_EXT_VAL_TOKEN;
}

/* The size line is complete: go to the data, or to the trailers after
 * the last chunk. */
static void chunk_size_line_done(prx_chunked *c)
{
    c->line_len = 0;
    c->digits = 0;
    c->state = c->remaining > 0 ? CS_DATA : CS_TRAILER;
}

/*
 * A complete trailer line of c->tline_len bytes is in c->tline.
 * @return PRX_HP_NEED_MORE, PRX_HP_DONE (empty line), or an error.
 */
static prx_hp_status chunk_trailer_line(prx_chunked *c)
{
    apr_size_t name_len, val_off, val_len, len = c->tline_len;

    if (len == 0) {
        return PRX_HP_DONE;
    }
    /* Each line is counted with a two-byte terminator whatever it really
     * ended with, so the bound does not depend on the peer's line ends. */
    c->trailer_total += 2;
    if (c->trailer_total > c->max_trailers) {
        return PRX_HP_TOO_LONG;
    }
    c->tline[len] = '\0';
    c->tline_len = 0;
    if (field_check(c->tline, len, &name_len, &val_off, &val_len)
        != PRX_HP_DONE) {
        return PRX_HP_BAD_CHUNK;
    }
    if (c->trailer && c->trailer(c->baton, c->tline, len) != 0) {
        return PRX_HP_BAD_CHUNK;
    }
    return PRX_HP_NEED_MORE;
}

prx_hp_status prx_chunked_decode(prx_chunked *c, const char *in,
                                 apr_size_t in_len, apr_size_t *consumed,
                                 const char **data, apr_size_t *data_len)
{
    apr_size_t i = 0;
    prx_hp_status st;

    *consumed = 0;
    *data = NULL;
    *data_len = 0;
    if (c->state == CS_FINISHED) {
        return c->result;
    }
    while (i < in_len) {
        unsigned char ch = (unsigned char)in[i];

        switch (c->state) {
        case CS_DATA: {
            apr_size_t n = in_len - i;

            if ((apr_uint64_t)n > (apr_uint64_t)c->remaining) {
                n = (apr_size_t)c->remaining;
            }
            c->remaining -= (apr_off_t)n;
            if (c->remaining == 0) {
                c->state = CS_DATA_END;
            }
            *data = in + i;
            *data_len = n;
            *consumed = i + n;
            return PRX_HP_DATA;
        }
        case CS_DATA_END:
            if (ch == '\r') {
                c->state = CS_DATA_LF;
            }
            else if (ch == '\n') {
                c->state = CS_SIZE_START;
            }
            else {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            break;
        case CS_DATA_LF:
            if (ch != '\n') {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            c->state = CS_SIZE_START;
            break;
        case CS_SIZE_LF:
            if (ch != '\n') {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            chunk_size_line_done(c);
            break;
        case CS_TRAILER:
            if (ch == '\r') {
                c->state = CS_TRAILER_LF;
                break;
            }
            if (ch == '\n') {
                st = chunk_trailer_line(c);
                if (st != PRX_HP_NEED_MORE) {
                    *consumed = i + 1;
                    return chunk_finish(c, st);
                }
                break;
            }
            if (!is_field_char(ch)) {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            if (c->tline_len >= sizeof(c->tline) - 1
                || ++c->trailer_total > c->max_trailers) {
                *consumed = i;
                return chunk_finish(c, PRX_HP_TOO_LONG);
            }
            c->tline[c->tline_len++] = (char)ch;
            break;
        case CS_TRAILER_LF:
            if (ch != '\n') {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            c->state = CS_TRAILER;
            st = chunk_trailer_line(c);
            if (st != PRX_HP_NEED_MORE) {
                *consumed = i + 1;
                return chunk_finish(c, st);
            }
            break;
        default:
            /* the chunk-size line */
            if (ch == '\r' || ch == '\n') {
                if (!chunk_size_line_may_end(c)) {
                    *consumed = i;
                    return chunk_finish(c, PRX_HP_BAD_CHUNK);
                }
                if (ch == '\r') {
                    c->state = CS_SIZE_LF;
                }
                else {
                    chunk_size_line_done(c);
                }
                break;
            }
            if (++c->line_len > c->max_line) {
                *consumed = i;
                return chunk_finish(c, PRX_HP_TOO_LONG);
            }
            if (chunk_size_byte(c, ch) != PRX_HP_NEED_MORE) {
                *consumed = i;
                return chunk_finish(c, PRX_HP_BAD_CHUNK);
            }
            break;
        }
        i++;
    }
    *consumed = in_len;
    return PRX_HP_NEED_MORE;
}
