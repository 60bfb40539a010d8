/*
 * fuzz_http_head.c -- libFuzzer target for the response head parser.
 *
 * Input: 4 control bytes (ProxyBadHeader mode and line limit, field
 * limit, two bytes seeding the split points) then the bytes of a response.
 * The head is parsed whole, in pseudo-random pieces and (when short) byte
 * by byte; all three must agree, and every result must obey the rules the
 * parser promises (token names, no controls in values, bounds). An
 * accepted head written out again must parse to the same result.
 */
#include "fuzz_common.h"
#include "http_parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    return 0;
}

typedef struct {
    prx_hp_status st;
    size_t stop;
    const char *desc;
} head_run;

static int is_token(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c)) {
            return 0;
        }
    }
    return 1;
}

static int clean_value(const char *s)
{
    size_t n = strlen(s);

    if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' '
              || s[n - 1] == '\t')) {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* The promises of a finished parse, whatever way it was fed. */
static void check_result(const prx_http_head *h, prx_hp_status st,
                         size_t stop, size_t len)
{
    int i;

    FUZZ_ASSERT(stop <= len);
    FUZZ_ASSERT(h->line_len <= h->max_line);
    if (st == PRX_HP_NEED_MORE) {
        FUZZ_ASSERT(stop == len);
    }
    if (st == PRX_HP_HTTP09) {
        FUZZ_ASSERT(h->body_prefix != NULL && h->body_prefix_len < 5);
    }
    if (st != PRX_HP_DONE) {
        return;
    }
    FUZZ_ASSERT(h->major == 1 && h->minor >= 0 && h->minor <= 9);
    FUZZ_ASSERT(h->status >= 100 && h->status <= 999);
    FUZZ_ASSERT(h->reason && h->status_line);
    FUZZ_ASSERT(strlen(h->status_line) >= 3);
    FUZZ_ASSERT(h->fields->nelts <= h->max_fields);
    for (i = 0; i < h->fields->nelts; i++) {
        const prx_http_field *f = &APR_ARRAY_IDX(h->fields, i,
                                                 prx_http_field);

        FUZZ_ASSERT(is_token(f->name));
        FUZZ_ASSERT(clean_value(f->value));
        FUZZ_ASSERT(strlen(f->name) + strlen(f->value) < h->max_line);
    }
    if (h->warnings & PRX_HPW_STARTED_BODY) {
        FUZZ_ASSERT(h->body_prefix_len >= 3
                    && memcmp(h->body_prefix + h->body_prefix_len - 2, "\r\n",
                              2) == 0);
    }
}

static void roundtrip(apr_pool_t *p, const prx_http_head *h);

/*
 * Feed `len` bytes in pieces: `piece` 0 means all at once, otherwise
 * pieces of 1..piece bytes drawn from `seed` (with some empty feeds).
 */
static void run(apr_pool_t *p, const char *in, size_t len, size_t max_line,
                int max_fields, prx_badheader_mode mode, uint32_t seed,
                size_t piece, head_run *r)
{
    prx_http_head h;
    prx_hp_status st = PRX_HP_NEED_MORE;
    size_t pos = 0;
    apr_size_t consumed;
    const char *desc;
    int i;

    prx_http_head_init(&h, p, max_line, max_fields, mode);
    for (;;) {
        size_t n = len - pos;
        char *copy;

        if (piece && n > 0) {
            size_t want = fuzz_next(&seed) % (piece + 1);

            n = want < n ? want : n;
        }
        copy = piece ? fuzz_piece(in + pos, n) : NULL;
        consumed = (apr_size_t)-1;
        st = prx_http_head_parse(&h, copy ? copy : in + pos, n, &consumed);
        free(copy);
        FUZZ_ASSERT(consumed <= n);
        pos += consumed;
        if (st != PRX_HP_NEED_MORE) {
            break;
        }
        FUZZ_ASSERT(consumed == n);
        if (pos == len && (piece == 0 || n == 0)) {
            break;
        }
    }
    check_result(&h, st, pos, len);
    if (st != PRX_HP_NEED_MORE) {
        apr_size_t c2 = 1;

        FUZZ_ASSERT(prx_http_head_parse(&h, "x", 1, &c2) == st && c2 == 0);
    }
    desc = apr_psprintf(p, "%d@%lu w=%x bp=%lu", (int)st, (unsigned long)pos,
                        h.warnings, (unsigned long)h.body_prefix_len);
    if (h.body_prefix) {
        desc = apr_pstrcat(p, desc, apr_pstrmemdup(p, h.body_prefix,
                                                   h.body_prefix_len), NULL);
    }
    if (st == PRX_HP_DONE && piece == 0) {
        roundtrip(p, &h);
    }
    if (st == PRX_HP_DONE) {
        desc = apr_psprintf(p, "%s %d.%d %s|%s", desc, h.major, h.minor,
                            h.status_line, h.reason);
        for (i = 0; i < h.fields->nelts; i++) {
            const prx_http_field *f = &APR_ARRAY_IDX(h.fields, i,
                                                     prx_http_field);

            desc = apr_pstrcat(p, desc, "\n", f->name, ":", f->value, NULL);
        }
    }
    r->st = st;
    r->stop = pos;
    r->desc = desc;
}

/*
 * A head the parser accepted, written out again in canonical form, must
 * parse to the same status and fields.
 */
static void roundtrip(apr_pool_t *p, const prx_http_head *h)
{
    prx_http_head h2;
    const char *out;
    apr_size_t consumed;
    int i;

    out = apr_psprintf(p, "HTTP/%d.%d %s\r\n", h->major, h->minor,
                       h->status_line);
    for (i = 0; i < h->fields->nelts; i++) {
        const prx_http_field *f = &APR_ARRAY_IDX(h->fields, i,
                                                 prx_http_field);

        out = apr_pstrcat(p, out, f->name, ": ", f->value, "\r\n", NULL);
    }
    out = apr_pstrcat(p, out, "\r\n", NULL);
    prx_http_head_init(&h2, p, h->max_line + 2, h->max_fields,
                       PRX_BADHDR_ISERROR);
    FUZZ_ASSERT(prx_http_head_parse(&h2, out, strlen(out), &consumed)
                == PRX_HP_DONE);
    FUZZ_ASSERT(consumed == strlen(out));
    FUZZ_ASSERT(h2.status == h->status && h2.minor == h->minor);
    FUZZ_ASSERT(strcmp(h2.reason, h->reason) == 0);
    FUZZ_ASSERT(h2.fields->nelts == h->fields->nelts);
    for (i = 0; i < h->fields->nelts; i++) {
        const prx_http_field *a = &APR_ARRAY_IDX(h->fields, i,
                                                 prx_http_field);
        const prx_http_field *b = &APR_ARRAY_IDX(h2.fields, i,
                                                 prx_http_field);

        FUZZ_ASSERT(strcmp(a->name, b->name) == 0
                    && strcmp(a->value, b->value) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    head_run whole, split, bytes;
    prx_badheader_mode mode;
    size_t max_line;
    int max_fields;
    uint32_t seed;
    const char *in;
    size_t len;

    if (size < 4) {
        return 0;
    }
    mode = (prx_badheader_mode)(data[0] % 3);
    max_line = 64 + (size_t)(data[0] / 3) * 4;
    max_fields = 1 + data[1] % 32;
    seed = (uint32_t)data[2] << 8 | data[3];
    in = (const char *)data + 4;
    len = size - 4;

    apr_pool_create(&p, fuzz_pool);
    run(p, in, len, max_line, max_fields, mode, 0, 0, &whole);
    run(p, in, len, max_line, max_fields, mode, seed, 1 + seed % 17, &split);
    if (whole.st != split.st || whole.stop != split.stop
        || strcmp(whole.desc, split.desc) != 0) {
        fprintf(stderr, "whole: %s\nsplit: %s\n", whole.desc, split.desc);
        abort();
    }
    if (len <= 4096) {
        run(p, in, len, max_line, max_fields, mode, seed, 1, &bytes);
        FUZZ_ASSERT(strcmp(whole.desc, bytes.desc) == 0);
    }
    apr_pool_destroy(p);
    return 0;
}
