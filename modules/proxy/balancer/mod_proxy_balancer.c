/*
 * mod_proxy_balancer.c -- balancer:// requests (proxy_balancer_module):
 * the canonicaliser of balancer: URLs, the election of a member for each
 * attempt (forced recovery, sticky sessions, the lbmethod, the wait for a
 * member), the BALANCER_* variables, the member URL, and the
 * failonstatus / failontimeout accounting after the request (spec
 * balancer.md §7-§10).
 *
 * Slot memory, locks and the member-list sync are balancer_shm.c's; the
 * failover loop itself is the core's (mod_proxy.c); the candidate walk
 * the lbmethods share is the core's prx_balancer_best_worker().
 */
#include "balancer_private.h"
#include "balancer_manager.h"

#include <apr_atomic.h>
#include <apr_lib.h>
#include <ap_provider.h>

/* -- the canonicaliser (spec balancer.md §8, last paragraph) --------------- */

/* `host` must be a name, or a valid IPv4 address when it is numeric. */
static int host_ok(const char *host, apr_size_t hlen)
{
    apr_size_t i;
    int numeric = 1;
    char buf[16], tail;
    unsigned int a, b, c, d;

    if (!hlen) {
        return 0;
    }
    for (i = 0; i < hlen; i++) {
        if (apr_iscntrl(host[i]) || apr_isspace(host[i]) || host[i] == '#'
            || host[i] == '[' || host[i] == ']' || host[i] == '@') {
            return 0;
        }
        if (!apr_isdigit(host[i]) && host[i] != '.') {
            numeric = 0;
        }
    }
    if (!numeric) {
        return 1;
    }
    if (hlen >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, host, hlen);
    buf[hlen] = '\0';
    return sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4
           && a < 256 && b < 256 && c < 256 && d < 256;
}

/* An empty port, or a number up to 65535. */
static int port_ok(const char *port, apr_size_t plen)
{
    apr_uint32_t n = 0;
    apr_size_t i;

    for (i = 0; i < plen; i++) {
        if (!apr_isdigit(port[i]) || (n = n * 10 + (apr_uint32_t)(port[i]
                                                    - '0')) > 65535) {
            return 0;
        }
    }
    return 1;
}

/*
 * balancer:// URLs before a member is chosen (spec balancer.md §8, last
 * paragraph): only the syntax of the host part is checked (400 when it is
 * bad); r->filename becomes "proxy:balancer://<host>/<raw path>" -- the
 * path is canonicalised by the chosen member's scheme (§8 step 11).
 */
static int balancer_canon(request_rec *r, char *url)
{
    const char *p, *end, *q, *hb, *he, *port = NULL;
    apr_size_t plen = 0;
    char *host;
    int ok;

    if (strncasecmp(url, "balancer:", 9)) {
        return DECLINED;
    }
    p = url + 9;
    if (strncmp(p, "//", 2)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00600)
                      "invalid balancer URL %s (expected balancer://name)",
                      url);
        return HTTP_BAD_REQUEST;
    }
    p += 2;
    end = p + strcspn(p, "/?");
    hb = p;
    for (q = p; q < end; q++) {
        if (*q == '@') {
            hb = q + 1;   /* user information is no part of the name */
        }
    }
    if (*hb == '[') {
        he = memchr(hb, ']', (apr_size_t)(end - hb));
        ok = he && he > hb + 1;
        he = he ? he + 1 : end;
        ok = ok && (he == end || *he == ':');
    }
    else {
        he = memchr(hb, ':', (apr_size_t)(end - hb));
        he = he ? he : end;
        ok = host_ok(hb, (apr_size_t)(he - hb));
    }
    if (ok && he < end) {
        port = he + 1;
        plen = (apr_size_t)(end - port);
        ok = port_ok(port, plen);
    }
    if (!ok) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00601)
                      "invalid balancer URL %s (bad name or port)", url);
        return HTTP_BAD_REQUEST;
    }
    host = apr_pstrmemdup(r->pool, hb, (apr_size_t)(he - hb));
    ap_str_tolower(host);
    r->filename = apr_pstrcat(r->pool, "proxy:balancer://", host, "/",
                              *end == '/' ? end + 1 : end, NULL);
    return OK;
}

/* -- sticky sessions (spec balancer.md §7) ---------------------------------- */

/* §7.2: the value of URL parameter `name` in `url`: the first occurrence
 * of `name` followed by '=' and something; the value runs to '?', '&' (and
 * ';' with scolonpathdelim) or the end, leading delimiters skipped. */
static const char *url_param(apr_pool_t *p, const char *url,
                             const char *name, int scolon)
{
    const char *delims = scolon ? "?&;" : "?&";
    apr_size_t n = strlen(name);
    const char *pos, *v;

    for (pos = strstr(url, name); pos; pos = strstr(pos + 1, name)) {
        v = pos + n;
        if (*v != '=' || !v[1]) {
            continue;
        }
        v += 1 + strspn(v + 1, delims);
        if (!*v) {
            return NULL;
        }
        return apr_pstrmemdup(p, v, strcspn(v, delims));
    }
    return NULL;
}

/* §7.3: the value of cookie `name` in the first Cookie header: the name
 * at the start or after ';', ',' or white space, optional white space,
 * '=', a non-empty value ending at ';' or ','. */
static const char *cookie_param(request_rec *r, const char *name)
{
    const char *cookies = apr_table_get(r->headers_in, "Cookie");
    apr_size_t n = strlen(name);
    const char *pos, *v;

    if (!cookies) {
        return NULL;
    }
    for (pos = strstr(cookies, name); pos; pos = strstr(pos + 1, name)) {
        if (pos != cookies && pos[-1] != ';' && pos[-1] != ','
            && !apr_isspace(pos[-1])) {
            continue;
        }
        v = pos + n;
        while (apr_isspace(*v)) {
            v++;
        }
        if (*v != '=' || !v[1]) {
            continue;
        }
        v++;
        return apr_pstrmemdup(r->pool, v, strcspn(v, ";,"));
    }
    return NULL;
}

/* §7.4 step 3: the member whose route is `route` -- members without H
 * first, then hot standbys; an unusable one gets its retry check, then its
 * `redirect` is followed (at most as deep as there are members).
 * Draining members are usable: running sessions keep reaching them. */
static prx_worker *route_member(prx_balancer *b, request_rec *r,
                                const char *route, int depth)
{
    int pass, i;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < b->members->nelts; i++) {
            prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
            int standby = (w->s->status & PRX_WS_HOT_STANDBY) != 0;

            if (standby != pass || !*w->s->route
                || strcmp(w->s->route, route)) {
                continue;
            }
            if (bal_usable(w)
                || (prx_worker_retry(w, r->server) && bal_usable(w))) {
                return w;
            }
            if (*w->s->redirect && depth < b->members->nelts) {
                prx_worker *rw = route_member(b, r, w->s->redirect,
                                              depth + 1);
                if (rw) {
                    return rw;
                }
            }
        }
    }
    return NULL;
}

typedef struct {
    const char *route;       /* route the request carried, or NULL */
    const char *sticky_used; /* the cookie or parameter name that had it */
} sticky_info;

/* §7.1, §7.4 steps 1-2: the route of `r` (URL form first: the path and
 * query of the balancer URL `url`, then the cookie). */
static void sticky_route(prx_balancer *b, request_rec *r, const char *url,
                         sticky_info *si)
{
    const char *value = NULL, *used = NULL, *route;

    si->route = si->sticky_used = NULL;
    if (*b->s->sticky_path) {
        /* spec §7.2 note: the query string is searched too */
        const char *full = (r->args && !ap_strchr_c(url, '?'))
                           ? apr_pstrcat(r->pool, url, "?", r->args, NULL)
                           : url;
        value = url_param(r->pool, full, b->s->sticky_path,
                          b->s->scolonsep);
        used = b->s->sticky_path;
    }
    if (!value && *b->s->sticky) {
        value = cookie_param(r, b->s->sticky);
        used = b->s->sticky;
    }
    if (!value) {
        return;
    }
    route = value;
    if (b->s->sticky_separator) {
        route = ap_strchr_c(value, b->s->sticky_separator);
        if (!route) {
            return;
        }
        route++;
    }
    if (!*route) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00602)
                  "%s: found route %s in %s (%s)", b->name, route, used,
                  value);
    si->route = route;
    si->sticky_used = used;
}

/* §7.5: accounting for a member chosen by its route (the finder was not
 * asked): every usable member earns its factor, the chosen one pays the
 * sum -- unless the lbmethod accounts for it itself. */
static void sticky_account(prx_balancer *b, prx_worker *chosen,
                           server_rec *s)
{
    apr_int32_t total = 0;
    int i;

    if (b->lbmethod && b->lbmethod->updatelbstatus) {
        b->lbmethod->updatelbstatus(b, chosen, s);
        return;
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        if (bal_usable(w)) {
            w->s->lbstatus += w->s->lbfactor;
            total += w->s->lbfactor;
        }
    }
    chosen->s->lbstatus -= total;
}

/* §7.5 nofailover: does any member (whatever its state) have `route`? */
static int route_configured(prx_balancer *b, const char *route)
{
    int i;

    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        if (!strcmp(w->s->route, route)) {
            return 1;
        }
    }
    return 0;
}

/* -- election (spec balancer.md §8, §9.5) ------------------------------------- */

static apr_status_t tlock(prx_balancer *b, request_rec *r)
{
    apr_status_t rv = b->tmutex ? apr_thread_mutex_lock(b->tmutex)
                                : APR_SUCCESS;

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00603)
                      "%s: cannot take the balancer's lock", b->name);
    }
    return rv;
}

static void tunlock(prx_balancer *b)
{
    if (b->tmutex) {
        apr_thread_mutex_unlock(b->tmutex);
    }
}

/* §9.5: when no member is free of E, even after its retry check, and
 * forcerecovery is on, every member's E is cleared at once. Members that
 * are disabled or stopped without E count as fine. */
static void force_recovery(prx_balancer *b, server_rec *s)
{
    int i;

    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        if (!(w->s->status & PRX_WS_IN_ERROR)) {
            return;
        }
        prx_worker_retry(w, s);
        if (!(w->s->status & PRX_WS_IN_ERROR)) {
            return;
        }
    }
    if (!b->members->nelts || !b->s->forcerecovery) {
        return;
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);

        prx_worker_status_change(w->s, 0, PRX_WS_IN_ERROR);
        apr_atomic_inc32(&w->s->retries);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRXLOGNO(00604)
                     "%s: every member in error state: forcing recovery of "
                     "%s", b->name, w->name);
    }
}

static void count_election(prx_worker *w)
{
    apr_atomic_add64((volatile apr_uint64_t *)&w->s->elected, 1);
}

/* One call of the lbmethod's finder under the lock. */
static prx_worker *ask_finder(prx_balancer *b, request_rec *r)
{
    prx_worker *w = NULL;

    if (tlock(b, r) != APR_SUCCESS) {
        return NULL;
    }
    if (b->lbmethod) {
        w = b->lbmethod->finder(b, r);
    }
    if (w) {
        count_election(w);
    }
    tunlock(b);
    return w;
}

/* §8 step 8: the finder, and with timeout= the wait for a member: the
 * finder is asked again after each hundredth of the timeout until the
 * waits add up to the timeout. */
static prx_worker *elect(prx_balancer *b, request_rec *r)
{
    prx_worker *w = ask_finder(b, r);
    apr_interval_time_t step, waited = 0;

    if (w || b->s->timeout <= 0) {
        return w;
    }
    step = b->s->timeout / 100;
    if (step < 1) {
        step = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00605)
                  "%s: no usable member: waiting up to %" APR_TIME_T_FMT
                  " ms for one", b->name, apr_time_as_msec(b->s->timeout));
    while (!w && waited < b->s->timeout) {
        apr_sleep(step);
        waited += step;
        w = ask_finder(b, r);
    }
    return w;
}

static apr_status_t busy_release(void *data)
{
    prx_worker *w = data;
    apr_uint32_t old;

    /* never below 0: an lbmethod's reset may have zeroed it meanwhile */
    do {
        old = apr_atomic_read32(&w->s->busy);
        if (!old) {
            break;
        }
    } while (apr_atomic_cas32(&w->s->busy, old - 1, old) != old);
    return APR_SUCCESS;
}

/* §8 step 11: member URL + the path after the balancer's name,
 * canonicalised by the member's scheme. @return OK or the canonicaliser's
 * error. */
static int member_url(request_rec *r, prx_worker *w, char **url)
{
    const char *rest = ap_strchr_c(*url + 11, '/');
    char *murl;
    int rv;

    if (!rest) {
        rest = ap_strchr_c(*url + 11, '?');
    }
    murl = apr_pstrcat(r->pool, w->name, rest ? rest : "", NULL);
    r->filename = apr_pstrcat(r->pool, "proxy:", murl, NULL);
    rv = prx_run_canon_handler(r, murl);
    if (rv != OK && rv != DECLINED) {
        return rv;
    }
    *url = r->filename + 6;
    return OK;
}

/* §10: the variables every balanced request gets, and the session ones. */
static void set_vars(request_rec *r, prx_balancer *b, prx_worker *w,
                     const sticky_info *si, int route_changed)
{
    apr_table_t *e = r->subprocess_env;

    apr_table_setn(e, "BALANCER_NAME", b->name);
    apr_table_setn(e, "BALANCER_WORKER_NAME", w->name);
    apr_table_set(e, "BALANCER_WORKER_ROUTE", w->s->route);
    if (route_changed) {
        apr_table_setn(e, "BALANCER_ROUTE_CHANGED", "1");
    }
    if (si->route) {
        apr_table_setn(r->notes, "session-sticky", si->sticky_used);
        apr_table_setn(r->notes, "session-route", si->route);
        apr_table_setn(e, "BALANCER_SESSION_STICKY", si->sticky_used);
        apr_table_setn(e, "BALANCER_SESSION_ROUTE", si->route);
    }
}

/*
 * The pre_request hook (spec balancer.md §8): for a balancer:// URL, elect
 * the member of this attempt and make *url its URL. DECLINED for other
 * URLs; 503 when no member can take the request (nofailover, nobody
 * usable after the wait); the canonicaliser's status when the member URL
 * is bad.
 */
static int balancer_pre_request(prx_worker **worker, prx_balancer **balancer,
                                request_rec *r, prx_server_conf *conf,
                                char **url)
{
    prx_balancer *b = *balancer;
    prx_worker *w = NULL;
    sticky_info si = { NULL, NULL };
    int route_changed = 0, sticky = 0;

    if (!b && (strncasecmp(*url, "balancer://", 11)
               || !(b = prx_balancer_find(r->server, *url)))) {
        return DECLINED;
    }
    if (!b->context) {
        return DECLINED;   /* not set up (httpd -t, or no slot memory) */
    }
    *balancer = b;
    if (tlock(b, r) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    force_recovery(b, r->server);
    bal_sync_locked(b, r->server);
    sticky = *b->s->sticky || *b->s->sticky_path;
    if (sticky) {
        sticky_route(b, r, *url, &si);
    }
    if (si.route && (w = route_member(b, r, si.route, 0)) != NULL) {
        sticky_account(b, w, r->server);
        count_election(w);
        route_changed = strcmp(w->s->route, si.route) != 0;
    }
    else if (si.route && b->s->sticky_force
             && route_configured(b, si.route)) {
        tunlock(b);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00606)
                      "%s: every member of route %s is unusable and "
                      "nofailover is on: 503", b->name, si.route);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    tunlock(b);
    if (!w) {
        w = elect(b, r);
        if (!w) {
            if (b->members->nelts) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00607)
                              "%s: all workers are in error state (no "
                              "usable member)", b->name);
            }
            else {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00608)
                              "%s: no workers in balancer", b->name);
            }
            return HTTP_SERVICE_UNAVAILABLE;
        }
        route_changed = sticky;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00609)
                  "%s: member %s chosen%s for %s", b->name, w->name,
                  si.route && !route_changed ? " by its route" : "", *url);
    apr_atomic_inc32(&w->s->busy);
    apr_pool_cleanup_register(r->pool, w, busy_release,
                              apr_pool_cleanup_null);
    set_vars(r, b, w, &si, route_changed);
    *worker = w;
    return member_url(r, w, url);
}

/* -- after the request (spec balancer.md §9.4) ------------------------------- */

static int status_listed(const apr_array_header_t *codes, int status)
{
    int i;

    for (i = 0; codes && i < codes->nelts; i++) {
        if (APR_ARRAY_IDX(codes, i, int) == status) {
            return 1;
        }
    }
    return 0;
}

/* failonstatus / failontimeout: the member goes into error state for
 * later requests; this response is neither changed nor retried. r->status
 * is the handler's error status when the attempt failed (the core sees to
 * it). */
static int balancer_post_request(prx_worker *w, prx_balancer *b,
                                 request_rec *r, prx_server_conf *conf)
{
    if (!b || !w || !b->context) {
        return DECLINED;
    }
    if (tlock(b, r) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(w->s->status & PRX_WS_IGNORE_ERRORS)) {
        if (status_listed(b->errstatuses, r->status)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00610)
                          "%s: member %s answered %d, listed in "
                          "failonstatus: into error state", b->name,
                          w->name, r->status);
            prx_worker_set_error(w, r->server);
        }
        else if (b->failontimeout
                 && apr_table_get(r->notes, "proxy_timedout")) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00611)
                          "%s: member %s timed out and failontimeout is "
                          "on: into error state", b->name, w->name);
            prx_worker_set_error(w, r->server);
        }
    }
    tunlock(b);
    return OK;
}

/* -- module ------------------------------------------------------------------------- */

static void register_hooks(apr_pool_t *p)
{
    /* slots after the core moved every worker's state into its segment */
    static const char *const after_proxy[] = { "mod_proxy.c", NULL };

    ap_hook_pre_config(bal_shm_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(bal_shm_post_config, after_proxy, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(bal_shm_child_init, after_proxy, NULL,
                       APR_HOOK_MIDDLE);
    prx_hook_canon_handler(balancer_canon, NULL, NULL, APR_HOOK_FIRST);
    prx_hook_pre_request(balancer_pre_request, NULL, NULL, APR_HOOK_FIRST);
    prx_hook_post_request(balancer_post_request, NULL, NULL,
                          APR_HOOK_FIRST);
    /* for modules that may be loaded before this one (mod_proxy_hcheck) */
    APR_REGISTER_OPTIONAL_FN(prx_balancer_sync);
    bal_manager_register_hooks(p);
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_balancer_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
