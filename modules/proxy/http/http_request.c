/*
 * http_request.c -- the request half of mod_proxy_http: choosing the body
 * strategy (spec http.md §4: prefetch, stream with Content-Length, stream
 * chunked, spool to a temp file), building the request head in one buffer
 * (§3) and writing head and body to the backend, the head together with
 * the first body bytes in one writev. Reading the response, including the
 * wait for "100 Continue", is http_response.c's job.
 */

#include "http_private.h"

#include <apr_file_io.h>
#include <apr_lib.h>

/* Most iovecs handed to one prx_conn_write(); more are written in turns. */
#define IOVQ_MAX     64
#define IOVQ_SCRATCH 128

/*
 * A queue of iovecs in front of prx_conn_write(). Pointers added must stay
 * valid until the next iovq_flush(); the scratch area holds the small
 * framing strings (chunk sizes) that have no other home.
 */
typedef struct {
    prx_conn *c;
    struct iovec v[IOVQ_MAX];
    int n;
    char scratch[IOVQ_SCRATCH];
    apr_size_t used;
} iovq;

static apr_status_t iovq_flush(iovq *q)
{
    apr_status_t rv = APR_SUCCESS;

    if (q->n > 0) {
        rv = prx_conn_write(q->c, q->v, q->n);
    }
    q->n = 0;
    q->used = 0;
    return rv;
}

static apr_status_t iovq_add(iovq *q, const void *p, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;

    if (len == 0) {
        return APR_SUCCESS;
    }
    if (q->n == IOVQ_MAX) {
        rv = iovq_flush(q);
    }
    q->v[q->n].iov_base = (void *)p;
    q->v[q->n].iov_len = len;
    q->n++;
    return rv;
}

/* Queue "<hex len>\r\n" (a chunk header) through the scratch area. */
static apr_status_t iovq_chunk_size(iovq *q, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    char *s;
    int n;

    if (q->used + 24 > IOVQ_SCRATCH || q->n == IOVQ_MAX) {
        if ((rv = iovq_flush(q)) != APR_SUCCESS) {
            return rv;
        }
    }
    s = q->scratch + q->used;
    n = apr_snprintf(s, 24, "%" APR_UINT64_T_HEX_FMT "\r\n",
                     (apr_uint64_t)len);
    q->used += n;
    return iovq_add(q, s, n);
}

static int env_set(request_rec *r, const char *name)
{
    return apr_table_get(r->subprocess_env, name) != NULL;
}

/* Log once and map a failure reading the client's body to its status
 * (400, 408 on timeout, 413 over a body limit, or the filter's own). */
static int client_read_error(http_ctx *x, apr_status_t rv, const char *when)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, x->r, PRXLOGNO(00300)
                  "error reading the request body from the client (%s)",
                  when);
    if (x->c) {
        x->c->close = 1;
    }
    return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
}

int http_write_status(http_ctx *x, apr_status_t rv, const char *what)
{
    x->c->close = 1;
    if (APR_STATUS_IS_TIMEUP(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, x->r, PRXLOGNO(00301)
                      "%s: timeout writing the %s to %s:%d", x->worker->name,
                      what, x->c->hostname ? x->c->hostname : "backend",
                      (int)x->c->port);
        return prx_error(x->r, HTTP_GATEWAY_TIME_OUT,
                         "Timeout writing to the remote server");
    }
    if (x->c->connection && !x->c->reused) {
        /* the first write on a new TLS connection carries the handshake;
         * mod_ssl logs the precise reason (verification, name, protocol) */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, x->r, PRXLOGNO(00332)
                      "%s: TLS handshake with %s:%d failed (certificate "
                      "verification, peer name or protocol; see mod_ssl's "
                      "messages)", x->worker->name,
                      x->c->hostname ? x->c->hostname : "backend",
                      (int)x->c->port);
        return prx_error(x->r, HTTP_BAD_GATEWAY,
                         "Error during TLS handshake with remote server");
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, x->r, PRXLOGNO(00302)
                  "%s: error writing the %s to %s:%d", x->worker->name,
                  what, x->c->hostname ? x->c->hostname : "backend",
                  (int)x->c->port);
    return prx_error(x->r, HTTP_BAD_GATEWAY,
                     "Error writing to the remote server");
}

/*
 * Copy the data buckets at the head of `b->bb` into the prefetch buffer,
 * up to its size. Stops at EOS (sets pre_eos). Buckets that do not fit
 * stay in `b->bb` (set aside into r->pool) for the streaming phase.
 */
static apr_status_t prefetch_collect(request_rec *r, http_body *b)
{
    apr_bucket *e;

    while (!APR_BRIGADE_EMPTY(b->bb)) {
        const char *data;
        apr_size_t len, room = HTTP_PREFETCH_MAX - b->pre_len;
        apr_status_t rv;

        e = APR_BRIGADE_FIRST(b->bb);
        if (APR_BUCKET_IS_EOS(e)) {
            b->pre_eos = 1;
            apr_brigade_cleanup(b->bb);
            return APR_SUCCESS;
        }
        if (APR_BUCKET_IS_METADATA(e)) {
            apr_bucket_delete(e);
            continue;
        }
        if (room == 0) {
            break;
        }
        rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (len > room) {
            apr_bucket_split(e, room);
            len = room;
        }
        memcpy(b->pre + b->pre_len, data, len);
        b->pre_len += len;
        apr_bucket_delete(e);
    }
    for (e = APR_BRIGADE_FIRST(b->bb); e != APR_BRIGADE_SENTINEL(b->bb);
         e = APR_BUCKET_NEXT(e)) {
        apr_bucket_setaside(e, r->pool);
    }
    return APR_SUCCESS;
}

/* spec http.md §4.2: read up to 16 KiB of the body into memory. */
static int prefetch(http_ctx *x, int nonblock)
{
    request_rec *r = x->r;
    http_body *b = x->body;
    apr_read_type_e mode = nonblock ? APR_NONBLOCK_READ : APR_BLOCK_READ;

    while (!b->pre_eos && APR_BRIGADE_EMPTY(b->bb)
           && b->pre_len < HTTP_PREFETCH_MAX - HTTP_PREFETCH_SLACK) {
        apr_status_t rv = ap_get_brigade(r->input_filters, b->bb,
                                         AP_MODE_READBYTES, mode,
                                         HTTP_PREFETCH_MAX - b->pre_len);

        if (nonblock && (APR_STATUS_IS_EAGAIN(rv)
                         || (rv == APR_SUCCESS
                             && APR_BRIGADE_EMPTY(b->bb)))) {
            break;
        }
        if (rv == APR_SUCCESS) {
            rv = prefetch_collect(r, b);
        }
        if (rv != APR_SUCCESS) {
            return client_read_error(x, rv, "prefetch");
        }
    }
    return OK;
}

/* Open the spool file in the system temporary directory. */
static int spool_open(http_ctx *x)
{
    request_rec *r = x->r;
    const char *dir;
    char *path;
    apr_status_t rv;

    rv = apr_temp_dir_get(&dir, r->pool);
    if (rv == APR_SUCCESS) {
        path = apr_pstrcat(r->pool, dir, "/modproxy.tmp.XXXXXX", NULL);
        rv = apr_file_mktemp(&x->body->spool, path, 0, r->pool);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00303)
                      "cannot create the request body spool file");
        return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                         "Cannot spool the request body");
    }
    return OK;
}

/* spec http.md §4.5: read the rest of the body into a temp file. */
static int spool_body(http_ctx *x)
{
    request_rec *r = x->r;
    http_body *b = x->body;
    apr_status_t rv;
    int st;

    while (!b->pre_eos) {
        apr_bucket *e;

        if (APR_BRIGADE_EMPTY(b->bb)) {
            rv = ap_get_brigade(r->input_filters, b->bb, AP_MODE_READBYTES,
                                APR_BLOCK_READ, HTTP_BODY_READ);
            if (rv != APR_SUCCESS) {
                return client_read_error(x, rv, "spooling");
            }
        }
        for (e = APR_BRIGADE_FIRST(b->bb); e != APR_BRIGADE_SENTINEL(b->bb);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(e)) {
                b->pre_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                return client_read_error(x, rv, "spooling");
            }
            if (len == 0) {
                continue;
            }
            if (!b->spool && (st = spool_open(x)) != OK) {
                return st;
            }
            rv = apr_file_write_full(b->spool, data, len, NULL);
            if (rv != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00304)
                              "cannot write the request body spool file");
                return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                 "Cannot spool the request body");
            }
            b->spool_len += len;
        }
        apr_brigade_cleanup(b->bb);
    }
    b->length = (apr_off_t)b->pre_len + b->spool_len;
    return OK;
}

/* Validate the client's Content-Length: plain non-negative decimal. */
static int parse_client_cl(const char *s, apr_off_t *out)
{
    char *end;

    if (!apr_isdigit(*s) || apr_strtoff(out, s, &end, 10) != APR_SUCCESS
        || *end != '\0' || *out < 0) {
        return 0;
    }
    return 1;
}

/* spec http.md §5.1: does this attempt do 100-continue to the backend? */
static int want_100_continue(http_ctx *x, int has_body)
{
    request_rec *r = x->r;
    const char *expect;

    if (x->force10 || !has_body) {
        return 0;
    }
    expect = apr_table_get(r->headers_in, "Expect");
    if (expect && ap_find_token(r->pool, expect, "100-continue")
        && (prx_dir_100_continue(x->dconf) || x->body->pre_len > 0)) {
        return 1;
    }
    return x->worker->p.ping > 0 && r->proxyreq == PROXYREQ_REVERSE;
}

/* The strategy table of spec http.md §4.3, once the prefetch has run. */
static int choose_strategy(http_ctx *x)
{
    request_rec *r = x->r;
    http_body *b = x->body;
    int sendcl = env_set(r, "proxy-sendcl");
    int sendchunked = env_set(r, "proxy-sendchunked")
                      || env_set(r, "proxy-sendchunks");

    if (sendcl && sendchunked) {
        sendcl = sendchunked = 0;
    }
    if (b->pre_eos) {
        b->mode = (b->client_cl_sent || b->client_chunked || b->pre_len)
                  ? BODY_CL : BODY_NONE;
        b->length = b->pre_len;
        return OK;
    }
    if (b->client_chunked) {
        b->mode = (x->force10 || sendcl) ? BODY_SPOOL : BODY_CHUNKED;
    }
    else if (r->input_filters == r->proto_input_filters) {
        b->mode = BODY_CL;
    }
    else {
        b->mode = (!x->force10 && sendchunked) ? BODY_CHUNKED : BODY_SPOOL;
    }
    return b->mode == BODY_SPOOL ? spool_body(x) : OK;
}

/*
 * Decide how the request body goes to the backend (once per request; a
 * failover attempt reuses the decision and the prefetched bytes) and
 * whether this attempt does 100-continue.
 * @return OK or the HTTP status to fail the request with (logged).
 */
int http_body_prepare(http_ctx *x)
{
    request_rec *r = x->r;
    prx_req *pr = prx_req_get(r);
    http_body *b = pr ? pr->scheme_data : NULL;
    const char *te, *cl;
    int has_body, st;

    if (!b) {
        b = apr_pcalloc(r->pool, sizeof(*b));
        b->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
        b->hold = apr_brigade_create(r->pool, r->connection->bucket_alloc);
        if (pr) {
            pr->scheme_data = b;
        }
    }
    x->body = b;
    if (b->prepared) {
        if (b->streamed) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00305)
                          "request body already consumed by an earlier "
                          "attempt, cannot send it again");
            return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                             "Request body no longer available");
        }
        x->expect100 = b->mode != BODY_NONE
                       && want_100_continue(x, 1);
        return OK;
    }
    b->prepared = 1;
    if (r->main && !r->kept_body) {
        /* spec http.md §4.1: sub-requests never send a body */
        b->mode = BODY_NONE;
        return OK;
    }
    te = apr_table_get(r->headers_in, "Transfer-Encoding");
    cl = apr_table_get(r->headers_in, "Content-Length");
    /* SECURITY: ambiguous framing is refused, never guessed at. httpd's
     * request parser already drops Content-Length when Transfer-Encoding
     * is present too, and marks the connection to close; that mark, set
     * before any handler ran, is the only trace the pair leaves. */
    if (te && (cl || r->connection->keepalive == AP_CONN_CLOSE)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00306)
                      "client request has both Content-Length and "
                      "Transfer-Encoding, refused");
        return HTTP_BAD_REQUEST;
    }
    if (te && strcasecmp(te, "chunked") != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00307)
                      "client Transfer-Encoding '%s' not supported", te);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    b->client_chunked = te != NULL;
    if (cl) {
        if (!parse_client_cl(cl, &b->length)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00308)
                          "client Content-Length '%s' is invalid", cl);
            return HTTP_BAD_REQUEST;
        }
        b->client_cl_sent = 1;
    }
    has_body = b->client_chunked || (cl && b->length > 0);
    if (!b->client_chunked && !cl) {
        b->mode = BODY_NONE;
        return OK;
    }
    x->expect100 = want_100_continue(x, has_body);
    b->pre = apr_palloc(r->pool, HTTP_PREFETCH_MAX);
    st = prefetch(x, x->expect100
                     || env_set(r, "proxy-prefetch-nonblocking"));
    if (st == OK) {
        st = choose_strategy(x);
    }
    return st;
}

/* spec: our own stale-connection retry resends only what it still has. */
int http_body_replayable(const http_ctx *x)
{
    int m = x->r->method_number;

    if (x->body->streamed) {
        return 0;
    }
    return m == M_GET || m == M_PUT || m == M_DELETE || m == M_OPTIONS
           || m == M_TRACE;
}

/*
 * spec http.md §7.1: may the Upgrade value `proto` be tunnelled on this
 * attempt? Allowed are the worker's `upgrade=` list (a single value, or a
 * token of the list; "*" allows any), or, without one, "WebSocket" for
 * ws:// and wss:// URLs. Comparisons ignore case. Also used for Upgrade in
 * final responses (§7.4).
 */
int http_upgrade_allowed(const http_ctx *x, const char *proto)
{
    const char *list = x->worker->p.upgrade;

    if (!proto || !*proto) {
        return 0;
    }
    if (list) {
        return !strcmp(list, "*") || !strcasecmp(list, proto)
               || ap_find_token(x->r->pool, list, proto);
    }
    return (strncasecmp(x->url, "ws:", 3) == 0
            || strncasecmp(x->url, "wss:", 4) == 0)
           && !strcasecmp(proto, "WebSocket");
}

/* Request-target (spec http.md §2.2): absolute-form through a ProxyRemote
 * HTTP proxy, origin-form otherwise (and inside a CONNECT tunnel). ws://
 * goes out as http://. */
static const char *request_target(http_ctx *x)
{
    apr_uri_t *u = &x->uri;
    const char *path = (u->path && *u->path) ? u->path : "/";

    if (x->proxyname && !x->via_connect) {
        if (strncasecmp(x->url, "ws:", 3) == 0) {
            return apr_pstrcat(x->r->pool, "http:", x->url + 3, NULL);
        }
        return x->url;
    }
    if (!u->query && !u->fragment) {
        return path;
    }
    return apr_pstrcat(x->r->pool, path, u->query ? "?" : "",
                       u->query ? u->query : "", u->fragment ? "#" : "",
                       u->fragment ? u->fragment : "", NULL);
}

/* spec http.md §3.3 */
static const char *host_header(http_ctx *x)
{
    request_rec *r = x->r;
    apr_uri_t *u = &x->uri;
    const char *h;

    if (prx_dir_preserve_host(x->dconf)) {
        h = apr_table_get(r->headers_in, "Host");
        if (!h) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00309)
                          "ProxyPreserveHost On but the client sent no "
                          "Host: using ServerName %s",
                          r->server->server_hostname);
            h = r->server->server_hostname;
        }
        return h;
    }
    h = u->hostname;
    if (ap_strchr_c(h, ':')) {
        h = apr_pstrcat(r->pool, "[", h, "]", NULL);
    }
    /* a stock quirk kept on purpose: the port is compared with 80 even
     * for https */
    if (u->port_str && u->port != 80) {
        h = apr_pstrcat(r->pool, h, ":", u->port_str, NULL);
    }
    return h;
}

/* spec http.md §3.2 steps 4-6, §3.4, §3.5, §3.6, §3.7 on the copy `t`. */
static void adjust_headers(http_ctx *x, apr_table_t *t)
{
    request_rec *r = x->r;
    const char *v;
    int ctoken = 0;

    prx_headers_strip_hop_by_hop(t, &ctoken);
    /* re-framed by the body strategy (whatever the core's helper does) */
    apr_table_unset(t, "Content-Length");
    apr_table_unset(t, "Transfer-Encoding");
    if (!x->expect100) {
        apr_table_unset(t, "Expect");
    }
    else if (!(v = apr_table_get(t, "Expect"))
             || !ap_find_token(r->pool, v, "100-continue")) {
        apr_table_mergen(t, "Expect", "100-Continue");
    }
    if (r->user && !env_set(r, "Proxy-Chain-Auth")) {
        apr_table_unset(t, "Proxy-Authorization");
    }
    if (r->main) {
        apr_table_unset(t, "If-Match");
        apr_table_unset(t, "If-Modified-Since");
        apr_table_unset(t, "If-Range");
        apr_table_unset(t, "If-Unmodified-Since");
        apr_table_unset(t, "If-None-Match");
    }
    /* the upstream's credentials: not for the origin at the far end of a
     * CONNECT tunnel (they went with the CONNECT) */
    if (x->proxyname && !x->via_connect
        && (v = apr_table_get(r->notes, "proxy-basic-creds")) && *v) {
        apr_table_mergen(t, "Proxy-Authorization",
                         strncasecmp(v, "Basic ", 6) == 0 ? v
                         : apr_pstrcat(r->pool, "Basic ", v, NULL));
    }
    prx_headers_add_proxy(r, t);
}

#define ADD(s, l) do { memcpy(p, (s), (l)); p += (l); } while (0)
#define ADDS(lit) ADD(lit, sizeof(lit) - 1)

/*
 * Build the request head of this attempt into x->head (spec http.md
 * §3.8): request line, Host, the client's headers in order (adjusted),
 * the framing header of the body strategy, the Connection header (with
 * Upgrade when asking for one, §7.1). One
 * allocation for the whole head; header strings are not copied before.
 * @return OK or 400 (URL without host).
 */
int http_request_head(http_ctx *x)
{
    request_rec *r = x->r;
    http_body *b = x->body;
    apr_table_t *t = apr_table_copy(r->pool, r->headers_in);
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    const char *target = request_target(x), *host = host_header(x);
    const char *conn = NULL, *proto = x->force10 ? " HTTP/1.0\r\n"
                                                 : " HTTP/1.1\r\n";
    char clbuf[64], *p;
    apr_size_t len, cllen = 0, *kl;
    int i;

    adjust_headers(x, t);
    /* written first, from host_header() */
    apr_table_unset(t, "Host");
    if (b->mode == BODY_CL || b->mode == BODY_SPOOL) {
        cllen = apr_snprintf(clbuf, sizeof(clbuf),
                             "Content-Length: %" APR_OFF_T_FMT "\r\n",
                             b->length);
    }
    else if (b->mode == BODY_CHUNKED) {
        cllen = apr_cpystrn(clbuf, "Transfer-Encoding: chunked\r\n",
                            sizeof(clbuf)) - clbuf;
    }
    if (x->upgrade) {
        conn = apr_pstrcat(r->pool, "Connection: Upgrade\r\nUpgrade: ",
                           x->upgrade, "\r\n", NULL);
    }
    else if (!x->force10) {
        conn = x->close ? "Connection: close\r\n"
                        : "Connection: Keep-Alive\r\n";
    }
    arr = apr_table_elts(t);
    e = (const apr_table_entry_t *)arr->elts;
    len = strlen(r->method) + 1 + strlen(target) + 11 + 6 + strlen(host) + 2
          + cllen + (conn ? strlen(conn) : 0) + 2;
    /* each field's name and value lengths, measured once */
    kl = apr_palloc(r->pool, 2 * sizeof(*kl) * (arr->nelts + 1));
    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && e[i].val) {
            kl[2 * i] = strlen(e[i].key);
            kl[2 * i + 1] = strlen(e[i].val);
            len += kl[2 * i] + 2 + kl[2 * i + 1] + 2;
        }
    }
    x->head = p = apr_palloc(r->pool, len + 1);
    ADD(r->method, strlen(r->method));
    ADDS(" ");
    ADD(target, strlen(target));
    ADD(proto, 11);
    ADDS("Host: ");
    ADD(host, strlen(host));
    ADDS("\r\n");
    for (i = 0; i < arr->nelts; i++) {
        if (!e[i].key || !e[i].val) {
            continue;
        }
        ADD(e[i].key, kl[2 * i]);
        ADDS(": ");
        ADD(e[i].val, kl[2 * i + 1]);
        ADDS("\r\n");
    }
    ADD(clbuf, cllen);
    if (conn) {
        ADD(conn, strlen(conn));
    }
    ADDS("\r\n");
    *p = '\0';
    x->head_len = p - x->head;
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r, "request head to %s:\n%s",
                  x->worker->name, x->head);
    return OK;
}

/* Queue the prefetched bytes, framed for the strategy. */
static apr_status_t queue_prefetch(http_ctx *x, iovq *q)
{
    http_body *b = x->body;
    apr_status_t rv = APR_SUCCESS;

    if (b->pre_len == 0) {
        return APR_SUCCESS;
    }
    if (b->mode == BODY_CHUNKED) {
        rv = iovq_chunk_size(q, b->pre_len);
    }
    if (rv == APR_SUCCESS) {
        rv = iovq_add(q, b->pre, b->pre_len);
    }
    if (rv == APR_SUCCESS && b->mode == BODY_CHUNKED) {
        rv = iovq_add(q, "\r\n", 2);
    }
    return rv;
}

/* Write what is queued; the pieces held for it can go then. */
static apr_status_t body_flush(iovq *q, http_body *b)
{
    apr_status_t rv = iovq_flush(q);

    apr_brigade_cleanup(b->hold);
    return rv;
}

/*
 * Body bytes after the prefetch, BODY_CL / BODY_CHUNKED: read from the
 * client in pieces and written as they come, in constant memory. After a
 * piece, what the client has already sent more is read without blocking
 * and goes in the same write (up to HTTP_BODY_GATHER); the write happens
 * before any read that could block, so the backend never waits for bytes
 * the client sent. The last pieces stay queued (in b->hold) for the
 * caller's final write with the terminators.
 */
static int stream_rest(http_ctx *x, iovq *q, apr_status_t *wrv)
{
    request_rec *r = x->r;
    http_body *b = x->body;
    apr_off_t total = b->pre_len;
    apr_size_t queued = 0;
    /* what is queued already (head, prefetch) waits for no blocking read */
    int more = q->n > 0;
    int eos = 0;

    while (!eos) {
        apr_bucket *e;
        apr_size_t piece = 0;
        apr_status_t rv;

        if (APR_BRIGADE_EMPTY(b->bb)) {
            rv = ap_get_brigade(r->input_filters, b->bb, AP_MODE_READBYTES,
                                more ? APR_NONBLOCK_READ : APR_BLOCK_READ,
                                HTTP_BODY_READ);
            if (more && (APR_STATUS_IS_EAGAIN(rv)
                         || (rv == APR_SUCCESS
                             && APR_BRIGADE_EMPTY(b->bb)))) {
                /* the client stalls: the backend gets what came so far */
                more = 0;
                queued = 0;
                if ((*wrv = body_flush(q, b)) != APR_SUCCESS) {
                    return HTTP_BAD_GATEWAY;
                }
                continue;
            }
            if (rv != APR_SUCCESS) {
                return client_read_error(x, rv, "streaming");
            }
        }
        b->streamed = 1;
        /* first pass: make every bucket readable and learn the size, for
         * the chunk header that must precede the data */
        for (e = APR_BRIGADE_FIRST(b->bb); e != APR_BRIGADE_SENTINEL(b->bb);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(e)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            if ((rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ))) {
                return client_read_error(x, rv, "streaming");
            }
            piece += len;
        }
        total += piece;
        if (b->mode == BODY_CL && (total > b->length
                                   || (eos && total != b->length))) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00310)
                          "request body length %" APR_OFF_T_FMT " differs "
                          "from its Content-Length %" APR_OFF_T_FMT,
                          total, b->length);
            x->c->close = 1;
            return prx_error(r, HTTP_INTERNAL_SERVER_ERROR,
                             "Request body length mismatch");
        }
        if (piece && b->mode == BODY_CHUNKED) {
            *wrv = iovq_chunk_size(q, piece);
        }
        for (e = APR_BRIGADE_FIRST(b->bb);
             *wrv == APR_SUCCESS && e != APR_BRIGADE_SENTINEL(b->bb)
             && !APR_BUCKET_IS_EOS(e);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if (!APR_BUCKET_IS_METADATA(e)
                && apr_bucket_read(e, &data, &len, APR_BLOCK_READ)
                   == APR_SUCCESS) {
                *wrv = iovq_add(q, data, len);
            }
        }
        if (*wrv == APR_SUCCESS && piece && b->mode == BODY_CHUNKED) {
            *wrv = iovq_add(q, "\r\n", 2);
        }
        /* the queued iovecs point into these buckets */
        APR_BRIGADE_CONCAT(b->hold, b->bb);
        queued += piece;
        if (*wrv == APR_SUCCESS && !eos) {
            more = queued < HTTP_BODY_GATHER;
            if (!more) {
                queued = 0;
                *wrv = body_flush(q, b);
            }
        }
        if (*wrv != APR_SUCCESS) {
            return HTTP_BAD_GATEWAY;
        }
    }
    return OK;
}

/* Body bytes after the prefetch, BODY_SPOOL: copied from the temp file. */
static int send_spool(http_ctx *x, iovq *q, apr_status_t *wrv)
{
    http_body *b = x->body;
    apr_off_t off = 0;
    apr_size_t size = 4 * HTTP_BODY_READ;
    char *buf;

    if (!b->spool || b->spool_len == 0) {
        return OK;
    }
    if ((*wrv = iovq_flush(q)) != APR_SUCCESS) {
        return HTTP_BAD_GATEWAY;
    }
    buf = apr_palloc(x->r->pool, size);
    if (apr_file_seek(b->spool, APR_SET, &off) != APR_SUCCESS) {
        return prx_error(x->r, HTTP_INTERNAL_SERVER_ERROR,
                         "Cannot read the spooled request body");
    }
    for (off = 0; off < b->spool_len;) {
        apr_size_t len = size;
        apr_status_t rv = apr_file_read(b->spool, buf, &len);
        struct iovec v;

        if (rv != APR_SUCCESS || len == 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, x->r, PRXLOGNO(00311)
                          "cannot read the request body spool file");
            x->c->close = 1;
            return prx_error(x->r, HTTP_INTERNAL_SERVER_ERROR,
                             "Cannot read the spooled request body");
        }
        v.iov_base = buf;
        v.iov_len = len;
        if ((*wrv = prx_conn_write(x->c, &v, 1)) != APR_SUCCESS) {
            return HTTP_BAD_GATEWAY;
        }
        off += len;
    }
    return OK;
}

/*
 * Write the request: the head (when `head`), then the body (when `body`):
 * prefetched bytes in the same writev as the head, then the rest by
 * strategy, then the terminators (last chunk, proxy-sendextracrlf).
 * @param wrv  set to the backend write error when that is what failed;
 *             such a failure is NOT logged here: the caller decides
 *             between a stale-connection retry and http_write_status()
 * @return OK or an HTTP status (logged unless *wrv is set).
 */
int http_send(http_ctx *x, int head, int body, apr_status_t *wrv)
{
    http_body *b = x->body;
    iovq q;
    int st = OK;

    q.c = x->c;
    q.n = 0;
    q.used = 0;
    *wrv = APR_SUCCESS;
    if (head) {
        *wrv = iovq_add(&q, x->head, x->head_len);
    }
    if (body && b->mode != BODY_NONE) {
        if (*wrv == APR_SUCCESS) {
            *wrv = queue_prefetch(x, &q);
        }
        if (*wrv == APR_SUCCESS && (b->mode == BODY_CL
                                    || b->mode == BODY_CHUNKED)
            && !b->pre_eos) {
            st = stream_rest(x, &q, wrv);
        }
        else if (*wrv == APR_SUCCESS && b->mode == BODY_SPOOL) {
            st = send_spool(x, &q, wrv);
        }
        if (st == OK && *wrv == APR_SUCCESS && b->mode == BODY_CHUNKED) {
            *wrv = iovq_add(&q, "0\r\n\r\n", 5);
        }
        if (st == OK && *wrv == APR_SUCCESS
            && env_set(x->r, "proxy-sendextracrlf")) {
            *wrv = iovq_add(&q, "\r\n", 2);
        }
        x->body_sent = 1;
    }
    if (st == OK && *wrv == APR_SUCCESS) {
        *wrv = iovq_flush(&q);
    }
    if (b) {
        apr_brigade_cleanup(b->hold);
    }
    if (*wrv != APR_SUCCESS) {
        x->c->close = 1;
        st = HTTP_BAD_GATEWAY;
    }
    return st;
}
