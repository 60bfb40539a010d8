/*
 * proxy_status.c -- ProxyStatus: the workers (and, once the balancer
 * exists, the balancers) on mod_status's page, in the HTML and the
 * machine-readable ?auto forms, with their shared state and counters.
 *
 * mod_status reaches us through its optional status hook, so mod_status
 * need not be loaded, nor loaded before us.
 */
#include "proxy_private.h"

#include <apr_atomic.h>
#include <apr_optional_hooks.h>
#include <mod_status.h>
#include <http_main.h>

#include "prx_balancer.h"

static const struct {
    unsigned int flag;
    const char *name;
} flag_names[] = {
    { PRX_WS_INITIALIZED,   "Init" }, { PRX_WS_IGNORE_ERRORS, "Ign" },
    { PRX_WS_DRAIN,         "Drn" },  { PRX_WS_GENERIC,       "Gen" },
    { PRX_WS_IN_SHUTDOWN,   "Shut" }, { PRX_WS_DISABLED,      "Dis" },
    { PRX_WS_STOPPED,       "Stop" }, { PRX_WS_IN_ERROR,      "Err" },
    { PRX_WS_HOT_STANDBY,   "Stby" }, { PRX_WS_HOT_SPARE,     "Spar" },
    { PRX_WS_FREE,          "Free" }, { PRX_WS_HC_FAIL,       "HcFl" },
};

/* spec core.md §5.1: the names of the set flags, each followed by a space,
 * then "Ok" when usable; "???" when no flag is set. */
PRX_DECLARE(const char *) prx_worker_status_str(apr_pool_t *p,
                                                const prx_worker *w)
{
    apr_uint32_t st = apr_atomic_read32((volatile apr_uint32_t *)
                                        &w->s->status);
    struct iovec v[16];
    int n = 0;
    apr_size_t i;

    if (!st) {
        return "???";
    }
    for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (st & flag_names[i].flag) {
            v[n].iov_base = (void *)flag_names[i].name;
            v[n++].iov_len = strlen(flag_names[i].name);
            v[n].iov_base = (void *)" ";
            v[n++].iov_len = 1;
            if (n >= 14) {
                break;
            }
        }
    }
    if (!(st & PRX_WS_UNUSABLE)) {
        v[n].iov_base = (void *)"Ok";
        v[n++].iov_len = 2;
    }
    return apr_pstrcatv(p, v, n, NULL);
}

static void worker_html(request_rec *r, prx_worker *w)
{
    char sent[6], rcvd[6];

    apr_strfsize((apr_off_t)w->s->bytes_written, sent);
    apr_strfsize((apr_off_t)w->s->bytes_read, rcvd);
    ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%" APR_UINT64_T_FMT
               "</td><td>%u</td><td>%u</td><td>%s</td><td>%s</td></tr>\n",
               ap_escape_html(r->pool, w->name),
               prx_worker_status_str(r->pool, w), w->s->elected,
               (unsigned)w->s->busy, (unsigned)w->s->retries, sent, rcvd);
}

static void worker_auto(request_rec *r, prx_worker *w, int i)
{
    ap_rprintf(r, "ProxyWorker[%d]Name: %s\n", i, w->name);
    ap_rprintf(r, "ProxyWorker[%d]Status: %s\n", i,
               prx_worker_status_str(r->pool, w));
    ap_rprintf(r, "ProxyWorker[%d]Elected: %" APR_UINT64_T_FMT "\n", i,
               w->s->elected);
    ap_rprintf(r, "ProxyWorker[%d]Busy: %u\n", i, (unsigned)w->s->busy);
    ap_rprintf(r, "ProxyWorker[%d]Errors: %u\n", i, (unsigned)w->s->retries);
    ap_rprintf(r, "ProxyWorker[%d]Sent: %" APR_UINT64_T_FMT "K\n", i,
               w->s->bytes_written >> 10);
    ap_rprintf(r, "ProxyWorker[%d]Rcvd: %" APR_UINT64_T_FMT "K\n", i,
               w->s->bytes_read >> 10);
}

typedef struct {
    request_rec *r;
    int short_form;
    int n;            /* workers listed so far */
} status_ctx;

static void status_one(prx_worker *w, server_rec *s, void *baton)
{
    status_ctx *ctx = baton;

    if (!prx_server_conf_get(s)->proxy_status) {
        return;
    }
    if (ctx->short_form) {
        worker_auto(ctx->r, w, ctx->n++);
        return;
    }
    if (!ctx->n++) {
        ap_rputs("<hr />\n<h2>Proxy workers</h2>\n<table border=\"1\">"
                 "<tr><th>Worker</th><th>Status</th><th>Elected</th>"
                 "<th>Busy</th><th>Errors</th><th>To backend</th>"
                 "<th>From backend</th></tr>\n", ctx->r);
    }
    worker_html(ctx->r, w);
}

/* spec core.md §3.25: "cookie | path" when they differ, "-" when unset */
static const char *sticky_str(apr_pool_t *p, const prx_balancer *b)
{
    if (!b->s->sticky[0]) {
        return "-";
    }
    if (strcmp(b->s->sticky, b->s->sticky_path)) {
        return apr_pstrcat(p, b->s->sticky, " | ", b->s->sticky_path, NULL);
    }
    return b->s->sticky;
}

static void balancer_html(request_rec *r, prx_balancer *b)
{
    int i;

    ap_rprintf(r, "<h2>Proxy balancer %s</h2>\n<table border=\"1\">"
               "<tr><th>SSes</th><th>Timeout</th><th>Method</th></tr>\n"
               "<tr><td>%s</td><td>%" APR_TIME_T_FMT "</td><td>%s</td>"
               "</tr>\n</table>\n", ap_escape_html(r->pool, b->name),
               ap_escape_html(r->pool, sticky_str(r->pool, b)),
               apr_time_sec(b->s->timeout),
               ap_escape_html(r->pool, b->s->lbpname));
    ap_rputs("<table border=\"1\"><tr><th>Sch</th><th>Host</th>"
             "<th>Stat</th><th>Route</th><th>Redir</th><th>F</th>"
             "<th>Set</th><th>Acc</th><th>Busy</th><th>Wr</th><th>Rd</th>"
             "</tr>\n", r);
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        char sent[6], rcvd[6];

        apr_strfsize((apr_off_t)w->s->bytes_written, sent);
        apr_strfsize((apr_off_t)w->s->bytes_read, rcvd);
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td><td>%.2f</td><td>%d</td><td>%"
                   APR_UINT64_T_FMT "</td><td>%u</td><td>%s</td><td>%s</td>"
                   "</tr>\n", ap_escape_html(r->pool, w->scheme),
                   ap_escape_html(r->pool, w->hostname),
                   prx_worker_status_str(r->pool, w),
                   ap_escape_html(r->pool, w->s->route),
                   ap_escape_html(r->pool, w->s->redirect),
                   (double)w->s->lbfactor / 100.0, w->s->lbset,
                   w->s->elected, (unsigned)w->s->busy, sent, rcvd);
    }
    ap_rputs("</table>\n", r);
}

static void balancer_auto(request_rec *r, prx_balancer *b, int i)
{
    int n;

    ap_rprintf(r, "ProxyBalancer[%d]Name: %s\n", i, b->name);
    for (n = 0; n < b->members->nelts; n++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, n, prx_worker *);
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Name: %s\n", i, n,
                   w->name);
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Status: %s\n", i, n,
                   prx_worker_status_str(r->pool, w));
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Elected: %"
                   APR_UINT64_T_FMT "\n", i, n, w->s->elected);
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Busy: %u\n", i, n,
                   (unsigned)w->s->busy);
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Sent: %" APR_UINT64_T_FMT
                   "K\n", i, n, w->s->bytes_written >> 10);
        ap_rprintf(r, "ProxyBalancer[%d]Worker[%d]Rcvd: %" APR_UINT64_T_FMT
                   "K\n", i, n, w->s->bytes_read >> 10);
    }
}

/* Members added at run time (balancer-manager, another child) are listed
 * too: each balancer is synchronised with shared memory first, when
 * mod_proxy_balancer is loaded (its optional function). */
static void balancers_status(request_rec *r, int short_form)
{
    APR_OPTIONAL_FN_TYPE(prx_balancer_sync) *sync =
        APR_RETRIEVE_OPTIONAL_FN(prx_balancer_sync);
    server_rec *vs;
    int k = 0, i;

    for (vs = ap_server_conf; vs; vs = vs->next) {
        prx_server_conf *sc = prx_server_conf_get(vs);

        if (!sc->proxy_status) {
            continue;
        }
        for (i = 0; i < sc->balancers->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(sc->balancers, i,
                                            prx_balancer *);
            if (b->server != vs) {
                continue;
            }
            if (sync) {
                sync(b, r->server);
            }
            if (short_form) {
                balancer_auto(r, b, k++);
            }
            else {
                balancer_html(r, b);
            }
        }
    }
}

static int proxy_status_hook(request_rec *r, int flags)
{
    status_ctx ctx;

    ctx.r = r;
    ctx.short_form = flags & AP_STATUS_SHORT;
    ctx.n = 0;
    balancers_status(r, ctx.short_form);
    worker_foreach(ap_server_conf, status_one, &ctx);
    if (ctx.n && !ctx.short_form) {
        ap_rputs("</table>\n<p>Status: Init = initialised, Ign = ignores "
                 "errors, Dis = disabled, Stop = stopped, Err = in error "
                 "state, Drn = draining, Stby = hot standby, Spar = hot "
                 "spare, HcFl = failed health check, Ok = usable. Errors "
                 "counts the times the worker entered error state since "
                 "its backend last accepted a connection.</p>\n",
                 r);
    }
    return OK;
}

void status_register_hooks(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, proxy_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
