/*
 * proxy_sections.c -- <Proxy>, <ProxyMatch> and ProxySet (spec core.md
 * §3.5, §3.6): reading the sections into per-directory configurations,
 * giving workers their parameters, and, at map_to_storage, merging every
 * section that matches a proxied request's backend URL.
 */
#include "proxy_private.h"

#include <apr_fnmatch.h>
#include <apr_hash.h>
#include <apr_optional_hooks.h>

/*
 * The optional hook "section_post_config": mod_ssl hooks into it (by that
 * name, without linking to us) to build the TLS context of the SSLProxy*
 * directives found in a <Proxy> section. Without the call, those settings
 * have no context and every connection using them fails.
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, section_post_config,
                          (apr_pool_t *p, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s,
                           ap_conf_vector_t *section_config))
APR_IMPLEMENT_OPTIONAL_HOOK_RUN_ALL(prx, PRX, int, section_post_config,
                                    (apr_pool_t *p, apr_pool_t *plog,
                                     apr_pool_t *ptemp, server_rec *s,
                                     ap_conf_vector_t *section_config),
                                    (p, plog, ptemp, s, section_config),
                                    OK, DECLINED)

/* -- ProxySet / inline parameters ---------------------------------------------- */

/* Apply `key=value` words of `args` to the worker for `url`, creating it
 * when `create` is set (inside a section). */
static const char *set_params(cmd_parms *cmd, const char *url,
                              const char *args, int create,
                              const char *who)
{
    prx_server_conf *sc = prx_server_conf_get(cmd->server);
    const char *name, *scheme, *host, *uds, *err;
    apr_port_t port;
    prx_worker *w;
    char *word;

    if (!strncasecmp(url, "balancer:", 9)) {
        prx_balancer *b;
        err = balancer_get(cmd, url, create, &b);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s", who, err);
        }
        return balancer_apply_words(cmd, b, who, args);
    }
    err = worker_parse_url(cmd->pool, url, &name, &scheme, &host, &port,
                           &uds);
    if (err) {
        return apr_psprintf(cmd->pool, "%s: %s", who, err);
    }
    w = worker_lookup_config(sc->workers, name);
    if (!w) {
        if (!create) {
            return apr_psprintf(cmd->pool, "%s: can not find '%s' "
                                "Balancer/Worker (define it first with "
                                "ProxyPass or <Proxy>)", who, url);
        }
        err = worker_create(cmd->pool, cmd->server, sc, url,
                            ap_strchr_c(url, '$') != NULL, &w);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s", who, err);
        }
    }
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *eq = strchr(word, '=');

        if (!eq) {
            return apr_psprintf(cmd->pool, "%s: parameter '%s' must be in "
                                "the form key=value", who, word);
        }
        *eq = '\0';
        err = params_set_worker(cmd->pool, w, word, eq + 1);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s; %s", who, err, url);
        }
    }
    return NULL;
}

/* The URL of the <Proxy> section we are in: the text up to '>'. */
static const char *section_url(cmd_parms *cmd)
{
    const ap_directive_t *d;

    for (d = cmd->directive->parent; d; d = d->parent) {
        if (!strcasecmp(d->directive, "<Proxy")
            || !strcasecmp(d->directive, "<ProxyMatch")) {
            const char *a = d->args;
            const char *end = ap_strrchr_c(a, '>');
            const char *url = end ? apr_pstrmemdup(cmd->pool, a,
                                                   (apr_size_t)(end - a))
                                  : a;
            char *first = ap_getword_conf(cmd->pool, &url);
            if (!strncasecmp(first, "proxy:", 6)) {
                first += 6;
            }
            return first;
        }
    }
    return NULL;
}

const char *sections_set_proxy_set(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    const char *url = section_url(cmd);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);

    if (err) {
        return apr_pstrcat(cmd->pool, "ProxySet: ", err, NULL);
    }
    if (url) {
        if (ap_is_matchexp(url)) {
            return apr_psprintf(cmd->pool, "ProxySet: '%s' is a wildcard "
                                "section; worker parameters need a URL", url);
        }
        return set_params(cmd, url, args, 1, "ProxySet");
    }
    url = ap_getword_conf(cmd->pool, &args);
    if (!*url || ap_strchr_c(url, '=')) {
        return "ProxySet: needs a URL (outside a <Proxy> section) followed "
               "by key=value parameters";
    }
    return set_params(cmd, url, args, 0, "ProxySet");
}

/* -- <Proxy> and <ProxyMatch> ------------------------------------------------------ */

const char *sections_set_proxy_section(cmd_parms *cmd, void *dummy,
                                       const char *arg)
{
    prx_server_conf *sc = prx_server_conf_get(cmd->server);
    int is_match = cmd->cmd->cmd_data != NULL;
    const char *who = is_match ? "<ProxyMatch>" : "<Proxy>";
    const char *end = ap_strrchr_c(arg, '>');
    const char *err, *url, *args, *old_path;
    ap_conf_vector_t *section;
    prx_dir_conf *d;
    ap_regex_t *re = NULL;
    int old_override;

    err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) {
        return apr_pstrcat(cmd->pool, who, ": ", err, NULL);
    }
    if (!end) {
        return apr_psprintf(cmd->pool, "%s: directive missing closing '>'",
                            who);
    }
    args = apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(end - arg));
    url = ap_getword_conf(cmd->pool, &args);
    if (!*url) {
        return apr_psprintf(cmd->pool, "%s: needs a URL or pattern", who);
    }
    if (!is_match && !strcmp(url, "~")) {
        is_match = 1;
        url = ap_getword_conf(cmd->pool, &args);
    }
    if (!strncasecmp(url, "proxy:", 6)) {
        url += 6;
    }
    if (is_match) {
        re = ap_pregcomp(cmd->pool, url, AP_REG_EXTENDED);
        if (!re) {
            return apr_psprintf(cmd->pool, "%s: regular expression '%s' "
                                "could not be compiled", who, url);
        }
    }

    section = ap_create_per_dir_config(cmd->pool);
    old_path = cmd->path;
    old_override = cmd->override;
    cmd->path = (char *)url;
    /* what a <Location> body may hold, a <Proxy> body may hold, plus the
     * directives made for <Proxy> only (PROXY_CONF: SSLProxy* of mod_ssl) */
    cmd->override = OR_ALL | ACCESS_CONF | PROXY_CONF;
    err = ap_walk_config(cmd->directive->first_child, cmd, section);
    cmd->path = (char *)old_path;
    cmd->override = old_override;
    if (err) {
        return err;
    }
    d = ap_get_module_config(section, &proxy_module);
    if (!d) {
        /* no proxy directive inside: httpd created no config of ours */
        d = config_dir_create(cmd->pool, (char *)url);
        ap_set_module_config(section, &proxy_module, d);
    }
    d->section = url;
    if (!is_match && !strncasecmp(url, "unix:", 5) && ap_strchr_c(url, '|')) {
        /* spec core.md §11: the socket goes to the worker (below), the
         * URL after the bar is what requests are matched against, as in
         * sections_apply() */
        d->section = ap_strchr_c(url, '|') + 1;
    }
    d->section_regex = re;
    d->section_is_match = is_match || ap_is_matchexp(url);
    *(ap_conf_vector_t **)apr_array_push(sc->sections) = section;

    if (*args) {
        /* undocumented <Proxy url key=value ...>: as ProxySet inside */
        if (is_match) {
            return "<ProxyMatch>: multiple arguments not supported";
        }
        if (ap_is_matchexp(url) || !ap_strchr_c(url, ':')) {
            return apr_psprintf(cmd->pool, "<Proxy %s>: parameters need a "
                                "plain URL", url);
        }
        err = set_params(cmd, url, args, 1, "<Proxy>");
        if (err) {
            return err;
        }
    }
    if (!d->section_is_match && !strncasecmp(url, "balancer:", 9)) {
        prx_balancer *b;
        err = balancer_get(cmd, url, 1, &b);
        if (err) {
            return apr_psprintf(cmd->pool, "<Proxy %s>: %s", url, err);
        }
        b->section_config = section;
    }
    else if (!d->section_is_match && ap_strchr_c(url, ':')) {
        const char *name, *scheme, *host, *uds;
        apr_port_t port;
        if (!worker_parse_url(cmd->pool, url, &name, &scheme, &host, &port,
                              &uds)) {
            prx_worker *w = worker_lookup_config(sc->workers, name);
            if (w && !strcmp(w->name, name)) {
                w->section_config = section;
            }
        }
    }
    return NULL;
}

/* The plain-URL <Proxy> section naming exactly `w`, wherever in the
 * file it stands relative to the ProxyPass that made the worker. */
ap_conf_vector_t *sections_of_worker(server_rec *s, apr_pool_t *ptemp,
                                     prx_worker *w)
{
    apr_array_header_t *sects = prx_server_conf_get(s)->sections;
    int i;

    for (i = 0; i < sects->nelts; i++) {
        ap_conf_vector_t *sect = APR_ARRAY_IDX(sects, i, ap_conf_vector_t *);
        prx_dir_conf *d = ap_get_module_config(sect, &proxy_module);
        const char *name, *scheme, *host, *uds;
        apr_port_t port;

        if (d->section_is_match || !ap_strchr_c(d->section, ':')
            || !strncasecmp(d->section, "balancer:", 9)) {
            continue;
        }
        if (!worker_parse_url(ptemp, d->section, &name, &scheme, &host,
                              &port, &uds)
            && !strcmp(name, w->name)) {
            return sect;
        }
    }
    return NULL;
}

/* Every section once, with the server that defines it: a virtual host's
 * list starts with the main server's sections, which come first. */
int sections_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *done = apr_hash_make(ptemp);
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        prx_server_conf *sc = prx_server_conf_get(vs);
        int i;

        for (i = 0; i < sc->sections->nelts; i++) {
            ap_conf_vector_t *sect = APR_ARRAY_IDX(sc->sections, i,
                                                   ap_conf_vector_t *);
            int rv;

            if (apr_hash_get(done, &sect, sizeof(sect))) {
                continue;
            }
            apr_hash_set(done, apr_pmemdup(ptemp, &sect, sizeof(sect)),
                         sizeof(sect), sect);
            rv = prx_run_section_post_config(pconf, plog, ptemp, vs, sect);
            if (rv != OK) {
                return rv;
            }
        }
    }
    return OK;
}

/* -- request time ---------------------------------------------------------------- */

static void export_named_groups(request_rec *r, ap_regex_t *re,
                                const char *subject, ap_regmatch_t *m)
{
    apr_array_header_t *names = apr_array_make(r->pool, 4,
                                               sizeof(const char *));
    int i;

    ap_regname(re, names, AP_REG_MATCH, 1);
    for (i = 0; i < names->nelts && i < AP_MAX_REG_MATCH; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (name && m[i].rm_so >= 0) {
            apr_table_setn(r->subprocess_env, name,
                           apr_pstrmemdup(r->pool, subject + m[i].rm_so,
                                          (apr_size_t)(m[i].rm_eo
                                                       - m[i].rm_so)));
        }
    }
}

static int section_matches(request_rec *r, prx_dir_conf *d, const char *url)
{
    if (d->section_regex) {
        ap_regmatch_t m[AP_MAX_REG_MATCH];
        if (ap_regexec(d->section_regex, url, AP_MAX_REG_MATCH, m, 0)) {
            return 0;
        }
        export_named_groups(r, d->section_regex, url, m);
        return 1;
    }
    if (d->section_is_match) {
        /* shell wildcards over the whole URL; '*' also matches '/' */
        return apr_fnmatch(d->section, url, 0) == APR_SUCCESS;
    }
    return !strncmp(url, d->section, strlen(d->section));
}

/* map_to_storage for proxied requests: the server defaults plus every
 * matching section, in configuration order (main server first). */
void sections_apply(request_rec *r)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);
    const char *url = r->filename + PRX_FILENAME_PREFIX_LEN;
    ap_conf_vector_t *conf = r->server->lookup_defaults;
    int i;

    if (!strncasecmp(url, "unix:", 5) && ap_strchr_c(url, '|')) {
        /* spec core.md §11: the URL after the bar is what <Proxy>
         * sections see; the socket path is the worker's business */
        url = ap_strchr_c(url, '|') + 1;
    }
    for (i = 0; i < sc->sections->nelts; i++) {
        ap_conf_vector_t *sect = APR_ARRAY_IDX(sc->sections, i,
                                               ap_conf_vector_t *);
        prx_dir_conf *d = ap_get_module_config(sect, &proxy_module);

        if (section_matches(r, d, url)) {
            conf = ap_merge_per_dir_configs(r->pool, conf, sect);
        }
    }
    r->per_dir_config = conf;
}
