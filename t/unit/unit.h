/*
 * unit.h -- the few macros our C unit tests share: numbered TAP-style
 * "ok N - text" / "not ok N - text" lines, a plan line at the end, and an
 * exit status that is non-zero when any check failed (automake's TESTS
 * only looks at that).
 *
 * Header-only on purpose: each test is one .c file plus the protocol file
 * it exercises, nothing to link.
 */
#ifndef PRX_UNIT_H
#define PRX_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

static int unit_count;
static int unit_failures;
/* Passing checks inside loops would print thousands of lines; only their
 * failures are shown, their total is reported at the end. */
static int unit_quiet;
static long unit_quiet_passes;

__attribute__((format(printf, 4, 5), unused))
static int unit_check(int ok, const char *file, int line,
                      const char *fmt, ...)
{
    va_list ap;

    if (ok && unit_quiet) {
        unit_quiet_passes++;
        return 1;
    }
    unit_count++;
    printf("%s %d - ", ok ? "ok" : "not ok", unit_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) {
        unit_failures++;
        printf(" # at %s:%d", file, line);
    }
    printf("\n");
    return ok;
}

/** CHECK(cond, printf-format, ...): one numbered check. */
#define CHECK(cond, ...) \
    unit_check((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/** Checks between UNIT_QUIET_BEGIN and UNIT_QUIET_END print only failures. */
#define UNIT_QUIET_BEGIN() (unit_quiet++)
#define UNIT_QUIET_END()   (unit_quiet--)

/** A pool for one test program; apr_initialize() is done here. */
__attribute__((unused))
static apr_pool_t *unit_init(void)
{
    apr_pool_t *p = NULL;

    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        printf("Bail out! APR initialisation failed\n");
        exit(2);
    }
    return p;
}

/** `len` bytes of `s` made printable (controls, '\\' and bytes >= 0x7f as
 *  \\xNN), for messages; allocated from `p`. */
__attribute__((unused))
static const char *unit_esc(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *o = apr_palloc(p, 4 * len + 1), *d = o;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c >= 0x7f || c == '\\') {
            d += sprintf(d, "\\x%02x", c);
        }
        else {
            *d++ = (char)c;
        }
    }
    *d = '\0';
    return o;
}

/** A heap copy of exactly `n` bytes of `s` (free() it): handed to a
 *  parser, any read past `n` is caught by ASan or valgrind, which a slice
 *  of a larger buffer would hide. */
__attribute__((unused))
static char *unit_piece(const char *s, apr_size_t n)
{
    char *b = malloc(n);

    if (b == NULL && n > 0) {
        printf("Bail out! out of memory\n");
        exit(2);
    }
    if (n > 0) {
        memcpy(b, s, n);
    }
    return b;
}

/** Print the plan and the summary; @return the exit status for main(). */
__attribute__((unused))
static int unit_done(apr_pool_t *p)
{
    printf("1..%d\n", unit_count);
    printf("# %d checks, %d failed, %ld further silent passes\n",
           unit_count, unit_failures, unit_quiet_passes);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_failures ? 1 : 0;
}

#endif /* PRX_UNIT_H */
