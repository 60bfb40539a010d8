/*
 * hc_probe.c -- one health check on the wire (spec hcheck.md §4): TCP
 * connect, the HTTP requests (OPTIONS / HEAD / GET, HTTP/1.0 or 1.1),
 * AJP CPING through mod_proxy_ajp, the response read and judged by status
 * or by a ProxyHCExpr; and the expression functions hc('body') and
 * %{HC_BODY}.
 *
 * Connections go through the core's API (prx_conn_*) on the member's
 * helper worker, with a synthetic request record. Its log level is capped
 * at crit: a failing probe costs no client request, so the core's
 * error-level connection messages do not belong in the log; this file logs
 * the outcome once, at debug level (the state change is logged by
 * hc_run.c).
 */
#include "hc_private.h"
#include "http_parse.h"

#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

/* What a GET check read, for hc('body'); in the probe request's config. */
typedef struct {
    char *data;
    apr_size_t len, cap;
} hc_body;

/* -- the synthetic request -------------------------------------------------------- */

static request_rec *probe_request(hc_member *m, int method, apr_pool_t *p)
{
    server_rec *s = m->s;
    conn_rec *c = apr_pcalloc(p, sizeof(*c));
    request_rec *r = apr_pcalloc(p, sizeof(*r));
    struct ap_logconf *quiet = apr_pcalloc(p, sizeof(*quiet));
    int v11 = method == PRX_HC_OPTIONS11 || method == PRX_HC_HEAD11
              || method == PRX_HC_GET11;

    quiet->level = s->log.level < APLOG_CRIT ? s->log.level : APLOG_CRIT;
    c->pool = p;
    c->base_server = s;
    c->notes = apr_table_make(p, 2);
    c->conn_config = ap_create_conn_config(p);
    c->bucket_alloc = apr_bucket_alloc_create(p);
    c->client_ip = "127.0.0.1";
    c->local_ip = "127.0.0.1";
    apr_sockaddr_info_get(&c->client_addr, "127.0.0.1", APR_INET, 0, 0, p);
    c->local_addr = c->client_addr;
    c->log = quiet;
    r->pool = p;
    r->connection = c;
    r->server = s;
    r->log = quiet;
    r->request_config = ap_create_request_config(p);
    if (!m->dir_config) {
        /* spec hcheck.md §5: the server defaults merged with the
         * balancer's <Proxy> section */
        m->dir_config = m->balancer->section_config
                        ? ap_merge_per_dir_configs(m->pool,
                                                   s->lookup_defaults,
                                                   m->balancer->section_config)
                        : s->lookup_defaults;
    }
    r->per_dir_config = m->dir_config;
    r->headers_in = apr_table_make(p, 2);
    r->headers_out = apr_table_make(p, 8);
    r->err_headers_out = apr_table_make(p, 2);
    r->subprocess_env = apr_table_make(p, 2);
    r->notes = apr_table_make(p, 2);
    r->method = method == PRX_HC_OPTIONS || method == PRX_HC_OPTIONS11
                ? "OPTIONS"
                : method == PRX_HC_HEAD || method == PRX_HC_HEAD11 ? "HEAD"
                : "GET";
    r->method_number = ap_method_number_of(r->method);
    r->protocol = v11 ? "HTTP/1.1" : "HTTP/1.0";
    r->proto_num = v11 ? HTTP_VERSION(1, 1) : HTTP_VERSION(1, 0);
    r->useragent_ip = c->client_ip;
    r->useragent_addr = c->client_addr;
    r->request_time = apr_time_now();
    r->status = HTTP_OK;
    r->uri = "/";
    r->unparsed_uri = "/";
    r->hostname = m->helper->hostname;
    return r;
}

/* spec hcheck.md §4.2: the member URL's path, "/" when it has one and
 * hcuri is set, then hcuri; slashes are not collapsed. */
static const char *probe_target(apr_pool_t *p, const prx_worker *w)
{
    const char *sep = strstr(w->name, "://");
    const char *path = sep ? ap_strchr_c(sep + 3, '/') : NULL;
    const char *uri = w->s->hcuri;

    return apr_pstrcat(p, path ? path : "", path && *uri ? "/" : "", uri,
                       NULL);
}

static const char *host_header(apr_pool_t *p, const prx_worker *w)
{
    const char *h = *w->hostname ? w->hostname : "localhost";

    return apr_psprintf(p, ap_strchr_c(h, ':') ? "[%s]:%u" : "%s:%u", h,
                        (unsigned)w->port);
}

/* -- reading the response ------------------------------------------------------------ */

static void body_add(apr_pool_t *p, hc_body *b, const char *d, apr_size_t n)
{
    if (b->len + n > HC_MAX_BODY) {
        n = HC_MAX_BODY - b->len;
    }
    if (!n) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 4096;
        char *nd;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        nd = apr_palloc(p, cap);
        if (b->len) {
            memcpy(nd, b->data, b->len);
        }
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
    b->data[b->len] = '\0';
}

typedef struct {
    prx_conn *c;
    char *buf;
    apr_size_t size;
    const char *pos;    /* unread bytes in buf */
    apr_size_t avail;
} reader;

static apr_status_t fill(reader *rd)
{
    apr_size_t n = rd->size;
    apr_status_t rv = prx_conn_read(rd->c, rd->buf, &n, 1);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rd->pos = rd->buf;
    rd->avail = n;
    return APR_SUCCESS;
}

static const char *why_head(prx_hp_status st)
{
    return st == PRX_HP_HTTP09 ? "no status line"
                               : prx_hp_status_str(st);
}

/* The response head into `h`. @return NULL, or why it failed. */
static const char *read_head(reader *rd, prx_http_head *h, apr_pool_t *p)
{
    prx_http_head_init(h, p, HC_MAX_LINE, HC_MAX_FIELDS, PRX_BADHDR_ISERROR);
    for (;;) {
        apr_size_t used = 0;
        prx_hp_status st;
        apr_status_t rv;

        if (!rd->avail && (rv = fill(rd)) != APR_SUCCESS) {
            return apr_psprintf(p, "reading the response head: %pm", &rv);
        }
        st = prx_http_head_parse(h, rd->pos, rd->avail, &used);
        rd->pos += used;
        rd->avail -= used;
        if (st == PRX_HP_DONE) {
            return h->major == 1 ? NULL : "not HTTP/1.x";
        }
        if (st != PRX_HP_NEED_MORE) {
            return apr_psprintf(p, "bad response head (%s)", why_head(st));
        }
    }
}

/* The body of a GET check, by the response's framing. */
static const char *read_body(reader *rd, prx_http_head *h, hc_body *b,
                             apr_pool_t *p)
{
    apr_array_header_t *te = apr_array_make(p, 1, sizeof(const char *));
    apr_array_header_t *cl = apr_array_make(p, 1, sizeof(const char *));
    apr_off_t left = 0;
    prx_frame_kind kind;
    prx_chunked ck;
    apr_status_t rv;
    int i;

    for (i = 0; i < h->fields->nelts; i++) {
        prx_http_field *f = &APR_ARRAY_IDX(h->fields, i, prx_http_field);
        if (!strcasecmp(f->name, "Transfer-Encoding")) {
            APR_ARRAY_PUSH(te, const char *) = f->value;
        }
        else if (!strcasecmp(f->name, "Content-Length")) {
            APR_ARRAY_PUSH(cl, const char *) = f->value;
        }
    }
    if (h->status == 204 || h->status == 304 || h->status < 200) {
        return NULL;
    }
    kind = prx_http_framing(te, cl, 1, &left);
    if (kind == PRX_FRAME_ERROR) {
        return "ambiguous body framing";
    }
    if (kind == PRX_FRAME_CHUNKED) {
        prx_chunked_init(&ck, 256, 8192);
    }
    for (;;) {
        if (kind == PRX_FRAME_LENGTH && left == 0) {
            return NULL;
        }
        if (!rd->avail) {
            rv = fill(rd);
            if (rv != APR_SUCCESS) {
                return kind == PRX_FRAME_CLOSE && APR_STATUS_IS_EOF(rv)
                       ? NULL
                       : apr_psprintf(p, "reading the body: %pm", &rv);
            }
        }
        if (kind == PRX_FRAME_CHUNKED) {
            const char *data;
            apr_size_t used, dlen;
            prx_hp_status st = prx_chunked_decode(&ck, rd->pos, rd->avail,
                                                  &used, &data, &dlen);
            rd->pos += used;
            rd->avail -= used;
            if (st == PRX_HP_DATA) {
                body_add(p, b, data, dlen);
            }
            else if (st == PRX_HP_DONE) {
                return NULL;
            }
            else if (st != PRX_HP_NEED_MORE) {
                return apr_psprintf(p, "bad chunked body (%s)",
                                    prx_hp_status_str(st));
            }
            continue;
        }
        {
            apr_size_t n = rd->avail;
            if (kind == PRX_FRAME_LENGTH && (apr_off_t)n > left) {
                n = (apr_size_t)left;
            }
            body_add(p, b, rd->pos, n);
            rd->pos += n;
            rd->avail -= n;
            left -= (apr_off_t)n;
        }
    }
}

/* spec hcheck.md §4.2 step 7 */
static hc_result judge(hc_member *m, request_rec *r, prx_http_head *h,
                       const char **why)
{
    const char *name = m->member->s->hcexpr;
    hc_expr *e = *name ? hc_expr_find(m->s, name) : NULL;
    const char *err = NULL;
    int i, rv;

    if (!e) {
        if (h->status >= 200 && h->status < 400) {
            return HC_PASS;
        }
        *why = apr_psprintf(r->pool, "status %d", h->status);
        return HC_FAIL;
    }
    r->status = h->status;
    r->status_line = h->status_line;
    for (i = 0; i < h->fields->nelts; i++) {
        prx_http_field *f = &APR_ARRAY_IDX(h->fields, i, prx_http_field);
        apr_table_addn(r->headers_out, f->name, f->value);
    }
    rv = ap_expr_exec(r, e->expr, &err);
    if (rv < 0 || err) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, m->s, PRXLOGNO(00810)
                     "%s: health check expression %s failed to evaluate: %s",
                     m->member->name, name, err ? err : "?");
        *why = "expression error";
        return HC_FAIL;
    }
    if (!rv) {
        *why = apr_psprintf(r->pool, "status %d, expression %s false",
                            h->status, name);
        return HC_FAIL;
    }
    return HC_PASS;
}

static hc_result http_exchange(hc_member *m, request_rec *r, prx_conn *c,
                               int method, const char **why)
{
    apr_pool_t *p = r->pool;
    prx_worker *w = m->member;
    int is_get = method == PRX_HC_GET || method == PRX_HC_GET11;
    const char *target = r->method_number == M_OPTIONS ? "*"
                         : probe_target(p, w);
    const char *req = apr_pstrcat(p, r->method, " ", target, " ",
                                  r->protocol, "\r\nHost: ",
                                  host_header(p, m->helper), "\r\n\r\n",
                                  NULL);
    struct iovec v;
    prx_http_head h;
    hc_body *body = apr_pcalloc(p, sizeof(*body));
    reader rd;
    apr_status_t rv;

    v.iov_base = (void *)req;
    v.iov_len = strlen(req);
    rv = prx_conn_write(c, &v, 1);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "sending the request: %pm", &rv);
        return HC_FAIL;
    }
    rd.c = c;
    rd.size = 8192;
    rd.buf = apr_palloc(p, rd.size);
    rd.avail = 0;
    rd.pos = rd.buf;
    if ((*why = read_head(&rd, &h, p)) != NULL) {
        return HC_FAIL;
    }
    body->data = "";
    if (is_get && (*why = read_body(&rd, &h, body, p)) != NULL) {
        return HC_FAIL;
    }
    ap_set_module_config(r->request_config, &proxy_hcheck_module, body);
    ap_log_error(APLOG_MARK, APLOG_TRACE2, 0, m->s,
                 "%s: health check %s %s: %d, %" APR_SIZE_T_FMT " body "
                 "bytes", w->name, r->method, target, h.status, body->len);
    return judge(m, r, &h, why);
}

/* spec hcheck.md §4.4: ping, else connectiontimeout, else timeout */
static apr_interval_time_t cping_timeout(const prx_worker *w, request_rec *r)
{
    if (w->p.ping > 0) {
        return w->p.ping;
    }
    return prx_worker_connect_timeout(w, r);
}

hc_result hc_probe(hc_member *m, int method, apr_pool_t *p)
{
    prx_worker *h = m->helper;
    request_rec *r;
    const char *why = NULL;
    hc_result res = HC_FAIL;
    prx_conn *c;
    prx_fail fail;
    apr_status_t rv;

    if (method == PRX_HC_NONE || method == PRX_HC_PROVIDER
        || method >= PRX_HC_METHOD_COUNT
        || (method == PRX_HC_CPING && !hc_cping_available())) {
        return HC_NOT_IMPLEMENTED;
    }
    r = probe_request(m, method, p);
    if ((!strcasecmp(h->scheme, "https") || !strcasecmp(h->scheme, "wss"))
        && !prx_conn_tls_available(h, r)) {
        why = "TLS to origins is not available (mod_ssl)";
        goto done;
    }
    rv = prx_conn_acquire(h, r, 1, &c);
    if (rv != APR_SUCCESS) {
        why = "no free connection slot";
        goto done;
    }
    rv = prx_conn_connect(c, r, *h->hostname ? h->hostname : "localhost",
                          h->port, &fail);
    if (rv != APR_SUCCESS) {
        why = apr_psprintf(p, "connect failed (%s): %pm", prx_fail_str(fail),
                           &rv);
    }
    else if (method == PRX_HC_TCP) {
        res = HC_PASS;
    }
    else if (method == PRX_HC_CPING) {
        APR_OPTIONAL_FN_TYPE(prx_ajp_cping) *cping =
            APR_RETRIEVE_OPTIONAL_FN(prx_ajp_cping);
        rv = cping(c, r, cping_timeout(h, r));
        res = rv == APR_SUCCESS ? HC_PASS : HC_FAIL;
        if (res != HC_PASS) {
            why = apr_psprintf(p, "no CPONG: %pm", &rv);
        }
    }
    else {
        res = http_exchange(m, r, c, method, &why);
    }
    c->close = 1;
    prx_conn_release(c);
done:
    if (res != HC_PASS) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, m->s, PRXLOGNO(00811)
                     "%s: health check %s failed: %s", m->member->name,
                     prx_hc_method_name(method), why ? why : "?");
    }
    return res;
}

/* -- hc('body') and %{HC_BODY} (spec hcheck.md §5) ---------------------------------- */

static const char *body_of(ap_expr_eval_ctx_t *ctx)
{
    hc_body *b = ctx->r ? ap_get_module_config(ctx->r->request_config,
                                               &proxy_hcheck_module)
                        : NULL;
    return b && b->data ? b->data : "";
}

static const char *hc_func(ap_expr_eval_ctx_t *ctx, const void *data,
                           const char *arg)
{
    return arg && !strcasecmp(arg, "body") ? body_of(ctx) : "";
}

static const char *hc_var(ap_expr_eval_ctx_t *ctx, const void *data)
{
    return !strcasecmp(data, "BODY") ? body_of(ctx) : "";
}

int hc_expr_lookup(ap_expr_lookup_parms *parms)
{
    if (parms->type == AP_EXPR_FUNC_STRING
        && !strcasecmp(parms->name, "hc")) {
        *parms->func = hc_func;
        *parms->data = NULL;
        return OK;
    }
    if (parms->type == AP_EXPR_FUNC_VAR
        && !strncasecmp(parms->name, "HC_", 3)) {
        *parms->func = hc_var;
        *parms->data = parms->name + 3;
        return OK;
    }
    return DECLINED;
}
