/*
 * proxy_forward.c -- forward proxying and the routing rules around it
 * (spec connect-wstunnel-express.md §1, core.md §3.9-§3.13): claiming
 * absolute-URI and CONNECT requests, ProxyRemote / ProxyRemoteMatch
 * upstream proxies, NoProxy, ProxyBlock and ProxyDomain.
 *
 * The handler's attempt loop (remote proxies, then direct) is mod_proxy.c's;
 * this file answers "which upstreams", "is it direct", "is it blocked".
 */
#include "proxy_private.h"

#include <apr_lib.h>
#include <apr_base64.h>
#include <http_vhost.h>

/* One ProxyRemote / ProxyRemoteMatch entry. */
typedef struct {
    const char *match;        /* "*", a scheme, or a URL prefix */
    ap_regex_t *regex;        /* ProxyRemoteMatch */
    const char *scheme;       /* of the upstream proxy URL */
    const char *host;
    apr_port_t port;
    const char *creds;        /* "Basic <base64>", or NULL */
} remote_entry;

/* One NoProxy entry, classified once at startup (core.md §3.11). */
typedef enum { NP_IP, NP_DOMAIN, NP_HOST, NP_WORD } np_kind;

typedef struct {
    np_kind kind;
    const char *name;         /* lower-case, trailing dots removed */
    apr_uint32_t addr, mask;  /* host order, for NP_IP */
} noproxy_entry;

/* One ProxyBlock entry. */
typedef struct {
    const char *word;
    apr_sockaddr_t *addrs;    /* resolved at startup, may be NULL */
} block_entry;

void forward_init_conf(apr_pool_t *p, prx_server_conf *sc)
{
    sc->remotes = apr_array_make(p, 1, sizeof(remote_entry));
    sc->noproxies = apr_array_make(p, 1, sizeof(noproxy_entry));
    sc->blocks = apr_array_make(p, 1, sizeof(block_entry));
}

static prx_server_conf *cmd_sconf(cmd_parms *cmd)
{
    return prx_server_conf_get(cmd->server);
}

/* -- ProxyRequests ---------------------------------------------------------- */

const char *forward_set_requests(cmd_parms *cmd, void *dconf, int flag)
{
    prx_server_conf *sc = cmd_sconf(cmd);

    sc->req = flag;
    sc->req_set = 1;
    return NULL;
}

/* spec §1.1: an absolute URI that names this very server is no proxy
 * request. */
static int names_this_server(request_rec *r)
{
    const apr_uri_t *u = &r->parsed_uri;
    apr_port_t port;

    if (!u->hostname || strcasecmp(u->scheme, ap_http_scheme(r))) {
        return 0;
    }
    port = u->port_str ? u->port : apr_uri_port_of_scheme(u->scheme);
    return ap_matches_request_vhost(r, u->hostname, port);
}

int forward_post_read_request(request_rec *r)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);

    if (!sc->req || r->proxyreq) {
        return DECLINED;
    }
    if (r->method_number == M_CONNECT) {
        if (!r->parsed_uri.hostname || !r->parsed_uri.port_str) {
            return DECLINED;
        }
    }
    else if (!r->parsed_uri.scheme || names_this_server(r)) {
        return DECLINED;
    }
    r->proxyreq = PROXYREQ_PROXY;
    r->uri = r->unparsed_uri;
    r->filename = apr_pstrcat(r->pool, PRX_FILENAME_PREFIX, r->uri, NULL);
    r->handler = PRX_HANDLER_NAME;
    return DECLINED;
}

/* Startup: a forward proxy without any <Proxy> section is open to anyone
 * who can reach it. We cannot judge the sections' contents, but we can
 * say when there are none. */
void forward_warn_open(server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        prx_server_conf *sc = prx_server_conf_get(vs);
        if (sc->req && !sc->sections->nelts) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, vs, PRXLOGNO(00080)
                         "ProxyRequests On for %s:%u without any <Proxy> "
                         "section: this is an open forward proxy; restrict "
                         "it, e.g. <Proxy \"*\"> Require ip ... </Proxy>",
                         vs->server_hostname ? vs->server_hostname : "?",
                         vs->port);
        }
    }
}

/* -- ProxyRemote / ProxyRemoteMatch ----------------------------------------- */

static const char *add_remote(cmd_parms *cmd, const char *match,
                              const char *url, const char *creds,
                              int is_regex)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    remote_entry *e;
    const char *p, *hb, *he;
    char *host;

    e = apr_pcalloc(cmd->pool, sizeof(*e));
    p = ap_strstr_c(url, "://");
    if (!p || p == url) {
        return apr_psprintf(cmd->pool, "%s: '%s': bad syntax for a remote "
                            "proxy server (scheme://host[:port])",
                            cmd->cmd->name, url);
    }
    e->scheme = apr_pstrmemdup(cmd->pool, url, (apr_size_t)(p - url));
    ap_str_tolower((char *)e->scheme);
    hb = p + 3;
    he = hb + strcspn(hb, ":/");
    if (he == hb) {
        return apr_psprintf(cmd->pool, "%s: '%s': bad syntax for a remote "
                            "proxy server (no host)", cmd->cmd->name, url);
    }
    host = apr_pstrmemdup(cmd->pool, hb, (apr_size_t)(he - hb));
    ap_str_tolower(host);
    e->host = host;
    e->port = apr_uri_port_of_scheme(e->scheme);
    if (*he == ':') {
        char *end;
        long v = strtol(he + 1, &end, 10);
        if (end == he + 1 || (*end && *end != '/') || v < 1 || v > 65535) {
            return apr_psprintf(cmd->pool, "%s: '%s': bad port number",
                                cmd->cmd->name, url);
        }
        e->port = (apr_port_t)v;
    }
    if (creds) {
        if (!ap_strchr_c(creds, ':')) {
            /* stock sends them as they are: a config written for it must
             * still start */
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                         PRXLOGNO(00096) "%s %s %s: the credentials have no "
                         "':' (user:password); they are sent as given",
                         cmd->cmd->name, match, url);
        }
        e->creds = apr_pstrcat(cmd->pool, "Basic ",
                               ap_pbase64encode(cmd->pool, (char *)creds),
                               NULL);
    }
    if (is_regex) {
        e->regex = ap_pregcomp(cmd->pool, match, AP_REG_EXTENDED);
        if (!e->regex) {
            return apr_psprintf(cmd->pool, "%s: regular expression '%s' "
                                "could not be compiled", cmd->cmd->name,
                                match);
        }
    }
    else if (!ap_strchr_c(match, ':') && strcmp(match, "*")) {
        /* a bare scheme */
        char *m = apr_pstrdup(cmd->pool, match);
        ap_str_tolower(m);
        match = m;
    }
    e->match = match;
    *(remote_entry *)apr_array_push(sc->remotes) = *e;
    return NULL;
}

const char *forward_set_remote(cmd_parms *cmd, void *dconf, const char *a1,
                               const char *a2, const char *a3)
{
    return add_remote(cmd, a1, a2, a3, cmd->info != NULL);
}

static int remote_matches(const remote_entry *e, const char *url,
                          const char *scheme)
{
    if (e->regex) {
        return !ap_regexec(e->regex, url, 0, NULL, 0);
    }
    if (!strcmp(e->match, "*")) {
        return 1;
    }
    if (ap_strchr_c(e->match, ':')) {
        return !strncasecmp(url, e->match, strlen(e->match));
    }
    return !strcasecmp(e->match, scheme);
}

/* The i-th entry matching `url`, from `*from` on; NULL when none is left.
 * Sets the request's `proxy-basic-creds` note for it. */
const char *forward_next_remote(request_rec *r, const char *url,
                                const char *scheme, int *from,
                                apr_port_t *port)
{
    apr_array_header_t *rem = prx_server_conf_get(r->server)->remotes;

    for (; *from < rem->nelts; (*from)++) {
        remote_entry *e = &APR_ARRAY_IDX(rem, *from, remote_entry);

        if (!remote_matches(e, url, scheme)) {
            continue;
        }
        (*from)++;
        if (e->creds) {
            apr_table_setn(r->notes, "proxy-basic-creds", e->creds);
        }
        else {
            apr_table_unset(r->notes, "proxy-basic-creds");
        }
        *port = e->port;
        return e->host;
    }
    apr_table_unset(r->notes, "proxy-basic-creds");
    return NULL;
}

/* -- NoProxy ------------------------------------------------------------------ */

static char *trim_dots(apr_pool_t *p, const char *s)
{
    char *t = apr_pstrdup(p, s);
    apr_size_t n = strlen(t);

    while (n > 0 && t[n - 1] == '.') {
        t[--n] = '\0';
    }
    ap_str_tolower(t);
    return t;
}

static int is_name_chars(const char *s)
{
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '.') {
            return 0;
        }
    }
    return 1;
}

/* 1-4 dotted octets, C-style numbers, optionally "/bits". */
static int parse_ip_entry(cmd_parms *cmd, const char *arg,
                          noproxy_entry *e)
{
    apr_uint32_t addr = 0;
    int octets = 0, bits = -1;
    const char *s = arg;

    while (octets < 4) {
        char *end;
        unsigned long v;

        if (!apr_isdigit(*s)) {
            return 0;
        }
        v = strtoul(s, &end, 0);
        if (v > 255) {
            return 0;
        }
        addr |= (apr_uint32_t)v << (24 - 8 * octets);
        octets++;
        s = end;
        if (*s != '.') {
            break;
        }
        s++;
    }
    if (*s == '/') {
        char *end;
        long b = strtol(s + 1, &end, 10);
        if (end == s + 1 || *end || b < 0 || b > 32) {
            return 0;
        }
        bits = (int)b;
    }
    else if (*s) {
        return 0;
    }
    if (bits < 0) {
        /* trailing zero octets are dropped: 192.168 = 192.168.0.0/16 */
        int n = octets;
        while (n > 0 && !((addr >> (24 - 8 * (n - 1))) & 0xff)) {
            n--;
        }
        if (n == 0) {
            return 0;   /* all zero without mask: not an IP entry */
        }
        bits = 8 * n;
        if (bits != 32) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                         PRXLOGNO(00081) "NoProxy %s: no mask given; using "
                         "/%d", arg, bits);
        }
    }
    e->mask = bits ? 0xffffffffu << (32 - bits) : 0;
    if (addr & ~e->mask) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     PRXLOGNO(00082) "NoProxy %s: address bits outside the "
                     "/%d mask ignored", arg, bits);
    }
    e->addr = addr & e->mask;
    e->kind = NP_IP;
    return 1;
}

const char *forward_set_noproxy(cmd_parms *cmd, void *dconf,
                                const char *arg)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    noproxy_entry e;
    int i;

    for (i = 0; i < sc->noproxies->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(sc->noproxies, i,
                                      noproxy_entry).name, arg)) {
            return NULL;  /* duplicates are dropped */
        }
    }
    memset(&e, 0, sizeof(e));
    e.name = apr_pstrdup(cmd->pool, arg);
    if (parse_ip_entry(cmd, arg, &e)) {
        /* classified as IP / subnet */
    }
    else if (arg[0] == '.' && is_name_chars(arg)) {
        e.kind = NP_DOMAIN;
        e.name = trim_dots(cmd->pool, arg);
    }
    else if (is_name_chars(arg)) {
        apr_sockaddr_t *sa;
        e.kind = apr_sockaddr_info_get(&sa, arg, APR_UNSPEC, 0, 0,
                                       cmd->temp_pool) == APR_SUCCESS
                 ? NP_HOST : NP_WORD;
        e.name = e.kind == NP_HOST ? trim_dots(cmd->pool, arg) : e.name;
    }
    else {
        e.kind = NP_WORD;
    }
    *(noproxy_entry *)apr_array_push(sc->noproxies) = e;
    return NULL;
}

static int parse_dotted_quad(const char *h, apr_uint32_t *out)
{
    unsigned a, b, c, d;
    char tail;

    if (sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4
        || a > 255 || b > 255 || c > 255 || d > 255) {
        return 0;
    }
    *out = (a << 24) | (b << 16) | (c << 8) | d;
    return 1;
}

static int ip_entry_matches(request_rec *r, const noproxy_entry *e,
                            const char *host)
{
    apr_uint32_t a;
    apr_sockaddr_t *sa;

    if (parse_dotted_quad(host, &a)) {
        return (a & e->mask) == e->addr;
    }
    if (apr_sockaddr_info_get(&sa, host, APR_INET, 0, 0, r->pool)
        != APR_SUCCESS) {
        return 0;
    }
    for (; sa; sa = sa->next) {
        if (sa->family == APR_INET
            && (ntohl(sa->sa.sin.sin_addr.s_addr) & e->mask) == e->addr) {
            return 1;
        }
    }
    return 0;
}

/* @return non-zero when `host` is to be reached directly (NoProxy). */
int forward_is_direct(request_rec *r, const char *host)
{
    apr_array_header_t *np = prx_server_conf_get(r->server)->noproxies;
    const char *h;
    int i;

    if (!np->nelts || !host) {
        return 0;
    }
    h = trim_dots(r->pool, host);
    for (i = 0; i < np->nelts; i++) {
        const noproxy_entry *e = &APR_ARRAY_IDX(np, i, noproxy_entry);
        apr_size_t hl = strlen(h), dl = strlen(e->name);

        switch (e->kind) {
        case NP_IP:
            if (ip_entry_matches(r, e, h)) {
                return 1;
            }
            break;
        case NP_DOMAIN:
            if (hl > dl && !strcmp(h + hl - dl, e->name)) {
                return 1;
            }
            break;
        case NP_HOST:
            if (!strcmp(h, e->name)) {
                return 1;
            }
            break;
        case NP_WORD:
            if (ap_strstr_c(host, e->name)) {
                return 1;
            }
            break;
        }
    }
    return 0;
}

/* -- ProxyBlock --------------------------------------------------------------- */

const char *forward_set_block(cmd_parms *cmd, void *dconf, const char *arg)
{
    prx_server_conf *sc = cmd_sconf(cmd);
    block_entry *e;
    int i;

    for (i = 0; i < sc->blocks->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(sc->blocks, i, block_entry).word,
                        arg)) {
            return NULL;
        }
    }
    e = apr_array_push(sc->blocks);
    e->word = apr_pstrdup(cmd->pool, arg);
    e->addrs = NULL;
    if (strcmp(arg, "*")
        && apr_sockaddr_info_get(&e->addrs, arg, APR_UNSPEC, 0, 0,
                                 cmd->pool) != APR_SUCCESS) {
        e->addrs = NULL;  /* failures are ignored (spec core.md §3.12) */
    }
    return NULL;
}

/* Name check, made before connecting anywhere. */
int forward_blocked_name(request_rec *r, const char *host)
{
    apr_array_header_t *bl = prx_server_conf_get(r->server)->blocks;
    int i;

    for (i = 0; i < bl->nelts && host; i++) {
        const block_entry *e = &APR_ARRAY_IDX(bl, i, block_entry);
        if (e->word[0] == '*' || ap_strstr_c(host, e->word)) {
            return 1;
        }
    }
    return 0;
}

/* Address check, when connecting directly to the target. */
PRX_DECLARE(int) prx_blocked_addr(request_rec *r, apr_sockaddr_t *addrs)
{
    apr_array_header_t *bl = prx_server_conf_get(r->server)->blocks;
    int i;

    for (i = 0; i < bl->nelts; i++) {
        const block_entry *e = &APR_ARRAY_IDX(bl, i, block_entry);
        apr_sockaddr_t *a, *b;

        for (a = addrs; a; a = a->next) {
            for (b = e->addrs; b; b = b->next) {
                if (apr_sockaddr_equal(a, b)) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

PRX_DECLARE(int) prx_blocked(request_rec *r, const char *host,
                             apr_sockaddr_t *addrs)
{
    if (forward_blocked_name(r, host) || (addrs && prx_blocked_addr(r, addrs))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PRXLOGNO(00083)
                      "connect to %s blocked by ProxyBlock", host);
        return 1;
    }
    return 0;
}

/* -- ProxyDomain ---------------------------------------------------------------- */

const char *forward_set_domain(cmd_parms *cmd, void *dconf, const char *arg)
{
    prx_server_conf *sc = cmd_sconf(cmd);

    if (arg[0] != '.') {
        return "ProxyDomain: the domain must start with a dot, e.g. "
               "\".example.com\"";
    }
    sc->domain = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* spec core.md §3.13: GET for a dotless host name → 301 to the qualified
 * name. @return DECLINED or HTTP_MOVED_PERMANENTLY. */
int forward_domain_redirect(request_rec *r)
{
    prx_server_conf *sc = prx_server_conf_get(r->server);
    apr_uri_t u = r->parsed_uri;
    const char *h = u.hostname;

    if (!sc->domain || r->method_number != M_GET
        || r->proxyreq != PROXYREQ_PROXY || !h || ap_strchr_c(h, '.')
        || ap_strchr_c(h, ':') || !strcasecmp(h, "localhost")) {
        return DECLINED;
    }
    u.hostname = apr_pstrcat(r->pool, h, sc->domain, NULL);
    apr_table_setn(r->headers_out, "Location",
                   apr_uri_unparse(r->pool, &u, APR_URI_UNP_REVEALPASSWORD));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00084)
                  "redirecting %s to its domain %s", h, sc->domain);
    return HTTP_MOVED_PERMANENTLY;
}
