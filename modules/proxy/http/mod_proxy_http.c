/*
 * mod_proxy_http.c -- proxy_http_module: the HTTP/1.1 (and 1.0) scheme of
 * our mod_proxy core. This file holds the module record, the hooks and the
 * flow of one attempt: check the URL, choose the body strategy, decide on
 * an Upgrade, get a connection (through a ProxyRemote upstream's CONNECT
 * tunnel for https:// and wss://), send the request, read and relay the
 * response, and retry once on a fresh connection when a pooled one turns
 * out to be stale. The request half is in http_request.c, the response
 * half (and the tunnel after a 101) in http_response.c.
 */

#include "http_private.h"

#include <apr_lib.h>
#include <http_core.h>

static int http_canon(request_rec *r, char *url)
{
    static const struct {
        const char *name;
        apr_size_t len;
        apr_port_t port;
    } schemes[] = {
        { "http", 4, 80 }, { "https", 5, 443 }, { "ws", 2, 80 },
        { "wss", 3, 443 }
    };
    apr_size_t i;

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncasecmp(url, schemes[i].name, schemes[i].len) == 0
            && url[schemes[i].len] == ':') {
            return prx_canon_http(r, apr_pstrmemdup(r->pool, url,
                                                    schemes[i].len),
                                  url + schemes[i].len + 1, schemes[i].port);
        }
    }
    return DECLINED;
}

/*
 * Which URLs this module takes: http://, ws:// (sent as http://), https://
 * and wss:// when the core can do outgoing TLS (mod_ssl loaded), ftp://
 * only through a ProxyRemote HTTP proxy.
 */
static int handles(request_rec *r, prx_worker *w, const char *url,
                   const char *proxyname)
{
    if (strncasecmp(url, "http:", 5) == 0 || strncasecmp(url, "ws:", 3) == 0
        || (proxyname && strncasecmp(url, "ftp:", 4) == 0)) {
        return 1;
    }
    if (strncasecmp(url, "https:", 6) == 0 || strncasecmp(url, "wss:", 4) == 0) {
        if (prx_conn_tls_available(w, r)) {
            return 1;
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00325)
                      "declining %s: no outgoing TLS available (mod_ssl "
                      "not loaded)", url);
    }
    return 0;
}

/* spec http.md §2.2: the URL is parsed again at connection time. */
static int parse_url(http_ctx *x)
{
    request_rec *r = x->r;

    if (apr_uri_parse(r->pool, x->url, &x->uri) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00326)
                      "URI cannot be parsed: %s", x->url);
        return prx_error(r, HTTP_BAD_REQUEST, "URI cannot be parsed");
    }
    if (!x->uri.hostname || !*x->uri.hostname) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00327)
                      "URI has no hostname: %s", x->url);
        return prx_error(r, HTTP_BAD_REQUEST, "URI has no hostname");
    }
    if (!x->uri.port) {
        x->uri.port = prx_default_port(x->uri.scheme);
    }
    return OK;
}

/* spec http.md §10.2: when the connection must not be reused afterwards. */
static int must_close(http_ctx *x)
{
    request_rec *r = x->r;

    return apr_table_get(r->subprocess_env, "proxy-nokeepalive") != NULL
           || x->force10 || x->worker->is_generic
           || x->worker->p.disablereuse || (r->main && !r->kept_body)
           || x->via_connect;
}

/*
 * spec http.md §7.1: the client's Upgrade value when the request is to be
 * sent as an upgrade, else NULL. Never with force-proxy-request-1.0, for
 * sub-requests, from an HTTP/1.0 client (whose Upgrade a server must
 * ignore, RFC 9110 §7.8), or on an HTTP/2 stream (no Upgrade there, and
 * the tunnel needs a connection of its own).
 */
static const char *upgrade_of(http_ctx *x)
{
    request_rec *r = x->r;
    const char *up = apr_table_get(r->headers_in, "Upgrade");

    if (!up || x->force10 || r->main || r->connection->master
        || r->proto_num < HTTP_VERSION(1, 1)) {
        return NULL;
    }
    if (!http_upgrade_allowed(x, up)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00335)
                      "%s: Upgrade '%s' not allowed (upgrade=%s): sent as "
                      "plain HTTP", x->worker->name, up,
                      x->worker->p.upgrade ? x->worker->p.upgrade : "none");
        return NULL;
    }
    return up;
}

static const char *connect_reason(prx_fail fail)
{
    switch (fail) {
    case PRX_FAIL_DNS:
        return "DNS lookup failure for: ";
    case PRX_FAIL_BLOCKED:
        return "Connect to remote machine blocked: ";
    default:
        return "failed to make connection to backend: ";
    }
}

/* spec http.md §2.3: at most this much of the upstream's answer to
 * CONNECT is looked at; the rest of a longer head is read and dropped. */
#define CONNECT_HEAD_MAX 8192

/*
 * Credentials for the upstream's CONNECT (spec http.md §2.3): the
 * ProxyRemote entry's (note proxy-basic-creds), else the client's
 * Proxy-Authorization unless this proxy consumed it (it authenticated the
 * user and Proxy-Chain-Auth is not set). An empty value is none.
 */
static const char *connect_creds(request_rec *r)
{
    const char *v = apr_table_get(r->notes, "proxy-basic-creds");

    if (v && *v) {
        return strncasecmp(v, "Basic ", 6) == 0
               ? v : apr_pstrcat(r->pool, "Basic ", v, NULL);
    }
    if (r->user && !apr_table_get(r->subprocess_env, "Proxy-Chain-Auth")) {
        return NULL;
    }
    v = apr_table_get(r->headers_in, "Proxy-Authorization");
    return v && *v ? v : NULL;
}

/* The status of "HTTP/d.d nnn ..." at the start of `buf`, or 0. */
static int connect_status(const char *buf, apr_size_t len)
{
    if (len < 12 || strncmp(buf, "HTTP/", 5) || !apr_isdigit(buf[5])
        || buf[6] != '.' || !apr_isdigit(buf[7]) || buf[8] != ' '
        || !apr_isdigit(buf[9]) || !apr_isdigit(buf[10])
        || !apr_isdigit(buf[11]) || (len > 12 && buf[12] != ' '
                                     && buf[12] != '\r'
                                     && buf[12] != '\n')) {
        return 0;
    }
    return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* Offset just past the empty line ending a head in buf[0, len), searching
 * from `from`; 0 when there is none yet. */
static apr_size_t head_end(const char *buf, apr_size_t from, apr_size_t len)
{
    apr_size_t i;

    for (i = from; i < len; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (i >= 1 && buf[i - 1] == '\n') {
            return i + 1;
        }
        if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') {
            return i + 1;
        }
    }
    return 0;
}

/*
 * A prx_conn_check_fn: `c`, just connected to an address of the
 * ProxyRemote upstream, asks it for a tunnel to the origin ("CONNECT
 * host:port HTTP/1.0", credentials, Proxy-agent) and requires a 200
 * (spec http.md §2.3); otherwise the core tries the upstream's next
 * address. Such a connection is never pooled (must_close()).
 * @return APR_SUCCESS, or APR_EGENERAL when the upstream refused or broke
 *         (logged).
 */
static apr_status_t connect_tunnel(prx_conn *c, request_rec *r, void *baton)
{
    http_ctx *x = baton;
    const char *creds = connect_creds(r), *host = x->uri.hostname;
    const char *what = NULL;
    char buf[CONNECT_HEAD_MAX];
    apr_size_t have = 0, end = 0;
    struct iovec v;
    apr_status_t rv;
    int status = 0, dropped = 0;

    v.iov_base = apr_psprintf(r->pool, "CONNECT %s%s%s:%d HTTP/1.0\r\n"
                              "%s%s%s" "Proxy-agent: %s\r\n\r\n",
                              ap_strchr_c(host, ':') ? "[" : "", host,
                              ap_strchr_c(host, ':') ? "]" : "",
                              (int)x->uri.port,
                              creds ? "Proxy-Authorization: " : "",
                              creds ? creds : "", creds ? "\r\n" : "",
                              ap_get_server_banner());
    v.iov_len = strlen(v.iov_base);
    rv = prx_conn_write(c, &v, 1);
    while (rv == APR_SUCCESS && !end) {
        apr_size_t n = sizeof(buf) - have, from = have > 2 ? have - 2 : 0;

        if (n == 0) {
            /* an oversized head: keep its status, drop the rest (the
             * last bytes stay, for an end of head split across reads) */
            if (!dropped) {
                status = connect_status(buf, have);
            }
            memmove(buf, buf + have - 2, 2);
            have = 2;
            from = 0;
            dropped = 1;
            n = sizeof(buf) - have;
        }
        rv = prx_conn_read(c, buf + have, &n, 1);
        if (rv == APR_SUCCESS) {
            have += n;
            end = head_end(buf, from, have);
        }
    }
    if (rv != APR_SUCCESS) {
        what = "no usable answer";
    }
    else {
        if (!dropped) {
            status = connect_status(buf, have);
        }
        if (status != HTTP_OK) {
            what = "refused";
        }
        else if (end < have) {
            what = "sent bytes after its answer";
        }
    }
    if (what) {
        apr_size_t ll = 0;

        while (ll < have && buf[ll] != '\r' && buf[ll] != '\n') {
            ll++;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00336)
                      "%s: upstream proxy %s:%d (%pI), CONNECT %s:%d: "
                      "%s%s%.80s", x->worker->name, x->proxyname,
                      (int)x->proxyport, c->addr, host, (int)x->uri.port,
                      what, have ? ": " : "",
                      dropped ? "(oversized head)"
                              : apr_pstrmemdup(r->pool, buf, ll));
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Acquire and connect. @return OK or the status (logged). */
static int connect_backend(http_ctx *x, int fresh)
{
    request_rec *r = x->r;
    const char *host = x->proxyname ? x->proxyname : x->uri.hostname;
    apr_port_t port = x->proxyname ? x->proxyport : x->uri.port;
    http_conn_buf *cb;
    apr_size_t need;
    prx_fail fail = PRX_FAIL_CONNECT;
    apr_status_t rv;
    int st;

    rv = prx_conn_acquire(x->worker, r, fresh, &x->c);
    if (rv != APR_SUCCESS) {
        x->c = NULL;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00328)
                      "%s: no backend connection available",
                      x->worker->name);
        return prx_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "No backend connection available");
    }
    if (x->close) {
        x->c->close = 1;
    }
    /* through an upstream, each of its addresses must open the tunnel */
    rv = prx_conn_connect_check(x->c, r, host, port,
                                x->via_connect ? connect_tunnel : NULL, x,
                                &fail);
    if (rv == APR_SUCCESS && x->via_connect
        && prx_conn_tls_start(x->c, r, x->uri.hostname) != APR_SUCCESS) {
        /* TLS inside the tunnel (the core logged why it cannot) */
        x->c->close = 1;
        prx_conn_release(x->c);
        x->c = NULL;
        return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                         "TLS to the backend is not available");
    }
    if (rv != APR_SUCCESS) {
        st = prx_fail_status(fail);
        /* the core logged the failure (PRX00015/PRX00016): one line */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, PRXLOGNO(00329)
                      "%s: %s %s:%d", x->worker->name,
                      fail == PRX_FAIL_DNS ? "DNS lookup failure for"
                                           : "cannot connect to", host,
                      (int)port);
        x->c->close = 1;
        prx_conn_release(x->c);
        x->c = NULL;
        return prx_error(r, st ? st : HTTP_SERVICE_UNAVAILABLE,
                         apr_pstrcat(r->pool, connect_reason(fail), host,
                                     NULL));
    }
    /* the read buffer lives with the connection: one allocation per
     * socket, not per request. Its size is the server's ProxyIOBufferSize
     * of this request (spec core.md §3.20: mod_proxy_http reads by the
     * server value, wherever the directive stands relative to the
     * ProxyPass lines); a connection pooled for a server with a smaller
     * value grows its buffer once. */
    cb = x->c->scheme_data;
    need = x->conf->io_buffer_size >= 512 ? x->conf->io_buffer_size : 8192;
    if (!cb) {
        cb = apr_pcalloc(x->c->pool, sizeof(*cb));
        x->c->scheme_data = cb;
    }
    if (cb->size < need) {
        cb->size = need;
        cb->buf = apr_palloc(x->c->pool, cb->size);
    }
    x->buf = cb->buf;
    x->bufsize = cb->size;
    x->rpos = x->rlen = 0;
    return OK;
}

/* One request/response exchange on x->c. */
static http_xchg exchange(http_ctx *x)
{
    apr_status_t wrv;
    int st = http_send(x, 1, !x->expect100, &wrv);

    if (st != OK) {
        if (wrv != APR_SUCCESS && x->c->reused && http_body_replayable(x)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, wrv, x->r, PRXLOGNO(00330)
                          "%s: pooled connection failed on write, retrying "
                          "on a new one", x->worker->name);
            return XCHG_STALE;
        }
        x->status = wrv != APR_SUCCESS
                    ? http_write_status(x, wrv, "request") : st;
        return XCHG_OK;
    }
    if (x->expect100 && x->worker->p.ping > 0 && x->c->sock) {
        /* spec http.md §5.2: wait for the head at most `ping` */
        prx_conn_timeout_set(x->c, x->worker->p.ping);
    }
    return http_response(x);
}

/*
 * Connect and exchange; a pooled connection that the peer closed before
 * answering costs the client nothing when the request can be replayed:
 * it is retried once on a new connection.
 */
static int run_attempt(http_ctx *x)
{
    request_rec *r = x->r;
    const char *inp = apr_table_get(r->subprocess_env,
                                    "proxy-initial-not-pooled");
    int fresh = (inp && r->proxyreq == PROXYREQ_REVERSE
                 && r->connection->keepalives == 0) || x->via_connect;
    int st, tries;

    if ((st = http_request_head(x)) != OK) {
        return st;
    }
    for (tries = 0; ; tries++) {
        if ((st = connect_backend(x, fresh)) != OK) {
            return st;
        }
        if (exchange(x) == XCHG_OK) {
            return x->status;
        }
        x->c->close = 1;
        prx_conn_release(x->c);
        x->c = NULL;
        if (tries > 0) {
            /* a fresh connection never reports stale; be safe anyway */
            return prx_error(r, HTTP_BAD_GATEWAY,
                             "Error reading from remote server");
        }
        fresh = 1;
        x->got_bytes = x->body_sent = x->interim = 0;
    }
}

static int http_handler(request_rec *r, prx_worker *worker,
                        prx_server_conf *conf, char *url,
                        const char *proxyname, apr_port_t proxyport)
{
    http_ctx x;
    int st;

    if (!handles(r, worker, url, proxyname)) {
        return DECLINED;
    }
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.worker = worker;
    x.conf = conf;
    x.dconf = prx_dir_conf_get(r);
    x.url = url;
    x.proxyname = proxyname;
    x.proxyport = proxyport;
    x.force10 = apr_table_get(r->subprocess_env,
                              "force-proxy-request-1.0") != NULL;
    if ((st = parse_url(&x)) != OK) {
        return st;
    }
    x.via_connect = proxyname != NULL
                    && (strncasecmp(url, "https:", 6) == 0
                        || strncasecmp(url, "wss:", 4) == 0);
    x.upgrade = upgrade_of(&x);
    if ((st = http_body_prepare(&x)) != OK) {
        return st;
    }
    x.close = must_close(&x);
    st = run_attempt(&x);
    if (st == SUSPENDED) {
        /* the parked tunnel owns the connection (x.c is NULL) */
        return st;
    }
    if (x.c) {
        /* spec http.md §10.4: any non-OK result closes the connection */
        if (st != OK) {
            x.c->close = 1;
        }
        prx_conn_release(x.c);
    }
    return st;
}

static int http_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (!ap_find_linked_module("mod_proxy.c")) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, PRXLOGNO(00331)
                     "mod_proxy_http needs mod_proxy: load mod_proxy.so "
                     "first");
        return !OK;
    }
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* spec http.md §1: mod_proxy_wstunnel's handler runs before ours */
    static const char *const before_us[] = { "mod_proxy_wstunnel.c", NULL };

    (void)p;
    prx_hook_scheme_handler(http_handler, before_us, NULL, APR_HOOK_FIRST);
    prx_hook_canon_handler(http_canon, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(http_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}

/* not AP_DECLARE_MODULE: http_private.h already says APLOG_USE_MODULE */
PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_http_module = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* dir config merger */
    NULL,                       /* server config creator */
    NULL,                       /* server config merger */
    NULL,                       /* command table: no directives of its own */
    register_hooks,
    AP_MODULE_FLAG_NONE
};
