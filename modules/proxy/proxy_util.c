/*
 * proxy_util.c -- small exported services: configuration getters with
 * the defaults of the spec, the per-request state, and the HTTP-family
 * canonicaliser wrapper that picks the path mode for a request.
 */
#include "proxy_private.h"

#include "proxy_urlcanon.h"

PRX_DECLARE(prx_server_conf *) prx_server_conf_get(server_rec *s)
{
    return ap_get_module_config(s->module_config, &proxy_module);
}

PRX_DECLARE(prx_dir_conf *) prx_dir_conf_get(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &proxy_module);
}

PRX_DECLARE(prx_req *) prx_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &proxy_module);
}

prx_req *route_req_make(request_rec *r)
{
    prx_req *pr = prx_req_get(r);

    if (!pr) {
        pr = apr_pcalloc(r->pool, sizeof(*pr));
        pr->max_forwards = -1;
        ap_set_module_config(r->request_config, &proxy_module, pr);
    }
    return pr;
}

PRX_DECLARE(int) prx_dir_preserve_host(const prx_dir_conf *d)
{
    return d->preserve_host == 1;
}

PRX_DECLARE(int) prx_dir_add_headers(const prx_dir_conf *d)
{
    return d->add_forwarded_headers != 0;
}

PRX_DECLARE(int) prx_dir_100_continue(const prx_dir_conf *d)
{
    return d->proxy_100_continue != 0;
}

PRX_DECLARE(int) prx_dir_error_override(const prx_dir_conf *d, int status)
{
    const apr_array_header_t *codes = d->error_override_codes;
    int i;

    if (d->error_override != 1 || status < 400 || status > 599) {
        return 0;
    }
    if (!codes || !codes->nelts) {
        return 1;
    }
    for (i = 0; i < codes->nelts; i++) {
        if (APR_ARRAY_IDX(codes, i, int) == status) {
            return 1;
        }
    }
    return 0;
}

/* Which path treatment the spec prescribes for `r` (core.md §9). */
static prx_canon_mode canon_mode(request_rec *r)
{
    core_dir_config *cd;

    if (r->proxyreq == PROXYREQ_PROXY) {
        return PRX_CANON_FORWARD;
    }
    if (apr_table_get(r->notes, PRX_NOTE_NOCANON)) {
        return PRX_CANON_RAW;
    }
    if (apr_table_get(r->notes, PRX_NOTE_NOENCODE)) {
        return PRX_CANON_ENCODED;
    }
    cd = ap_get_core_module_config(r->per_dir_config);
    if (cd && cd->allow_encoded_slashes && !cd->decode_encoded_slashes) {
        return PRX_CANON_ENCODE_KEEP_ESCAPES;
    }
    return PRX_CANON_ENCODE;
}

PRX_DECLARE(int) prx_canon_http(request_rec *r, const char *scheme,
                                const char *rest, apr_port_t def_port)
{
    prx_canon_mode mode = canon_mode(r);
    const char *query = NULL;
    char *out;
    int status;

    if (mode != PRX_CANON_RAW && mode != PRX_CANON_FORWARD) {
        query = r->args;
    }
    status = prx_urlcanon_http(r->pool, scheme, rest, def_port, mode, query,
                               &out);
    if (status == HTTP_BAD_REQUEST) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00030)
                      "invalid backend URL %s:%s (bad host, port or "
                      "escape)", scheme, rest);
        return status;
    }
    if (status) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00031)
                      "backend URL %s:%s: the path or query to be forwarded "
                      "contains control characters or spaces", scheme, rest);
        return status;
    }
    r->filename = apr_pstrcat(r->pool, PRX_FILENAME_PREFIX, out, NULL);
    return OK;
}
