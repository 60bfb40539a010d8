/*
 * proxy_reverse.c -- the ProxyPassReverse family: mapping URL headers and
 * Set-Cookie path/domain attributes of backend responses back into the
 * client's view (spec http.md §9), and the per-request interpolated copies
 * of those tables (core.md §3.8).
 *
 * Scheme modules call prx_reverse_url() / prx_reverse_cookie() per header;
 * deciding which headers to map is theirs.
 */
#include "proxy_private.h"

#include <apr_lib.h>

static apr_array_header_t *interpolate_table(request_rec *r,
                                             apr_array_header_t *tab)
{
    apr_array_header_t *out;
    int i, any = 0;

    if (!tab) {
        return NULL;
    }
    for (i = 0; i < tab->nelts && !any; i++) {
        any = APR_ARRAY_IDX(tab, i, prx_reverse_rule).interpolate;
    }
    if (!any) {
        return tab;
    }
    out = apr_array_copy(r->pool, tab);
    for (i = 0; i < out->nelts; i++) {
        prx_reverse_rule *rr = &APR_ARRAY_IDX(out, i, prx_reverse_rule);
        if (rr->interpolate) {
            rr->real = route_interpolate(r, rr->real);
            rr->fake = route_interpolate(r, rr->fake);
        }
    }
    return out;
}

void reverse_prepare(request_rec *r, prx_req *pr, prx_dir_conf *d)
{
    if (d->interpolate_env == 1) {
        pr->raliases = interpolate_table(r, d->raliases);
        pr->cookie_paths = interpolate_table(r, d->cookie_paths);
        pr->cookie_domains = interpolate_table(r, d->cookie_domains);
    }
    else {
        pr->raliases = d->raliases;
        pr->cookie_paths = d->cookie_paths;
        pr->cookie_domains = d->cookie_domains;
    }
}

/* Tables effective for `r`: the fixups copy, or the dir config's when the
 * request never went through our fixups (e.g. an ErrorDocument). */
static void effective_tables(request_rec *r, apr_array_header_t **ra,
                             apr_array_header_t **cp,
                             apr_array_header_t **cd)
{
    prx_req *pr = prx_req_get(r);

    if (pr) {
        *ra = pr->raliases;
        *cp = pr->cookie_paths;
        *cd = pr->cookie_domains;
    }
    else {
        prx_dir_conf *d = prx_dir_conf_get(r);
        *ra = d->raliases;
        *cp = d->cookie_paths;
        *cd = d->cookie_domains;
    }
}

/* The path part of a URL header value: from the first '/' after
 * scheme://host, or the whole value when it has no "://". */
static const char *path_part(const char *v)
{
    const char *s = strstr(v, "://");

    if (!s) {
        return v;
    }
    s = ap_strchr_c(s + 3, '/');
    return s ? s : "";
}

/* A rule whose backend side is "balancer://name[/part]" (spec http.md
 * §9.1): each member's URL stands in for it. @return the mapped value,
 * or NULL when no member matches. */
static const char *reverse_balancer(request_rec *r, prx_balancer *b,
                                    const prx_reverse_rule *rr,
                                    const char *v)
{
    const char *part = rr->real + strlen(b->name);
    int i;

    if (*part == '/' && !part[1]) {
        part = "";
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *m = APR_ARRAY_IDX(b->members, i, prx_worker *);
        apr_size_t n = strlen(m->name);
        const char *rest;

        if (*part) {
            if (n && m->name[n - 1] == '/') {
                n--;
            }
            if (strncasecmp(m->name, v, n)
                || strncmp(v + n, part, strlen(part))) {
                continue;
            }
            rest = v + n + strlen(part);
        }
        else {
            if (strncasecmp(m->name, v, n)) {
                continue;
            }
            rest = v + n;
            if (!strcmp(rr->fake, "/") && *rest == '/') {
                /* avoid "//" */
                return ap_construct_url(r->pool, rest, r);
            }
        }
        rest = apr_pstrcat(r->pool, rr->fake, rest, NULL);
        return rest[0] == '/' ? ap_construct_url(r->pool, rest, r) : rest;
    }
    return NULL;
}

PRX_DECLARE(const char *) prx_reverse_url(request_rec *r, const char *v)
{
    apr_array_header_t *ra, *cp, *cd;
    int i;

    if (r->proxyreq != PROXYREQ_REVERSE || !v) {
        return v;
    }
    effective_tables(r, &ra, &cp, &cd);
    if (!ra) {
        return v;
    }
    for (i = 0; i < ra->nelts; i++) {
        prx_reverse_rule *rr = &APR_ARRAY_IDX(ra, i, prx_reverse_rule);
        apr_size_t n = strlen(rr->real);
        const char *subject = rr->real[0] == '/' ? path_part(v) : v;
        const char *mapped;

        if (!strncasecmp(rr->real, "balancer://", 11)) {
            prx_balancer *b = prx_balancer_find(r->server, rr->real);
            const char *m;
            if (b && (m = reverse_balancer(r, b, rr, v)) != NULL) {
                return m;
            }
            if (b) {
                continue;
            }
        }
        if (strncasecmp(rr->real, subject, n)) {
            continue;
        }
        mapped = apr_pstrcat(r->pool, rr->fake, subject + n, NULL);
        if (mapped[0] == '/') {
            /* make it absolute as a self-referential URL */
            mapped = ap_construct_url(r->pool, mapped, r);
        }
        return mapped;
    }
    return v;
}

/* First entry whose real side prefixes `val` (case as the spec says). */
static const char *cookie_map(apr_array_header_t *tab, const char *val,
                              apr_size_t len, int nocase)
{
    int i;

    if (!tab) {
        return NULL;
    }
    for (i = 0; i < tab->nelts; i++) {
        prx_reverse_rule *rr = &APR_ARRAY_IDX(tab, i, prx_reverse_rule);
        apr_size_t n = strlen(rr->real);

        if (n <= len && (nocase ? !strncasecmp(rr->real, val, n)
                                : !strncmp(rr->real, val, n))) {
            return rr->fake;
        }
    }
    return NULL;
}

/* spec http.md §9.3: the value of a path= or domain= attribute is
 * replaced as a whole; every other byte of the cookie is kept. Only the
 * replaced values cost pieces of output, however many attributes the
 * backend sent. */
PRX_DECLARE(const char *) prx_reverse_cookie(request_rec *r, const char *v)
{
    apr_array_header_t *ra, *paths, *domains, *out = NULL;
    const char *s, *seg_start, *copied;
    struct iovec *iov;

    if (r->proxyreq != PROXYREQ_REVERSE || !v) {
        return v;
    }
    effective_tables(r, &ra, &paths, &domains);
    if (!paths && !domains) {
        return v;
    }
    seg_start = copied = v;
    for (s = v;; s++) {
        if (*s == ';' || *s == '\0') {
            const char *a = seg_start, *val = NULL, *repl = NULL;

            while (a < s && apr_isspace(*a)) {
                a++;
            }
            if (s - a >= 5 && !strncasecmp(a, "path=", 5)) {
                val = a + 5;
                repl = cookie_map(paths, val, (apr_size_t)(s - val), 0);
            }
            else if (s - a >= 7 && !strncasecmp(a, "domain=", 7)) {
                val = a + 7;
                repl = cookie_map(domains, val, (apr_size_t)(s - val), 1);
            }
            if (repl) {
                if (!out) {
                    out = apr_array_make(r->pool, 5, sizeof(struct iovec));
                }
                iov = apr_array_push(out);
                iov->iov_base = (void *)copied;
                iov->iov_len = (apr_size_t)(val - copied);
                iov = apr_array_push(out);
                iov->iov_base = (void *)repl;
                iov->iov_len = strlen(repl);
                copied = s;
            }
            if (*s == '\0') {
                break;
            }
            seg_start = s + 1;
        }
    }
    if (!out) {
        return v;
    }
    iov = apr_array_push(out);
    iov->iov_base = (void *)copied;
    iov->iov_len = strlen(copied);
    return apr_pstrcatv(r->pool, (struct iovec *)out->elts, out->nelts, NULL);
}
