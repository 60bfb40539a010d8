/*
 * fuzz_chunked.c -- libFuzzer target for the chunked transfer coding
 * decoder.
 *
 * Input: 4 control bytes (size-line limit, trailer limit, two bytes seeding
 * the split points) then the chunked body. It is decoded whole, in
 * pseudo-random pieces and (when short) byte by byte: the three must give
 * the same data, trailers, result and end offset; every data span must lie
 * inside the bytes just consumed. A complete decode is re-encoded in
 * canonical form and must decode to the same data again.
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
    apr_pool_t *p;
    const char *lines;
    size_t count;
} trailers;

static int on_trailer(void *baton, const char *line, apr_size_t len)
{
    trailers *t = baton;

    FUZZ_ASSERT(len > 0 && line[len] == '\0' && strlen(line) == len);
    FUZZ_ASSERT(line[0] != ' ' && line[0] != '\t' && memchr(line, ':', len));
    t->lines = apr_pstrcat(t->p, t->lines, line, "\n", NULL);
    t->count++;
    return 0;
}

typedef struct {
    prx_hp_status st;
    size_t stop;
    char *body;
    size_t body_len;
    const char *trailers;
} chunk_run;

static void run(apr_pool_t *p, const char *in, size_t len, size_t max_line,
                size_t max_tr, uint32_t seed, size_t piece, chunk_run *r)
{
    prx_chunked c;
    trailers t = { p, "", 0 };
    prx_hp_status st = PRX_HP_NEED_MORE;
    size_t pos = 0, end = 0;
    apr_size_t consumed, dlen;
    const char *d;

    r->body = apr_palloc(p, len + 1);
    r->body_len = 0;
    prx_chunked_init(&c, max_line, max_tr);
    c.trailer = on_trailer;
    c.baton = &t;
    for (;;) {
        const char *base;
        char *copy;

        if (pos == end) {
            size_t n = len - pos;

            if (piece && n > 0) {
                size_t want = fuzz_next(&seed) % (piece + 1);

                n = want < n ? want : n;
            }
            end = pos + n;
        }
        copy = piece ? fuzz_piece(in + pos, end - pos) : NULL;
        base = copy ? copy : in + pos;
        consumed = (apr_size_t)-1;
        st = prx_chunked_decode(&c, base, end - pos, &consumed, &d, &dlen);
        FUZZ_ASSERT(consumed <= end - pos);
        if (st == PRX_HP_DATA) {
            FUZZ_ASSERT(dlen > 0 && d >= base && d + dlen == base + consumed);
            memcpy(r->body + r->body_len, d, dlen);
            r->body_len += dlen;
        }
        else {
            FUZZ_ASSERT(d == NULL && dlen == 0);
        }
        free(copy);
        pos += consumed;
        if (st != PRX_HP_DATA && st != PRX_HP_NEED_MORE) {
            break;
        }
        if (st == PRX_HP_NEED_MORE) {
            FUZZ_ASSERT(pos == end);
            if (pos == len) {
                break;
            }
        }
        else if (pos == len && pos == end) {
            break;
        }
    }
    if (st != PRX_HP_NEED_MORE && st != PRX_HP_DATA) {
        FUZZ_ASSERT(prx_chunked_decode(&c, "0\r\n\r\n", 5, &consumed, &d,
                                       &dlen) == st && consumed == 0);
    }
    FUZZ_ASSERT(r->body_len <= len && pos <= len);
    r->st = st == PRX_HP_DATA ? PRX_HP_NEED_MORE : st;
    r->stop = pos;
    r->trailers = t.lines;
}

/* Canonical re-encoding of a decoded body, decoded again. */
static void roundtrip(apr_pool_t *p, const chunk_run *r, uint32_t seed)
{
    size_t cap = r->body_len * 8 + 64, o = 0, at = 0;
    char *enc = apr_palloc(p, cap);
    chunk_run again;

    while (at < r->body_len) {
        size_t n = 1 + fuzz_next(&seed) % 300;

        if (n > r->body_len - at) {
            n = r->body_len - at;
        }
        o += (size_t)sprintf(enc + o, "%lx\r\n", (unsigned long)n);
        memcpy(enc + o, r->body + at, n);
        o += n;
        memcpy(enc + o, "\r\n", 2);
        o += 2;
        at += n;
    }
    memcpy(enc + o, "0\r\n\r\n", 5);
    o += 5;
    FUZZ_ASSERT(o <= cap);
    run(p, enc, o, 64, 0, seed, 0, &again);
    FUZZ_ASSERT(again.st == PRX_HP_DONE && again.stop == o);
    FUZZ_ASSERT(again.body_len == r->body_len
                && memcmp(again.body, r->body, r->body_len) == 0);
}

static void same(const chunk_run *a, const chunk_run *b)
{
    if (a->st != b->st || a->stop != b->stop || a->body_len != b->body_len
        || memcmp(a->body, b->body, a->body_len) != 0
        || strcmp(a->trailers, b->trailers) != 0) {
        fprintf(stderr, "whole: st=%d stop=%lu body=%lu\n"
                "split: st=%d stop=%lu body=%lu\n", (int)a->st,
                (unsigned long)a->stop, (unsigned long)a->body_len,
                (int)b->st, (unsigned long)b->stop,
                (unsigned long)b->body_len);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    chunk_run whole, split, bytes;
    size_t max_line, max_tr, len;
    uint32_t seed;
    const char *in;

    if (size < 4) {
        return 0;
    }
    max_line = 16 + data[0] % 64;
    max_tr = (size_t)data[1] * 8;
    seed = (uint32_t)data[2] << 8 | data[3];
    in = (const char *)data + 4;
    len = size - 4;

    apr_pool_create(&p, fuzz_pool);
    run(p, in, len, max_line, max_tr, 0, 0, &whole);
    run(p, in, len, max_line, max_tr, seed, 1 + seed % 23, &split);
    same(&whole, &split);
    if (len <= 4096) {
        run(p, in, len, max_line, max_tr, seed, 1, &bytes);
        same(&whole, &bytes);
    }
    if (whole.st == PRX_HP_DONE) {
        roundtrip(p, &whole, seed);
    }
    apr_pool_destroy(p);
    return 0;
}
