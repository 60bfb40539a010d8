/*
 * proxy_worker.c -- workers: URL normalisation into a worker name, the
 * sharing rule at configuration time, the lookup at request time, the
 * generic workers, status flags and error state (spec core.md §8).
 *
 * Connection pools and DNS caches of a worker are proxy_connpool.c's.
 */
#include "proxy_private.h"

#include <apr_atomic.h>
#include <apr_lib.h>
#include <ap_mpm.h>

prx_worker *prx_generic_reverse;
prx_worker *prx_generic_forward;

/* -- names ------------------------------------------------------------------- */

PRX_DECLARE(apr_port_t) prx_default_port(const char *scheme)
{
    static const struct {
        const char *scheme;
        apr_port_t port;
    } ports[] = {
        { "http", 80 }, { "https", 443 }, { "ws", 80 }, { "wss", 443 },
        { "h2c", 80 }, { "h2", 443 }, { "fcgi", 8000 }, { "ajp", 8009 },
        { "scgi", 4000 }, { "uwsgi", 3031 }, { "ftp", 21 },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        if (!strcasecmp(scheme, ports[i].scheme)) {
            return ports[i].port;
        }
    }
    return apr_uri_port_of_scheme(scheme);
}

/* Length of "scheme://host[:port]" at the start of `url` (0 if none). */
static apr_size_t netloc_end(const char *url)
{
    const char *s = strstr(url, "://");
    const char *e;

    if (!s) {
        return 0;
    }
    s += 3;
    e = s + strcspn(s, "/?#");
    return (apr_size_t)(e - url);
}

/* Split "unix:/path|rest" into the socket path and the URL after '|'. */
static const char *split_uds(apr_pool_t *p, const char *url,
                             const char **uds, const char **rest)
{
    const char *bar = ap_strchr_c(url, '|');
    const char *path;

    if (!bar) {
        return apr_psprintf(p, "invalid unix: URL '%s' (missing '|')", url);
    }
    path = apr_pstrmemdup(p, url + 5, (apr_size_t)(bar - url - 5));
    if (!*path) {
        return apr_psprintf(p, "invalid unix: URL '%s' (empty socket path)",
                            url);
    }
    if (path[0] != '/') {
        path = ap_runtime_dir_relative(p, path);
    }
    if (strlen(path) >= PRX_UDS_PATH_MAX) {
        return apr_psprintf(p, "unix socket path '%s' is too long (max %d "
                            "characters)", path, PRX_UDS_PATH_MAX - 1);
    }
    *uds = path;
    *rest = bar + 1;
    if (!ap_strchr_c(*rest, ':')) {
        return apr_psprintf(p, "invalid unix: URL '%s' (no scheme after "
                            "'|')", url);
    }
    return NULL;
}

const char *worker_parse_url(apr_pool_t *p, const char *url,
                             const char **name, const char **scheme,
                             const char **host, apr_port_t *port,
                             const char **uds_path)
{
    const char *colon, *s, *hb, *he, *pe, *err;
    char *h;
    apr_port_t def, pn = 0;
    int explicit_port = 0;

    *uds_path = NULL;
    if (!strncasecmp(url, "unix:", 5)) {
        err = split_uds(p, url, uds_path, &url);
        if (err) {
            return err;
        }
    }
    colon = ap_strchr_c(url, ':');
    if (!colon || colon == url) {
        return apr_psprintf(p, "URL '%s' has no scheme", url);
    }
    /* RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). Anything else
     * (e.g. the "^http" of a <ProxyMatch> regex) would make a worker that
     * no request URL can ever match */
    for (s = url; s < colon; s++) {
        if (!apr_isalpha(*s)
            && (s == url || (!apr_isdigit(*s) && !ap_strchr_c("+-.", *s)))) {
            return apr_psprintf(p, "URL '%s' has no valid scheme", url);
        }
    }
    *scheme = apr_pstrmemdup(p, url, (apr_size_t)(colon - url));
    ap_str_tolower((char *)*scheme);
    s = colon + 1;
    if (strncmp(s, "//", 2)) {
        if (!*uds_path) {
            return apr_psprintf(p, "URL '%s' has no host", url);
        }
        /* "unix:/s|http:" means http://localhost */
        s = apr_pstrcat(p, "//localhost", *s == '/' ? "" : "/", s, NULL);
    }
    s += 2;
    {
        /* spec core.md §9: user info is dropped from backend URLs, so it
         * is no part of the worker's name either ("user:pw@h" is h) */
        const char *end = s + strcspn(s, "/?#"), *at = NULL, *q;

        for (q = s; q < end; q++) {
            if (*q == '@') {
                at = q;
            }
        }
        if (at) {
            s = at + 1;
        }
    }
    hb = s;
    if (*hb == '[') {
        he = ap_strchr_c(hb, ']');
        if (!he) {
            return apr_psprintf(p, "URL '%s': unterminated IPv6 address",
                                url);
        }
        pe = he + 1;
        hb++;
    }
    else {
        he = hb + strcspn(hb, ":/?#");
        pe = he;
    }
    if (he == hb) {
        if (!*uds_path) {
            return apr_psprintf(p, "URL '%s' has no host", url);
        }
        h = apr_pstrdup(p, "localhost");
    }
    else {
        h = apr_pstrmemdup(p, hb, (apr_size_t)(he - hb));
    }
    if (strlen(h) >= PRX_HOSTNAME_MAX) {
        return apr_psprintf(p, "URL '%s': host name is too long", url);
    }
    ap_str_tolower(h);
    def = prx_default_port(*scheme);
    if (*pe == ':') {
        const char *ps = pe + 1;
        pe = ps + strcspn(ps, "/?#");
        if (pe > ps && *ps != '$') {
            char *end;
            long v = strtol(ps, &end, 10);
            if (end != pe || v < 1 || v > 65535) {
                return apr_psprintf(p, "URL '%s': bad port number", url);
            }
            pn = (apr_port_t)v;
            explicit_port = pn != def;
        }
        else if (pe > ps) {
            /* a pattern port ("$2") stays in the name */
            explicit_port = -1;
        }
    }
    *host = h;
    *port = pn ? pn : def;
    if (explicit_port == -1) {
        *name = apr_pstrcat(p, *scheme, "://", h, ":",
                            apr_pstrmemdup(p, he + 1 + (*he == ']'),
                                           (apr_size_t)(pe - he - 1
                                                        - (*he == ']'))),
                            pe, NULL);
    }
    else if (ap_strchr_c(h, ':')) {
        *name = explicit_port
                ? apr_psprintf(p, "%s://[%s]:%u%s", *scheme, h, *port, pe)
                : apr_psprintf(p, "%s://[%s]%s", *scheme, h, pe);
    }
    else {
        *name = explicit_port
                ? apr_psprintf(p, "%s://%s:%u%s", *scheme, h, *port, pe)
                : apr_psprintf(p, "%s://%s%s", *scheme, h, pe);
    }
    if (strlen(*name) >= PRX_WORKER_NAME_MAX) {
        return apr_psprintf(p, "URL '%s' is too long for a worker name "
                            "(max %d characters)", url,
                            PRX_WORKER_NAME_MAX - 1);
    }
    return NULL;
}

/* -- matching ----------------------------------------------------------------- */

/* Does the pattern `pat` ($n = any substring) match a prefix of `str`? */
static int pattern_prefix_match(const char *pat, const char *str)
{
    for (;;) {
        if (!*pat) {
            return 1;
        }
        if (pat[0] == '$' && apr_isdigit(pat[1])) {
            const char *rest = pat + 2;
            const char *s;
            for (s = str;; s++) {
                if (pattern_prefix_match(rest, s)) {
                    return 1;
                }
                if (!*s) {
                    return 0;
                }
            }
        }
        if (*pat == '\\' && pat[1]) {
            pat++;
        }
        if (*pat != *str) {
            return 0;
        }
        pat++;
        str++;
    }
}

/* spec core.md §8.2/§8.3: the longest name that is a prefix of `url`, not
 * longer than it and at least as long as its scheme://host[:port]. */
static prx_worker *longest_match(apr_array_header_t *workers,
                                 const char *url)
{
    apr_size_t ulen = strlen(url), min = netloc_end(url), best_len = 0;
    prx_worker *best = NULL;
    int i;

    for (i = 0; i < workers->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(workers, i, prx_worker *);
        apr_size_t nlen = strlen(w->name);

        /* the length bounds hold for pattern workers too, markers
         * counted: otherwise "http://b/$1$1" would out-bid every plain
         * worker of b for any URL */
        if (nlen <= best_len || nlen > ulen || nlen < min) {
            continue;
        }
        if (w->is_pattern ? !pattern_prefix_match(w->name, url)
                          : strncmp(w->name, url, nlen) != 0) {
            continue;
        }
        best = w;
        best_len = nlen;
    }
    return best;
}

prx_worker *worker_lookup_config(apr_array_header_t *workers,
                                 const char *name)
{
    return longest_match(workers, name);
}

PRX_DECLARE(prx_worker *) prx_worker_find(server_rec *s, const char *url)
{
    prx_server_conf *sc = prx_server_conf_get(s);
    return longest_match(sc->workers, url);
}

PRX_DECLARE(prx_worker *) prx_worker_generic(server_rec *s, int forward)
{
    return forward ? prx_generic_forward : prx_generic_reverse;
}

/* -- iteration ----------------------------------------------------------------- */

/* Every configured worker once: a virtual host's list also holds the main
 * server's workers it inherited, so a worker is visited with the server
 * that defined it. The generic worker is not included. */
void worker_foreach(server_rec *s, worker_fn fn, void *baton)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        prx_server_conf *sc = prx_server_conf_get(vs);
        int i, j;

        for (i = 0; i < sc->workers->nelts; i++) {
            prx_worker *w = APR_ARRAY_IDX(sc->workers, i, prx_worker *);
            if (w->server == vs) {
                fn(w, vs, baton);
            }
        }
        /* balancer members are no server workers, but workers all the
         * same */
        for (i = 0; i < sc->balancers->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(sc->balancers, i,
                                            prx_balancer *);
            if (b->server != vs) {
                continue;
            }
            for (j = 0; j < b->members->nelts; j++) {
                prx_worker *w = APR_ARRAY_IDX(b->members, j, prx_worker *);
                /* a virtual host's merged balancer lists the members of
                 * the main server's balancer of that name: those are the
                 * main server's */
                if (w->balancer == b) {
                    fn(w, vs, baton);
                }
            }
        }
    }
}

/* -- creation ---------------------------------------------------------------------- */

static prx_worker *worker_alloc(apr_pool_t *p, server_rec *s,
                                const prx_server_conf *sc)
{
    prx_worker *w = apr_pcalloc(p, sizeof(*w));

    w->server = s;
    params_init(&w->p, sc);
    w->s = apr_pcalloc(p, sizeof(*w->s));
    return w;
}

const char *worker_new(apr_pool_t *p, server_rec *s, prx_server_conf *sc,
                       const char *url, int is_pattern, prx_worker **out)
{
    prx_worker *w = worker_alloc(p, s, sc);
    const char *err;

    err = worker_parse_url(p, url, &w->name, &w->scheme, &w->hostname,
                           &w->port, &w->uds_path);
    if (err) {
        return err;
    }
    w->is_pattern = is_pattern ? 1 : 0;
    *out = w;
    return NULL;
}

const char *worker_create(apr_pool_t *p, server_rec *s, prx_server_conf *sc,
                          const char *url, int is_pattern, prx_worker **out)
{
    const char *err = worker_new(p, s, sc, url, is_pattern, out);

    if (!err) {
        *(prx_worker **)apr_array_push(sc->workers) = *out;
    }
    return err;
}

/* Resolve what only a complete configuration decides (spec core.md §3.2,
 * §5): reuse defaults of pattern workers, DNS caching, the implicit I flag
 * of workers that are not balancer members. */
static void worker_finish(prx_worker *w, server_rec *s, void *baton)
{
    apr_pool_t *ptemp = baton;
    const char *dollar = ap_strchr_c(w->name, '$');
    int host_pattern = dollar
                       && (apr_size_t)(dollar - w->name) < netloc_end(w->name);

    if (host_pattern) {
        if (w->p.disablereuse != PRX_UNSET) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRXLOGNO(00003)
                         "worker %s: enablereuse/disablereuse ignored: the "
                         "host or port comes from the request, so neither "
                         "connections nor addresses can be reused", w->name);
        }
        w->p.disablereuse = 1;
    }
    else if (w->p.disablereuse == PRX_UNSET) {
        w->p.disablereuse = ap_strchr_c(w->name, '$') != NULL;
    }
    w->address_cacheable = !host_pattern && w->p.address_ttl != 0
                           && (!w->p.disablereuse || w->p.address_ttl > 0);
    if (w->p.address_ttl == 0) {
        w->p.disablereuse = 1;
    }
    if (!w->section_config) {
        /* a <Proxy url> section placed before the rule that made us */
        w->section_config = sections_of_worker(s, ptemp, w);
    }
    /* spec core.md §8.6: workers outside balancers ignore errors, unless
     * the configuration clears I explicitly (status=-I) */
    if (!w->balancer) {
        w->s->status |= PRX_WS_IGNORE_ERRORS;
    }
    w->s->status |= w->p.status_set | PRX_WS_INITIALIZED;
    w->s->status &= ~w->p.status_clear;
    /* what a balancer-manager may change lives in the shared slot */
    w->s->lbfactor = w->p.lbfactor;
    w->s->lbset = w->p.lbset;
    apr_cpystrn(w->s->route, w->p.route ? w->p.route : "",
                sizeof(w->s->route));
    apr_cpystrn(w->s->redirect, w->p.redirect ? w->p.redirect : "",
                sizeof(w->s->redirect));
    apr_cpystrn(w->s->name, w->name, sizeof(w->s->name));
}

PRX_DECLARE(void) prx_worker_child_init(prx_worker *w, apr_pool_t *pchild)
{
    int threads = 0;

    if (w->p.disablereuse == PRX_UNSET) {
        /* made at run time (balancer-manager), after post_config: resolve
         * what post_config resolves for the configured workers */
        worker_finish(w, w->server, pchild);
    }

    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    connpool_init_worker(w, pchild, threads < 1 ? 1 : threads);
}

/* spec core.md §8.4: the generic workers ignore errors, never keep
 * connections and take their timeouts from the request's server. */
static prx_worker *generic_alloc(apr_pool_t *p, server_rec *s,
                                 const char *name)
{
    prx_worker *w = worker_alloc(p, s, NULL);

    w->name = name;
    w->scheme = "";
    w->hostname = "";
    w->is_generic = 1;
    w->p.disablereuse = 1;
    w->s->status = PRX_WS_GENERIC | PRX_WS_IGNORE_ERRORS
                   | PRX_WS_INITIALIZED;
    return w;
}

int worker_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    prx_generic_reverse = generic_alloc(pconf, s, "proxy:reverse");
    prx_generic_forward = generic_alloc(pconf, s, "proxy:forward");

    worker_foreach(s, worker_finish, ptemp);
    balancer_post_config(s);
    return OK;
}

typedef struct {
    apr_pool_t *pchild;
    int threads;
} child_ctx;

static void child_init_one(prx_worker *w, server_rec *s, void *baton)
{
    child_ctx *ctx = baton;
    connpool_init_worker(w, ctx->pchild, ctx->threads);
}

void worker_child_init(apr_pool_t *pchild, server_rec *s)
{
    child_ctx ctx;

    ctx.pchild = pchild;
    ctx.threads = 0;
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &ctx.threads);
    if (ctx.threads < 1) {
        ctx.threads = 1;
    }
    connpool_init_worker(prx_generic_reverse, pchild, ctx.threads);
    connpool_init_worker(prx_generic_forward, pchild, ctx.threads);
    worker_foreach(s, child_init_one, &ctx);
}

/* -- state -------------------------------------------------------------------------- */

PRX_DECLARE(int) prx_worker_usable(prx_worker *w, server_rec *s)
{
    apr_uint32_t st = apr_atomic_read32(&w->s->status);

    if (!(st & PRX_WS_UNUSABLE)) {
        return 1;
    }
    if ((st & PRX_WS_UNUSABLE) == PRX_WS_IN_ERROR
        && apr_time_now() >= w->s->error_time + w->p.retry) {
        /* retry time passed: let one request find out */
        return 1;
    }
    return 0;
}

PRX_DECLARE(apr_uint32_t) prx_worker_status_change(prx_worker_shared *ws,
                                                   apr_uint32_t set,
                                                   apr_uint32_t clear)
{
    apr_uint32_t old;

    do {
        old = apr_atomic_read32(&ws->status);
    } while (apr_atomic_cas32(&ws->status, (old | set) & ~clear, old) != old);
    return old;
}

PRX_DECLARE(void) prx_worker_set_error(prx_worker *w, server_rec *s)
{
    if ((apr_atomic_read32(&w->s->status) & PRX_WS_IGNORE_ERRORS)
        || (prx_worker_status_change(w->s, PRX_WS_IN_ERROR, 0)
            & PRX_WS_IN_ERROR)) {
        /* ignores errors, or already in error (one attempt may report its
         * failure twice: the connect, then the failover loop); of
         * concurrent callers only the one that set the flag goes on */
        return;
    }
    w->s->error_time = apr_time_now();
    apr_atomic_inc32(&w->s->retries);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PRXLOGNO(00004)
                 "worker %s put in error state for %" APR_TIME_T_FMT
                 " seconds", w->name, apr_time_sec(w->p.retry));
}

PRX_DECLARE(apr_interval_time_t) prx_worker_timeout(const prx_worker *w,
                                                    request_rec *r)
{
    prx_server_conf *sc;

    if (w && w->p.timeout != PRX_UNSET) {
        return w->p.timeout;
    }
    sc = prx_server_conf_get(r->server);
    if (sc->timeout != PRX_UNSET) {
        return sc->timeout;
    }
    return r->server->timeout;
}

PRX_DECLARE(apr_interval_time_t) prx_worker_connect_timeout(
                                     const prx_worker *w, request_rec *r)
{
    if (w && w->p.connect_timeout != PRX_UNSET) {
        return w->p.connect_timeout;
    }
    return prx_worker_timeout(w, r);
}
