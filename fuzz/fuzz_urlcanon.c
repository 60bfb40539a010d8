/*
 * fuzz_urlcanon.c -- libFuzzer target for the HTTP-family URL
 * canonicaliser.
 *
 * Input: 1 control byte (scheme, path mode, whether a query is given) then
 * "rest-of-URL" and, after the first NUL, the query string. Checks: only
 * 0/400/403 come back; a result never holds a control character or a
 * space; it re-canonicalises to itself; its netloc parses back to the same
 * host and port.
 */
#include "fuzz_common.h"
#include "proxy_urlcanon.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_apr_init();
    return 0;
}

static const struct {
    const char *name;
    apr_port_t port;
} schemes[] = {
    { "http", 80 }, { "HTTPS", 443 }, { "ws", 80 }, { "wsS", 443 },
    { "ftp", 21 }, /* index 4: must be refused */
    { "http", 8080 }
};

/* The mode that must reproduce a result of `mode` unchanged. */
static prx_canon_mode again_mode(prx_canon_mode mode)
{
    switch (mode) {
    case PRX_CANON_ENCODE:
    case PRX_CANON_ENCODE_KEEP_ESCAPES:
        /* the result holds only kept characters and valid escapes */
        return PRX_CANON_ENCODE_KEEP_ESCAPES;
    default:
        return mode;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *rest, *query = NULL, *scheme, *after, *u;
    char *buf, *out = NULL, *out2 = NULL, *host = NULL, *host2 = NULL;
    prx_canon_mode mode;
    apr_port_t def_port, port = 0, port2 = 0;
    size_t si, len, i;
    int rv, rv2;

    if (size < 1) {
        return 0;
    }
    si = (data[0] & 0x07) % (sizeof(schemes) / sizeof(schemes[0]));
    mode = (prx_canon_mode)((data[0] >> 3) % 6);
    scheme = schemes[si].name;
    def_port = schemes[si].port;

    apr_pool_create(&p, fuzz_pool);
    len = size - 1;
    buf = apr_pstrmemdup(p, (const char *)data + 1, len);
    rest = buf;
    if (strlen(buf) < len && (data[0] & 0x40)) {
        query = buf + strlen(buf) + 1;
    }

    rv = prx_urlcanon_http(p, scheme, rest, def_port, mode, query, &out);
    FUZZ_ASSERT(rv == 0 || rv == 400 || rv == 403);
    if (rv != 0) {
        apr_pool_destroy(p);
        return 0;
    }
    FUZZ_ASSERT(mode <= PRX_CANON_FORWARD && si != 4);
    FUZZ_ASSERT(prx_urlcanon_check_ctl(out) == 0);
    after = strchr(out, ':');
    FUZZ_ASSERT(after && after[1] == '/' && after[2] == '/');
    for (i = 0; out + i < after; i++) {
        FUZZ_ASSERT(out[i] >= 'a' && out[i] <= 'z');
    }

    /* the netloc of the result names the same host and port */
    u = rest;
    FUZZ_ASSERT(prx_urlcanon_netloc(p, &u, &host, &port, def_port) == 0);
    u = after + 1;
    FUZZ_ASSERT(prx_urlcanon_netloc(p, &u, &host2, &port2, def_port) == 0);
    FUZZ_ASSERT(strcmp(host, host2) == 0 && port == port2);
    for (i = 0; host[i]; i++) {
        FUZZ_ASSERT(!(host[i] >= 'A' && host[i] <= 'Z'));
    }
    FUZZ_ASSERT(*u == '/');

    /* canonical is a fixed point (a query appended would be re-encoded as
     * path, so only results without one are re-run) */
    if (query == NULL || mode == PRX_CANON_RAW || mode == PRX_CANON_FORWARD) {
        rv2 = prx_urlcanon_http(p, scheme, after + 1, def_port,
                                again_mode(mode), NULL, &out2);
        FUZZ_ASSERT(rv2 == 0 && strcmp(out, out2) == 0);
    }
    apr_pool_destroy(p);
    return 0;
}
