/*
 * proxy_route.c -- from request path to backend URL: ProxyPass and
 * ProxyPassMatch evaluation in the pre-translate and translate phases,
 * interpolation, mapping=encoded|servlet, map_to_storage for proxied
 * requests, and the fixups that canonicalise the backend URL (spec core.md
 * §1, §7, §9, §11).
 *
 * What happens to the request after routing is mod_proxy.c's handler.
 */
#include "proxy_private.h"

#include <apr_lib.h>

/* Outcomes of trying one rule. */
enum { RULE_NO_MATCH = 0, RULE_MATCH, RULE_EXCLUDED };

/* Request note: a "!" rule matched in pre_translate. */
#define NOTE_EXCLUDED "proxy-pass-excluded"

/* -- interpolation ------------------------------------------------------------ */

/* spec core.md §3.8: ${NAME} from the request environment; unset = "";
 * "${" without "}" stays as is; no nesting. */
const char *route_interpolate(request_rec *r, const char *s)
{
    const char *open = strstr(s, "${");
    struct iovec v[32];
    int n = 0;

    if (!open) {
        return s;
    }
    while (open && n < 29) {
        const char *close = ap_strchr_c(open + 2, '}');
        const char *val;

        if (!close) {
            break;
        }
        v[n].iov_base = (void *)s;
        v[n++].iov_len = (apr_size_t)(open - s);
        val = apr_table_get(r->subprocess_env,
                            apr_pstrmemdup(r->pool, open + 2,
                                           (apr_size_t)(close - open - 2)));
        v[n].iov_base = (void *)(val ? val : "");
        v[n++].iov_len = val ? strlen(val) : 0;
        s = close + 1;
        open = strstr(s, "${");
    }
    if (open && n >= 29 && ap_strchr_c(open + 2, '}')) {
        /* more variables than pieces: the rest gets its own pass (an
         * unclosed "${" ended the loop otherwise and stays as is) */
        s = route_interpolate(r, s);
    }
    v[n].iov_base = (void *)s;
    v[n++].iov_len = strlen(s);
    return apr_pstrcatv(r->pool, v, n, NULL);
}

/* -- prefix matching ------------------------------------------------------------ */

/* spec core.md §7.2: a run of '/' in the rule matches a run of '/' in the
 * URI; a rule path not ending in '/' must end at a segment boundary. In
 * the raw request-target (`raw`, for nocanon) the query starts at '?' and
 * ends a segment too; in a decoded path '?' came from %3F and is data.
 * @return the length of `uri` consumed, or -1 when there is no match. */
static apr_ssize_t prefix_match(const char *uri, const char *rule, int raw)
{
    const char *u = uri, *a = rule;
    apr_size_t rlen = strlen(rule);

    if (!rlen) {
        return -1;
    }
    while (*a) {
        if (*a == '/') {
            if (*u != '/') {
                return -1;
            }
            while (*a == '/') {
                a++;
            }
            while (*u == '/') {
                u++;
            }
        }
        else if (*u++ != *a++) {
            return -1;
        }
    }
    if (rule[rlen - 1] != '/' && *u && *u != '/' && !(raw && *u == '?')) {
        return -1;
    }
    return u - uri;
}

/* -- servlet normalisation (mapping=servlet) ------------------------------------ */

/* Normalise `uri` the way servlet containers do: drop ";params" of every
 * segment, collapse '/' (empty segments such as "/;x/" go too), drop ".",
 * resolve "..". For every output offset a prefix match can end at, `map`
 * gives the offset in `uri` the remainder starts at: past a segment name
 * (its ";params" stay in the remainder), or at the start of a segment name
 * (a rule ending in '/'). E.g. "/a;p/b" -> "/a/b", map[2] = 2 (the "/a"
 * match leaves ";p/b"), map[3] = 5 (the "/a/" match leaves "b").
 * @return the normalised path, or NULL when ".." climbs above the root. */
static char *servlet_normalise(apr_pool_t *p, const char *uri,
                               apr_size_t **map_out)
{
    apr_size_t len = strlen(uri), o = 0, i = 0;
    char *out = apr_palloc(p, len + 2);
    apr_size_t *map = apr_palloc(p, sizeof(apr_size_t) * (len + 2));

    while (i < len) {
        apr_size_t seg, nlen, seg_start;

        while (i < len && uri[i] == '/') {
            i++;
        }
        if (i >= len) {
            break;
        }
        seg_start = i;
        while (i < len && uri[i] != '/') {
            i++;
        }
        seg = i;
        nlen = strcspn(uri + seg_start, ";/");
        if (nlen > seg - seg_start) {
            nlen = seg - seg_start;
        }
        if (nlen == 0 || (nlen == 1 && uri[seg_start] == '.')) {
            continue;
        }
        if (nlen == 2 && uri[seg_start] == '.' && uri[seg_start + 1] == '.') {
            if (o == 0) {
                return NULL;
            }
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            if (o > 0) {
                o--;
            }
            continue;
        }
        out[o++] = '/';
        map[o] = seg_start;
        memcpy(out + o, uri + seg_start, nlen);
        o += nlen;
        map[o] = seg_start + nlen;
    }
    if (o == 0 || (len && uri[len - 1] == '/')) {
        out[o++] = '/';
        map[o] = len;
    }
    out[o] = '\0';
    map[0] = 0;
    *map_out = map;
    return out;
}

/* -- one rule ---------------------------------------------------------------------- */

static void claim(request_rec *r, prx_alias *a, const char *url, int nocanon)
{
    prx_req *pr = route_req_make(r);

    r->filename = apr_pstrcat(r->pool, PRX_FILENAME_PREFIX, url, NULL);
    r->handler = PRX_HANDLER_NAME;
    r->proxyreq = PROXYREQ_REVERSE;
    pr->alias = a;
    if (nocanon) {
        apr_table_setn(r->notes, PRX_NOTE_NOCANON, "1");
    }
    if (a->noquery) {
        apr_table_setn(r->notes, PRX_NOTE_NOQUERY, "1");
    }
    if (a->mapping) {
        apr_table_setn(r->notes, PRX_NOTE_NOENCODE, "1");
    }
}

static int try_regex(request_rec *r, prx_alias *a, const char *real)
{
    ap_regmatch_t m[AP_MAX_REG_MATCH];
    const char *subject = r->uri;
    int nocanon = a->nocanon;
    char *url;

    if (ap_regexec(a->regex, r->uri, AP_MAX_REG_MATCH, m, 0)) {
        return RULE_NO_MATCH;
    }
    if (!strcmp(real, "!")) {
        return RULE_EXCLUDED;
    }
    if (nocanon) {
        /* spec core.md §7.3: the raw target must match as well */
        if (!ap_regexec(a->regex, r->unparsed_uri, AP_MAX_REG_MATCH, m, 0)) {
            subject = r->unparsed_uri;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00040)
                          "unescaped URL path matched ProxyPassMatch %s; "
                          "ignoring unsafe nocanon", a->fake);
            nocanon = 0;
            ap_regexec(a->regex, r->uri, AP_MAX_REG_MATCH, m, 0);
        }
    }
    if (ap_pregsub_ex(r->pool, &url, real, subject, AP_MAX_REG_MATCH, m,
                      PRX_PREGSUB_MAX) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00041)
                      "ProxyPassMatch %s: substituted URL longer than %d "
                      "bytes", a->fake, PRX_PREGSUB_MAX);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!strcmp(url, real)) {
        /* no $n in the target: the whole path is appended */
        url = apr_pstrcat(r->pool, real, subject, NULL);
    }
    claim(r, a, url, nocanon);
    return RULE_MATCH;
}

static int try_prefix(request_rec *r, prx_alias *a, const char *fake,
                      const char *real)
{
    const char *uri = r->uri, *rest;
    apr_ssize_t n;
    int nocanon = a->nocanon;

    if (a->mapping == PRX_MAPPING_SERVLET) {
        apr_size_t *map;
        char *norm = servlet_normalise(r->pool, r->uri, &map);

        if (!norm || (n = prefix_match(norm, fake, 0)) < 0) {
            return RULE_NO_MATCH;
        }
        if (!strcmp(real, "!")) {
            return RULE_EXCLUDED;
        }
        rest = r->uri + map[n];
        r->uri = norm;
        claim(r, a, apr_pstrcat(r->pool, real, rest, NULL), 0);
        return RULE_MATCH;
    }
    if ((n = prefix_match(uri, fake, 0)) < 0) {
        return RULE_NO_MATCH;
    }
    if (!strcmp(real, "!")) {
        return RULE_EXCLUDED;
    }
    rest = uri + n;
    if (nocanon) {
        /* spec core.md §7.4: take the remainder from the raw target at the
         * same offset, if the raw form matches with the same length */
        apr_ssize_t rn = prefix_match(r->unparsed_uri, fake, 1);
        if (rn == n) {
            rest = r->unparsed_uri + rn;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00042)
                          "unescaped URL path matched ProxyPass %s; "
                          "ignoring unsafe nocanon", fake);
            nocanon = 0;
        }
    }
    claim(r, a, apr_pstrcat(r->pool, real, rest, NULL), nocanon);
    return RULE_MATCH;
}

static int try_rule(request_rec *r, prx_alias *a, prx_dir_conf *d)
{
    const char *fake = a->fake, *real = a->real;
    int vetoed;

    if (a->interpolate && d->interpolate_env == 1) {
        fake = route_interpolate(r, fake);
        real = route_interpolate(r, real);
    }
    if (strcmp(real, "!")) {
        /* spec core.md §7.1 step 5: a scheme module may veto the rule */
        vetoed = prx_run_check_trans(r, real) != DECLINED;
        if (vetoed) {
            return RULE_NO_MATCH;
        }
    }
    return a->regex ? try_regex(r, a, real) : try_prefix(r, a, fake, real);
}

/* Evaluate the rules of one phase: the <Location> rule first, then the
 * server's list (spec core.md §7.1). */
static int evaluate(request_rec *r, int encoded_phase)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);
    prx_dir_conf *d = prx_dir_conf_get(r);
    int i, rv;

    if (r->uri[0] != '/' || apr_table_get(r->subprocess_env, "no-proxy")) {
        return RULE_NO_MATCH;
    }
    if (d->alias && !d->alias->mapping == !encoded_phase) {
        rv = try_rule(r, d->alias, d);
        if (rv != RULE_NO_MATCH) {
            return rv;
        }
    }
    for (i = 0; i < sc->aliases->nelts; i++) {
        prx_alias *a = &APR_ARRAY_IDX(sc->aliases, i, prx_alias);

        if (!a->mapping != !encoded_phase) {
            continue;
        }
        rv = try_rule(r, a, d);
        if (rv != RULE_NO_MATCH) {
            return rv;
        }
    }
    return RULE_NO_MATCH;
}

static int is_claimed(request_rec *r)
{
    return r->proxyreq && r->filename
           && !strncmp(r->filename, PRX_FILENAME_PREFIX,
                       PRX_FILENAME_PREFIX_LEN);
}

/* -- hooks ---------------------------------------------------------------------------- */

int route_pre_translate(request_rec *r)
{
    int rv;

    if (is_claimed(r)) {
        /* keep the URI encoded (spec core.md §1 step 2) */
        return DONE;
    }
    rv = evaluate(r, 1);
    if (rv == RULE_MATCH) {
        return DONE;
    }
    if (rv == RULE_EXCLUDED) {
        /* spec core.md §7.1: a "!" ends the search, also across phases:
         * "ProxyPass /p%3Bx ! mapping=encoded" must not be undone by an
         * ordinary rule for /p/ in translate */
        apr_table_setn(r->notes, NOTE_EXCLUDED, "1");
        return DECLINED;
    }
    return rv == RULE_NO_MATCH ? DECLINED : rv;
}

int route_translate(request_rec *r)
{
    int rv;

    if (is_claimed(r)) {
        /* RewriteRule [P], or matched in pre_translate */
        if (!r->handler) {
            r->handler = PRX_HANDLER_NAME;
        }
        route_req_make(r);
        return OK;
    }
    if (apr_table_get(r->notes, NOTE_EXCLUDED)) {
        return DECLINED;
    }
    rv = evaluate(r, 0);
    if (rv == RULE_MATCH) {
        return OK;
    }
    return rv == RULE_EXCLUDED || rv == RULE_NO_MATCH ? DECLINED : rv;
}

int route_map_to_storage(request_rec *r)
{
    if (!is_claimed(r)) {
        return DECLINED;
    }
    /* a backend URL is no file: no <Directory>/<Files> walk, but the
     * <Proxy> sections (the core re-runs <Location> on top) */
    sections_apply(r);
    return OK;
}

/* Split a request-level "unix:/path|scheme://..." (spec core.md §11). */
static int split_unix(request_rec *r, prx_req *pr, char **url)
{
    char *u = *url, *bar, *path;

    if (strncasecmp(u, "unix:", 5)) {
        return OK;
    }
    bar = strchr(u, '|');
    path = u + 5;
    if (!bar || bar == path) {
        return HTTP_BAD_REQUEST;
    }
    *bar = '\0';
    if (!strncmp(path, "//", 2)) {
        if (path[2] != '/') {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00043)
                          "invalid proxy UDS filename (%s)", u);
            return HTTP_BAD_REQUEST;
        }
        path += 2;
    }
    pr->uds_path = path[0] == '/' ? apr_pstrdup(r->pool, path)
                                  : ap_runtime_dir_relative(r->pool, path);
    apr_table_setn(r->notes, PRX_NOTE_UDS, pr->uds_path);
    u = bar + 1;
    {
        char *colon = strchr(u, ':');
        if (!colon) {
            return HTTP_BAD_REQUEST;
        }
        if (strncmp(colon + 1, "//", 2) || colon[3] == '/' || !colon[3]) {
            /* "http:", "http:/p", "http:///p" -> http://localhost/p */
            const char *p = colon + 1;
            while (*p == '/') {
                p++;
            }
            u = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, u,
                                                    (apr_size_t)(colon - u)),
                            "://localhost/", p, NULL);
        }
    }
    *url = u;
    return OK;
}

int route_fixups(request_rec *r)
{
    prx_req *pr;
    char *url;
    int rv;

    if (!is_claimed(r)) {
        return DECLINED;
    }
    pr = route_req_make(r);
    url = apr_pstrdup(r->pool, r->filename + PRX_FILENAME_PREFIX_LEN);
    rv = split_unix(r, pr, &url);
    if (rv != OK) {
        return rv;
    }
    rv = prx_run_canon_handler(r, url);
    if (rv != OK && rv != DECLINED) {
        return rv;
    }
    if (rv == DECLINED) {
        /* nobody knows the scheme: the handler reports it (500) */
        r->filename = apr_pstrcat(r->pool, PRX_FILENAME_PREFIX, url, NULL);
    }
    reverse_prepare(r, pr, prx_dir_conf_get(r));
    return OK;
}
