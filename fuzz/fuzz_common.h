/*
 * fuzz_common.h -- what our libFuzzer targets share: one APR pool for the
 * process, a tiny deterministic generator that turns input bytes into
 * split points, and an abort-on-failure assertion that stays on in
 * optimised builds.
 */
#ifndef PRX_FUZZ_COMMON_H
#define PRX_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

/* Invariant violations must crash so that libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
                    __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *fuzz_pool;

__attribute__((unused))
static void fuzz_apr_init(void)
{
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&fuzz_pool, NULL) != APR_SUCCESS) {
        abort();
    }
}

/* xorshift32: split points must be reproducible from the input alone */
__attribute__((unused))
static uint32_t fuzz_next(uint32_t *state)
{
    uint32_t x = *state ? *state : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* A heap copy of exactly `n` bytes (free() it): a piece handed to a
 * parser this way makes ASan catch any read past its length, which a slice
 * of the whole input would hide. */
__attribute__((unused))
static char *fuzz_piece(const char *s, size_t n)
{
    char *b = malloc(n);

    if (b == NULL && n > 0) {
        abort();
    }
    if (n > 0) {
        memcpy(b, s, n);
    }
    return b;
}

#endif /* PRX_FUZZ_COMMON_H */
