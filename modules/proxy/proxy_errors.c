/*
 * proxy_errors.c -- how the proxy fails: the one table mapping each class
 * of backend failure to the status the client gets, and the proxy's own
 * error response (spec core.md §15, http.md §12).
 *
 * Logging is the caller's: it knows the worker, the address and the tag.
 */
#include "proxy_private.h"

static const struct {
    prx_fail fail;
    int status;
    const char *name;
} fail_table[] = {
    { PRX_FAIL_NONE,          0,                              "none" },
    { PRX_FAIL_DNS,           HTTP_INTERNAL_SERVER_ERROR,     "dns" },
    { PRX_FAIL_CONNECT,       HTTP_SERVICE_UNAVAILABLE,       "connect" },
    { PRX_FAIL_UNAVAILABLE,   HTTP_SERVICE_UNAVAILABLE,       "unavailable" },
    { PRX_FAIL_ACQUIRE,       HTTP_SERVICE_UNAVAILABLE,       "acquire" },
    { PRX_FAIL_PING,          HTTP_SERVICE_UNAVAILABLE,       "ping" },
    { PRX_FAIL_WRITE,         HTTP_BAD_GATEWAY,               "write" },
    { PRX_FAIL_WRITE_TIMEOUT, HTTP_GATEWAY_TIME_OUT,          "write-timeout" },
    { PRX_FAIL_READ,          HTTP_BAD_GATEWAY,               "read" },
    { PRX_FAIL_TIMEOUT,       HTTP_BAD_GATEWAY,               "timeout" },
    { PRX_FAIL_BAD_HEAD,      HTTP_BAD_GATEWAY,               "bad-head" },
    { PRX_FAIL_TRUNCATED,     HTTP_BAD_GATEWAY,               "truncated" },
    { PRX_FAIL_CLIENT_BODY,   HTTP_BAD_REQUEST,               "client-body" },
    { PRX_FAIL_CLIENT_ABORT,  HTTP_BAD_REQUEST,               "client-abort" },
    { PRX_FAIL_BLOCKED,       HTTP_FORBIDDEN,                 "blocked" },
    { PRX_FAIL_INTERNAL,      HTTP_INTERNAL_SERVER_ERROR,     "internal" },
};

PRX_DECLARE(int) prx_fail_status(prx_fail f)
{
    apr_size_t i;

    for (i = 0; i < sizeof(fail_table) / sizeof(fail_table[0]); i++) {
        if (fail_table[i].fail == f) {
            return fail_table[i].status;
        }
    }
    return HTTP_INTERNAL_SERVER_ERROR;
}

PRX_DECLARE(const char *) prx_fail_str(prx_fail f)
{
    apr_size_t i;

    for (i = 0; i < sizeof(fail_table) / sizeof(fail_table[0]); i++) {
        if (fail_table[i].fail == f) {
            return fail_table[i].name;
        }
    }
    return "unknown";
}

PRX_DECLARE(int) prx_error(request_rec *r, int status, const char *reason)
{
    const char *uri = r->uri ? ap_escape_html(r->pool, r->uri) : "";

    apr_table_setn(r->notes, "error-notes",
                   apr_pstrcat(r->pool, "The proxy could not complete the "
                               "request for <code>", uri, "</code>.<p>\n"
                               "Reason: <strong>",
                               ap_escape_html(r->pool, reason),
                               "</strong></p>", NULL));
    /* let the default error page show the notes above */
    apr_table_setn(r->notes, "verbose-error-to", "*");
    r->status_line = apr_psprintf(r->pool, "%3.3u Proxy Error",
                                  (unsigned)status);
    return status;
}
