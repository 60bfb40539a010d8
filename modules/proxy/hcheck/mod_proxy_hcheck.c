/*
 * mod_proxy_hcheck.c -- health checks of balancer members (spec
 * hcheck.md): the module record, ProxyHCExpr / ProxyHCTemplate /
 * ProxyHCTPsize, the hc* worker parameters (through the core's
 * set_worker_param hook), and the optional functions the balancer-manager
 * uses.
 *
 * Running the checks in the background is hc_run.c's; one check on the
 * wire, and the expression functions, are hc_probe.c's.
 */
#include "hc_private.h"

#include <http_core.h>
#include <http_protocol.h>
#include <http_log.h>
#include <apr_lib.h>

/* -- configuration ---------------------------------------------------------- */

hc_server_conf *hc_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &proxy_hcheck_module);
}

static void *hc_create_server_conf(apr_pool_t *p, server_rec *s)
{
    hc_server_conf *c = apr_pcalloc(p, sizeof(*c));

    c->templates = apr_array_make(p, 2, sizeof(hc_template));
    c->exprs = apr_array_make(p, 2, sizeof(hc_expr));
    c->tpsize = 16;
    return c;
}

/* spec hcheck.md §2: templates and expressions belong to the server that
 * defines them; a virtual host does not see the main server's. The thread
 * pool size is read from the main server only. */
static void *hc_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    hc_server_conf *add = addv;
    hc_server_conf *c = apr_pmemdup(p, add, sizeof(*c));

    return c;
}

hc_expr *hc_expr_find(server_rec *s, const char *name)
{
    apr_array_header_t *a = hc_conf(s)->exprs;
    int i;

    for (i = 0; i < a->nelts; i++) {
        hc_expr *e = &APR_ARRAY_IDX(a, i, hc_expr);
        if (!strcmp(e->name, name)) {
            return e;
        }
    }
    return NULL;
}

static hc_template *template_find(server_rec *s, const char *name)
{
    apr_array_header_t *a = hc_conf(s)->templates;
    int i;

    /* first match wins (spec hcheck.md §8) */
    for (i = 0; i < a->nelts; i++) {
        hc_template *t = &APR_ARRAY_IDX(a, i, hc_template);
        if (!strcasecmp(t->name, name)) {
            return t;
        }
    }
    return NULL;
}

int hc_cping_available(void)
{
    return APR_RETRIEVE_OPTIONAL_FN(prx_ajp_cping) != NULL;
}

static int hc_implemented(int m)
{
    switch (m) {
    case PRX_HC_NONE:
    case PRX_HC_TCP:
    case PRX_HC_OPTIONS:
    case PRX_HC_HEAD:
    case PRX_HC_GET:
    case PRX_HC_OPTIONS11:
    case PRX_HC_HEAD11:
    case PRX_HC_GET11:
        return 1;
    case PRX_HC_CPING:
        return hc_cping_available();
    default:
        return 0;
    }
}

/*
 * One health check parameter (spec hcheck.md §2) applied to the settings
 * `t` (a template, or a worker's settings being edited). `s` is the server
 * whose ProxyHCExpr and ProxyHCTemplate definitions are visible.
 * @return NULL; an error message; or HC_NOT_MINE when `key` is no
 *         health check parameter.
 */
static const char HC_NOT_MINE[] = "";

static const char *hc_param(apr_pool_t *p, server_rec *s, hc_template *t,
                            const char *key, const char *val)
{
    if (!strcasecmp(key, "hcmethod")) {
        int m = prx_hc_method_find(val);
        if (m < 0) {
            return apr_psprintf(p, "hcmethod: Unknown method '%s' (NONE, "
                                "TCP, OPTIONS, HEAD, GET, OPTIONS11, HEAD11, "
                                "GET11, CPING)", val);
        }
        if (!hc_implemented(m)) {
            return apr_psprintf(p, "hcmethod: Health check method %s not "
                                "(yet) implemented%s", prx_hc_method_name(m),
                                m == PRX_HC_CPING ? " (CPING needs "
                                "mod_proxy_ajp, loaded before this line)"
                                : "");
        }
        t->method = m;
    }
    else if (!strcasecmp(key, "hcinterval")) {
        apr_interval_time_t iv;
        if (val[0] == '-'
            || ap_timeout_parameter_parse(val, &iv, "s") != APR_SUCCESS) {
            return apr_psprintf(p, "hcinterval '%s': not a time (a number "
                                "of seconds, or with ms, s, mi, h)", val);
        }
        if (iv < PRX_HC_MIN_INTERVAL) {
            return apr_psprintf(p, "hcinterval '%s': must be at least "
                                "100 ms", val);
        }
        t->interval = iv;
    }
    else if (!strcasecmp(key, "hcpasses") || !strcasecmp(key, "hcfails")) {
        char *end;
        long n = strtol(val, &end, 10);
        if (!apr_isdigit(*val) || *end || n > 1000000) {
            return apr_psprintf(p, "%s '%s': must be a number >= 0", key,
                                val);
        }
        if (!strcasecmp(key, "hcpasses")) {
            t->passes = (int)n;
        }
        else {
            t->fails = (int)n;
        }
    }
    else if (!strcasecmp(key, "hcuri")) {
        if (strlen(val) >= PRX_HCURI_MAX) {
            return apr_psprintf(p, "hcuri: must be shorter than %d "
                                "characters", PRX_HCURI_MAX);
        }
        t->uri = apr_pstrdup(p, val);
    }
    else if (!strcasecmp(key, "hcexpr")) {
        if (strlen(val) >= sizeof(((prx_worker_shared *)0)->hcexpr)
            || !hc_expr_find(s, val)) {
            return apr_psprintf(p, "hcexpr: Unknown health check condition "
                                "expr '%s' (define it with ProxyHCExpr "
                                "earlier, in the same server context)", val);
        }
        t->expr = apr_pstrdup(p, val);
    }
    else if (!strcasecmp(key, "hctemplate")) {
        hc_template *from = template_find(s, val);
        if (!from) {
            return apr_psprintf(p, "hctemplate: Unknown ProxyHCTemplate "
                                "'%s' (define it earlier, in the same "
                                "server context)", val);
        }
        t->method = from->method;
        t->interval = from->interval;
        t->passes = from->passes;
        t->fails = from->fails;
        t->uri = from->uri;
        t->expr = from->expr;
    }
    else {
        return HC_NOT_MINE;
    }
    return NULL;
}

/* The core's set_worker_param hook: the hc* keys of BalancerMember,
 * ProxySet, ProxyPass (spec hcheck.md §2). They live in the worker's
 * shared slot, where the manager may change them later. */
static int hc_set_worker_param(apr_pool_t *p, server_rec *s, prx_worker *w,
                               const char *key, const char *val,
                               const char **err)
{
    prx_worker_shared *ws = w->s;
    hc_template t;
    const char *e;

    if (strncasecmp(key, "hc", 2)) {
        return DECLINED;
    }
    if (ws->hcinterval == 0) {
        /* first health check parameter of this worker */
        prx_hc_shared_defaults(ws);
    }
    t.method = ws->hcmethod;
    t.interval = ws->hcinterval;
    t.passes = ws->hcpasses;
    t.fails = ws->hcfails;
    t.uri = ws->hcuri;
    t.expr = ws->hcexpr;
    e = hc_param(p, s, &t, key, val);
    if (e == HC_NOT_MINE) {
        *err = apr_psprintf(p, "unknown Worker parameter '%s' (the health "
                            "check parameters are hcmethod, hcinterval, "
                            "hcpasses, hcfails, hcuri, hcexpr, hctemplate)",
                            key);
        return OK;
    }
    if (e) {
        *err = e;
        return OK;
    }
    ws->hcmethod = t.method;
    ws->hcinterval = t.interval;
    ws->hcpasses = t.passes;
    ws->hcfails = t.fails;
    if (t.uri != ws->hcuri) {
        apr_cpystrn(ws->hcuri, t.uri ? t.uri : "", sizeof(ws->hcuri));
    }
    if (t.expr != ws->hcexpr) {
        apr_cpystrn(ws->hcexpr, t.expr ? t.expr : "", sizeof(ws->hcexpr));
    }
    *err = NULL;
    return OK;
}

/* -- directives --------------------------------------------------------------- */

/* ProxyHCExpr name {expression} (spec hcheck.md §5) */
static const char *set_hc_expr(cmd_parms *cmd, void *dconf, const char *args)
{
    hc_server_conf *c = hc_conf(cmd->server);
    const char *name, *src, *extra, *err = NULL;
    ap_expr_info_t *expr;
    hc_expr *slot;

    err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) {
        return apr_pstrcat(cmd->pool, "ProxyHCExpr: ", err, NULL);
    }
    name = ap_getword_conf(cmd->pool, &args);
    if (!*name) {
        return "ProxyHCExpr: missing the expression's name";
    }
    if (strlen(name) >= sizeof(((prx_worker_shared *)0)->hcexpr)) {
        return apr_psprintf(cmd->pool, "ProxyHCExpr: name '%s' is too long "
                            "(at most 15 characters)", name);
    }
    src = ap_getword_conf2(cmd->pool, &args);
    if (!*src) {
        return apr_psprintf(cmd->pool, "ProxyHCExpr %s: missing the "
                            "expression", name);
    }
    extra = ap_getword_conf(cmd->temp_pool, &args);
    if (*extra) {
        return apr_psprintf(cmd->pool, "ProxyHCExpr %s: extra parameter(s) "
                            "after the expression ('%s')", name, extra);
    }
    expr = ap_expr_parse_cmd(cmd, src, 0, &err, NULL);
    if (err) {
        return apr_psprintf(cmd->pool, "ProxyHCExpr %s: cannot parse "
                            "expression '%s': %s", name, src, err);
    }
    slot = hc_expr_find(cmd->server, name);
    if (!slot) {
        slot = apr_array_push(c->exprs);
        slot->name = name;
    }
    slot->source = src;
    slot->expr = expr;
    return NULL;
}

/* ProxyHCTemplate name key=value ... (spec hcheck.md §8) */
static const char *set_hc_template(cmd_parms *cmd, void *dconf,
                                   const char *args)
{
    hc_server_conf *c = hc_conf(cmd->server);
    hc_template t;
    const char *err;
    char *word;

    err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) {
        return apr_pstrcat(cmd->pool, "ProxyHCTemplate: ", err, NULL);
    }
    memset(&t, 0, sizeof(t));
    t.name = ap_getword_conf(cmd->pool, &args);
    if (!*t.name) {
        return "ProxyHCTemplate: missing the template's name";
    }
    t.method = PRX_HC_TCP;
    t.interval = PRX_HC_DEFAULT_INTERVAL;
    t.passes = 1;
    t.fails = 1;
    while (*(word = ap_getword_conf(cmd->pool, &args))) {
        char *eq = strchr(word, '=');

        if (!eq) {
            return apr_psprintf(cmd->pool, "ProxyHCTemplate %s: Invalid "
                                "ProxyHCTemplate parameter '%s' (expected "
                                "key=value)", t.name, word);
        }
        *eq = '\0';
        err = hc_param(cmd->pool, cmd->server, &t, word, eq + 1);
        if (err == HC_NOT_MINE) {
            return apr_psprintf(cmd->pool, "ProxyHCTemplate %s: unknown "
                                "parameter '%s'", t.name, word);
        }
        if (err) {
            return apr_psprintf(cmd->pool, "ProxyHCTemplate %s: %s", t.name,
                                err);
        }
    }
    *(hc_template *)apr_array_push(c->templates) = t;
    return NULL;
}

/* ProxyHCTPsize n (spec hcheck.md §7.4) */
static const char *set_hc_tpsize(cmd_parms *cmd, void *dconf, const char *v)
{
    hc_server_conf *c = hc_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long n;

    if (err) {
        return apr_pstrcat(cmd->pool, "ProxyHCTPsize: ", err, NULL);
    }
    n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > 1024) {
        return apr_psprintf(cmd->pool, "ProxyHCTPsize: '%s' is not a number "
                            "of threads (0..1024; 0 = no pool)", v);
    }
    c->tpsize = (int)n;
    c->tpsize_set = 1;
    return NULL;
}

static const command_rec hc_cmds[] = {
    AP_INIT_RAW_ARGS("ProxyHCExpr", set_hc_expr, NULL, RSRC_CONF,
                     "a named boolean expression deciding whether a health "
                     "check response passes: ProxyHCExpr name {expr}"),
    AP_INIT_RAW_ARGS("ProxyHCTemplate", set_hc_template, NULL, RSRC_CONF,
                     "named health check settings for hctemplate=: "
                     "ProxyHCTemplate name key=value ..."),
    AP_INIT_TAKE1("ProxyHCTPsize", set_hc_tpsize, NULL, RSRC_CONF,
                  "threads that run health checks (0: run them one after "
                  "another in the watchdog thread)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

/* -- optional functions for the balancer-manager ------------------------------- */

static int hc_expr_exists(server_rec *s, const char *name)
{
    return name && *name && hc_expr_find(s, name) != NULL;
}

static int hc_expr_rows(request_rec *r, int count_only)
{
    apr_array_header_t *a = hc_conf(r->server)->exprs;
    int i;

    for (i = 0; !count_only && i < a->nelts; i++) {
        hc_expr *e = &APR_ARRAY_IDX(a, i, hc_expr);
        ap_rvputs(r, "<tr><td>", ap_escape_html(r->pool, e->name),
                  "</td><td>", ap_escape_html(r->pool, e->source),
                  "</td></tr>\n", NULL);
    }
    return a->nelts;
}

static void hc_expr_options(request_rec *r, const char *selected)
{
    apr_array_header_t *a = hc_conf(r->server)->exprs;
    int i;

    for (i = 0; i < a->nelts; i++) {
        hc_expr *e = &APR_ARRAY_IDX(a, i, hc_expr);
        const char *n = ap_escape_html(r->pool, e->name);
        ap_rvputs(r, "<option value=\"", n, "\"",
                  selected && !strcmp(selected, e->name)
                  ? " selected=\"selected\"" : "", ">", n, "</option>\n",
                  NULL);
    }
}

/* -- module ---------------------------------------------------------------------- */

/* Members that never got a health check parameter: the defaults, so the
 * manager shows them and can switch checks on. */
static void defaults_for_members(server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        apr_array_header_t *bl = prx_server_conf_get(vs)->balancers;
        int i, j;

        for (i = 0; i < bl->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(bl, i, prx_balancer *);

            if (b->server != vs) {
                continue;
            }
            for (j = 0; j < b->members->nelts; j++) {
                prx_worker *w = APR_ARRAY_IDX(b->members, j, prx_worker *);
                if (w->s->hcinterval == 0) {
                    prx_hc_shared_defaults(w->s);
                }
            }
        }
    }
}

static int hc_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    defaults_for_members(s);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    return hc_run_post_config(pconf, s);
}

static void hc_child_init(apr_pool_t *pchild, server_rec *s)
{
    hc_run_child_init(pchild);
}

static void hc_register_hooks(apr_pool_t *p)
{
    /* the core moves worker state to shared memory in its post_config:
     * ours runs after it and after the balancer's, and before
     * mod_watchdog's, which starts only the instances it knows by then */
    static const char *const after[] = { "mod_proxy.c",
                                         "mod_proxy_balancer.c", NULL };
    static const char *const before[] = { "mod_watchdog.c", NULL };
    APR_OPTIONAL_FN_TYPE(prx_hc_implemented) *impl = hc_implemented;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_exists) *exists = hc_expr_exists;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_rows) *rows = hc_expr_rows;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_options) *options = hc_expr_options;

    apr_dynamic_fn_register("prx_hc_implemented", (apr_opt_fn_t *)impl);
    apr_dynamic_fn_register("prx_hc_expr_exists", (apr_opt_fn_t *)exists);
    apr_dynamic_fn_register("prx_hc_expr_rows", (apr_opt_fn_t *)rows);
    apr_dynamic_fn_register("prx_hc_expr_options", (apr_opt_fn_t *)options);
    prx_hook_set_worker_param(hc_set_worker_param, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_expr_lookup(hc_expr_lookup, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(hc_post_config, after, before, APR_HOOK_MIDDLE);
    ap_hook_child_init(hc_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA proxy_hcheck_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    hc_create_server_conf,
    hc_merge_server_conf,
    hc_cmds,
    hc_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
