/*
 * mod_proxy.c -- the core of the proxy (proxy_module): the module record,
 * hook registration, the hooks scheme modules implement, and the handler
 * that dispatches one proxied request to a scheme module (spec core.md §1,
 * §10).
 *
 * Routing is proxy_route.c's, workers and connections proxy_worker.c's and
 * proxy_connpool.c's; this file only ties them together.
 */
#include "proxy_private.h"

#include <apr_atomic.h>
#include <mpm_common.h>

APR_HOOK_STRUCT(
    APR_HOOK_LINK(scheme_handler)
    APR_HOOK_LINK(canon_handler)
    APR_HOOK_LINK(check_trans)
    APR_HOOK_LINK(pre_request)
    APR_HOOK_LINK(post_request)
    APR_HOOK_LINK(set_worker_param)
)

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, scheme_handler,
    (request_rec *r, prx_worker *worker, prx_server_conf *conf, char *url,
     const char *proxyname, apr_port_t proxyport),
    (r, worker, conf, url, proxyname, proxyport), DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, canon_handler,
    (request_rec *r, char *url), (r, url), DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, check_trans,
    (request_rec *r, const char *url), (r, url), DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, pre_request,
    (prx_worker **worker, struct prx_balancer **balancer, request_rec *r,
     prx_server_conf *conf, char **url),
    (worker, balancer, r, conf, url), DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, set_worker_param,
    (apr_pool_t *p, server_rec *s, prx_worker *w, const char *key,
     const char *val, const char **err),
    (p, s, w, key, val, err), DECLINED)
APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(prx, PRX, int, post_request,
    (prx_worker *worker, struct prx_balancer *balancer, request_rec *r,
     prx_server_conf *conf),
    (worker, balancer, r, conf), DECLINED)

/* -- the handler form: SetHandler "proxy:..." (spec core.md §12) ---------- */

static int claim_handler_form(request_rec *r)
{
    const char *saved_filename = r->filename;
    int saved_proxyreq = r->proxyreq;
    int rv;

    r->proxyreq = PROXYREQ_REVERSE;
    r->filename = apr_pstrcat(r->pool, r->handler, r->filename, NULL);
    route_req_make(r);
    rv = route_fixups(r);
    if (rv != OK || strncmp(r->filename, PRX_FILENAME_PREFIX,
                            PRX_FILENAME_PREFIX_LEN)) {
        r->filename = (char *)saved_filename;
        r->proxyreq = saved_proxyreq;
        return rv == OK ? DECLINED : rv;
    }
    return OK;
}

/* -- dispatch ---------------------------------------------------------------------- */

static prx_worker *choose_worker(request_rec *r, const char *url)
{
    prx_worker *w = prx_worker_find(r->server, url);

    if (!w) {
        /* spec core.md §8.3: the generic worker never keeps connections */
        w = prx_worker_generic(r->server, r->proxyreq == PROXYREQ_PROXY);
        apr_table_setn(r->subprocess_env, "proxy-nokeepalive", "1");
    }
    return w;
}

/* One attempt on `w`, directly or through the upstream proxy
 * `proxyname` (NULL: direct). @return DECLINED when no scheme module took
 * the URL. */
static int attempt(request_rec *r, prx_worker *w, prx_server_conf *sc,
                   char *url, const char *proxyname, apr_port_t proxyport)
{
    int rv;

    if (!prx_worker_usable(w, r->server)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00050)
                      "%s: worker unusable (disabled, stopped or in error "
                      "state); refusing %s", w->name, url);
        return prx_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "the backend is temporarily unavailable");
    }
    /* a balancer member's election and busy time are counted by the
     * balancer (spec lbmethods.md §1.3: busy lasts until the request's
     * pool goes) */
    if (!w->balancer) {
        apr_atomic_inc32(&w->s->busy);
        apr_atomic_add64((volatile apr_uint64_t *)&w->s->elected, 1);
    }
    prx_req_get(r)->via_remote = proxyname != NULL;
    rv = prx_run_scheme_handler(r, w, sc, url, proxyname, proxyport);
    if (!w->balancer) {
        apr_atomic_dec32(&w->s->busy);
    }
    return rv;
}

static int request_has_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    return apr_table_get(r->headers_in, "Transfer-Encoding")
           || (cl && strcmp(cl, "0"));
}

/* spec core.md §10.4: every matching ProxyRemote entry in turn, then the
 * origin directly. A 502 from an upstream moves on only when no body was
 * consumed; any other answer is final. */
static int route_attempts(request_rec *r, prx_worker *w, prx_server_conf *sc,
                          char *url, const char *scheme, int direct)
{
    int rv, from = 0;
    const char *remote;
    apr_port_t rport;

    while (!direct
           && (remote = forward_next_remote(r, url, scheme, &from, &rport))) {
        rv = attempt(r, w, sc, url, remote, rport);
        if (rv == DECLINED) {
            continue;
        }
        if (rv != HTTP_BAD_GATEWAY || request_has_body(r)) {
            return rv;
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00053)
                      "upstream proxy %s:%u failed for %s; trying the next "
                      "route", remote, rport, url);
    }
    rv = attempt(r, w, sc, url, NULL, 0);
    if (rv == DECLINED) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00051)
                      "no scheme module accepted %s (scheme '%s'): is "
                      "mod_proxy_%s loaded (LoadModule, after mod_proxy)?",
                      url, scheme, scheme);
        return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                         "no protocol handler for this URL scheme");
    }
    return rv;
}

/* The host part of the backend URL ("host:port" for CONNECT). */
static const char *target_host(request_rec *r, const char *url)
{
    apr_uri_t u;

    if (r->method_number == M_CONNECT && r->proxyreq == PROXYREQ_PROXY) {
        return r->parsed_uri.hostname;
    }
    if (apr_uri_parse(r->pool, url, &u) != APR_SUCCESS) {
        return NULL;
    }
    return u.hostname;
}

/*
 * The failover loop (spec balancer.md §9.2): for a balancer URL the
 * balancer's pre_request hook elects a member for each attempt; a 503
 * puts that member in error state and, while attempts remain, the next
 * election picks another; a 500 puts it in error state and ends; any other
 * result is final. Other URLs make exactly one attempt.
 */
static int attempts_loop(request_rec *r, prx_server_conf *sc, prx_req *pr,
                         char *burl, const char *scheme)
{
    struct prx_balancer *balancer = NULL;
    prx_worker *w = NULL, *last = NULL;
    int is_balancer = !strncasecmp(burl, "balancer:", 9);
    int rv, max = 0, max_taken = 0, attempts = 0;
    char *url;

    for (;;) {
        url = burl;
        w = is_balancer ? NULL : choose_worker(r, url);
        rv = prx_run_pre_request(&w, &balancer, r, sc, &url);
        if (rv != DECLINED && rv != OK) {
            break;   /* e.g. 503: no usable member left */
        }
        if (!w) {
            /* a balancer URL and nobody to elect a member */
            w = choose_worker(r, url);
        }
        last = w;
        if (balancer && !max_taken && balancer->s->max_attempts_set) {
            max = balancer->s->max_attempts;
            max_taken = 1;
        }
        pr->worker = w;
        pr->attempts++;
        rv = route_attempts(r, w, sc, url, scheme,
                            forward_is_direct(r, pr->target_host));
        if (rv == OK || rv == DONE || rv == SUSPENDED
            || apr_table_get(r->notes, "proxy-error-override")) {
            break;
        }
        if (rv != HTTP_SERVICE_UNAVAILABLE
            && rv != HTTP_INTERNAL_SERVER_ERROR) {
            break;
        }
        /* spec core.md §8.6: the loop puts balancer members in error
         * state; a plain worker's failed connect was already dealt with
         * by the core (flag I, or error state for status=-I), and its
         * refusal while unusable is no new error: marking it again would
         * put a stopped worker in error and restart the retry time of an
         * errored one with every refused request */
        if (balancer) {
            prx_worker_set_error(w, r->server);
        }
        /* "usable" by its flags alone: a member just put in error with
         * retry=0 is past its retry time at once, yet must not end the
         * failover (the next election retries it if it is the last) */
        if (rv == HTTP_INTERNAL_SERVER_ERROR || !balancer
            || !(apr_atomic_read32(&w->s->status) & PRX_WS_UNUSABLE)
            || attempts++ >= max) {
            break;
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00054)
                      "%s: member %s failed (%d); failing over (attempt %d "
                      "of %d)", balancer->name, w->name, rv, attempts + 1,
                      max + 1);
    }
    if (last) {
        /* spec balancer.md §9.4: failonstatus must see the status the
         * proxy answers with (a 502/503 of its own too), not r->status
         * of a response that was never relayed */
        int saved = r->status;

        if (rv != OK && rv != DONE && rv != SUSPENDED) {
            r->status = rv;
        }
        prx_run_post_request(last, balancer, r, sc);
        r->status = saved;
    }
    return rv;
}

static int proxy_handler(request_rec *r)
{
    prx_server_conf *sc;
    prx_req *pr;
    char *url, *colon, *scheme;
    int rv;

    if (!r->proxyreq) {
        if (!r->handler || strncmp(r->handler, PRX_FILENAME_PREFIX,
                                   PRX_FILENAME_PREFIX_LEN)) {
            return DECLINED;
        }
        if ((rv = claim_handler_form(r)) != OK) {
            return rv;
        }
    }
    else if (!r->filename || strncmp(r->filename, PRX_FILENAME_PREFIX,
                                     PRX_FILENAME_PREFIX_LEN)) {
        return DECLINED;
    }
    url = r->filename + PRX_FILENAME_PREFIX_LEN;
    colon = strchr(url, ':');
    if (!colon || colon == url) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00052)
                      "proxy filename without a scheme: %s", r->filename);
        return HTTP_BAD_REQUEST;
    }
    scheme = apr_pstrmemdup(r->pool, url, (apr_size_t)(colon - url));
    ap_str_tolower(scheme);

    if ((rv = headers_max_forwards_check(r)) != DECLINED
        || (rv = forward_domain_redirect(r)) != DECLINED) {
        return rv;
    }
    sc = prx_server_conf_get(r->server);
    pr = route_req_make(r);
    pr->scheme = scheme;
    /* only ProxyBlock and ProxyRemote/NoProxy look at the target host:
     * don't parse the URL a second time for nothing */
    if (sc->blocks->nelts || sc->remotes->nelts) {
        pr->target_host = target_host(r, url);
    }
    if (sc->blocks->nelts && prx_blocked(r, pr->target_host, NULL)) {
        return prx_error(r, HTTP_FORBIDDEN,
                         "Connect to remote machine blocked");
    }
    rv = attempts_loop(r, sc, pr, url, scheme);
    return rv;
}

/* -- module ---------------------------------------------------------------------------- */

static int proxy_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    int rv = worker_post_config(pconf, ptemp, s);

    if (rv != OK) {
        return rv;
    }
    if ((rv = sections_post_config(pconf, plog, ptemp, s)) != OK) {
        return rv;
    }
    /* once per start, in the pass whose lines reach the error log */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        forward_warn_open(s);
    }
    return shm_workers_post_config(pconf, s);
}

/* httpd -t runs no post_config: say it there too */
static void proxy_test_config(apr_pool_t *pconf, server_rec *s)
{
    forward_warn_open(s);
}

static void proxy_child_init(apr_pool_t *pchild, server_rec *s)
{
    worker_child_init(pchild, s);
    tunnel_child_init(pchild, s);
}

static void register_hooks(apr_pool_t *p)
{
    /* after mod_rewrite's server-context rules, before mod_alias */
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };
    /* mod_ssl's module-wide TLS setup before it finishes our sections */
    static const char *const after_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_post_read_request(forward_post_read_request, NULL, NULL,
                              APR_HOOK_FIRST);
    ap_hook_pre_translate_name(route_pre_translate, NULL, NULL,
                               APR_HOOK_MIDDLE);
    ap_hook_translate_name(route_translate, after_rewrite, NULL,
                           APR_HOOK_FIRST);
    ap_hook_map_to_storage(route_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(route_fixups, after_rewrite, NULL, APR_HOOK_FIRST);
    ap_hook_handler(proxy_handler, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(proxy_post_config, after_ssl, NULL, APR_HOOK_MIDDLE);
    ap_hook_test_config(proxy_test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(proxy_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_suspend_connection(tunnel_suspend_connection, NULL, NULL,
                               APR_HOOK_MIDDLE);
    ap_hook_child_stopping(tunnel_child_stopping, NULL, NULL,
                           APR_HOOK_MIDDLE);
    status_register_hooks();
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_module = {
    STANDARD20_MODULE_STUFF,
    config_dir_create,
    config_dir_merge,
    config_server_create,
    config_server_merge,
    prx_cmds,
    register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
