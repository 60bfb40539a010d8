/*
 * proxy_balancer.c -- the core's side of load balancing: balancer://
 * objects and their members as the configuration defines them
 * (BalancerMember, balancer parameters on ProxyPass / ProxySet / <Proxy>,
 * BalancerGrowth / BalancerPersist / BalancerInherit), the member
 * candidate walk the lbmethods share, and the retry check.
 *
 * Choosing a member per request, sticky sessions, failover accounting,
 * slot memory and the manager are mod_proxy_balancer's (spec balancer.md).
 */
#include "proxy_private.h"

#include <apr_atomic.h>
#include <apr_lib.h>
#include <ap_provider.h>
#include "prx_lbmethod.h"

/* -- names and lookup ------------------------------------------------------- */

/* "balancer://Name/path" -> "balancer://name" (from `p`), or NULL when it
 * is no balancer URL or the name is empty or too long. */
static char *balancer_name(apr_pool_t *p, const char *url)
{
    const char *s, *e;
    char *name;

    if (strncasecmp(url, "balancer://", 11)) {
        return NULL;
    }
    s = url + 11;
    e = s + strcspn(s, "/?#");
    if (e == s || (apr_size_t)(e - url) >= PRX_BALANCER_NAME_MAX) {
        return NULL;
    }
    name = apr_pstrmemdup(p, url, (apr_size_t)(e - url));
    ap_str_tolower(name);
    return name;
}

static prx_balancer *find_in(apr_array_header_t *list, const char *name)
{
    int i;

    for (i = 0; i < list->nelts; i++) {
        prx_balancer *b = APR_ARRAY_IDX(list, i, prx_balancer *);
        if (!strcmp(b->name, name)) {
            return b;
        }
    }
    return NULL;
}

PRX_DECLARE(prx_balancer *) prx_balancer_find(server_rec *s, const char *url)
{
    char name[PRX_BALANCER_NAME_MAX];
    const char *e;
    apr_size_t n;

    if (strncasecmp(url, "balancer://", 11)) {
        return NULL;
    }
    e = url + 11 + strcspn(url + 11, "/?#");
    n = (apr_size_t)(e - url);
    if (n >= sizeof(name) || n == 11) {
        return NULL;
    }
    memcpy(name, url, n);
    name[n] = '\0';
    ap_str_tolower(name);
    return find_in(prx_server_conf_get(s)->balancers, name);
}

/* Find or create the balancer of `url` in `cmd`'s server. */
const char *balancer_get(cmd_parms *cmd, const char *url, int create,
                         prx_balancer **out)
{
    prx_server_conf *sc = prx_server_conf_get(cmd->server);
    char *name = balancer_name(cmd->pool, url);
    prx_balancer *b;

    if (!name) {
        return apr_psprintf(cmd->pool, "bad balancer name '%s' (expected "
                            "balancer://name, under %d characters)", url,
                            PRX_BALANCER_NAME_MAX - 1);
    }
    b = find_in(sc->balancers, name);
    if (!b && create) {
        b = apr_pcalloc(cmd->pool, sizeof(*b));
        b->name = name;
        b->server = cmd->server;
        b->members = apr_array_make(cmd->pool, 4, sizeof(prx_worker *));
        b->s = apr_pcalloc(cmd->pool, sizeof(*b->s));
        apr_cpystrn(b->s->name, name, sizeof(b->s->name));
        apr_cpystrn(b->s->lbpname, "byrequests", sizeof(b->s->lbpname));
        b->s->sticky_separator = '.';
        b->s->forcerecovery = 1;
        *(prx_balancer **)apr_array_push(sc->balancers) = b;
    }
    if (!b) {
        return apr_psprintf(cmd->pool, "can not find '%s' Balancer "
                            "(define it first)", url);
    }
    *out = b;
    return NULL;
}

/* -- balancer parameters (spec core.md §6) -------------------------------- */

static int onoff(const char *v, int *out)
{
    if (!strcasecmp(v, "on")) {
        *out = 1;
        return 1;
    }
    if (!strcasecmp(v, "off")) {
        *out = 0;
        return 1;
    }
    return 0;
}

static const char *set_failonstatus(apr_pool_t *p, prx_balancer *b,
                                    const char *val)
{
    apr_array_header_t *codes = apr_array_make(p, 4, sizeof(int));
    char *copy = apr_pstrdup(p, val), *tok, *last;

    for (tok = apr_strtok(copy, ", \t", &last); tok;
         tok = apr_strtok(NULL, ", \t", &last)) {
        char *end;
        long code = strtol(tok, &end, 10);
        if (*end || code < 100 || code > 599) {
            return "failonstatus must be one or more HTTP response codes "
                   "(100-599)";
        }
        APR_ARRAY_PUSH(codes, int) = (int)code;
    }
    if (!codes->nelts) {
        return "failonstatus must be one or more HTTP response codes "
               "(100-599)";
    }
    /* each occurrence replaces the list */
    b->errstatuses = codes;
    return NULL;
}

static const char *set_sticky(apr_pool_t *p, prx_balancer *b,
                              const char *val)
{
    const char *bar = ap_strchr_c(val, '|');
    const char *cookie = bar ? apr_pstrmemdup(p, val, (apr_size_t)(bar - val))
                             : val;
    const char *path = bar ? bar + 1 : val;

    /* as stock: over-long names are cut to 63 characters */
    apr_cpystrn(b->s->sticky, cookie, sizeof(b->s->sticky));
    apr_cpystrn(b->s->sticky_path, path, sizeof(b->s->sticky_path));
    b->sticky_set = 1;
    return NULL;
}

PRX_DECLARE(const char *) prx_balancer_set_param(apr_pool_t *p,
                                                 prx_balancer *b,
                                                 const char *key,
                                                 const char *val)
{
    int flag;

    if (!strcasecmp(key, "lbmethod")) {
        if (strlen(val) >= PRX_LBMETHOD_NAME_MAX
            || !ap_lookup_provider(PRX_LBMETHOD_GROUP, val,
                                   PRX_LBMETHOD_VERSION)) {
            return apr_psprintf(p, "unknown lbmethod '%s' (is its "
                                "mod_lbmethod_%s loaded before this line?)",
                                val, val);
        }
        apr_cpystrn(b->s->lbpname, val, sizeof(b->s->lbpname));
        b->lbmethod = ap_lookup_provider(PRX_LBMETHOD_GROUP, val,
                                         PRX_LBMETHOD_VERSION);
        b->lbmethod_set = 1;
    }
    else if (!strcasecmp(key, "maxattempts")) {
        int n = atoi(val);
        if (n < 0 || !apr_isdigit(*val)) {
            return "maximum number of attempts must be a positive number";
        }
        b->s->max_attempts = n;
        b->s->max_attempts_set = 1;
    }
    else if (!strcasecmp(key, "nofailover")) {
        if (!onoff(val, &b->s->sticky_force)) {
            return "nofailover must be On|Off";
        }
        b->nofailover_set = 1;
    }
    else if (!strcasecmp(key, "stickysession")) {
        return set_sticky(p, b, val);
    }
    else if (!strcasecmp(key, "stickysessionsep")) {
        if (!strcasecmp(val, "off")) {
            b->s->sticky_separator = 0;
        }
        else if (strlen(val) == 1) {
            b->s->sticky_separator = val[0];
        }
        else {
            return "stickysessionsep must be a single character or Off";
        }
        b->sticky_sep_set = 1;
    }
    else if (!strcasecmp(key, "scolonpathdelim")) {
        if (!onoff(val, &b->s->scolonsep)) {
            return "scolonpathdelim must be On|Off";
        }
        b->scolon_set = 1;
    }
    else if (!strcasecmp(key, "timeout")) {
        int n = atoi(val);
        if (n < 1) {
            return "timeout must be at least one second";
        }
        b->s->timeout = apr_time_from_sec(n);
        b->timeout_set = 1;
    }
    else if (!strcasecmp(key, "failonstatus")) {
        return set_failonstatus(p, b, val);
    }
    else if (!strcasecmp(key, "failontimeout")) {
        if (!onoff(val, &b->failontimeout)) {
            return "failontimeout must be On|Off";
        }
        b->failontimeout_set = 1;
    }
    else if (!strcasecmp(key, "nonce")) {
        if (strlen(val) >= PRX_NONCE_MAX) {
            return "Provided nonce is too large (at most 36 characters)";
        }
        apr_cpystrn(b->s->nonce, strcasecmp(val, "None") ? val : "",
                    sizeof(b->s->nonce));
        b->nonce_set = 1;
    }
    else if (!strcasecmp(key, "growth")) {
        int n = atoi(val);
        if (n < 1 || n > 100) {
            return "growth must be between 1 and 100";
        }
        b->growth = n;
        b->growth_set = 1;
    }
    else if (!strcasecmp(key, "forcerecovery")) {
        if (!onoff(val, &flag)) {
            return "forcerecovery must be On|Off";
        }
        b->s->forcerecovery = flag;
        b->forcerecovery_set = 1;
    }
    else {
        return apr_psprintf(p, "unknown Balancer parameter '%s'", key);
    }
    return NULL;
}

/* Apply "key=value" words (already split) to `b`. */
const char *balancer_apply_words(cmd_parms *cmd, prx_balancer *b,
                                 const char *who, const char *args)
{
    char *word;

    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *eq = strchr(word, '=');
        const char *err;

        if (!eq) {
            return apr_psprintf(cmd->pool, "%s: parameter '%s' must be in "
                                "the form key=value", who, word);
        }
        *eq = '\0';
        err = prx_balancer_set_param(cmd->pool, b, word, eq + 1);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s (%s=%s; %s)", who, err,
                                word, eq + 1, b->name);
        }
    }
    return NULL;
}

/* -- members ----------------------------------------------------------------- */

PRX_DECLARE(prx_worker *) prx_balancer_member_find(apr_pool_t *p,
                                                   prx_balancer *b,
                                                   const char *url)
{
    const char *name, *scheme, *host, *uds;
    apr_port_t port;

    if (worker_parse_url(p, url, &name, &scheme, &host, &port, &uds)) {
        return NULL;
    }
    return worker_lookup_config(b->members, name);
}

PRX_DECLARE(const char *) prx_balancer_add_member(apr_pool_t *p,
                                                  server_rec *s,
                                                  prx_balancer *b,
                                                  const char *url,
                                                  prx_worker **out)
{
    prx_server_conf *sc = prx_server_conf_get(s);
    const char *err;
    prx_worker *w;

    err = worker_new(p, s, sc, url, 0, &w);
    if (err) {
        return err;
    }
    w->balancer = b;
    *(prx_worker **)apr_array_push(b->members) = w;
    *out = w;
    return NULL;
}

/* BalancerMember [balancerurl] url [key=value ...] (spec core.md §3.26) */
const char *balancer_set_member(cmd_parms *cmd, void *dconf,
                                const char *args)
{
    const char *sect = cmd->path, *burl = NULL, *url, *err;
    const char *rest = args;
    prx_balancer *b;
    prx_worker *w;
    char *word;
    int shared;

    err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (err) {
        return apr_pstrcat(cmd->pool, "BalancerMember: ", err, NULL);
    }
    word = ap_getword_conf(cmd->pool, &rest);
    if (sect && !strncasecmp(sect, "balancer:", 9)) {
        if (*word && !ap_strchr_c(word, '=')
            && !strncasecmp(word, "balancer:", 9)) {
            return "BalancerMember: can not have a balancer name when "
                   "defined in a location";
        }
        burl = sect;
        url = word;
    }
    else if (sect) {
        return apr_psprintf(cmd->pool, "BalancerMember: '%s' is not a "
                            "balancer:// section", sect);
    }
    else {
        burl = word;
        url = ap_getword_conf(cmd->pool, &rest);
        if (!*burl || ap_strchr_c(burl, '=')) {
            return "BalancerMember: must define balancer name when outside "
                   "<Proxy> section";
        }
    }
    if (!*url || ap_strchr_c(url, '=')) {
        return "BalancerMember: must define remote proxy server";
    }
    err = balancer_get(cmd, burl, 1, &b);
    if (err) {
        return apr_pstrcat(cmd->pool, "BalancerMember: ", err, NULL);
    }
    w = prx_balancer_member_find(cmd->temp_pool, b, url);
    shared = w != NULL;
    if (!w) {
        err = prx_balancer_add_member(cmd->pool, cmd->server, b, url, &w);
        if (err) {
            return apr_pstrcat(cmd->pool, "BalancerMember: ", err, NULL);
        }
    }
    return worker_apply_words(cmd, w, shared, url, "BalancerMember", rest);
}

/* -- server-level balancer directives --------------------------------------------- */

const char *balancer_set_growth(cmd_parms *cmd, void *dconf, const char *v)
{
    prx_server_conf *sc = prx_server_conf_get(cmd->server);
    int n = atoi(v);

    if (n < 0 || n > 1000 || !apr_isdigit(*v)) {
        return "BalancerGrowth must be between 0 and 1000";
    }
    sc->bal_growth = n;
    sc->bal_growth_set = 1;
    return NULL;
}

const char *balancer_set_persist(cmd_parms *cmd, void *dconf, int flag)
{
    prx_server_conf_get(cmd->server)->bal_persist = flag;
    return NULL;
}

const char *balancer_set_inherit(cmd_parms *cmd, void *dconf, int flag)
{
    prx_server_conf *sc = prx_server_conf_get(cmd->server);

    sc->bal_inherit = flag;
    sc->bal_inherit_set = 1;
    return NULL;
}

/* Post config: maxattempts default and the member count limit
 * (spec balancer.md §5, §9.1). */
void balancer_post_config(server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        apr_array_header_t *bl = prx_server_conf_get(vs)->balancers;
        int i;

        for (i = 0; i < bl->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(bl, i, prx_balancer *);

            if (b->server != vs) {
                continue;
            }
            if (!b->s->max_attempts_set && b->members->nelts > 1) {
                b->s->max_attempts = b->members->nelts - 1;
                b->s->max_attempts_set = 1;
            }
            b->max_members = b->members->nelts + b->growth;
            if (!b->lbmethod) {
                b->lbmethod = ap_lookup_provider(PRX_LBMETHOD_GROUP,
                                                 b->s->lbpname,
                                                 PRX_LBMETHOD_VERSION);
            }
        }
    }
}

/* -- inheritance (spec balancer.md §12.3) ---------------------------------------- */

/* The balancer a virtual host gets when it defines (or names in ProxyPass
 * or ProxySet) a balancer `ab` that it also inherits as `bb`: the main
 * server's members and per-process settings; the shared settings of the
 * virtual host, each falling back to the main server's where the virtual
 * host left it unset; lbmethod, growth and failontimeout of the virtual
 * host where it set them; the failonstatus codes of both, its own first.
 * The members stay `bb`'s (w->balancer == bb): their shared slots and
 * connection pools are made once, for `bb`. */
static prx_balancer *merge_one(apr_pool_t *p, const prx_balancer *bb,
                               const prx_balancer *ab)
{
    prx_balancer *m = apr_pmemdup(p, bb, sizeof(*m));
    prx_balancer_shared *s = apr_pmemdup(p, ab->s, sizeof(*s));
    const prx_balancer_shared *bs = bb->s;

    m->server = ab->server;
    m->s = s;
    m->members = apr_array_copy(p, bb->members);
    if (ab->section_config) {
        m->section_config = ab->section_config;
    }
    if (!ab->sticky_set) {
        memcpy(s->sticky, bs->sticky, sizeof(s->sticky));
        memcpy(s->sticky_path, bs->sticky_path, sizeof(s->sticky_path));
    }
    if (!ab->sticky_sep_set) {
        s->sticky_separator = bs->sticky_separator;
    }
    if (!ab->timeout_set) {
        s->timeout = bs->timeout;
    }
    if (!s->max_attempts_set) {
        s->max_attempts = bs->max_attempts;
        s->max_attempts_set = bs->max_attempts_set;
    }
    if (!ab->nonce_set) {
        memcpy(s->nonce, bs->nonce, sizeof(s->nonce));
    }
    if (!ab->nofailover_set) {
        s->sticky_force = bs->sticky_force;
    }
    if (!ab->scolon_set) {
        s->scolonsep = bs->scolonsep;
    }
    if (!ab->forcerecovery_set) {
        s->forcerecovery = bs->forcerecovery;
    }
    if (ab->lbmethod_set) {
        m->lbmethod = ab->lbmethod;
    }
    else {
        memcpy(s->lbpname, bs->lbpname, sizeof(s->lbpname));
    }
    if (ab->growth_set) {
        m->growth = ab->growth;
    }
    if (ab->failontimeout_set) {
        m->failontimeout = ab->failontimeout;
    }
    if (ab->errstatuses && ab->errstatuses->nelts) {
        m->errstatuses = bb->errstatuses
                         ? apr_array_append(p, ab->errstatuses,
                                            bb->errstatuses)
                         : ab->errstatuses;
    }
    m->lbmethod_set = ab->lbmethod_set || bb->lbmethod_set;
    m->timeout_set = ab->timeout_set || bb->timeout_set;
    m->sticky_set = ab->sticky_set || bb->sticky_set;
    m->sticky_sep_set = ab->sticky_sep_set || bb->sticky_sep_set;
    m->nofailover_set = ab->nofailover_set || bb->nofailover_set;
    m->scolon_set = ab->scolon_set || bb->scolon_set;
    m->forcerecovery_set = ab->forcerecovery_set || bb->forcerecovery_set;
    m->growth_set = ab->growth_set || bb->growth_set;
    m->nonce_set = ab->nonce_set || bb->nonce_set;
    m->failontimeout_set = ab->failontimeout_set || bb->failontimeout_set;
    return m;
}

apr_array_header_t *balancer_merge_lists(apr_pool_t *p,
                                         const apr_array_header_t *base,
                                         const apr_array_header_t *add)
{
    apr_array_header_t *out = apr_array_make(p, base->nelts + add->nelts,
                                             sizeof(prx_balancer *));
    int i;

    for (i = 0; i < base->nelts; i++) {
        prx_balancer *bb = APR_ARRAY_IDX(base, i, prx_balancer *);
        if (!find_in((apr_array_header_t *)add, bb->name)) {
            APR_ARRAY_PUSH(out, prx_balancer *) = bb;
        }
    }
    for (i = 0; i < add->nelts; i++) {
        prx_balancer *ab = APR_ARRAY_IDX(add, i, prx_balancer *);
        prx_balancer *bb = find_in((apr_array_header_t *)base, ab->name);
        APR_ARRAY_PUSH(out, prx_balancer *) = bb ? merge_one(p, bb, ab) : ab;
    }
    return out;
}

/* -- retry check and candidate walk ------------------------------------------------ */

PRX_DECLARE(int) prx_worker_retry(prx_worker *w, server_rec *s)
{
    apr_uint32_t st = apr_atomic_read32(&w->s->status);

    if ((st & PRX_WS_IN_ERROR) && !(st & PRX_WS_STOPPED)
        && ((st & PRX_WS_IGNORE_ERRORS)
            || apr_time_now() > w->s->error_time + w->p.retry)) {
        prx_worker_status_change(w->s, 0, PRX_WS_IN_ERROR);
        apr_atomic_inc32(&w->s->retries);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRXLOGNO(00095)
                     "worker %s: retry time passed, back in service",
                     w->name);
    }
    return !(apr_atomic_read32(&w->s->status) & PRX_WS_UNUSABLE);
}

static int usable_flags(const prx_worker *w)
{
    apr_uint32_t st = w->s->status;
    return (st & PRX_WS_INITIALIZED) && !(st & PRX_WS_UNUSABLE);
}

PRX_DECLARE(prx_worker *) prx_balancer_best_worker(prx_balancer *b,
                                                   request_rec *r,
                                                   prx_is_best_fn *is_best,
                                                   void *baton)
{
    int tier, max_lbset = 0, i, n = b->members->nelts;
    prx_worker *best = NULL;
    prx_worker **spares = apr_palloc(r->pool, sizeof(prx_worker *) * (n + 1));
    prx_worker **standbys = apr_palloc(r->pool,
                                       sizeof(prx_worker *) * (n + 1));

    for (tier = 0; !best && tier <= max_lbset; tier++) {
        int unusable = 0, nspares = 0, nstandbys = 0;

        for (i = 0; i < n; i++) {
            prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
            apr_uint32_t st = w->s->status;
            int ok;

            if (w->s->lbset > max_lbset) {
                max_lbset = w->s->lbset;
            }
            if (w->s->lbset != tier) {
                continue;
            }
            if (st & PRX_WS_DRAIN) {
                if (!(st & (PRX_WS_HOT_SPARE | PRX_WS_HOT_STANDBY))) {
                    unusable++;
                }
                continue;
            }
            ok = usable_flags(w) || (prx_worker_retry(w, r->server)
                                     && usable_flags(w));
            if (st & PRX_WS_HOT_SPARE) {
                if (ok) {
                    spares[nspares++] = w;
                }
            }
            else if (st & PRX_WS_HOT_STANDBY) {
                if (ok) {
                    standbys[nstandbys++] = w;
                }
            }
            else if (ok) {
                if (is_best(w, best, baton)) {
                    best = w;
                }
            }
            else {
                unusable++;
            }
        }
        /* spares replace as many unusable members as there are */
        for (i = 0; i < nspares && i < unusable; i++) {
            if (is_best(spares[i], best, baton)) {
                best = spares[i];
            }
        }
        if (!best) {
            /* nobody else in this lbset: its standbys compete */
            for (i = 0; i < nstandbys; i++) {
                if (is_best(standbys[i], best, baton)) {
                    best = standbys[i];
                }
            }
        }
    }
    return best;
}
