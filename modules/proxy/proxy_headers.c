/*
 * proxy_headers.c -- header rules every HTTP-family scheme shares:
 * hop-by-hop removal, X-Forwarded-*, Via, and the handler-time
 * Max-Forwards / TRACE / OPTIONS processing (spec http.md §3.2-§3.6).
 *
 * Building the forwarded request head itself is the scheme module's job.
 */
#include "proxy_private.h"

#include <apr_lib.h>
#include <ap_release.h>
#include <mod_core.h>
#include <errno.h>

/* Fields that are hop-by-hop whatever Connection says. */
static const char *const hop_fields[] = {
    "Connection", "Proxy-Connection", "Keep-Alive", "TE", "Trailer",
    "Upgrade", NULL
};

/* Remove every field named in one Connection value; names of any length
 * (a long one skipped would reach the backend although the client said
 * it is hop-by-hop). */
static void unset_named(apr_pool_t *p, apr_table_t *t, const char *val,
                        int *close_token)
{
    const char *s = val;

    while (*s) {
        const char *b, *e;

        while (*s == ',' || *s == ';' || apr_isspace(*s)) {
            s++;
        }
        b = s;
        while (*s && *s != ',' && *s != ';' && !apr_isspace(*s)) {
            s++;
        }
        e = s;
        if (e > b) {
            apr_size_t n = (apr_size_t)(e - b);

            if (n == 5 && !strncasecmp(b, "close", 5)) {
                if (close_token) {
                    *close_token = 1;
                }
                continue;
            }
            apr_table_unset(t, apr_pstrmemdup(p, b, n));
        }
    }
}

typedef struct {
    apr_table_t *t;
    int *close_token;
    apr_array_header_t *vals;
} conn_ctx;

static int collect_connection(void *baton, const char *key, const char *val)
{
    conn_ctx *ctx = baton;
    *(const char **)apr_array_push(ctx->vals) = val;
    return 1;
}

PRX_DECLARE(void) prx_headers_strip_hop_by_hop(apr_table_t *t,
                                               int *close_token)
{
    int i;

    if (close_token) {
        *close_token = 0;
    }
    if (apr_table_get(t, "Connection")) {
        conn_ctx ctx;
        apr_pool_t *p = apr_table_elts(t)->pool;

        ctx.t = t;
        ctx.close_token = close_token;
        ctx.vals = apr_array_make(p, 2, sizeof(const char *));
        /* collect first: unsetting while iterating would skip entries */
        apr_table_do(collect_connection, &ctx, t, "Connection", NULL);
        for (i = 0; i < ctx.vals->nelts; i++) {
            unset_named(p, t, APR_ARRAY_IDX(ctx.vals, i, const char *),
                        close_token);
        }
    }
    for (i = 0; hop_fields[i]; i++) {
        apr_table_unset(t, hop_fields[i]);
    }
}

PRX_DECLARE(void) prx_headers_add_forwarded(request_rec *r, apr_table_t *t)
{
    const char *host;

    if (r->proxyreq != PROXYREQ_REVERSE
        || !prx_dir_add_headers(prx_dir_conf_get(r))) {
        return;
    }
    apr_table_mergen(t, "X-Forwarded-For", r->useragent_ip);
    host = apr_table_get(r->headers_in, "Host");
    if (host) {
        apr_table_mergen(t, "X-Forwarded-Host", host);
    }
    apr_table_mergen(t, "X-Forwarded-Server", r->server->server_hostname);
}

/* spec http.md §3.5: "<major>.<minor> <name><portstr>[ (<version>)]" */
PRX_DECLARE(const char *) prx_via_value(request_rec *r)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);
    const char *name;
    apr_port_t port, def;
    const char *portstr = "";

    if (sc->via != PRX_VIA_ON && sc->via != PRX_VIA_FULL) {
        return NULL;
    }
    name = ap_get_server_name(r);
    if (r->hostname && !strcasecmp(name, r->hostname)
        && r->server->server_hostname) {
        /* the client's Host says nothing about who we are */
        name = r->server->server_hostname;
    }
    /* a forward-proxy request's URL names the origin's port, not ours */
    port = r->proxyreq == PROXYREQ_PROXY ? r->connection->local_addr->port
                                         : ap_get_server_port(r);
    def = ap_default_port(r);
    if (port != def) {
        portstr = apr_psprintf(r->pool, ":%u", port);
    }
    if (sc->via == PRX_VIA_FULL) {
        return apr_psprintf(r->pool, "%d.%d %s%s (%s)",
                            HTTP_VERSION_MAJOR(r->proto_num),
                            HTTP_VERSION_MINOR(r->proto_num), name, portstr,
                            AP_SERVER_BASEVERSION);
    }
    return apr_psprintf(r->pool, "%d.%d %s%s",
                        HTTP_VERSION_MAJOR(r->proto_num),
                        HTTP_VERSION_MINOR(r->proto_num), name, portstr);
}

PRX_DECLARE(apr_int64_t) prx_max_forwards(request_rec *r)
{
    prx_req *pr = prx_req_get(r);
    return pr ? pr->max_forwards : -1;
}

PRX_DECLARE(void) prx_headers_add_proxy(request_rec *r, apr_table_t *t)
{
    const char *v;
    apr_int64_t mf;

    prx_headers_add_forwarded(r, t);
    if (prx_server_conf_get(r->server)->via == PRX_VIA_BLOCK) {
        apr_table_unset(t, "Via");
    }
    else if ((v = prx_via_value(r)) != NULL) {
        apr_table_mergen(t, "Via", v);
    }
    if ((mf = prx_max_forwards(r)) >= 0) {
        apr_table_setn(t, "Max-Forwards",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, mf));
    }
}

static int request_has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    if (apr_table_get(r->headers_in, "Transfer-Encoding")) {
        return 1;
    }
    return cl && strcmp(cl, "0") != 0;
}

/* TRACE rules (spec http.md §3.6): TraceEnable Off -> 405; a body without
 * TraceEnable extended -> 413. */
static int check_trace(request_rec *r)
{
    core_server_config *conf = ap_get_core_module_config(
                                   r->server->module_config);

    if (conf->trace_enable == AP_TRACE_DISABLE) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00020)
                      "TRACE refused: TraceEnable is Off");
        return prx_error(r, HTTP_METHOD_NOT_ALLOWED,
                         "TRACE is disabled on this proxy");
    }
    if (conf->trace_enable != AP_TRACE_EXTENDED && request_has_body(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00021)
                      "TRACE with a request body refused");
        return prx_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                         "TRACE with a request body is not allowed");
    }
    return DECLINED;
}

int headers_max_forwards_check(request_rec *r)
{
    prx_req *pr = route_req_make(r);
    prx_server_conf *sc = prx_server_conf_get(r->server);
    const char *h = apr_table_get(r->headers_in, "Max-Forwards");
    int rv;

    if (r->method_number == M_TRACE && (rv = check_trace(r)) != DECLINED) {
        return rv;
    }
    pr->max_forwards = sc->max_forwards >= 0 ? sc->max_forwards : -1;
    if (!h) {
        return DECLINED;
    }
    {
        char *end;
        apr_int64_t n;

        errno = 0;
        n = apr_strtoi64(h, &end, 10);
        if (errno || end == h || *end || n < 0 || n == APR_INT64_MAX
            || !apr_isdigit(*h)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00022)
                          "Max-Forwards request header could not be parsed:"
                          " '%s'", h);
            return prx_error(r, HTTP_BAD_REQUEST, "Max-Forwards request "
                             "header could not be parsed");
        }
        if (n == 0) {
            if (r->method_number == M_TRACE) {
                return ap_send_http_trace(r);
            }
            if (r->method_number == M_OPTIONS) {
                return ap_send_http_options(r);
            }
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00023)
                          "Max-Forwards has reached zero: proxy loop?");
            return prx_error(r, HTTP_BAD_REQUEST, "Max-Forwards has reached "
                             "zero - proxy loop?");
        }
        pr->max_forwards = n - 1;
    }
    return DECLINED;
}
