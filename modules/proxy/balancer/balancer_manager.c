/*
 * balancer_manager.c -- the balancer-manager (spec balancer.md §13):
 * `SetHandler balancer-manager`, its parameters (GET query or POST form),
 * the Referer and nonce checks, the changes to members and balancers in
 * shared memory, and the HTML page and XML view; plus the optional
 * function balancer_manage() that applies the same parameters for other
 * modules.
 *
 * Election, sticky sessions and slot memory are mod_proxy_balancer.c's
 * and balancer_shm.c's; this file changes shared state only under
 * prx_balancer_lock() and adds members only with prx_balancer_manage_add().
 * Health check fields are shown and edited when mod_proxy_hcheck offers
 * its optional functions (prx_hcheck.h).
 */
#include "balancer_private.h"
#include "balancer_manager.h"
#include "prx_hcheck.h"

#include <apr_atomic.h>
#include <apr_lib.h>
#include <ap_provider.h>
#include <http_log.h>
#include <http_main.h>

#define MANAGER_HANDLER "balancer-manager"
/** spec balancer.md §13.2: the first 1024 bytes of a POST body. */
#define MANAGER_BODY_MAX 1024

/* mod_proxy_hcheck's functions, when it is loaded (looked up per
 * request: cheap, and independent of the order of LoadModule lines). */
typedef struct {
    APR_OPTIONAL_FN_TYPE(prx_hc_implemented) *implemented;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_exists) *expr_exists;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_rows) *expr_rows;
    APR_OPTIONAL_FN_TYPE(prx_hc_expr_options) *expr_options;
} hc_fns;

static int hc_lookup(hc_fns *hc)
{
    hc->implemented = APR_RETRIEVE_OPTIONAL_FN(prx_hc_implemented);
    hc->expr_exists = APR_RETRIEVE_OPTIONAL_FN(prx_hc_expr_exists);
    hc->expr_rows = APR_RETRIEVE_OPTIONAL_FN(prx_hc_expr_rows);
    hc->expr_options = APR_RETRIEVE_OPTIONAL_FN(prx_hc_expr_options);
    return hc->implemented && hc->expr_exists && hc->expr_rows
           && hc->expr_options;
}

/* -- parameters (spec balancer.md §13.2) ---------------------------------------- */

static char *unescape(apr_pool_t *p, const char *s, int times)
{
    char *v = apr_pstrdup(p, s);

    while (times-- > 0) {
        char *copy = apr_pstrdup(p, v);
        if (ap_unescape_urlencoded(copy) == OK) {
            v = copy;
        }
    }
    return v;
}

/* "k=v&k2=v2" into `t`: the key decoded once, the value twice (the page
 * escapes names that the form encodes again); later duplicates win. With
 * `only`, keys outside that NULL-terminated list are skipped. */
static void parse_params(apr_pool_t *p, const char *text, apr_table_t *t,
                         const char *const *only)
{
    char *copy = apr_pstrdup(p, text), *item, *last;

    for (item = apr_strtok(copy, "&", &last); item;
         item = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(item, '=');
        const char *key, *val;

        if (eq) {
            *eq = '\0';
        }
        key = unescape(p, item, 1);
        val = eq ? unescape(p, eq + 1, 2) : "";
        if (only) {
            const char *const *k;
            for (k = only; *k && strcmp(*k, key); k++) {
            }
            if (!*k) {
                continue;
            }
        }
        apr_table_set(t, key, val);
    }
}

/* The first MANAGER_BODY_MAX bytes of the request body; the rest is
 * read and dropped. */
static const char *read_body(request_rec *r)
{
    char *buf = apr_palloc(r->pool, MANAGER_BODY_MAX + 1);
    apr_size_t len = 0;
    char scratch[512];

    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK
        || !ap_should_client_block(r)) {
        return "";
    }
    for (;;) {
        long n;
        if (len < MANAGER_BODY_MAX) {
            n = ap_get_client_block(r, buf + len, MANAGER_BODY_MAX - len);
            if (n > 0) {
                len += (apr_size_t)n;
            }
        }
        else {
            n = ap_get_client_block(r, scratch, sizeof(scratch));
        }
        if (n <= 0) {
            break;
        }
    }
    buf[len] = '\0';
    return buf;
}

static apr_table_t *request_params(request_rec *r)
{
    static const char *const get_keys[] = { "w", "b", "nonce", "xml",
                                            NULL };
    apr_table_t *t = apr_table_make(r->pool, 16);

    if (r->method_number == M_POST) {
        parse_params(r->pool, read_body(r), t, NULL);
    }
    else if (r->args) {
        parse_params(r->pool, r->args, t, get_keys);
    }
    return t;
}

/* spec balancer.md §13.3 rule 1: a Referer naming our own host. */
static int referer_ok(request_rec *r)
{
    const char *ref = apr_table_get(r->headers_in, "Referer");
    apr_uri_t u;

    if (!ref || apr_uri_parse(r->pool, ref, &u) != APR_SUCCESS
        || !u.hostname) {
        return 0;
    }
    return !strcasecmp(u.hostname, ap_get_server_name(r));
}

/* -- lookups ----------------------------------------------------------------------- */

static prx_balancer *balancer_named(request_rec *r, const char *name)
{
    if (!name || !*name) {
        return NULL;
    }
    return prx_balancer_find(r->server,
                             apr_pstrcat(r->pool, "balancer://", name, NULL));
}

static prx_worker *member_named(request_rec *r, prx_balancer *b,
                                const char *name)
{
    int i;

    if (!b || !name || !*name) {
        return NULL;
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        if (!strcmp(w->name, name)) {
            return w;
        }
    }
    /* exactly the name the page shows: a prefix lookup could pick
     * another member */
    return NULL;
}

/** Integer `v` in lo..hi (digits only, optional sign). */
static int int_in(const char *v, long lo, long hi, int *out)
{
    char *end;
    long n;

    if (!v || !*v) {
        return 0;
    }
    n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        return 0;
    }
    *out = (int)n;
    return 1;
}

/* -- applying changes (spec balancer.md §13.4, §13.5) ---------------------------- */

static int usable(const prx_worker *w)
{
    return bal_usable(w);
}

static void status_flag(prx_worker *w, unsigned int flag, int on)
{
    prx_worker_status_change(w->s, on ? flag : 0, on ? 0 : flag);
}

static void set_string(char *dst, apr_size_t size, const char *v)
{
    /* non-empty and short enough: set; anything else clears */
    if (v && *v && strlen(v) < size) {
        apr_cpystrn(dst, v, size);
    }
    else {
        dst[0] = '\0';
    }
}

/* w_lf: every member's lbstatus starts again from its lbfactor; a lone
 * member has factor 1 (stock's recalculation). */
static void recalc_factors(prx_balancer *b)
{
    int i;

    if (b->members->nelts == 1) {
        prx_worker *w = APR_ARRAY_IDX(b->members, 0, prx_worker *);
        w->s->lbfactor = 100;
        w->s->lbstatus = 100;
        return;
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        w->s->lbstatus = w->s->lbfactor;
    }
}

static const struct {
    const char *key;
    unsigned int flag;
} status_keys[] = {
    { "w_status_I", PRX_WS_IGNORE_ERRORS }, { "w_status_N", PRX_WS_DRAIN },
    { "w_status_D", PRX_WS_DISABLED },      { "w_status_H", PRX_WS_HOT_STANDBY },
    { "w_status_R", PRX_WS_HOT_SPARE },     { "w_status_S", PRX_WS_STOPPED },
    { "w_status_C", PRX_WS_HC_FAIL },
};

static void member_hc_params(request_rec *r, prx_worker *w,
                             apr_table_t *params, const hc_fns *hc)
{
    prx_worker_shared *ws = w->s;
    const char *v;
    apr_interval_time_t t;
    int n;

    if ((v = apr_table_get(params, "w_hm")) != NULL) {
        int m = prx_hc_method_find(v);
        if (m >= 0 && hc->implemented(m)) {
            ws->hcmethod = m;
        }
    }
    if ((v = apr_table_get(params, "w_hi")) != NULL
        && ap_timeout_parameter_parse(v, &t, "ms") == APR_SUCCESS
        && t >= PRX_HC_MIN_INTERVAL) {
        ws->hcinterval = t;
    }
    if (int_in(apr_table_get(params, "w_hp"), 1, 1000000, &n)) {
        ws->hcpasses = n;
    }
    if (int_in(apr_table_get(params, "w_hf"), 1, 1000000, &n)) {
        ws->hcfails = n;
    }
    if ((v = apr_table_get(params, "w_hu")) != NULL) {
        set_string(ws->hcuri, sizeof(ws->hcuri), v);
    }
    if ((v = apr_table_get(params, "w_he")) != NULL) {
        set_string(ws->hcexpr, sizeof(ws->hcexpr),
                   hc->expr_exists(r->server, v) ? v : "");
    }
    if (!prx_hc_method_has_expr(ws->hcmethod)) {
        ws->hcexpr[0] = '\0';
    }
}

/* spec balancer.md §13.4. Caller holds prx_balancer_lock(). */
static void member_params(request_rec *r, prx_balancer *b, prx_worker *w,
                          apr_table_t *params, const hc_fns *hc,
                          int hc_loaded)
{
    int was_usable = usable(w), n;
    const char *v;
    apr_size_t i;

    if ((v = apr_table_get(params, "w_lf")) != NULL) {
        double f = atof(v);
        n = (int)(f * 100.0);
        if (n >= 100 && n <= 10000) {
            w->s->lbfactor = n;
            recalc_factors(b);
        }
    }
    if ((v = apr_table_get(params, "w_wr")) != NULL) {
        set_string(w->s->route, sizeof(w->s->route), v);
    }
    if ((v = apr_table_get(params, "w_rr")) != NULL) {
        set_string(w->s->redirect, sizeof(w->s->redirect), v);
    }
    for (i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++) {
        if ((v = apr_table_get(params, status_keys[i].key)) != NULL) {
            status_flag(w, status_keys[i].flag, atoi(v) != 0);
        }
    }
    if (int_in(apr_table_get(params, "w_ls"), 0, 99, &n)) {
        w->s->lbset = n;
    }
    if (hc_loaded) {
        member_hc_params(r, w, params, hc);
    }
    w->s->updated = apr_time_now();
    if (!was_usable && usable(w)) {
        b->s->need_reset = 1;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00700)
                  "balancer-manager: %s member %s updated: status %s, "
                  "factor %d, lbset %d, route '%s'", b->name, w->name,
                  prx_worker_status_str(r->pool, w), w->s->lbfactor,
                  w->s->lbset, w->s->route);
}

/* b_ss: "-" clears, "A|B" cookie A and URL name B, else both. */
static void set_sticky(prx_balancer *b, const char *v)
{
    const char *bar;

    if (!strcmp(v, "-")) {
        b->s->sticky[0] = '\0';
        b->s->sticky_path[0] = '\0';
        return;
    }
    bar = ap_strchr_c(v, '|');
    if (bar) {
        apr_size_t n = (apr_size_t)(bar - v);
        if (n >= sizeof(b->s->sticky)) {
            n = sizeof(b->s->sticky) - 1;
        }
        memcpy(b->s->sticky, v, n);
        b->s->sticky[n] = '\0';
        apr_cpystrn(b->s->sticky_path, bar + 1, sizeof(b->s->sticky_path));
    }
    else {
        apr_cpystrn(b->s->sticky, v, sizeof(b->s->sticky));
        apr_cpystrn(b->s->sticky_path, v, sizeof(b->s->sticky_path));
    }
}

/* spec balancer.md §13.5 without b_wyes. Caller holds the lock. */
static void balancer_params(request_rec *r, prx_balancer *b,
                            apr_table_t *params)
{
    const char *v;
    int n;

    if ((v = apr_table_get(params, "b_lbm")) != NULL
        && strlen(v) < PRX_LBMETHOD_NAME_MAX - 1 && strcmp(v, b->s->lbpname)
        && ap_lookup_provider(PRX_LBMETHOD_GROUP, v, PRX_LBMETHOD_VERSION)) {
        apr_cpystrn(b->s->lbpname, v, sizeof(b->s->lbpname));
        b->s->need_reset = 1;
        prx_balancer_touch(b);
    }
    if (int_in(apr_table_get(params, "b_tmo"), 0, 7200, &n)) {
        b->s->timeout = apr_time_from_sec(n);
    }
    if (int_in(apr_table_get(params, "b_max"), 0, 99, &n)) {
        b->s->max_attempts = n;
        b->s->max_attempts_set = 1;
    }
    if ((v = apr_table_get(params, "b_sforce")) != NULL) {
        b->s->sticky_force = atoi(v) != 0;
    }
    if ((v = apr_table_get(params, "b_ss")) != NULL && *v
        && strlen(v) < PRX_STICKY_MAX - 1) {
        set_sticky(b, v);
    }
}

/*
 * Apply `params` to balancer `b` and its member `w` (may be NULL): member
 * parameters first, then the balancer's, then an added member.
 * @return 0, or 400 when adding a member failed (logged by the balancer).
 */
static int manage(request_rec *r, prx_balancer *b, prx_worker *w,
                  apr_table_t *params)
{
    hc_fns hc;
    int hc_loaded = hc_lookup(&hc);
    const char *url = apr_table_get(params, "b_nwrkr");
    const char *yes = apr_table_get(params, "b_wyes");
    prx_worker *added;
    apr_status_t rv;

    rv = prx_balancer_lock(b, r->server);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (w) {
        member_params(r, b, w, params, &hc, hc_loaded);
    }
    balancer_params(r, b, params);
    prx_balancer_unlock(b, r->server);

    if (!yes || strcmp(yes, "1") || !url || !*url) {
        return 0;
    }
    rv = prx_balancer_manage_add(r, b, url, &added);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00701)
                      "balancer-manager: %s: adding member %s refused",
                      b->name, url);
        return HTTP_BAD_REQUEST;
    }
    if (prx_balancer_lock(b, r->server) == APR_SUCCESS) {
        prx_hc_shared_defaults(added->s);
        prx_balancer_unlock(b, r->server);
    }
    return 0;
}

static int balancer_manage(request_rec *r, apr_table_t *params)
{
    prx_balancer *b = balancer_named(r, apr_table_get(params, "b"));

    if (!b) {
        return HTTP_BAD_REQUEST;
    }
    prx_balancer_sync(b, r->server);
    return manage(r, b, member_named(r, b, apr_table_get(params, "w")),
                  params);
}

/* -- output helpers ------------------------------------------------------------------ */

static const char *esc(request_rec *r, const char *s)
{
    return ap_escape_html(r->pool, s ? s : "");
}

/* A member or balancer name as a query value of a link the browser
 * sends as is: escaped twice, because the value is decoded twice. */
static const char *qlink(request_rec *r, const char *s)
{
    return ap_escape_urlencoded(r->pool, ap_escape_urlencoded(r->pool, s));
}

/* The same for a form field, which the browser form-encodes once more. */
static const char *qfield(request_rec *r, const char *s)
{
    return esc(r, ap_escape_urlencoded(r->pool, s));
}

/* This page's own path, for links and form actions. */
static const char *self_uri(request_rec *r)
{
    return esc(r, ap_escape_uri(r->pool, r->uri));
}

static const char *short_name(const prx_balancer *b)
{
    return b->s->name + sizeof("balancer://") - 1;
}

static const char *sticky_str(request_rec *r, const prx_balancer *b)
{
    if (!b->s->sticky[0] && !b->s->sticky_path[0]) {
        return "(None)";
    }
    if (strcmp(b->s->sticky, b->s->sticky_path)) {
        return apr_pstrcat(r->pool, b->s->sticky, " | ", b->s->sticky_path,
                           NULL);
    }
    return b->s->sticky;
}

static const struct {
    unsigned int flag;
    const char *label;
} status_labels[] = {
    { PRX_WS_INITIALIZED, "Init " },   { PRX_WS_IGNORE_ERRORS, "Ign " },
    { PRX_WS_DRAIN, "Drn " },          { PRX_WS_GENERIC, "Gen " },
    { PRX_WS_IN_SHUTDOWN, "Shut " },   { PRX_WS_DISABLED, "Dis " },
    { PRX_WS_STOPPED, "Stop " },       { PRX_WS_IN_ERROR, "Err " },
    { PRX_WS_HOT_STANDBY, "Stby " },   { PRX_WS_FREE, "Free " },
    { PRX_WS_HC_FAIL, "HcFl " },       { PRX_WS_HOT_SPARE, "Spar " },
};

/* spec balancer.md §3: the labels of the set flags in table order (each
 * with its space), "??? " when none, then "Ok " when usable. */
static const char *status_str(request_rec *r, const prx_worker *w)
{
    apr_uint32_t st = w->s->status;
    char *s = "";
    apr_size_t i;

    for (i = 0; i < sizeof(status_labels) / sizeof(status_labels[0]); i++) {
        if (st & status_labels[i].flag) {
            s = apr_pstrcat(r->pool, s, status_labels[i].label, NULL);
        }
    }
    if (!*s) {
        s = "??? ";
    }
    if (usable(w)) {
        s = apr_pstrcat(r->pool, s, "Ok ", NULL);
    }
    return s;
}

static const char *onoff(int v)
{
    return v ? "On" : "Off";
}

/* -- the XML view (spec balancer.md §13.7) ------------------------------------------ */

static void xml_member(request_rec *r, prx_worker *w)
{
    const prx_worker_params *p = &w->p;
    char date[APR_RFC822_DATE_LEN];

    ap_rvputs(r, "        <httpd:worker>\n          <httpd:name>",
              esc(r, w->name), "</httpd:name>\n          <httpd:scheme>",
              esc(r, w->scheme), "</httpd:scheme>\n          <httpd:hostname>",
              esc(r, w->hostname), "</httpd:hostname>\n", NULL);
    ap_rprintf(r, "          <httpd:loadfactor>%.2f</httpd:loadfactor>\n"
               "          <httpd:port>%u</httpd:port>\n"
               "          <httpd:min>%d</httpd:min>\n"
               "          <httpd:smax>%d</httpd:smax>\n"
               "          <httpd:max>%d</httpd:max>\n"
               "          <httpd:ttl>%" APR_TIME_T_FMT "</httpd:ttl>\n",
               (double)w->s->lbfactor / 100.0, (unsigned)w->port, p->min,
               p->smax, p->max, apr_time_sec(p->ttl));
    if (p->timeout != PRX_UNSET) {
        ap_rprintf(r, "          <httpd:timeout>%" APR_TIME_T_FMT
                   "</httpd:timeout>\n", apr_time_sec(p->timeout));
    }
    if (p->acquire != PRX_UNSET) {
        ap_rprintf(r, "          <httpd:acquire>%" APR_TIME_T_FMT
                   "</httpd:acquire>\n", apr_time_as_msec(p->acquire));
    }
    if (p->recv_buffer_size > 0) {
        ap_rprintf(r, "          <httpd:recv_buffer_size>%d"
                   "</httpd:recv_buffer_size>\n", p->recv_buffer_size);
    }
    if (p->io_buffer_size != 8192) {
        ap_rprintf(r, "          <httpd:io_buffer_size>%" APR_SIZE_T_FMT
                   "</httpd:io_buffer_size>\n", p->io_buffer_size);
    }
    if (p->keepalive) {
        ap_rputs("          <httpd:keepalive>On</httpd:keepalive>\n", r);
    }
    ap_rvputs(r, "          <httpd:status>", status_str(r, w),
              "</httpd:status>\n", NULL);
    if (w->s->error_time > 0) {
        apr_rfc822_date(date, w->s->error_time);
        ap_rvputs(r, "          <httpd:error_time>", date,
                  "</httpd:error_time>\n", NULL);
    }
    ap_rprintf(r, "          <httpd:retries>%u</httpd:retries>\n"
               "          <httpd:lbstatus>%d</httpd:lbstatus>\n"
               "          <httpd:loadfactor>%.2f</httpd:loadfactor>\n"
               "          <httpd:transferred>%" APR_UINT64_T_FMT
               "</httpd:transferred>\n"
               "          <httpd:read>%" APR_UINT64_T_FMT "</httpd:read>\n"
               "          <httpd:elected>%" APR_UINT64_T_FMT
               "</httpd:elected>\n",
               (unsigned)w->s->retries, (int)w->s->lbstatus,
               (double)w->s->lbfactor / 100.0, w->s->bytes_written,
               w->s->bytes_read, w->s->elected);
    ap_rvputs(r, "          <httpd:route>", esc(r, w->s->route),
              "</httpd:route>\n          <httpd:redirect>",
              esc(r, w->s->redirect), "</httpd:redirect>\n", NULL);
    ap_rprintf(r, "          <httpd:busy>%u</httpd:busy>\n"
               "          <httpd:lbset>%d</httpd:lbset>\n",
               (unsigned)w->s->busy, w->s->lbset);
    if (!strcasecmp(w->scheme, "ajp")) {
        ap_rvputs(r, "          <httpd:flushpackets>",
                  p->flush_packets == 2 ? "Auto"
                  : p->flush_packets ? "On" : "Off",
                  "</httpd:flushpackets>\n", NULL);
        if (p->flush_packets == 2) {
            ap_rprintf(r, "          <httpd:flushwait>%" APR_TIME_T_FMT
                       "</httpd:flushwait>\n", p->flush_wait);
        }
        if (p->ping > 0) {
            ap_rprintf(r, "          <httpd:ping>%" APR_TIME_T_FMT
                       "</httpd:ping>\n", apr_time_as_msec(p->ping));
        }
    }
    if (p->disablereuse == 1) {
        ap_rputs("          <httpd:disablereuse>On</httpd:disablereuse>\n",
                 r);
    }
    if (p->connect_timeout != PRX_UNSET) {
        ap_rprintf(r, "          <httpd:connectiontimeout>%" APR_TIME_T_FMT
                   "</httpd:connectiontimeout>\n",
                   apr_time_as_msec(p->connect_timeout));
    }
    if (p->retry != apr_time_from_sec(60)) {
        ap_rprintf(r, "          <httpd:retry>%" APR_TIME_T_FMT
                   "</httpd:retry>\n", apr_time_sec(p->retry));
    }
    ap_rputs("        </httpd:worker>\n", r);
}

static void render_xml(request_rec *r)
{
    apr_array_header_t *bl = prx_server_conf_get(r->server)->balancers;
    int i, j;

    ap_set_content_type(r, "text/xml");
    ap_rputs("<?xml version='1.0' encoding='UTF-8' ?>\n"
             "<httpd:manager xmlns:httpd='http://httpd.apache.org'>\n"
             "  <httpd:balancers>\n", r);
    for (i = 0; i < bl->nelts; i++) {
        prx_balancer *b = APR_ARRAY_IDX(bl, i, prx_balancer *);
        int sticky = b->s->sticky[0] != '\0';

        ap_rvputs(r, "    <httpd:balancer>\n      <httpd:name>",
                  esc(r, b->s->name), "</httpd:name>\n", NULL);
        if (sticky) {
            ap_rvputs(r, "      <httpd:stickysession>", esc(r, b->s->sticky),
                      "</httpd:stickysession>\n      <httpd:nofailover>",
                      onoff(b->s->sticky_force), "</httpd:nofailover>\n",
                      NULL);
        }
        ap_rprintf(r, "      <httpd:timeout>%" APR_TIME_T_FMT
                   "</httpd:timeout>\n", apr_time_sec(b->s->timeout));
        if (b->s->max_attempts_set) {
            ap_rprintf(r, "      <httpd:maxattempts>%d</httpd:maxattempts>\n",
                       b->s->max_attempts);
        }
        ap_rvputs(r, "      <httpd:lbmethod>", esc(r, b->s->lbpname),
                  "</httpd:lbmethod>\n", NULL);
        if (sticky) {
            ap_rvputs(r, "      <httpd:scolonpathdelim>",
                      onoff(b->s->scolonsep), "</httpd:scolonpathdelim>\n",
                      NULL);
        }
        ap_rputs("      <httpd:workers>\n", r);
        for (j = 0; j < b->members->nelts; j++) {
            xml_member(r, APR_ARRAY_IDX(b->members, j, prx_worker *));
        }
        ap_rputs("      </httpd:workers>\n    </httpd:balancer>\n", r);
    }
    ap_rputs("  </httpd:balancers>\n</httpd:manager>\n", r);
}

/* -- the HTML page (spec balancer.md §13.6) ------------------------------------------ */

static void html_head(request_rec *r)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);
    int persist = sc->bal_persist;

    ap_set_content_type(r, "text/html; charset=ISO-8859-1");
    ap_rvputs(r, DOCTYPE_HTML_3_2, "<html><head><title>Balancer Manager"
              "</title>\n<style type=\"text/css\">\n"
              "table { border-width: 1px; border-spacing: 3px; "
              "border-style: solid; border-color: gray; "
              "border-collapse: collapse; }\n"
              "th, td { border-width: 1px; padding: 2px 5px; "
              "border-style: dotted; border-color: gray; }\n"
              "</style>\n</head>\n<body>\n<h1>Load Balancer Manager for ",
              esc(r, ap_get_server_name(r)), "</h1>\n\n<dl>\n"
              "<dt>Server Version: ", esc(r, ap_get_server_description()),
              "</dt>\n<dt>Server Built: ", esc(r, ap_get_server_built()),
              "</dt>\n<dt>Balancer changes will ",
              persist ? "" : "NOT ", "be persisted on restart.</dt>\n"
              "<dt>Balancers are ", sc->bal_inherit ? "" : "NOT ",
              "inherited from main server.</dt>\n<dt>ProxyPass settings are ",
              sc->pass_inherit ? "" : "NOT ",
              "inherited from main server.</dt>\n</dl>\n", NULL);
}

static void html_balancer(request_rec *r, prx_balancer *b, int hc_loaded)
{
    const char *uri = self_uri(r);
    const char *path;
    int j;

    ap_rvputs(r, "<hr />\n<h3>LoadBalancer Status for <a href=\"", uri,
              "?b=", qlink(r, short_name(b)), "&amp;nonce=",
              qlink(r, b->s->nonce), "\">", esc(r, b->s->name), "</a> [",
              esc(r, b->server->server_hostname), "]</h3>\n", NULL);
    path = b->s->vhost[0]
           ? apr_pstrcat(r->pool, b->s->vhost, " -> ", b->s->vpath, NULL)
           : b->s->vpath;
    ap_rputs("<table><tr><th>MaxMembers</th><th>StickySession</th>"
             "<th>DisableFailover</th><th>Timeout</th>"
             "<th>FailoverAttempts</th><th>Method</th><th>Path</th>"
             "<th>Active</th></tr>\n", r);
    ap_rprintf(r, "<tr><td>%d [%d Used]</td><td>%s</td><td>%s</td>"
               "<td>%" APR_TIME_T_FMT "</td><td>%d</td><td>%s</td>"
               "<td>%s</td><td>Yes</td></tr>\n</table>\n<br />\n",
               b->max_members, b->members->nelts, esc(r, sticky_str(r, b)),
               onoff(b->s->sticky_force), apr_time_sec(b->s->timeout),
               b->s->max_attempts, esc(r, b->s->lbpname), esc(r, path));
    ap_rputs("<table><tr><th>Worker URL</th><th>Route</th><th>RouteRedir"
             "</th><th>Factor</th><th>Set</th><th>Status</th><th>Elected"
             "</th><th>Busy</th><th>Load</th><th>To</th><th>From</th>", r);
    if (hc_loaded) {
        ap_rputs("<th>HC Method</th><th>HC Interval</th><th>Passes</th>"
                 "<th>Fails</th><th>HC uri</th><th>HC Expr</th>", r);
    }
    ap_rputs("</tr>\n", r);
    for (j = 0; j < b->members->nelts; j++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, j, prx_worker *);
        char to[6], from[6];

        apr_strfsize((apr_off_t)w->s->bytes_written, to);
        apr_strfsize((apr_off_t)w->s->bytes_read, from);
        ap_rvputs(r, "<tr>\n<td><a href=\"", uri, "?b=",
                  qlink(r, short_name(b)), "&amp;w=", qlink(r, w->name),
                  "&amp;nonce=", qlink(r, b->s->nonce), "\">",
                  w->uds_path ? "<i>" : "", esc(r, w->name),
                  w->uds_path ? "</i>" : "", "</a></td>", NULL);
        ap_rvputs(r, "<td>", esc(r, w->s->route), "</td><td>",
                  esc(r, w->s->redirect), "</td>", NULL);
        ap_rprintf(r, "<td>%.2f</td><td>%d</td><td>%s</td><td>%"
                   APR_UINT64_T_FMT "</td><td>%u</td><td>%d</td>"
                   "<td>%s</td><td>%s</td>",
                   (double)w->s->lbfactor / 100.0, w->s->lbset,
                   status_str(r, w), w->s->elected, (unsigned)w->s->busy,
                   (int)w->s->lbstatus, to, from);
        if (hc_loaded) {
            ap_rprintf(r, "<td>%s</td><td>%" APR_TIME_T_FMT "ms</td>"
                       "<td>%d (%u)</td><td>%d (%u)</td><td>%s</td>"
                       "<td>%s</td>",
                       prx_hc_method_name(w->s->hcmethod),
                       apr_time_as_msec(w->s->hcinterval), w->s->hcpasses,
                       (unsigned)w->s->hcpcount, w->s->hcfails,
                       (unsigned)w->s->hcfcount, esc(r, w->s->hcuri),
                       esc(r, w->s->hcexpr));
        }
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

static void radio(request_rec *r, const char *name, int on)
{
    ap_rvputs(r, "<td><label><input name=\"", name, "\" type=\"radio\" "
              "value=\"1\"", on ? " checked=\"checked\"" : "",
              " /> On</label> <label><input name=\"", name,
              "\" type=\"radio\" value=\"0\"", on ? "" : " checked=\"checked\"",
              " /> Off</label></td>", NULL);
}

static void text_row(request_rec *r, const char *label, const char *name,
                     const char *value)
{
    ap_rvputs(r, "<tr><td>", label, "</td><td><input name=\"", name,
              "\" id=\"", name, "\" type=\"text\" value=\"", esc(r, value),
              "\" /></td></tr>\n", NULL);
}

static void hidden(request_rec *r, const char *name, const char *value)
{
    ap_rvputs(r, "<input type=\"hidden\" name=\"", name, "\" value=\"",
              value, "\" />\n", NULL);
}

static void form_open(request_rec *r)
{
    ap_rvputs(r, "<form method=\"post\" enctype=\"application/"
              "x-www-form-urlencoded\" action=\"", self_uri(r),
              "\">\n<table>\n", NULL);
}

static void form_close(request_rec *r, prx_balancer *b)
{
    ap_rputs("<tr><td colspan=\"2\"><input type=\"submit\" value=\"Submit\""
             " /></td></tr>\n</table>\n", r);
    hidden(r, "b", qfield(r, short_name(b)));
    hidden(r, "nonce", qfield(r, b->s->nonce));
}

static void member_form(request_rec *r, prx_balancer *b, prx_worker *w,
                        const hc_fns *hc, int hc_loaded)
{
    apr_uint32_t st = w->s->status;
    int m;

    ap_rvputs(r, "<hr />\n<h3>Edit worker settings for ", esc(r, w->name),
              "</h3>\n", NULL);
    form_open(r);
    text_row(r, "Load factor:", "w_lf",
             apr_psprintf(r->pool, "%.2f", (double)w->s->lbfactor / 100.0));
    text_row(r, "LB Set:", "w_ls", apr_itoa(r->pool, w->s->lbset));
    text_row(r, "Route:", "w_wr", w->s->route);
    text_row(r, "Route Redirect:", "w_rr", w->s->redirect);
    ap_rputs("<tr><td>Status:</td><td><table><tr><th>Ignore Errors</th>"
             "<th>Draining Mode</th><th>Disabled</th><th>Hot Standby</th>"
             "<th>Hot Spare</th>", r);
    if (hc_loaded) {
        ap_rputs("<th>HC Fail</th>", r);
    }
    ap_rputs("<th>Stopped</th></tr>\n<tr>", r);
    radio(r, "w_status_I", st & PRX_WS_IGNORE_ERRORS);
    radio(r, "w_status_N", st & PRX_WS_DRAIN);
    radio(r, "w_status_D", st & PRX_WS_DISABLED);
    radio(r, "w_status_H", st & PRX_WS_HOT_STANDBY);
    radio(r, "w_status_R", st & PRX_WS_HOT_SPARE);
    if (hc_loaded) {
        radio(r, "w_status_C", st & PRX_WS_HC_FAIL);
    }
    radio(r, "w_status_S", st & PRX_WS_STOPPED);
    ap_rputs("</tr></table></td></tr>\n", r);
    if (hc_loaded) {
        ap_rputs("<tr><td>Health Check method:</td><td><select name=\"w_hm\">"
                 "\n", r);
        for (m = 0; m < PRX_HC_METHOD_COUNT; m++) {
            if (hc->implemented(m)) {
                ap_rvputs(r, "<option value=\"", prx_hc_method_name(m), "\"",
                          m == w->s->hcmethod ? " selected=\"selected\"" : "",
                          ">", prx_hc_method_name(m), "</option>\n", NULL);
            }
        }
        ap_rputs("</select></td></tr>\n<tr><td>Expression:</td><td><select "
                 "name=\"w_he\">\n<option value=\"\"></option>\n", r);
        hc->expr_options(r, w->s->hcexpr);
        ap_rputs("</select></td></tr>\n", r);
        text_row(r, "Interval (ms):", "w_hi",
                 apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                              apr_time_as_msec(w->s->hcinterval)));
        text_row(r, "Passes trigger:", "w_hp",
                 apr_itoa(r->pool, w->s->hcpasses));
        text_row(r, "Fails trigger:", "w_hf",
                 apr_itoa(r->pool, w->s->hcfails));
        text_row(r, "HC uri:", "w_hu", w->s->hcuri);
    }
    form_close(r, b);
    hidden(r, "w", qfield(r, w->name));
    ap_rputs("</form>\n", r);
}

static void balancer_form(request_rec *r, prx_balancer *b)
{
    apr_array_header_t *names = ap_list_provider_names(r->pool,
                                                       PRX_LBMETHOD_GROUP,
                                                       PRX_LBMETHOD_VERSION);
    int i;

    ap_rvputs(r, "<hr />\n<h3>Edit balancer settings for ",
              esc(r, b->s->name), "</h3>\n", NULL);
    form_open(r);
    ap_rputs("<tr><td>LBmethod:</td><td><select name=\"b_lbm\" "
             "id=\"b_lbm\">\n", r);
    for (i = 0; names && i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, ap_list_provider_names_t)
                        .provider_name;
        ap_rvputs(r, "<option value=\"", esc(r, n), "\"",
                  strcmp(n, b->s->lbpname) ? "" : " selected=\"selected\"",
                  ">", esc(r, n), "</option>\n", NULL);
    }
    ap_rputs("</select></td></tr>\n", r);
    text_row(r, "Timeout:", "b_tmo",
             apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                          apr_time_sec(b->s->timeout)));
    text_row(r, "Failover Attempts:", "b_max",
             apr_itoa(r->pool, b->s->max_attempts));
    ap_rputs("<tr><td>Disable Failover:</td>", r);
    radio(r, "b_sforce", b->s->sticky_force);
    ap_rputs("</tr>\n", r);
    ap_rvputs(r, "<tr><td>Sticky Session:</td><td><input name=\"b_ss\" "
              "id=\"b_ss\" type=\"text\" value=\"",
              b->s->sticky[0] ? esc(r, strcmp(b->s->sticky,
                                              b->s->sticky_path)
                                       ? sticky_str(r, b) : b->s->sticky)
                              : "",
              "\" /> (Use '-' to delete)</td></tr>\n", NULL);
    if (prx_balancer_free_slots(b) > 0) {
        ap_rputs("<tr><td>Add New Worker:</td><td><input name=\"b_nwrkr\" "
                 "id=\"b_nwrkr\" type=\"text\" value=\"\" /> Are you sure? "
                 "<input name=\"b_wyes\" id=\"b_wyes\" type=\"checkbox\" "
                 "value=\"1\" /></td></tr>\n", r);
    }
    form_close(r, b);
    ap_rputs("</form>\n", r);
}

static void render_html(request_rec *r, prx_balancer *bsel, prx_worker *wsel)
{
    apr_array_header_t *bl = prx_server_conf_get(r->server)->balancers;
    hc_fns hc;
    int hc_loaded = hc_lookup(&hc), i;

    html_head(r);
    for (i = 0; i < bl->nelts; i++) {
        html_balancer(r, APR_ARRAY_IDX(bl, i, prx_balancer *), hc_loaded);
    }
    if (hc_loaded && hc.expr_rows(r, 1) > 0) {
        ap_rputs("<hr />\n<h3>Health check cond. expressions:</h3>\n"
                 "<table><tr><th>Expr name</th><th>Expression</th></tr>\n",
                 r);
        hc.expr_rows(r, 0);
        ap_rputs("</table>\n", r);
    }
    if (bsel && wsel) {
        member_form(r, bsel, wsel, &hc, hc_loaded);
    }
    else if (bsel) {
        balancer_form(r, bsel);
    }
    ap_rputs(ap_psignature("<hr />\n", r), r);
    ap_rputs("</body></html>\n", r);
}

/* -- the handler (spec balancer.md §13.1, §13.3) ------------------------------------- */

static int manager_handler(request_rec *r)
{
    apr_array_header_t *bl;
    apr_table_t *params;
    prx_balancer *bsel;
    prx_worker *wsel;
    const char *nonce;
    int i, rv;

    if (!r->handler || strcmp(r->handler, MANAGER_HANDLER)) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (r->method_number != M_GET && r->method_number != M_POST) {
        return DECLINED;
    }
    bl = prx_server_conf_get(r->server)->balancers;
    for (i = 0; i < bl->nelts; i++) {
        prx_balancer_sync(APR_ARRAY_IDX(bl, i, prx_balancer *), r->server);
    }
    params = request_params(r);
    if (!referer_ok(r) && !apr_is_empty_table(params)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00702)
                      "balancer-manager: Referer '%s' does not name this "
                      "server (%s); parameters ignored",
                      apr_table_get(r->headers_in, "Referer") ?: "(none)",
                      ap_get_server_name(r));
        apr_table_clear(params);
    }
    bsel = balancer_named(r, apr_table_get(params, "b"));
    wsel = member_named(r, bsel, apr_table_get(params, "w"));
    nonce = apr_table_get(params, "nonce");
    /* spec balancer.md §13.3 rule 3: an empty nonce never allows changes */
    if (bsel && bsel->s->nonce[0] && nonce
        && !strcmp(nonce, bsel->s->nonce)) {
        rv = manage(r, bsel, wsel, params);
        if (rv) {
            return rv;
        }
    }
    else if (bsel && r->method_number == M_POST) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00703)
                      "balancer-manager: %s: no or wrong nonce; nothing "
                      "changed", bsel->name);
    }
    if (apr_table_get(params, "xml")) {
        render_xml(r);
    }
    else {
        render_html(r, bsel, wsel);
    }
    return OK;
}

void bal_manager_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_FN_TYPE(balancer_manage) *fn = balancer_manage;

    ap_hook_handler(manager_handler, NULL, NULL, APR_HOOK_FIRST);
    apr_dynamic_fn_register("balancer_manage", (apr_opt_fn_t *)fn);
}
