/*
 * http_response.c -- the response half of mod_proxy_http: reading the
 * response head with the http_parse.h parser (bounded line length and
 * field count, ProxyBadHeader), interim 1xx responses (including the
 * "100 Continue" that releases a held-back request body), the header
 * post-processing of spec http.md §6.2/§6.3, ProxyErrorOverride (§8) and
 * relaying the body to the client in constant memory (§6.4), and the
 * switch to a tunnel on "101 Switching Protocols" (§7.2). Framing is
 * strict: anything ambiguous is a 502, a body cut short is never passed
 * off as complete.
 */

#include "http_private.h"

#include <apr_date.h>
#include <apr_lib.h>

/* Classes of response fields that get special treatment (§6.2). */
enum {
    F_OTHER = 0, F_TE, F_CL, F_DATE, F_URL, F_COOKIE, F_WARNING
};

static int field_class(const char *n)
{
    switch (strlen(n)) {
    case 3:
        return strcasecmp(n, "URI") == 0 ? F_URL : F_OTHER;
    case 4:
        return strcasecmp(n, "Date") == 0 ? F_DATE : F_OTHER;
    case 7:
        if (strcasecmp(n, "Expires") == 0) {
            return F_DATE;
        }
        return strcasecmp(n, "Warning") == 0 ? F_WARNING : F_OTHER;
    case 8:
        return strcasecmp(n, "Location") == 0 ? F_URL : F_OTHER;
    case 10:
        return strcasecmp(n, "Set-Cookie") == 0 ? F_COOKIE : F_OTHER;
    case 11:
        return strcasecmp(n, "Destination") == 0 ? F_URL : F_OTHER;
    case 13:
        return strcasecmp(n, "Last-Modified") == 0 ? F_DATE : F_OTHER;
    case 14:
        return strcasecmp(n, "Content-Length") == 0 ? F_CL : F_OTHER;
    case 16:
        return strcasecmp(n, "Content-Location") == 0 ? F_URL : F_OTHER;
    case 17:
        return strcasecmp(n, "Transfer-Encoding") == 0 ? F_TE : F_OTHER;
    }
    return F_OTHER;
}

/* Date, Expires, Last-Modified in RFC 1123 form when parseable. */
static const char *date_canon(apr_pool_t *p, const char *v)
{
    apr_time_t t;
    char *out;

    /* the usual case, "Sun, 06 Nov 1994 08:49:37 GMT", needs no work */
    if (strlen(v) == 29 && v[3] == ',' && strcmp(v + 25, " GMT") == 0) {
        return v;
    }
    t = apr_date_parse_http(v);
    if (t == APR_DATE_BAD) {
        return v;
    }
    out = apr_palloc(p, APR_RFC822_DATE_LEN);
    apr_rfc822_date(out, t);
    return out;
}

/* Skip one quoted-string starting at `s` ('"'); @return past it or NULL. */
static const char *skip_quoted(const char *s)
{
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) {
            s++;
        }
    }
    return *s == '"' ? s + 1 : NULL;
}

/*
 * spec http.md §6.3 step 6: keep each warning-value without a warn-date,
 * or whose warn-date equals the response Date; drop the rest, and values
 * that are not warning syntax (3DIGIT SP agent SP quoted [SP quoted]).
 * @return the kept values joined by ", ", or NULL when none is left.
 */
static const char *clean_warning(apr_pool_t *p, const char *v, apr_time_t date)
{
    const char *s = v, *out = NULL;

    while (*s) {
        const char *start, *end, *dq = NULL;
        int ok = 0;

        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        if (!*s) {
            break;
        }
        start = s;
        if (apr_isdigit(s[0]) && apr_isdigit(s[1]) && apr_isdigit(s[2])
            && s[3] == ' ') {
            for (s += 4; *s && *s != ' ' && *s != ','; s++) {
            }
            if (*s == ' ' && s[1] == '"' && (s = skip_quoted(s + 1))) {
                ok = 1;
                if (*s == ' ' && s[1] == '"') {
                    dq = s + 1;
                    ok = (s = skip_quoted(dq)) != NULL;
                }
            }
        }
        if (!ok) {
            /* not warning syntax: drop up to the next comma */
            s = start + strcspn(start, ",");
            continue;
        }
        end = s;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s && *s != ',') {
            s = start + strcspn(start, ",");
            continue;
        }
        if (dq) {
            char *d = apr_pstrmemdup(p, dq + 1, end - dq - 2);

            if (date == APR_DATE_BAD || apr_date_parse_http(d) != date) {
                continue;
            }
        }
        v = apr_pstrmemdup(p, start, end - start);
        out = out ? apr_pstrcat(p, out, ", ", v, NULL) : v;
    }
    return out;
}

static void clean_warnings(request_rec *r, apr_table_t *t)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *d = apr_table_get(t, "Date");
    apr_time_t date = d ? apr_date_parse_http(d) : APR_DATE_BAD;
    apr_array_header_t *kept = apr_array_make(r->pool, 2, sizeof(char *));
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && strcasecmp(e[i].key, "Warning") == 0) {
            const char *v = clean_warning(r->pool, e[i].val, date);

            if (v) {
                *(const char **)apr_array_push(kept) = v;
            }
        }
    }
    apr_table_unset(t, "Warning");
    for (i = 0; i < kept->nelts; i++) {
        apr_table_addn(t, "Warning", ((const char **)kept->elts)[i]);
    }
}

static void push_value(apr_pool_t *p, apr_array_header_t **a, const char *v)
{
    if (!*a) {
        *a = apr_array_make(p, 1, sizeof(const char *));
    }
    *(const char **)apr_array_push(*a) = v;
}

/*
 * Turn the parsed fields into a response header table (spec http.md §6.2,
 * §6.3 steps 1, 3, 5, 6, 7; §7.4 for Upgrade) and decide the body framing.
 * @param interim  1xx: no framing decision
 * @return the table, or NULL for ambiguous/invalid framing (logged).
 */
static apr_table_t *build_headers(http_ctx *x, prx_http_head *h, int interim,
                                  prx_frame_kind *kind, apr_off_t *len)
{
    request_rec *r = x->r;
    const prx_http_field *f = (const prx_http_field *)h->fields->elts;
    apr_array_header_t *te = NULL, *cl = NULL;
    apr_table_t *t = apr_table_make(r->pool, h->fields->nelts + 2);
    int reverse = r->proxyreq == PROXYREQ_REVERSE, warnings = 0, i;
    int ctoken = 0;
    const char *v;

    for (i = 0; i < h->fields->nelts; i++) {
        v = f[i].value;
        switch (field_class(f[i].name)) {
        case F_TE:
            push_value(r->pool, &te, v);
            continue;
        case F_CL:
            push_value(r->pool, &cl, v);
            continue;
        case F_DATE:
            v = date_canon(r->pool, v);
            break;
        case F_URL:
            v = reverse ? prx_reverse_url(r, v) : v;
            break;
        case F_COOKIE:
            v = reverse ? prx_reverse_cookie(r, v) : v;
            break;
        case F_WARNING:
            warnings = 1;
            break;
        }
        apr_table_addn(t, f[i].name, v);
    }
    *kind = PRX_FRAME_NONE;
    if (!interim) {
        *kind = prx_http_framing(te, cl, 1, len);
        if (*kind == PRX_FRAME_ERROR) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00312)
                          "%s: response %d has ambiguous or invalid framing "
                          "(Content-Length: %s, Transfer-Encoding: %s)",
                          x->worker->name, h->status,
                          cl ? apr_array_pstrcat(r->pool, cl, ',') : "-",
                          te ? apr_array_pstrcat(r->pool, te, ',') : "-");
            return NULL;
        }
    }
    v = apr_table_get(t, "Upgrade");
    prx_headers_strip_hop_by_hop(t, &ctoken);
    if (ctoken) {
        x->c->close = 1;
    }
    if (!interim && v && http_upgrade_allowed(x, v)) {
        /* spec http.md §7.4: e.g. a 426 naming a protocol the client may
         * ask this proxy to tunnel */
        apr_table_setn(t, "Upgrade", v);
        apr_table_setn(t, "Connection", "Upgrade");
    }
    apr_table_unset(t, "Proxy-Authenticate");
    if (warnings) {
        clean_warnings(r, t);
    }
    if (*kind == PRX_FRAME_LENGTH) {
        apr_table_setn(t, "Content-Length", apr_off_t_toa(r->pool, *len));
    }
    if ((v = prx_via_value(r)) != NULL) {
        apr_table_addn(t, "Via", v);
    }
    return t;
}

static prx_badheader_mode badheader_mode(const prx_server_conf *conf)
{
    switch (conf->badheader) {
    case PRX_BAD_IGNORE:
        return PRX_BADHDR_IGNORE;
    case PRX_BAD_STARTBODY:
        return PRX_BADHDR_STARTBODY;
    }
    return PRX_BADHDR_ISERROR;
}

static void restore_timeout(http_ctx *x)
{
    if (x->worker->p.ping > 0 && x->c->sock) {
        prx_conn_timeout_set(x->c, prx_worker_timeout(x->worker, x->r));
    }
}

/* Nothing usable came back while waiting for a head (spec §6.1, §5.2). */
static int head_read_failed(http_ctx *x, apr_status_t rv, int started,
                            int *stale)
{
    request_rec *r = x->r;
    const char *host = x->c->hostname ? x->c->hostname : "backend";

    x->c->close = 1;
    if (APR_STATUS_IS_TIMEUP(rv)) {
        apr_table_setn(r->notes, "proxy_timedout", "1");
        if (x->expect100 && !x->body_sent) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00313)
                          "%s: timeout waiting for 100-Continue from %s",
                          x->worker->name, host);
            return prx_error(r, HTTP_SERVICE_UNAVAILABLE,
                             "Timeout on 100-Continue");
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00314)
                      "%s: timeout reading the response head from %s",
                      x->worker->name, host);
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Error reading from remote server");
    }
    if (!x->got_bytes && x->c->reused && http_body_replayable(x)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, PRXLOGNO(00315)
                      "%s: pooled connection to %s was closed by the peer, "
                      "retrying on a new one", x->worker->name, host);
        *stale = 1;
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00316)
                  "%s: %s reading the response head from %s",
                  x->worker->name,
                  APR_STATUS_IS_EOF(rv) ? (started ? "connection closed"
                                                   : "no response")
                                        : "error", host);
    return prx_error(r, HTTP_BAD_GATEWAY, "Error reading from remote server");
}

static int head_invalid(http_ctx *x, prx_hp_status hs)
{
    x->c->close = 1;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r, PRXLOGNO(00317)
                  "%s: invalid response head (%s%s)", x->worker->name,
                  prx_hp_status_str(hs),
                  hs == PRX_HP_TOO_MANY ? ", over LimitRequestFields"
                  : hs == PRX_HP_TOO_LONG ? ", over responsefieldsize" : "");
    if (hs == PRX_HP_BAD_STATUS) {
        return prx_error(x->r, HTTP_BAD_GATEWAY,
                         "Corrupt status line returned by remote server");
    }
    return prx_error(x->r, HTTP_BAD_GATEWAY,
                     "Error reading from remote server");
}

static void head_warnings(http_ctx *x, prx_http_head *h)
{
    if (!h->warnings) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, x->r, PRXLOGNO(00318)
                  "%s: response head repaired:%s%s%s%s%s (line: %.80s)",
                  x->worker->name,
                  (h->warnings & PRX_HPW_DROPPED_LINE) ? " line dropped" : "",
                  (h->warnings & PRX_HPW_STARTED_BODY) ? " body started" : "",
                  (h->warnings & PRX_HPW_NO_HEADERS) ? " no headers" : "",
                  (h->warnings & PRX_HPW_STRAY_STATUS) ? " stray status" : "",
                  (h->warnings & PRX_HPW_LEADING_EMPTY) ? " empty line" : "",
                  h->warn_line ? h->warn_line : "");
}

/*
 * Read one response head into `h`, starting with bytes left over in the
 * connection buffer. @return OK (with *http09 set for a response without
 * status line), OK with *stale set (retry on a fresh connection), or the
 * error status (logged).
 */
static int read_head(http_ctx *x, prx_http_head *h, int *http09, int *stale)
{
    request_rec *r = x->r;
    apr_size_t maxline = x->worker->p.response_field_size;
    int maxfields = r->server->limit_req_fields, started = 0;

    if (maxline < 64) {
        maxline = 8192;
    }
    /* LimitRequestFields 0 means unlimited in httpd */
    prx_http_head_init(h, r->pool, maxline,
                       maxfields > 0 ? maxfields : 0x7fffffff,
                       badheader_mode(x->conf));
    for (;;) {
        apr_size_t used;
        prx_hp_status hs;

        if (x->rpos >= x->rlen) {
            apr_size_t n = x->bufsize;
            apr_status_t rv;

            x->rpos = x->rlen = 0;
            rv = prx_conn_read(x->c, x->buf, &n, 1);
            if (rv != APR_SUCCESS) {
                return head_read_failed(x, rv, started, stale);
            }
            x->rlen = n;
            x->got_bytes = 1;
        }
        started = 1;
        hs = prx_http_head_parse(h, x->buf + x->rpos, x->rlen - x->rpos,
                                 &used);
        x->rpos += used;
        if (hs == PRX_HP_NEED_MORE) {
            continue;
        }
        if (hs == PRX_HP_DONE || hs == PRX_HP_HTTP09) {
            *http09 = hs == PRX_HP_HTTP09;
            head_warnings(x, h);
            apr_table_setn(r->notes, "proxy-status",
                           apr_itoa(r->pool, *http09 ? 200 : h->status));
            return OK;
        }
        return head_invalid(x, hs);
    }
}

static int head_says_close(request_rec *r, prx_http_head *h)
{
    const prx_http_field *f = (const prx_http_field *)h->fields->elts;
    int i;

    if (h->major == 1 && h->minor == 0) {
        return 1;
    }
    for (i = 0; i < h->fields->nelts; i++) {
        if (strcasecmp(f[i].name, "Connection") == 0
            && ap_find_token(r->pool, f[i].value, "close")) {
            return 1;
        }
    }
    return 0;
}

/* Send the held-back body (after "100 Continue" or an early final
 * response). @return OK or the status (logged). */
static int send_held_body(http_ctx *x)
{
    apr_status_t wrv;
    int st = http_send(x, 0, 1, &wrv);

    if (st != OK && wrv != APR_SUCCESS) {
        st = http_write_status(x, wrv, "request body");
    }
    return st;
}

/* spec http.md §6.5: relay (or not) one interim response. */
static int relay_interim(http_ctx *x, prx_http_head *h)
{
    request_rec *r = x->r;
    const char *policy = apr_table_get(r->subprocess_env,
                                       "proxy-interim-response");
    int send = 1;

    if (policy && strcasecmp(policy, "RFC") == 0) {
        if (h->status == HTTP_CONTINUE) {
            r->expecting_100 = 1;
        }
    }
    else if (policy) {
        if (strcasecmp(policy, "Suppress") != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00319)
                          "undefined proxy interim response policy '%s'",
                          policy);
        }
        send = 0;
    }
    if (send) {
        prx_frame_kind kind;
        apr_off_t len;
        apr_table_t *saved = r->headers_out;
        const char *saved_line = r->status_line;
        int saved_status = r->status;

        r->headers_out = build_headers(x, h, 1, &kind, &len);
        r->status = h->status;
        r->status_line = h->status_line;
        ap_send_interim_response(r, 1);
        r->headers_out = saved;
        r->status = saved_status;
        r->status_line = saved_line;
    }
    if (++x->interim >= HTTP_MAX_INTERIM) {
        x->c->close = 1;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00320)
                      "%s: too many (%d) interim responses from origin "
                      "server", x->worker->name, x->interim);
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Too many (10) interim responses from origin server");
    }
    if (h->status == HTTP_CONTINUE && x->expect100 && !x->body_sent) {
        restore_timeout(x);
        return send_held_body(x);
    }
    return OK;
}

/* Body relay state for one response. */
typedef struct {
    prx_frame_kind kind;
    apr_off_t remaining;     /* PRX_FRAME_LENGTH */
    prx_chunked ck;          /* PRX_FRAME_CHUNKED */
    prx_hp_status ckerr;
    int done;
    int discard;             /* ProxyErrorOverride: read, drop */
    apr_bucket_brigade *bb;
    apr_bucket_alloc_t *ba;
} body_rd;

static int add_trailer(void *baton, const char *line, apr_size_t len)
{
    request_rec *r = baton;
    prx_http_field f;

    if (prx_http_field_parse(r->pool, line, len, &f) != PRX_HP_DONE) {
        return 1;
    }
    apr_table_addn(r->trailers_out, f.name, f.value);
    return 0;
}

static void emit(body_rd *br, const char *d, apr_size_t len)
{
    if (!br->discard && len) {
        APR_BRIGADE_INSERT_TAIL(br->bb,
                                apr_bucket_transient_create(d, len, br->ba));
    }
}

/*
 * Decode `len` raw backend bytes per the framing, queueing body data as
 * transient buckets over `d` (which must stay valid until passed). Bytes
 * after the end of the body mark the connection not reusable.
 * @return 0, or -1 on a chunked framing error (br->ckerr).
 */
static int feed(http_ctx *x, body_rd *br, const char *d, apr_size_t len)
{
    if (br->kind == PRX_FRAME_LENGTH) {
        apr_size_t take = (apr_off_t)len > br->remaining
                          ? (apr_size_t)br->remaining : len;

        emit(br, d, take);
        br->remaining -= take;
        br->done = br->remaining == 0;
        d += take;
        len -= take;
    }
    else if (br->kind == PRX_FRAME_CHUNKED) {
        while (len > 0 && !br->done) {
            const char *data;
            apr_size_t used = 0, dlen = 0;
            prx_hp_status st = prx_chunked_decode(&br->ck, d, len, &used,
                                                  &data, &dlen);

            d += used;
            len -= used;
            if (st == PRX_HP_DATA) {
                emit(br, data, dlen);
            }
            else if (st == PRX_HP_DONE) {
                br->done = 1;
            }
            else if (st != PRX_HP_NEED_MORE) {
                br->ckerr = st;
                return -1;
            }
        }
    }
    else {
        emit(br, d, len);
        len = 0;
    }
    if (len > 0) {
        x->c->close = 1;
    }
    return 0;
}

/* Hand the connection back; the buckets that still point into its buffer
 * are copied first (the connection may serve another request at once). */
static void release_backend(http_ctx *x, apr_bucket_brigade *bb)
{
    apr_bucket *e;

    if (bb) {
        for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
             e = APR_BUCKET_NEXT(e)) {
            apr_bucket_setaside(e, x->r->pool);
        }
    }
    if (x->c) {
        x->rpos = x->rlen = 0;
        prx_conn_release(x->c);
        x->c = NULL;
    }
}

/*
 * The backend broke mid-body (spec http.md §6.4, SECURITY rule): never
 * make a cut body look complete. Before anything reached the client the
 * answer is a clean 502; after, a 502 error bucket aborts the response
 * (the chunked filter then omits the last chunk and the connection is
 * closed, so the client sees the truncation).
 */
static int body_broken(http_ctx *x, body_rd *br, int passed, apr_status_t rv,
                       const char *why)
{
    request_rec *r = x->r;

    x->c->close = 1;
    if (APR_STATUS_IS_TIMEUP(rv)) {
        apr_table_setn(r->notes, "proxy_timedout", "1");
    }
    ap_log_rerror(APLOG_MARK, br->discard ? APLOG_DEBUG : APLOG_ERR, rv, r,
                  PRXLOGNO(00321) "%s: response body from %s %s",
                  x->worker->name,
                  x->c->hostname ? x->c->hostname : "backend", why);
    if (br->discard) {
        release_backend(x, NULL);
        return OK;
    }
    if (!passed) {
        apr_brigade_cleanup(br->bb);
        release_backend(x, NULL);
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Error reading from remote server");
    }
    r->no_cache = 1;
    if (r->main) {
        r->main->no_cache = 1;
    }
    r->connection->keepalive = AP_CONN_CLOSE;
    release_backend(x, br->bb);
    APR_BRIGADE_INSERT_TAIL(br->bb, ap_bucket_error_create(HTTP_BAD_GATEWAY,
                                                           NULL, r->pool,
                                                           br->ba));
    APR_BRIGADE_INSERT_TAIL(br->bb, apr_bucket_eos_create(br->ba));
    ap_pass_brigade(r->output_filters, br->bb);
    apr_brigade_cleanup(br->bb);
    return OK;
}

/* Pass what is queued; @return 0, or -1 when the client went away. */
static int pass_client(http_ctx *x, body_rd *br, int flush)
{
    request_rec *r = x->r;
    apr_status_t rv;

    if (flush) {
        APR_BRIGADE_INSERT_TAIL(br->bb, apr_bucket_flush_create(br->ba));
    }
    rv = ap_pass_brigade(r->output_filters, br->bb);
    apr_brigade_cleanup(br->bb);
    if (rv != APR_SUCCESS || r->connection->aborted) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, PRXLOGNO(00322)
                      "%s: client went away while the response was "
                      "relayed", x->worker->name);
        x->c->close = 1;
        release_backend(x, NULL);
        return -1;
    }
    return 0;
}

/* The connection's gather buffer (HTTP_RESP_GATHER bytes), or NULL when
 * reads of ProxyIOBufferSize are large enough by themselves. */
static char *gather_buf(http_ctx *x)
{
    http_conn_buf *cb = x->c->scheme_data;

    if (!cb || x->bufsize > HTTP_RESP_GATHER / 2) {
        return NULL;
    }
    if (!cb->gather) {
        cb->gather = apr_palloc(x->c->pool, HTTP_RESP_GATHER);
    }
    return cb->gather;
}

/*
 * Relay (or, with `discard`, drop) the response body: leftover bytes from
 * the head read first, then reads of at most ProxyIOBufferSize, each
 * tried non-blocking first. Reads that find data one after the other fill
 * the gather buffer and go to the client together when it is full; when
 * nothing is there yet, what was read is passed and flushed and the read
 * blocks, so streamed responses flow promptly.
 * @return OK or a status (logged).
 */
static int relay_body(http_ctx *x, prx_http_head *h, prx_frame_kind kind,
                      apr_off_t len, int discard)
{
    request_rec *r = x->r;
    body_rd br;
    int passed = 0, unflushed = 0;
    char *gb = NULL;
    apr_size_t cap = HTTP_RESP_GATHER, used = 0;

    memset(&br, 0, sizeof(br));
    br.kind = kind;
    br.remaining = len;
    br.discard = discard;
    br.ba = r->connection->bucket_alloc;
    br.bb = apr_brigade_create(r->pool, br.ba);
    br.done = kind == PRX_FRAME_LENGTH && len == 0;
    if (kind == PRX_FRAME_CHUNKED) {
        prx_chunked_init(&br.ck, x->worker->p.response_field_size > 64
                                 ? x->worker->p.response_field_size : 8192,
                         x->worker->p.response_field_size > 64
                         ? x->worker->p.response_field_size : 8192);
        br.ck.trailer = add_trailer;
        br.ck.baton = r;
    }
    if (h && h->body_prefix_len && !br.done
        && feed(x, &br, h->body_prefix, h->body_prefix_len) < 0) {
        return body_broken(x, &br, passed, 0, "has invalid chunked framing");
    }
    if (x->rpos < x->rlen && !br.done
        && feed(x, &br, x->buf + x->rpos, x->rlen - x->rpos) < 0) {
        return body_broken(x, &br, passed, 0, "has invalid chunked framing");
    }
    x->rpos = x->rlen = 0;
    if (!br.done && !(gb = gather_buf(x))) {
        /* reads go to x->buf, where the leftover bytes are: pass those
         * first */
        gb = x->buf;
        cap = x->bufsize;
        if (!APR_BRIGADE_EMPTY(br.bb)) {
            if (pass_client(x, &br, 0) < 0) {
                return OK;
            }
            passed = unflushed = 1;
        }
    }
    while (!br.done) {
        apr_size_t n = x->bufsize;
        apr_status_t rv;

        /* the brigade's data lies in gb[0, used) (or elsewhere, passed
         * before gb is written again) */
        if (APR_BRIGADE_EMPTY(br.bb)) {
            used = 0;
        }
        else if (used + n > cap) {
            if (pass_client(x, &br, 0) < 0) {
                return OK;
            }
            passed = unflushed = 1;
            used = 0;
        }
        rv = prx_conn_read(x->c, gb + used, &n, 0);
        if (APR_STATUS_IS_EAGAIN(rv)) {
            if (!APR_BRIGADE_EMPTY(br.bb) || unflushed) {
                passed |= !APR_BRIGADE_EMPTY(br.bb);
                if (pass_client(x, &br, 1) < 0) {
                    return OK;
                }
                unflushed = 0;
                used = 0;
            }
            n = x->bufsize;
            rv = prx_conn_read(x->c, gb + used, &n, 1);
        }
        if (APR_STATUS_IS_EOF(rv) && kind == PRX_FRAME_CLOSE) {
            break;
        }
        if (rv != APR_SUCCESS) {
            return body_broken(x, &br, passed, rv,
                               APR_STATUS_IS_EOF(rv) ? "ended early"
                               : APR_STATUS_IS_TIMEUP(rv) ? "timed out"
                               : "read failed");
        }
        if (feed(x, &br, gb + used, n) < 0) {
            return body_broken(x, &br, passed, 0,
                               "has invalid chunked framing");
        }
        used += n;
    }
    if (kind == PRX_FRAME_CLOSE) {
        x->c->close = 1;
    }
    release_backend(x, br.bb);
    if (!discard) {
        APR_BRIGADE_INSERT_TAIL(br.bb, apr_bucket_eos_create(br.ba));
        ap_pass_brigade(r->output_filters, br.bb);
        apr_brigade_cleanup(br.bb);
    }
    return OK;
}

/* Response headers and status of the final response into `r`. */
static int apply_head(http_ctx *x, prx_http_head *h, int http09,
                      prx_frame_kind *kind, apr_off_t *len)
{
    request_rec *r = x->r;
    const apr_array_header_t *old = apr_table_elts(r->headers_out);
    const apr_table_entry_t *oe = (const apr_table_entry_t *)old->elts;
    apr_table_t *t;
    apr_sockaddr_t *local;
    const char *v;
    int i;

    if (http09) {
        t = apr_table_make(r->pool, 4);
        *kind = PRX_FRAME_CLOSE;
        x->c->close = 1;
    }
    else if (!(t = build_headers(x, h, 0, kind, len))) {
        x->c->close = 1;
        return prx_error(r, HTTP_BAD_GATEWAY,
                         "Invalid response framing from remote server");
    }
    /* spec §6.2: the backend's headers replace what other modules set,
     * except the Set-Cookie values already there */
    for (i = 0; i < old->nelts; i++) {
        if (oe[i].key && strcasecmp(oe[i].key, "Set-Cookie") == 0) {
            apr_table_addn(t, oe[i].key, oe[i].val);
        }
    }
    r->headers_out = t;
    r->status = http09 ? HTTP_OK : h->status;
    r->status_line = http09 ? NULL : h->status_line;
    if ((v = apr_table_get(t, "Content-Type")) != NULL) {
        ap_set_content_type(r, v);
    }
    if (!http09 && h->major == 1 && h->minor == 0) {
        x->c->close = 1;
    }
    if (x->c->sock
        && apr_socket_addr_get(&local, APR_LOCAL, x->c->sock) == APR_SUCCESS) {
        apr_table_setn(r->notes, "proxy-source-port",
                       apr_itoa(r->pool, local->port));
    }
    return OK;
}

static int copy_auth(void *rec, const char *key, const char *val)
{
    apr_table_addn(((request_rec *)rec)->err_headers_out, key, val);
    return 1;
}

/* spec http.md §8: the local error page replaces the backend's. */
static int error_override(http_ctx *x, prx_http_head *h, prx_frame_kind kind,
                          apr_off_t len)
{
    request_rec *r = x->r;
    int status = h->status;

    if (status == HTTP_UNAUTHORIZED) {
        if (apr_table_get(r->headers_out, "WWW-Authenticate")) {
            apr_table_do(copy_auth, r, r->headers_out, "WWW-Authenticate",
                         NULL);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00323)
                          "%s: 401 without WWW-Authenticate",
                          x->worker->name);
        }
    }
    if (r->header_only || status == HTTP_NO_CONTENT
        || status == HTTP_NOT_MODIFIED) {
        release_backend(x, NULL);
    }
    else if (kind == PRX_FRAME_CLOSE) {
        x->c->close = 1;
        release_backend(x, NULL);
    }
    else {
        relay_body(x, NULL, kind, len, 1);
        release_backend(x, NULL);
    }
    apr_table_setn(r->notes, "proxy-error-override", "1");
    r->status = HTTP_OK;
    r->status_line = NULL;
    r->headers_out = apr_table_make(r->pool, 1);
    return status;
}

/* The first value of field `name` as the origin sent it. */
static const char *head_field(const prx_http_head *h, const char *name)
{
    const prx_http_field *f = (const prx_http_field *)h->fields->elts;
    int i;

    for (i = 0; i < h->fields->nelts; i++) {
        if (strcasecmp(f[i].name, name) == 0) {
            return f[i].value;
        }
    }
    return NULL;
}

/*
 * The 101 goes straight onto the client connection, below httpd's
 * HTTP_HEADER filter, which would frame it as a final response (adding
 * "Connection: close" and body framing). Like any interim response it
 * carries no Date or Server of ours: what the origin sent stays.
 */
static apr_status_t send_switching(request_rec *r, prx_http_head *h,
                                   apr_table_t *t)
{
    conn_rec *c = r->connection;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, c->bucket_alloc);
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_status_t rv;
    int i;

    apr_brigade_printf(bb, NULL, NULL, "HTTP/1.1 %s\r\n",
                       *h->reason ? h->status_line
                                  : "101 Switching Protocols");
    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && e[i].val) {
            apr_brigade_printf(bb, NULL, NULL, "%s: %s\r\n", e[i].key,
                               e[i].val);
        }
    }
    apr_brigade_puts(bb, NULL, NULL, "\r\n");
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(c->bucket_alloc));
    rv = ap_pass_brigade(c->output_filters, bb);
    apr_brigade_cleanup(bb);
    return rv != APR_SUCCESS ? rv : c->aborted ? APR_ECONNABORTED
                                               : APR_SUCCESS;
}

/*
 * spec http.md §7.2: the origin switched protocols. Only what was asked
 * for is accepted; the client gets the 101 with the processed headers and
 * Connection/Upgrade, then the held-back body if any, and the two
 * connections become a tunnel (prx_tunnel_*), fed first with the origin
 * bytes read past the 101. Nothing else of HTTP goes out on the request.
 * @return DONE; SUSPENDED when the tunnel was parked (it owns x->c then,
 *         which is NULL on return); or 502 (logged) for an Upgrade that
 *         was not asked for.
 */
static int switch_protocols(http_ctx *x, prx_http_head *h)
{
    request_rec *r = x->r;
    const char *up = head_field(h, "Upgrade");
    apr_table_t *t;
    prx_frame_kind kind;
    prx_tunnel *tun;
    apr_off_t len;
    apr_size_t n;
    char *data;
    apr_status_t rv;
    int st;

    x->c->close = 1;
    if (!x->upgrade || !up || strcasecmp(up, x->upgrade)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00324)
                      "%s: unexpected Upgrade in a 101: %s (expecting %s)",
                      x->worker->name, up ? up : "none",
                      x->upgrade ? x->upgrade : "no upgrade");
        return prx_error(r, HTTP_BAD_GATEWAY,
                         apr_pstrcat(r->pool, "Unexpected Upgrade: ",
                                     up ? up : "none", " (expecting ",
                                     x->upgrade ? x->upgrade : "none", ")",
                                     NULL));
    }
    t = build_headers(x, h, 1, &kind, &len);
    apr_table_setn(t, "Connection", "Upgrade");
    apr_table_setn(t, "Upgrade", up);
    r->headers_out = t;
    r->status = HTTP_SWITCHING_PROTOCOLS;
    r->status_line = h->status_line;
    /* the request is answered from here on, whatever follows */
    ap_remove_output_filter_byhandle(r->output_filters, "HTTP_HEADER");
    r->sent_bodyct = 1;
    if ((rv = send_switching(r, h, t)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, PRXLOGNO(00333)
                      "%s: client went away before the 101 reached it",
                      x->worker->name);
        release_backend(x, NULL);
        return DONE;
    }
    /* past the 101 no "100 Continue" may reach the client: httpd's input
     * filter would send one when the held-back body is read */
    r->expecting_100 = 0;
    if (x->expect100 && !x->body_sent && send_held_body(x) != OK) {
        release_backend(x, NULL);
        return DONE;
    }
    n = (x->rlen - x->rpos) + h->body_prefix_len;
    data = apr_palloc(r->pool, n + 1);
    memcpy(data, h->body_prefix ? h->body_prefix : "", h->body_prefix_len);
    memcpy(data + h->body_prefix_len, x->buf + x->rpos, x->rlen - x->rpos);
    x->rpos = x->rlen = 0;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00334)
                  "%s: switched to %s, tunnelling (%" APR_SIZE_T_FMT
                  " bytes already read)", x->worker->name, up, n);
    prx_tunnel_create(&tun, r, x->c, data, n);
    st = prx_tunnel_run(tun);
    if (st == SUSPENDED) {
        x->c = NULL;
        return SUSPENDED;
    }
    release_backend(x, NULL);
    return DONE;
}

static int final_response(http_ctx *x, prx_http_head *h, int http09)
{
    request_rec *r = x->r;
    prx_frame_kind kind = PRX_FRAME_CLOSE;
    apr_off_t len = 0;
    int st;

    if (!http09 && h->status == HTTP_SWITCHING_PROTOCOLS) {
        return switch_protocols(x, h);
    }
    if (x->expect100 && !x->body_sent) {
        /* spec §5.2 step 5: a final response came before 100 Continue */
        restore_timeout(x);
        if (!http09 && !head_says_close(r, h)) {
            if ((st = send_held_body(x)) != OK) {
                return st;
            }
        }
        else {
            x->c->close = 1;
        }
    }
    if ((st = apply_head(x, h, http09, &kind, &len)) != OK) {
        return st;
    }
    if (!http09 && prx_dir_error_override(x->dconf, h->status)) {
        return error_override(x, h, kind, len);
    }
    if (r->header_only || r->status == HTTP_NO_CONTENT
        || r->status == HTTP_NOT_MODIFIED) {
        apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                    r->connection->bucket_alloc);

        if (x->rpos < x->rlen) {
            x->c->close = 1;
        }
        release_backend(x, NULL);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
        ap_pass_brigade(r->output_filters, bb);
        return OK;
    }
    return relay_body(x, h, kind, len, 0);
}

/*
 * Read the response(s) to the request just sent and relay the final one.
 * Interim responses are relayed per policy; "100 Continue" releases a
 * held-back body. @return XCHG_STALE (nothing was read from a reused
 * connection: retry), else XCHG_OK with x->status = handler result.
 */
http_xchg http_response(http_ctx *x)
{
    prx_http_head h;
    int st, http09 = 0, stale = 0;

    for (;;) {
        st = read_head(x, &h, &http09, &stale);
        if (stale) {
            return XCHG_STALE;
        }
        if (st != OK) {
            x->status = st;
            return XCHG_OK;
        }
        if (http09 || h.status >= 200 || h.status == 101) {
            break;
        }
        if ((st = relay_interim(x, &h)) != OK) {
            x->status = st;
            return XCHG_OK;
        }
    }
    x->status = final_response(x, &h, http09);
    return XCHG_OK;
}
