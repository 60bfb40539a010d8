/*
 * mod_proxy_connect.c -- proxy_connect_module: the CONNECT method of a
 * forward proxy (spec connect-wstunnel-express.md §2): AllowCONNECT, the
 * connection to the target (or through a ProxyRemote upstream), the
 * "200 Connection Established" answer and the tunnel, which is the core's
 * (prx_tunnel_*).
 */
#include "prx_core.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

extern module AP_MODULE_DECLARE_DATA proxy_connect_module;
APLOG_USE_MODULE(proxy_connect);

typedef struct {
    int first, last;
} port_range;

typedef struct {
    apr_array_header_t *ranges;   /* of port_range; NULL: not configured */
} connect_conf;

static void *create_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(connect_conf));
}

/* spec §2.1: a virtual host's list is appended to the main server's */
static void *merge_conf(apr_pool_t *p, void *basev, void *addv)
{
    connect_conf *base = basev, *add = addv;
    connect_conf *c = apr_pcalloc(p, sizeof(*c));

    if (base->ranges && add->ranges) {
        c->ranges = apr_array_append(p, base->ranges, add->ranges);
    }
    else {
        c->ranges = add->ranges ? add->ranges : base->ranges;
    }
    return c;
}

static const char *set_allow_connect(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    connect_conf *c = ap_get_module_config(cmd->server->module_config,
                                           &proxy_connect_module);
    port_range *pr;
    char *end;
    long first, last;

    if (!apr_isdigit(arg[0])) {
        return apr_psprintf(cmd->pool, "AllowCONNECT: '%s': port numbers "
                            "must be numeric", arg);
    }
    first = strtol(arg, &end, 10);
    last = first;
    if (*end == '-') {
        const char *s = end + 1;
        last = strtol(s, &end, 10);
        if (end == s) {
            end = (char *)s - 1;
        }
    }
    if (*end) {
        return apr_psprintf(cmd->pool, "AllowCONNECT: cannot parse '%s' as "
                            "a port number or range (e.g. 443 or 8000-8080)",
                            arg);
    }
    if (last < first || last > 65535) {
        /* stock accepts these (they never match): a config written for
         * it must still start */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     PRXLOGNO(00913) "AllowCONNECT %s matches no port "
                     "(ports are 1-65535, ranges first-last)", arg);
    }
    if (!c->ranges) {
        c->ranges = apr_array_make(cmd->pool, 4, sizeof(port_range));
    }
    pr = apr_array_push(c->ranges);
    pr->first = (int)first;
    pr->last = (int)last;
    return NULL;
}

static int port_allowed(request_rec *r, apr_port_t port)
{
    connect_conf *c = ap_get_module_config(r->server->module_config,
                                           &proxy_connect_module);
    int i;

    if (!c->ranges) {
        /* stock default: https and snews */
        return port == 443 || port == 563;
    }
    for (i = 0; i < c->ranges->nelts; i++) {
        port_range *pr = &APR_ARRAY_IDX(c->ranges, i, port_range);
        if (port >= pr->first && port <= pr->last) {
            return 1;
        }
    }
    return 0;
}

static int connect_canon(request_rec *r, char *url)
{
    /* the target stays "host:port" as the client wrote it */
    return r->method_number == M_CONNECT && r->proxyreq == PROXYREQ_PROXY
           ? OK : DECLINED;
}

/* The answer that opens the tunnel goes straight to the connection: it
 * is not an HTTP response httpd should frame. */
static apr_status_t send_established(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, c->bucket_alloc);
    apr_status_t rv;

    apr_brigade_printf(bb, NULL, NULL, "HTTP/1.0 200 Connection "
                       "Established\r\nProxy-agent: %s\r\n\r\n",
                       ap_get_server_banner());
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(c->bucket_alloc));
    rv = ap_pass_brigade(c->output_filters, bb);
    apr_brigade_cleanup(bb);
    return rv;
}

/* From here on the connection is a tunnel: nothing else of HTTP goes out
 * on this request (the answer that opened it went around the filters). */
static void tunnel_opened(request_rec *r)
{
    ap_remove_output_filter_byhandle(r->output_filters, "HTTP_HEADER");
    r->status = HTTP_OK;
    r->sent_bodyct = 1;
}

/* Through an upstream proxy: ask it for the tunnel; its answer reaches
 * the client inside the tunnel (spec §2.3). */
static apr_status_t send_upstream_connect(request_rec *r, prx_conn *c)
{
    struct iovec v;
    char *head = apr_psprintf(r->pool, "CONNECT %s HTTP/1.0\r\n"
                              "Proxy-agent: %s\r\n\r\n", r->uri,
                              ap_get_server_banner());

    v.iov_base = head;
    v.iov_len = strlen(head);
    return prx_conn_write(c, &v, 1);
}

static int fail_status(prx_fail fail)
{
    /* spec §2.4: a DNS failure is 502 for CONNECT */
    return fail == PRX_FAIL_DNS ? HTTP_BAD_GATEWAY : prx_fail_status(fail);
}

static int connect_handler(request_rec *r, prx_worker *worker,
                           prx_server_conf *conf, char *url,
                           const char *proxyname, apr_port_t proxyport)
{
    const char *host = r->parsed_uri.hostname;
    apr_port_t port = r->parsed_uri.port;
    prx_tunnel *t;
    prx_conn *c;
    prx_fail fail;
    apr_status_t rv;
    int st;

    if (r->method_number != M_CONNECT) {
        return DECLINED;
    }
    if (!host || !r->parsed_uri.port_str || !port) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00900)
                      "CONNECT target cannot be parsed: %s", r->uri);
        return prx_error(r, HTTP_BAD_REQUEST, "URI cannot be parsed");
    }
    if (!port_allowed(r, port)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00901)
                      "CONNECT to %s:%u refused: port not in AllowCONNECT",
                      host, port);
        return prx_error(r, HTTP_FORBIDDEN,
                         "Connect to remote machine blocked");
    }
    if (prx_conn_acquire(worker, r, 1, &c) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00902)
                      "CONNECT %s: no connection slot", r->uri);
        return prx_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "No backend connection available");
    }
    c->close = 1;
    rv = prx_conn_connect(c, r, proxyname ? proxyname : host,
                          proxyname ? proxyport : port, &fail);
    if (rv != APR_SUCCESS) {
        prx_conn_release(c);
        if (proxyname && fail == PRX_FAIL_CONNECT) {
            return DECLINED;  /* spec §1.5: move on to the next route */
        }
        return prx_error(r, fail_status(fail), fail == PRX_FAIL_BLOCKED
                         ? "Connect to remote machine blocked"
                         : "failed to make connection to the target");
    }
    {
        apr_sockaddr_t *local;
        if (apr_socket_addr_get(&local, APR_LOCAL, c->sock) == APR_SUCCESS) {
            apr_table_setn(r->notes, "proxy-source-port",
                           apr_psprintf(r->pool, "%u", local->port));
        }
    }
    rv = proxyname ? send_upstream_connect(r, c) : send_established(r);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, PRXLOGNO(00903)
                      "CONNECT %s: opening the tunnel failed", r->uri);
        prx_conn_release(c);
        return proxyname ? HTTP_BAD_GATEWAY : DONE;
    }
    if (!proxyname) {
        tunnel_opened(r);
    }
    prx_tunnel_create(&t, r, c, NULL, 0);
    if (proxyname) {
        /* spec §2.3: the upstream's answer opens the tunnel; until one
         * came, a failure is still ours to answer */
        prx_tunnel_flags_set(t, PRX_TUNNEL_NEED_REPLY);
    }
    st = prx_tunnel_run(t);
    if (st == SUSPENDED) {
        /* parked: only ever after the upstream answered */
        tunnel_opened(r);
        return SUSPENDED;
    }
    prx_conn_release(c);
    if (proxyname && !prx_tunnel_replied(t)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00912)
                      "CONNECT %s: upstream proxy %s:%u %s", r->uri,
                      proxyname, proxyport, st == HTTP_GATEWAY_TIME_OUT
                      ? "did not answer in time" : "ended without answering");
        return prx_error(r, st == OK ? HTTP_BAD_GATEWAY : st,
                         st == HTTP_GATEWAY_TIME_OUT
                         ? "the upstream proxy did not answer in time"
                         : "the upstream proxy closed without answering");
    }
    /* the client has its 200 (ours or the upstream's): errors in the
     * tunnel end it, they do not become responses */
    tunnel_opened(r);
    return DONE;
}

static const command_rec connect_cmds[] = {
    AP_INIT_ITERATE("AllowCONNECT", set_allow_connect, NULL, RSRC_CONF,
                    "ports or port ranges (first-last) CONNECT may reach; "
                    "default 443 563"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

static void register_hooks(apr_pool_t *p)
{
    /* before mod_proxy_http: a CONNECT target "http:443" is no URL */
    static const char *const before[] = { "mod_proxy_http.c", NULL };

    prx_hook_scheme_handler(connect_handler, NULL, before, APR_HOOK_FIRST);
    prx_hook_canon_handler(connect_canon, NULL, before, APR_HOOK_FIRST);
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_connect_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_conf,
    merge_conf,
    connect_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
