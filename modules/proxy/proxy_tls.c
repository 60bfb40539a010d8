/*
 * proxy_tls.c -- TLS to origins through mod_ssl: a backend conn_rec is
 * created for the socket, bound to mod_ssl with ap_ssl_bind_outgoing()
 * (SSLProxy* directives of the worker's <Proxy> section or of the server
 * govern it), given the SNI / expected peer name, and then read and written
 * through its filter chain.
 *
 * Plain connections never come here: proxy_connpool.c reads and writes
 * their sockets directly.
 */
#include "proxy_private.h"

#include <http_connection.h>
#include <http_ssl.h>

PRX_DECLARE(int) prx_conn_tls_available(prx_worker *w, request_rec *r)
{
    return ap_ssl_has_outgoing_handlers();
}

int tls_scheme(const char *scheme)
{
    return !strcasecmp(scheme, "https") || !strcasecmp(scheme, "wss");
}

/* spec http.md §2.4: the name we expect the origin to present. */
const char *tls_server_name(request_rec *r, const char *host)
{
    const char *h;

    if (prx_dir_preserve_host(prx_dir_conf_get(r))
        && (h = apr_table_get(r->headers_in, "Host")) != NULL) {
        const char *end;

        if (h[0] == '[') {
            end = ap_strchr_c(h, ']');
            return end ? apr_pstrmemdup(r->pool, h + 1,
                                        (apr_size_t)(end - h - 1)) : h;
        }
        end = ap_strchr_c(h, ':');
        return end ? apr_pstrmemdup(r->pool, h, (apr_size_t)(end - h)) : h;
    }
    return host;
}

apr_status_t tls_setup(prx_conn *c, request_rec *r, const char *sni)
{
    prx_worker *w = c->worker;
    conn_rec *bc;
    int rv;

    /* no scoreboard handle: the connection outlives this request in the
     * pool, and a later request using it runs on another thread (the
     * core's create_connection then leaves the scoreboard alone) */
    bc = ap_run_create_connection(c->pool, r->server, c->sock,
                                  r->connection->id, NULL, c->bucket_alloc);
    if (!bc) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00070)
                      "%s: cannot create a connection record for TLS",
                      w->name);
        return APR_EGENERAL;
    }
    apr_table_setn(bc->notes, "proxy-request-hostname",
                   apr_pstrdup(c->pool, sni));
    if (ap_ssl_bind_outgoing(bc, w->section_config, 1) != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00071)
                      "%s: TLS to the origin is not available: load mod_ssl "
                      "and set SSLProxyEngine On where this worker is used",
                      w->name);
        return APR_ENOTIMPL;
    }
    rv = ap_run_pre_connection(bc, c->sock);
    if (rv != OK && rv != DONE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00072)
                      "%s: setting up the TLS connection failed (%d)",
                      w->name, rv);
        return APR_EGENERAL;
    }
    /* request timeouts of the client side make no sense here */
    ap_remove_input_filter_byhandle(bc->input_filters, "reqtimeout");
    c->connection = bc;
    c->sni = apr_pstrdup(c->pool, sni);
    c->tls_bb = apr_brigade_create(c->pool, c->bucket_alloc);
    return APR_SUCCESS;
}

PRX_DECLARE(apr_status_t) prx_conn_tls_start(prx_conn *c, request_rec *r,
                                             const char *host)
{
    if (!c->sock || c->connection) {
        return APR_EINVAL;
    }
    return tls_setup(c, r, tls_server_name(r, host));
}

apr_status_t tls_read(prx_conn *c, char *buf, apr_size_t *len, int block)
{
    apr_bucket_brigade *bb = c->tls_bb;
    apr_size_t want = *len;
    apr_status_t rv;

    rv = ap_get_brigade(c->connection->input_filters, bb, AP_MODE_READBYTES,
                        block ? APR_BLOCK_READ : APR_NONBLOCK_READ,
                        (apr_off_t)want);
    *len = 0;
    if (rv != APR_SUCCESS) {
        apr_brigade_cleanup(bb);
        return rv;
    }
    if (APR_BRIGADE_EMPTY(bb)) {
        return block ? APR_EOF : APR_EAGAIN;
    }
    *len = want;
    rv = apr_brigade_flatten(bb, buf, len);
    if (rv == APR_SUCCESS && *len == 0
        && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb))) {
        rv = APR_EOF;
    }
    apr_brigade_cleanup(bb);
    return rv;
}

apr_status_t tls_write(prx_conn *c, struct iovec *vec, int nvec)
{
    apr_bucket_brigade *bb = c->tls_bb;
    apr_bucket_alloc_t *ba = c->bucket_alloc;
    apr_status_t rv;
    int i;

    for (i = 0; i < nvec; i++) {
        if (vec[i].iov_len) {
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(
                                            vec[i].iov_base, vec[i].iov_len,
                                            ba));
        }
    }
    /* the flush makes every filter write before we return, so the
     * transient buckets are never kept */
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(ba));
    rv = ap_pass_brigade(c->connection->output_filters, bb);
    apr_brigade_cleanup(bb);
    if (rv == APR_SUCCESS && c->connection->aborted) {
        rv = APR_ECONNABORTED;
    }
    return rv;
}
