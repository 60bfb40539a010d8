/*
 * proxy_config.c -- the core's directives, and the creation and merging of
 * its server and per-directory configuration (spec core.md §2-§4).
 *
 * Worker `key=value` parameters are parsed by proxy_params.c; worker
 * creation and the sharing rule live in proxy_worker.c. Every directive
 * registered here is implemented; the ones of later issues are simply not
 * registered, so httpd stops at them with "Invalid command".
 */
#include "proxy_private.h"

#include <apr_lib.h>
#include <ap_mpm.h>

#define MERGE_SET(base, add, f) \
    ((add)->f##_set ? (add)->f : (base)->f)
#define MERGE_UNSET(base, add, f) \
    ((add)->f == PRX_UNSET ? (base)->f : (add)->f)

/* -- server configuration --------------------------------------------------- */

void *config_server_create(apr_pool_t *p, server_rec *s)
{
    prx_server_conf *sc = apr_pcalloc(p, sizeof(*sc));

    sc->aliases = apr_array_make(p, 8, sizeof(prx_alias));
    sc->workers = apr_array_make(p, 8, sizeof(prx_worker *));
    sc->balancers = apr_array_make(p, 1, sizeof(struct prx_balancer *));
    sc->sections = apr_array_make(p, 1, sizeof(ap_conf_vector_t *));
    forward_init_conf(p, sc);
    sc->via = PRX_VIA_OFF;
    sc->badheader = PRX_BAD_ISERROR;
    sc->max_forwards = -1;
    sc->timeout = PRX_UNSET;
    sc->io_buffer_size = 8192;
    sc->recv_buffer_size = 0;
    sc->pass_inherit = 1;
    sc->bal_inherit = 1;
    sc->bal_growth = 5;
    return sc;
}

void *config_server_merge(apr_pool_t *p, void *basev, void *addv)
{
    prx_server_conf *base = basev, *add = addv;
    prx_server_conf *sc = apr_pcalloc(p, sizeof(*sc));

    *sc = *add;
    /* spec core.md §3.7: the main server's rules always come first */
    sc->aliases = apr_array_append(p, base->aliases, add->aliases);
    sc->sections = apr_array_append(p, base->sections, add->sections);
    sc->noproxies = apr_array_append(p, base->noproxies, add->noproxies);
    sc->blocks = apr_array_append(p, base->blocks, add->blocks);
    sc->domain = add->domain ? add->domain : base->domain;
    sc->pass_inherit = MERGE_SET(base, add, pass_inherit);
    sc->pass_inherit_set = base->pass_inherit_set || add->pass_inherit_set;
    sc->bal_inherit = MERGE_SET(base, add, bal_inherit);
    sc->bal_inherit_set = base->bal_inherit_set || add->bal_inherit_set;
    /* spec core.md §3.7: ProxyPassInherit governs the ProxyRemote list */
    sc->remotes = sc->pass_inherit
                  ? apr_array_append(p, base->remotes, add->remotes)
                  : add->remotes;
    if (sc->pass_inherit || sc->bal_inherit) {
        sc->workers = apr_array_append(p, base->workers, add->workers);
        sc->balancers = balancer_merge_lists(p, base->balancers,
                                             add->balancers);
    }
    sc->bal_growth = MERGE_SET(base, add, bal_growth);
    sc->bal_growth_set = base->bal_growth_set || add->bal_growth_set;
    /* BalancerPersist is never inherited (spec core.md §3.7) */
    sc->req = MERGE_SET(base, add, req);
    sc->req_set = base->req_set || add->req_set;
    sc->via = MERGE_SET(base, add, via);
    sc->via_set = base->via_set || add->via_set;
    sc->badheader = MERGE_SET(base, add, badheader);
    sc->badheader_set = base->badheader_set || add->badheader_set;
    sc->max_forwards = MERGE_SET(base, add, max_forwards);
    sc->max_forwards_set = base->max_forwards_set || add->max_forwards_set;
    sc->timeout = MERGE_SET(base, add, timeout);
    sc->timeout_set = base->timeout_set || add->timeout_set;
    sc->io_buffer_size = MERGE_SET(base, add, io_buffer_size);
    sc->io_buffer_size_set = base->io_buffer_size_set
                             || add->io_buffer_size_set;
    sc->recv_buffer_size = MERGE_SET(base, add, recv_buffer_size);
    sc->recv_buffer_size_set = base->recv_buffer_size_set
                               || add->recv_buffer_size_set;
    sc->proxy_status = MERGE_SET(base, add, proxy_status);
    sc->proxy_status_set = base->proxy_status_set || add->proxy_status_set;
    sc->source_address = MERGE_SET(base, add, source_address);
    sc->source_address_set = base->source_address_set
                             || add->source_address_set;
    return sc;
}

/* -- per-directory configuration ---------------------------------------------- */

void *config_dir_create(apr_pool_t *p, char *dir)
{
    prx_dir_conf *d = apr_pcalloc(p, sizeof(*d));

    d->section = dir;
    d->preserve_host = PRX_UNSET;
    d->add_forwarded_headers = PRX_UNSET;
    d->error_override = PRX_UNSET;
    d->interpolate_env = PRX_UNSET;
    d->proxy_100_continue = PRX_UNSET;
    return d;
}

static apr_array_header_t *append_opt(apr_pool_t *p, apr_array_header_t *a,
                                      apr_array_header_t *b)
{
    if (!a || !a->nelts) {
        return b;
    }
    if (!b || !b->nelts) {
        return a;
    }
    return apr_array_append(p, a, b);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Runs per request for <Location> merges: no compiling or sorting here
 * except the (rare, short) error code list concatenation. */
void *config_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    prx_dir_conf *base = basev, *add = addv;
    prx_dir_conf *d = apr_palloc(p, sizeof(*d));

    *d = *add;
    if (!add->alias_set) {
        d->alias = base->alias;
        d->alias_set = base->alias_set;
    }
    d->raliases = append_opt(p, base->raliases, add->raliases);
    d->cookie_paths = append_opt(p, base->cookie_paths, add->cookie_paths);
    d->cookie_domains = append_opt(p, base->cookie_domains,
                                   add->cookie_domains);
    d->preserve_host = MERGE_UNSET(base, add, preserve_host);
    d->add_forwarded_headers = MERGE_UNSET(base, add, add_forwarded_headers);
    d->error_override = MERGE_UNSET(base, add, error_override);
    d->interpolate_env = MERGE_UNSET(base, add, interpolate_env);
    d->proxy_100_continue = MERGE_UNSET(base, add, proxy_100_continue);
    /* spec core.md §3.19: code lists of outer and inner are concatenated */
    if (base->error_override_codes && add->error_override_codes) {
        d->error_override_codes = apr_array_append(p,
                                      base->error_override_codes,
                                      add->error_override_codes);
        qsort(d->error_override_codes->elts, d->error_override_codes->nelts,
              sizeof(int), cmp_int);
    }
    else if (!add->error_override_codes) {
        d->error_override_codes = base->error_override_codes;
    }
    return d;
}

/* -- helpers for directive handlers ------------------------------------------- */

static prx_server_conf *cmd_sconf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &proxy_module);
}

/* The <Location>-family rules are kept in the dir config; forbidden in
 * Directory, Files and If sections (spec core.md §3.1; NOT_IN_FILES
 * covers <If>). httpd's message already starts with the directive name. */
static const char *check_pass_context(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIRECTORY | NOT_IN_FILES
                                     | NOT_IN_HTACCESS);
}

/* A <Proxy> section applies to requests already mapped to a backend URL:
 * a ProxyPass rule there could never be evaluated. */
static const char *check_rule_context(cmd_parms *cmd)
{
    const char *err = check_pass_context(cmd);
    return err ? err : ap_check_cmd_context(cmd, NOT_IN_PROXY);
}

static int in_location(cmd_parms *cmd)
{
    return cmd->path != NULL;
}

static int has_wildcards(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* -- ProxyPass / ProxyPassMatch ------------------------------------------------ */

typedef struct {
    const char *key;
    const char *val;
} kv_pair;

/* The server to log a configuration-time message with: a virtual host's
 * log level is only merged from the main server after the configuration
 * is read, so until then it would drop the message; NULL logs it at the
 * default level (to stderr, as every message at that point). */
static server_rec *config_log_server(cmd_parms *cmd)
{
    return cmd->server->is_virtual ? NULL : cmd->server;
}

/* Apply the worker parameters of a rule, or warn about each when the
 * worker was shared with an earlier rule (spec core.md §8.2). */
static const char *apply_worker_params(cmd_parms *cmd, prx_worker *w,
                                       int shared, const char *url,
                                       apr_array_header_t *params)
{
    int i;

    if (shared && params->nelts) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, config_log_server(cmd),
                     PRXLOGNO(00001) "%s: worker %s already used by another "
                     "rule; sharing it for %s", cmd->cmd->name, w->name, url);
    }
    for (i = 0; i < params->nelts; i++) {
        kv_pair *kv = &APR_ARRAY_IDX(params, i, kv_pair);
        const char *err;

        if (shared) {
            /* still validate: a typo must not pass unnoticed */
            prx_worker scratch = *w;
            err = params_set_worker(cmd->pool, &scratch, kv->key, kv->val);
            if (err) {
                return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err,
                                   NULL);
            }
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, config_log_server(cmd),
                         PRXLOGNO(00002) "%s: parameter %s=%s for %s ignored:"
                         " the worker %s defined earlier is used with its "
                         "own parameters", cmd->cmd->name, kv->key, kv->val,
                         url, w->name);
            continue;
        }
        err = params_set_worker(cmd->pool, w, kv->key, kv->val);
        if (err) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
        }
    }
    return NULL;
}

const char *worker_apply_words(cmd_parms *cmd, prx_worker *w, int shared,
                               const char *url, const char *who,
                               const char *args)
{
    apr_array_header_t *params = apr_array_make(cmd->temp_pool, 4,
                                                sizeof(kv_pair));
    char *word;

    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *eq = strchr(word, '=');
        kv_pair *kv;

        if (!eq) {
            return apr_psprintf(cmd->pool, "%s: parameter '%s' must be in "
                                "the form key=value", who, word);
        }
        *eq = '\0';
        kv = apr_array_push(params);
        kv->key = word;
        kv->val = eq + 1;
    }
    return apply_worker_params(cmd, w, shared, url, params);
}

/* A rule whose target is a balancer: its parameters are the balancer's
 * (spec core.md §3.1). */
static const char *pass_balancer(cmd_parms *cmd, const char *real,
                                 apr_array_header_t *params,
                                 const char *fake, prx_balancer **out)
{
    prx_balancer *b;
    const char *err = balancer_get(cmd, real, 1, &b);
    int i;

    if (err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    for (i = 0; i < params->nelts; i++) {
        kv_pair *kv = &APR_ARRAY_IDX(params, i, kv_pair);
        err = prx_balancer_set_param(cmd->pool, b, kv->key, kv->val);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s (%s=%s)", cmd->cmd->name,
                                err, kv->key, kv->val);
        }
    }
    /* display only (balancer-manager) */
    apr_cpystrn(b->s->vpath, fake, sizeof(b->s->vpath));
    apr_cpystrn(b->s->vhost, cmd->server->server_hostname
                             ? cmd->server->server_hostname : "",
                sizeof(b->s->vhost));
    *out = b;
    return NULL;
}

/* Find or create the worker of a rule's target. */
static const char *pass_worker(cmd_parms *cmd, prx_server_conf *sc,
                               const char *url, int is_regex,
                               apr_array_header_t *params, prx_worker **out)
{
    const char *name, *scheme, *host, *uds, *err;
    apr_port_t port;
    prx_worker *w;
    int is_pattern = is_regex && strchr(url, '$') != NULL;

    err = worker_parse_url(cmd->pool, url, &name, &scheme, &host, &port,
                           &uds);
    if (err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    w = worker_lookup_config(sc->workers, name);
    if (w) {
        *out = w;
        return apply_worker_params(cmd, w, 1, url, params);
    }
    err = worker_create(cmd->pool, cmd->server, sc, url, is_pattern, &w);
    if (err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    *out = w;
    return apply_worker_params(cmd, w, 0, url, params);
}

static const char *add_pass(cmd_parms *cmd, void *dconf, const char *args,
                            int is_regex)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    prx_dir_conf *d = dconf;
    apr_array_header_t *params = apr_array_make(cmd->temp_pool, 4,
                                                sizeof(kv_pair));
    const char *words[2] = { NULL, NULL };
    int nwords = 0, need, use_regex = is_regex;
    prx_alias *a;
    kv_pair *kv;
    char *word;
    const char *err = check_rule_context(cmd);
    const char *fake, *real;

    if (err) {
        return err;
    }
    a = apr_pcalloc(cmd->pool, sizeof(*a));
    need = in_location(cmd) ? 1 : 2;
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *eq;

        if (!strcasecmp(word, "nocanon")) {
            a->nocanon = 1;
            continue;
        }
        if (!strcasecmp(word, "interpolate")) {
            a->interpolate = 1;
            continue;
        }
        if (!strcasecmp(word, "noquery")) {
            a->noquery = 1;
            continue;
        }
        if (nwords == 0 && !is_regex && !in_location(cmd)
            && !strcmp(word, "~")) {
            /* undocumented: "ProxyPass ~ regex url" = ProxyPassMatch */
            use_regex = 1;
            continue;
        }
        if (nwords < need) {
            /* path and target come first whatever they contain */
            words[nwords++] = word;
            continue;
        }
        if (!(eq = strchr(word, '='))) {
            if (in_location(cmd) && words[0][0] == '/') {
                return apr_psprintf(cmd->pool, "%s: can not have a path "
                                    "when defined in a location",
                                    cmd->cmd->name);
            }
            return apr_psprintf(cmd->pool, "%s: parameter '%s' must be in "
                                "the form key=value", cmd->cmd->name, word);
        }
        *eq = '\0';
        kv = apr_array_push(params);
        kv->key = word;
        kv->val = eq + 1;
    }

    if (in_location(cmd)) {
        if (nwords != 1) {
            return apr_psprintf(cmd->pool, "%s: needs a target URL or "
                                "'!'", cmd->cmd->name);
        }
        fake = cmd->path;
        real = words[0];
        /* spec core.md §3.1: a <Location> path with wildcards acts as a
         * regex; <LocationMatch> text is taken literally unless it has
         * them (ProxyPassMatch uses it as a regex in any case) */
        if (!is_regex && has_wildcards(fake)) {
            use_regex = 1;
        }
    }
    else {
        if (nwords < 2) {
            return apr_psprintf(cmd->pool, "%s: needs a path when not "
                                "defined in a location", cmd->cmd->name);
        }
        fake = words[0];
        real = words[1];
    }

    /* mapping= is ours, not the worker's */
    {
        int i;
        for (i = 0; i < params->nelts; i++) {
            kv = &APR_ARRAY_IDX(params, i, kv_pair);
            if (strcasecmp(kv->key, "mapping")) {
                continue;
            }
            if (!strcasecmp(kv->val, "encoded")) {
                a->mapping = PRX_MAPPING_ENCODED;
            }
            else if (!strcasecmp(kv->val, "servlet")) {
                a->mapping = PRX_MAPPING_SERVLET;
            }
            else {
                return apr_psprintf(cmd->pool, "%s: unknown mapping '%s' "
                                    "(allowed: encoded, servlet)",
                                    cmd->cmd->name, kv->val);
            }
            /* remove it from the parameter list */
            memmove(kv, kv + 1, (params->nelts - i - 1) * sizeof(*kv));
            params->nelts--;
            i--;
        }
    }

    a->fake = fake;
    a->real = real;
    if (use_regex) {
        a->regex = ap_pregcomp(cmd->pool, fake, AP_REG_EXTENDED);
        if (!a->regex) {
            return apr_psprintf(cmd->pool, "%s: regular expression '%s' "
                                "could not be compiled", cmd->cmd->name,
                                fake);
        }
    }

    if (strcmp(real, "!")) {
        if (!ap_strchr_c(real, ':')) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute "
                                "URL or '!'", cmd->cmd->name, real);
        }
        if (!strncasecmp(real, "balancer:", 9)) {
            err = pass_balancer(cmd, real, params, fake, &a->balancer);
        }
        else {
            err = pass_worker(cmd, sc, real, use_regex, params, &a->worker);
        }
        if (err) {
            return err;
        }
    }
    else if (params->nelts) {
        return apr_psprintf(cmd->pool, "%s: '!' takes no parameters",
                            cmd->cmd->name);
    }

    if (in_location(cmd)) {
        d->alias = a;
        d->alias_set = 1;
    }
    else {
        *(prx_alias *)apr_array_push(sc->aliases) = *a;
    }
    return NULL;
}

static const char *set_proxy_pass(cmd_parms *cmd, void *d, const char *args)
{
    return add_pass(cmd, d, args, 0);
}

static const char *set_proxy_pass_match(cmd_parms *cmd, void *d,
                                        const char *args)
{
    if (!strncmp(args, "~", 1) && (args[1] == ' ' || args[1] == '\t')) {
        return "ProxyPassMatch: '~' is not allowed here (the path already "
               "is a regular expression)";
    }
    return add_pass(cmd, d, args, 1);
}

/* -- ProxyPassReverse family ---------------------------------------------------- */

static const char *add_reverse_rule(cmd_parms *cmd, apr_array_header_t **tab,
                                    const char *fake, const char *real,
                                    int interpolate)
{
    prx_reverse_rule *rr;

    if (!*tab) {
        *tab = apr_array_make(cmd->pool, 2, sizeof(prx_reverse_rule));
    }
    rr = apr_array_push(*tab);
    rr->fake = fake;
    rr->real = real;
    rr->interpolate = interpolate ? 1 : 0;
    rr->balancer = NULL;
    return NULL;
}

static const char *set_proxy_pass_reverse(cmd_parms *cmd, void *dconf,
                                          const char *a1, const char *a2,
                                          const char *a3)
{
    prx_dir_conf *d = dconf;
    const char *fake, *real;
    int interpolate = 0;
    const char *err = check_pass_context(cmd);

    if (err) {
        return err;
    }
    if (in_location(cmd)) {
        if (a2 && strcasecmp(a2, "interpolate")) {
            return "ProxyPassReverse: can not have a path when defined in "
                   "a location";
        }
        if (a3) {
            return "ProxyPassReverse: too many arguments in a location";
        }
        fake = cmd->path;
        real = a1;
        interpolate = a2 != NULL;
    }
    else {
        if (!a2 || !strcasecmp(a2, "interpolate")) {
            return "ProxyPassReverse: needs a path when not defined in a "
                   "location";
        }
        if (a3 && strcasecmp(a3, "interpolate")) {
            return apr_psprintf(cmd->pool, "ProxyPassReverse: unknown flag "
                                "'%s' (allowed: interpolate)", a3);
        }
        fake = a1;
        real = a2;
        interpolate = a3 != NULL;
    }
    return add_reverse_rule(cmd, &d->raliases, fake, real, interpolate);
}

/* spec core.md §3.4: any third argument sets the interpolate flag */
static const char *set_cookie_path(cmd_parms *cmd, void *dconf,
                                   const char *a1, const char *a2,
                                   const char *a3)
{
    prx_dir_conf *d = dconf;
    return add_reverse_rule(cmd, &d->cookie_paths, a2, a1, a3 != NULL);
}

static const char *set_cookie_domain(cmd_parms *cmd, void *dconf,
                                     const char *a1, const char *a2,
                                     const char *a3)
{
    prx_dir_conf *d = dconf;
    return add_reverse_rule(cmd, &d->cookie_domains, a2, a1, a3 != NULL);
}

/* -- simple per-directory flags ------------------------------------------------ */

static const char *set_preserve_host(cmd_parms *cmd, void *dconf, int flag)
{
    ((prx_dir_conf *)dconf)->preserve_host = flag;
    return NULL;
}

static const char *set_add_headers(cmd_parms *cmd, void *dconf, int flag)
{
    ((prx_dir_conf *)dconf)->add_forwarded_headers = flag;
    return NULL;
}

static const char *set_100_continue(cmd_parms *cmd, void *dconf, int flag)
{
    ((prx_dir_conf *)dconf)->proxy_100_continue = flag;
    return NULL;
}

static const char *set_interpolate_env(cmd_parms *cmd, void *dconf, int flag)
{
    ((prx_dir_conf *)dconf)->interpolate_env = flag;
    return NULL;
}

/* ProxyErrorOverride Off|On [code ...], parsed word by word */
static const char *set_error_override(cmd_parms *cmd, void *dconf,
                                      const char *word)
{
    prx_dir_conf *d = dconf;

    if (!strcasecmp(word, "on")) {
        d->error_override = 1;
        return NULL;
    }
    if (!strcasecmp(word, "off")) {
        d->error_override = 0;
        d->error_override_codes = NULL;
        return NULL;
    }
    /* spec core.md §3.19: the first word of a context must be On|Off;
     * after that, words are codes, and codes need a preceding On */
    if (d->error_override == PRX_UNSET) {
        return apr_psprintf(cmd->pool, "ProxyErrorOverride: '%s': first "
                            "parameter must be one of off|on", word);
    }
    if (!apr_isdigit(word[0])) {
        return apr_psprintf(cmd->pool, "ProxyErrorOverride: '%s': status "
                            "codes to intercept must be numeric", word);
    }
    if (d->error_override != 1) {
        return "ProxyErrorOverride: status codes must follow a value of on";
    }
    {
        char *end;
        long code = strtol(word, &end, 10);
        if (*end || code < 400 || code > 599) {
            return apr_psprintf(cmd->pool, "ProxyErrorOverride: '%s': status"
                                " codes must be valid HTTP status codes "
                                ">=400 && <600", word);
        }
        if (!d->error_override_codes) {
            d->error_override_codes = apr_array_make(cmd->pool, 4,
                                                     sizeof(int));
        }
        APR_ARRAY_PUSH(d->error_override_codes, int) = (int)code;
        qsort(d->error_override_codes->elts, d->error_override_codes->nelts,
              sizeof(int), cmp_int);
    }
    return NULL;
}

/* -- server-level directives ---------------------------------------------------- */

static const char *set_pass_inherit(cmd_parms *cmd, void *dconf, int flag)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    sc->pass_inherit = flag;
    sc->pass_inherit_set = 1;
    return NULL;
}

/* A keyword directive: `v` must be one of `words` (any case); *out gets
 * the matching value. The error lists every allowed word. */
typedef struct {
    const char *word;
    int value;
} keyword;

static const char *set_keyword(cmd_parms *cmd, const char *v,
                               const keyword *words, int *out)
{
    const keyword *k;
    char *allowed = "";

    for (k = words; k->word; k++) {
        if (!strcasecmp(v, k->word)) {
            *out = k->value;
            return NULL;
        }
    }
    for (k = words; k->word; k++) {
        allowed = apr_pstrcat(cmd->temp_pool, allowed, k == words ? "" : ", ",
                              "'", k->word, "'", NULL);
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not one of %s",
                        cmd->cmd->name, v, allowed);
}

static const char *set_proxy_via(cmd_parms *cmd, void *dconf, const char *v)
{
    static const keyword words[] = {
        { "Off", PRX_VIA_OFF }, { "On", PRX_VIA_ON },
        { "Full", PRX_VIA_FULL }, { "Block", PRX_VIA_BLOCK }, { NULL, 0 }
    };
    prx_server_conf *sc = cmd_sconf(cmd);

    sc->via_set = 1;
    return set_keyword(cmd, v, words, &sc->via);
}

static const char *set_bad_header(cmd_parms *cmd, void *dconf, const char *v)
{
    static const keyword words[] = {
        { "IsError", PRX_BAD_ISERROR }, { "Ignore", PRX_BAD_IGNORE },
        { "StartBody", PRX_BAD_STARTBODY }, { NULL, 0 }
    };
    prx_server_conf *sc = cmd_sconf(cmd);

    sc->badheader_set = 1;
    return set_keyword(cmd, v, words, &sc->badheader);
}

static const char *set_proxy_timeout(cmd_parms *cmd, void *dconf,
                                     const char *v)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    int secs = atoi(v);

    if (secs < 1) {
        return apr_psprintf(cmd->pool, "ProxyTimeout: '%s' must be at least "
                            "1 second", v);
    }
    sc->timeout = apr_time_from_sec(secs);
    sc->timeout_set = 1;
    return NULL;
}

static const char *set_io_buffer_size(cmd_parms *cmd, void *dconf,
                                      const char *v)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    long n = atol(v);

    if (n != 0 && n < 512) {
        return apr_psprintf(cmd->pool, "ProxyIOBufferSize: '%s' must be >= "
                            "512 bytes, or 0 for the default (8192)", v);
    }
    sc->io_buffer_size = n ? (apr_size_t)n : 8192;
    sc->io_buffer_size_set = 1;
    return NULL;
}

static const char *set_recv_buffer_size(cmd_parms *cmd, void *dconf,
                                        const char *v)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    int n = atoi(v);

    if (n != 0 && n < 512) {
        return apr_psprintf(cmd->pool, "ProxyReceiveBufferSize: '%s' must be"
                            " >= 512 bytes, or 0 for the system default", v);
    }
    sc->recv_buffer_size = n;
    sc->recv_buffer_size_set = 1;
    return NULL;
}

static const char *set_max_forwards(cmd_parms *cmd, void *dconf,
                                    const char *v)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    sc->max_forwards = atoi(v);
    sc->max_forwards_set = 1;
    return NULL;
}

static const char *set_source_address(cmd_parms *cmd, void *dconf,
                                      const char *v)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    apr_sockaddr_t *addr;
    apr_status_t rv = apr_sockaddr_info_get(&addr, v, APR_UNSPEC, 0, 0,
                                            cmd->pool);

    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ProxySourceAddress: invalid value "
                            "'%s' (not an address this host can resolve)",
                            v);
    }
    sc->source_address = addr;
    sc->source_address_set = 1;
    return NULL;
}

static const char *set_proxy_status(cmd_parms *cmd, void *dconf,
                                    const char *v)
{
    /* spec core.md §3.25: Full behaves exactly like On */
    static const keyword words[] = {
        { "Off", 0 }, { "On", 1 }, { "Full", 1 }, { NULL, 0 }
    };
    prx_server_conf *sc = cmd_sconf(cmd);

    sc->proxy_status_set = 1;
    return set_keyword(cmd, v, words, &sc->proxy_status);
}

/* -- the table ---------------------------------------------------------------------- */

const command_rec prx_cmds[] = {
    AP_INIT_RAW_ARGS("<Proxy", sections_set_proxy_section, NULL, RSRC_CONF,
                     "a section for backend URLs matching a wildcard URL "
                     "(or a plain URL prefix)"),
    AP_INIT_RAW_ARGS("<ProxyMatch", sections_set_proxy_section, (void *)1,
                     RSRC_CONF,
                     "a section for backend URLs matching a regex"),
    AP_INIT_RAW_ARGS("ProxySet", sections_set_proxy_set, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "a worker URL (outside <Proxy>) and key=value worker "
                     "parameters"),
    AP_INIT_RAW_ARGS("ProxyPass", set_proxy_pass, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "a virtual path and a URL (or '!'), then key=value "
                     "worker parameters and nocanon|interpolate|noquery"),
    AP_INIT_RAW_ARGS("ProxyPassMatch", set_proxy_pass_match, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "a regex of the path and a URL (or '!'), then "
                     "parameters as for ProxyPass"),
    AP_INIT_TAKE123("ProxyPassReverse", set_proxy_pass_reverse, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "a virtual path and a URL for reverse mapping of "
                    "Location and similar headers [interpolate]"),
    AP_INIT_TAKE23("ProxyPassReverseCookiePath", set_cookie_path, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "the backend cookie path and the public one "
                   "[interpolate]"),
    AP_INIT_TAKE23("ProxyPassReverseCookieDomain", set_cookie_domain, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "the backend cookie domain and the public one "
                   "[interpolate]"),
    AP_INIT_FLAG("ProxyPassInherit", set_pass_inherit, NULL, RSRC_CONF,
                 "whether virtual hosts inherit the main server's "
                 "ProxyRemote entries (On by default)"),
    AP_INIT_FLAG("ProxyPassInterpolateEnv", set_interpolate_env, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "interpolate ${VAR} in rules marked 'interpolate'"),
    AP_INIT_FLAG("ProxyPreserveHost", set_preserve_host, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "on: send the client's Host header to the backend"),
    AP_INIT_FLAG("ProxyAddHeaders", set_add_headers, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "on: add X-Forwarded-For/-Host/-Server (the default)"),
    AP_INIT_FLAG("Proxy100Continue", set_100_continue, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "on: forward Expect: 100-continue to the backend "
                 "(the default)"),
    AP_INIT_ITERATE("ProxyErrorOverride", set_error_override, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "On|Off, then optional status codes (400-599) to "
                    "override"),
    AP_INIT_FLAG("ProxyRequests", forward_set_requests, NULL, RSRC_CONF,
                 "On: act as a forward proxy (secure it with <Proxy>)"),
    AP_INIT_TAKE23("ProxyRemote", forward_set_remote, NULL, RSRC_CONF,
                   "'*', a scheme or a URL prefix, then the upstream proxy "
                   "URL [user:password]"),
    AP_INIT_TAKE23("ProxyRemoteMatch", forward_set_remote, (void *)1,
                   RSRC_CONF,
                   "a regex of the URL, then the upstream proxy URL "
                   "[user:password]"),
    AP_INIT_ITERATE("NoProxy", forward_set_noproxy, NULL, RSRC_CONF,
                    "hosts, domains, subnets or words reached without "
                    "ProxyRemote"),
    AP_INIT_ITERATE("ProxyBlock", forward_set_block, NULL, RSRC_CONF,
                    "words, hosts or domains never connected to ('*': all)"),
    AP_INIT_TAKE1("ProxyDomain", forward_set_domain, NULL, RSRC_CONF,
                  "the domain appended to dotless host names (a 301)"),
    AP_INIT_TAKE1("ProxyVia", set_proxy_via, NULL, RSRC_CONF,
                  "Via header handling: Off, On, Full or Block"),
    AP_INIT_TAKE1("ProxyBadHeader", set_bad_header, NULL, RSRC_CONF,
                  "backend header lines without ':': IsError, Ignore or "
                  "StartBody"),
    AP_INIT_TAKE1("ProxyTimeout", set_proxy_timeout, NULL, RSRC_CONF,
                  "backend I/O timeout in seconds"),
    AP_INIT_TAKE1("ProxyIOBufferSize", set_io_buffer_size, NULL, RSRC_CONF,
                  "I/O buffer size in bytes (>= 512, 0 = 8192)"),
    AP_INIT_TAKE1("ProxyReceiveBufferSize", set_recv_buffer_size, NULL,
                  RSRC_CONF,
                  "backend socket receive buffer (>= 512, 0 = system)"),
    AP_INIT_TAKE1("ProxyMaxForwards", set_max_forwards, NULL, RSRC_CONF,
                  "Max-Forwards value to add when the client sent none "
                  "(-1: add none)"),
    AP_INIT_RAW_ARGS("BalancerMember", balancer_set_member, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "[balancer://name] a member URL, then key=value worker "
                     "parameters"),
    AP_INIT_TAKE1("BalancerGrowth", balancer_set_growth, NULL, RSRC_CONF,
                  "number of extra balancer slots for this server "
                  "(0-1000, default 5)"),
    AP_INIT_FLAG("BalancerPersist", balancer_set_persist, NULL, RSRC_CONF,
                 "keep balancer-manager changes across restarts"),
    AP_INIT_FLAG("BalancerInherit", balancer_set_inherit, NULL, RSRC_CONF,
                 "whether virtual hosts inherit the main server's balancers"
                 " and workers (On by default)"),
    AP_INIT_TAKE1("ProxyStatus", set_proxy_status, NULL, RSRC_CONF,
                  "workers and balancers on mod_status' page: Off, On or "
                  "Full (= On)"),
    AP_INIT_TAKE1("ProxySourceAddress", set_source_address, NULL, RSRC_CONF,
                  "local address backend connections are bound to"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};
