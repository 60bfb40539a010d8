/*
 * mod_proxy_wstunnel.c -- proxy_wstunnel_module: ws:// and wss:// URLs
 * the pre-2.4.47 way (spec connect-wstunnel-express.md §3). By default
 * (ProxyWebsocketFallbackToProxyHttp On with mod_proxy_http loaded) every
 * hook declines and mod_proxy_http's Upgrade support takes those URLs. In
 * the legacy mode this module vetoes ws:// rules for requests without
 * Upgrade, canonicalises ws:// URLs, answers 426 to requests it cannot
 * upgrade, and otherwise sends the request head itself and relays raw
 * bytes both ways (the origin's 101 included) through the core's tunnel.
 */
#include "prx_core.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

extern module AP_MODULE_DECLARE_DATA proxy_wstunnel_module;
APLOG_USE_MODULE(proxy_wstunnel);

/* spec §3.5: what a worker without upgrade= asks for */
#define WS_DEFAULT_PROTOCOL "WebSocket"

typedef struct {
    int fallback;   /* ProxyWebsocketFallbackToProxyHttp, PRX_UNSET: On */
} ws_dir_conf;

/* Whether mod_proxy_http is loaded; set once in post_config. */
static int http_loaded;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    ws_dir_conf *d = apr_palloc(p, sizeof(*d));

    d->fallback = PRX_UNSET;
    return d;
}

/* spec §3.2: a per-directory setting, the inner one wins */
static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    ws_dir_conf *base = basev, *add = addv;
    ws_dir_conf *d = apr_palloc(p, sizeof(*d));

    d->fallback = add->fallback != PRX_UNSET ? add->fallback
                                             : base->fallback;
    return d;
}

/* spec §3.1: mod_proxy_http takes ws:// URLs unless told not to or
 * absent. */
static int falls_back(request_rec *r)
{
    ws_dir_conf *d = ap_get_module_config(r->per_dir_config,
                                          &proxy_wstunnel_module);

    return http_loaded && (!d || d->fallback != 0);
}

/* @return the default port for a ws:// or wss:// `url`, 0 otherwise;
 * `*len` gets the length of the scheme. */
static apr_port_t ws_scheme(const char *url, apr_size_t *len)
{
    if (strncasecmp(url, "ws:", 3) == 0) {
        *len = 2;
        return 80;
    }
    if (strncasecmp(url, "wss:", 4) == 0) {
        *len = 3;
        return 443;
    }
    return 0;
}

/* spec §3.3: a ws:// rule does not match a request without Upgrade, so
 * that a later rule (e.g. "ProxyPass / http://...") gets it. */
static int ws_check_trans(request_rec *r, const char *url)
{
    apr_size_t len;

    if (falls_back(r) || !ws_scheme(url, &len)
        || apr_table_get(r->headers_in, "Upgrade")) {
        return DECLINED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00904)
                  "request without Upgrade: rule to %s skipped", url);
    return OK;
}

/* spec §3.4: as for http:// (the core's canonicaliser) */
static int ws_canon(request_rec *r, char *url)
{
    apr_size_t len;
    apr_port_t port = ws_scheme(url, &len);

    if (!port || falls_back(r)) {
        return DECLINED;
    }
    return prx_canon_http(r, apr_pstrmemdup(r->pool, url, len),
                          url + len + 1, port);
}

/*
 * spec §3.5 step 2 (and step 4's special values): the protocol to ask the
 * origin for, or NULL when the client's Upgrade `up` (may be NULL) is not
 * acceptable. `*expected` gets what a 426 names.
 */
static const char *protocol_for(const prx_worker *w, const char *up,
                                const char **expected, apr_pool_t *p)
{
    const char *list = w->p.upgrade;

    *expected = list && strcmp(list, "*") && strcasecmp(list, "NONE")
                ? list : WS_DEFAULT_PROTOCOL;
    if (list && !strcasecmp(list, "NONE")) {
        /* documented for testing: no check, always WebSocket */
        return WS_DEFAULT_PROTOCOL;
    }
    if (!up || !*up) {
        return NULL;
    }
    if (list && !strcmp(list, "*")) {
        /* ANY: whatever the client asked for */
        return up;
    }
    if (!strcasecmp(up, *expected) || ap_find_token(p, *expected, up)) {
        return *expected;
    }
    return NULL;
}

/* The Host field (spec http.md §3.3, as mod_proxy_http sends it). */
static const char *host_field(request_rec *r, const apr_uri_t *u)
{
    const char *h;

    if (prx_dir_preserve_host(prx_dir_conf_get(r))
        && (h = apr_table_get(r->headers_in, "Host")) != NULL) {
        return h;
    }
    h = ap_strchr_c(u->hostname, ':')
        ? apr_pstrcat(r->pool, "[", u->hostname, "]", NULL) : u->hostname;
    if (u->port_str && u->port != 80) {
        h = apr_pstrcat(r->pool, h, ":", u->port_str, NULL);
    }
    return h;
}

static int add_field(void *baton, const char *key, const char *val)
{
    apr_array_header_t *v = baton;

    if (strcasecmp(key, "Host")) {
        *(const char **)apr_array_push(v) = apr_pstrcat(v->pool, key, ": ",
                                                        val, "\r\n", NULL);
    }
    return 1;
}

/*
 * spec §3.5 step 4: the request head as mod_proxy_http builds it (Host
 * first, hop-by-hop fields removed, X-Forwarded-*, Via, Max-Forwards,
 * ProxyRemote credentials), no body framing, then Upgrade and
 * Connection: Upgrade.
 */
static char *request_head(request_rec *r, const char *url,
                          const apr_uri_t *u, const char *proto,
                          const char *proxyname)
{
    apr_table_t *t = apr_table_copy(r->pool, r->headers_in);
    apr_array_header_t *lines = apr_array_make(r->pool, 24,
                                               sizeof(const char *));
    const char *target, *v;

    prx_headers_strip_hop_by_hop(t, NULL);
    apr_table_unset(t, "Content-Length");
    apr_table_unset(t, "Transfer-Encoding");
    apr_table_unset(t, "Expect");
    if (r->user && !apr_table_get(r->subprocess_env, "Proxy-Chain-Auth")) {
        apr_table_unset(t, "Proxy-Authorization");
    }
    if (proxyname
        && (v = apr_table_get(r->notes, "proxy-basic-creds")) && *v) {
        apr_table_mergen(t, "Proxy-Authorization", v);
    }
    prx_headers_add_proxy(r, t);
    if (proxyname) {
        /* absolute-form to an upstream proxy, as http:// */
        target = apr_pstrcat(r->pool, "http:", url + 3, NULL);
    }
    else {
        target = apr_pstrcat(r->pool, u->path && *u->path ? u->path : "/",
                             u->query ? "?" : "", u->query ? u->query : "",
                             NULL);
    }
    apr_table_do(add_field, lines, t, NULL);
    return apr_pstrcat(r->pool, r->method, " ", target, " HTTP/1.1\r\n",
                       "Host: ", host_field(r, u), "\r\n",
                       apr_array_pstrcat(r->pool, lines, '\0'),
                       "Upgrade: ", proto, "\r\n",
                       "Connection: Upgrade\r\n\r\n", NULL);
}

/* Answer 426 naming what could be upgraded to (spec §3.5 step 2). */
static int upgrade_required(request_rec *r, const char *up,
                            const char *expected)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00905)
                  "cannot upgrade to '%s' (expecting %s): 426",
                  up ? up : "(no Upgrade)", expected);
    apr_table_setn(r->err_headers_out, "Connection", "Upgrade");
    apr_table_setn(r->err_headers_out, "Upgrade", expected);
    return HTTP_UPGRADE_REQUIRED;
}

static int ws_handler(request_rec *r, prx_worker *worker,
                      prx_server_conf *conf, char *url,
                      const char *proxyname, apr_port_t proxyport)
{
    const char *up = apr_table_get(r->headers_in, "Upgrade");
    const char *proto, *expected;
    apr_size_t slen;
    apr_port_t def_port = ws_scheme(url, &slen);
    apr_uri_t u;
    prx_tunnel *t;
    prx_conn *c;
    prx_fail fail;
    struct iovec v;
    apr_sockaddr_t *local;
    apr_status_t rv;
    int st;

    if (!def_port || falls_back(r)) {
        return DECLINED;
    }
    if (slen == 3 && (!prx_conn_tls_available(worker, r) || proxyname)) {
        /* wss:// needs mod_ssl; through an upstream proxy it needs a
         * CONNECT tunnel, which mod_proxy_http opens */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00906)
                      "declining %s (%s)", url, proxyname
                      ? "wss:// through an upstream proxy"
                      : "no outgoing TLS: mod_ssl not loaded");
        return DECLINED;
    }
    if (apr_uri_parse(r->pool, url, &u) != APR_SUCCESS || !u.hostname) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00907)
                      "URI cannot be parsed: %s", url);
        return prx_error(r, HTTP_BAD_REQUEST, "URI cannot be parsed");
    }
    if (!u.port) {
        u.port = def_port;
    }
    if (!(proto = protocol_for(worker, up, &expected, r->pool))
        || r->connection->master) {
        /* (an HTTP/2 stream has no connection of its own to tunnel) */
        return upgrade_required(r, up, expected);
    }
    if (prx_conn_acquire(worker, r, 1, &c) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00908)
                      "%s: no backend connection available", worker->name);
        return prx_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "No backend connection available");
    }
    /* spec §3.5 step 7: never pooled */
    c->close = 1;
    rv = prx_conn_connect(c, r, proxyname ? proxyname : u.hostname,
                          proxyname ? proxyport : u.port, &fail);
    if (rv != APR_SUCCESS) {
        /* the core logged it */
        prx_conn_release(c);
        st = prx_fail_status(fail);
        return prx_error(r, st ? st : HTTP_SERVICE_UNAVAILABLE,
                         apr_pstrcat(r->pool, "failed to make connection "
                                     "to backend: ", u.hostname, NULL));
    }
    if (apr_socket_addr_get(&local, APR_LOCAL, c->sock) == APR_SUCCESS) {
        apr_table_setn(r->notes, "proxy-source-port",
                       apr_itoa(r->pool, local->port));
    }
    v.iov_base = request_head(r, url, &u, proto, proxyname);
    v.iov_len = strlen(v.iov_base);
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "request head to %s:\n%s",
                  worker->name, (char *)v.iov_base);
    if ((rv = prx_conn_write(c, &v, 1)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00909)
                      "%s: error writing the request to %s:%d",
                      worker->name, c->hostname, (int)c->port);
        prx_conn_release(c);
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Error writing to the remote server");
    }
    /* spec §3.5 steps 5-7: raw bytes both ways from here on, the origin's
     * answer included; until it starts, an error can still be answered */
    prx_tunnel_create(&t, r, c, NULL, 0);
    prx_tunnel_flags_set(t, PRX_TUNNEL_NO_HALFCLOSE | PRX_TUNNEL_NO_TIMEOUT
                            | PRX_TUNNEL_NEED_REPLY);
    st = prx_tunnel_run(t);
    if (st == HTTP_BAD_GATEWAY) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00910)
                      "%s: %s:%d ended the tunnel without answering",
                      worker->name, c->hostname, (int)c->port);
        prx_conn_release(c);
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Error reading from remote server");
    }
    /* the client has the origin's answer: nothing else goes out */
    ap_remove_output_filter_byhandle(r->output_filters, "HTTP_HEADER");
    r->sent_bodyct = 1;
    if (st == SUSPENDED) {
        /* parked (only after the answer started): the tunnel owns `c` */
        return SUSPENDED;
    }
    prx_conn_release(c);
    return DONE;
}

static int ws_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    if (!ap_find_linked_module("mod_proxy.c")) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, PRXLOGNO(00911)
                     "mod_proxy_wstunnel needs mod_proxy: load mod_proxy.so "
                     "first");
        return !OK;
    }
    http_loaded = ap_find_linked_module("mod_proxy_http.c") != NULL;
    return OK;
}

static const command_rec ws_cmds[] = {
    AP_INIT_FLAG("ProxyWebsocketFallbackToProxyHttp", ap_set_flag_slot,
                 (void *)APR_OFFSETOF(ws_dir_conf, fallback),
                 RSRC_CONF | ACCESS_CONF,
                 "On (default): mod_proxy_http tunnels WebSocket upgrades; "
                 "Off: mod_proxy_wstunnel handles ws:// and wss:// URLs"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

static void register_hooks(apr_pool_t *p)
{
    /* spec http.md §1: ours run before mod_proxy_http's */
    static const char *const before_http[] = { "mod_proxy_http.c", NULL };

    prx_hook_scheme_handler(ws_handler, NULL, before_http, APR_HOOK_FIRST);
    prx_hook_canon_handler(ws_canon, NULL, before_http, APR_HOOK_FIRST);
    prx_hook_check_trans(ws_check_trans, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ws_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_wstunnel_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    NULL,
    NULL,
    ws_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
