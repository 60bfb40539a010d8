/*
 * proxy_urlcanon.c -- canonical form of HTTP-family backend URLs (spec
 * core.md 9, http.md 2.1): netloc checks, path re-encoding and the
 * control-character rule for raw paths and query strings.
 *
 * Pure string work on APR pools. Choosing the mode for a request (nocanon,
 * mapping=, forward proxy) and logging belong to the callers in the core.
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "proxy_urlcanon.h"

#define CANON_BAD_REQUEST 400
#define CANON_FORBIDDEN   403

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Is `s` at a valid "%XX" (two hex digits)? `s` is NUL-terminated, so the
 * second test is never reached past the end. */
static int is_escape(const char *s)
{
    return s[0] == '%' && hex_value((unsigned char)s[1]) >= 0
           && hex_value((unsigned char)s[2]) >= 0;
}

/* -- host names and addresses */

/*
 * A dotted-quad IPv4 address in its one unambiguous spelling: four decimal
 * parts of 0..255 without leading zeros. "010.1.1.1" is refused because
 * inet_aton() would read it as octal while a human reads decimal.
 */
static int valid_ipv4(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int parts = 0;

    while (parts < 4) {
        apr_size_t start = i;
        int v = 0;

        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3) {
            v = v * 10 + (s[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) {
            return 0;
        }
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    return i == len;
}

/*
 * An IPv6 address (RFC 4291 2.2 text forms, with an optional trailing
 * dotted quad). A zone id ("%eth0") is not accepted: it only has meaning
 * on the host that wrote it.
 */
static int valid_ipv6(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int groups = 0, compressed = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = 1;
        i = 2;
    }
    while (i < len) {
        apr_size_t start = i;

        while (i < len && hex_value((unsigned char)s[i]) >= 0
               && i - start < 5) {
            i++;
        }
        if (i < len && s[i] == '.') {
            /* the dotted quad must end the address */
            if (groups > 6 || !valid_ipv4(s + start, len - start)) {
                return 0;
            }
            groups += 2;
            i = len;
            break;
        }
        if (i == start || i - start > 4) {
            return 0;
        }
        groups++;
        if (i == len) {
            break;
        }
        if (s[i] != ':' || ++i == len) {
            return 0;
        }
        if (s[i] == ':') {
            if (compressed) {
                return 0;
            }
            compressed = 1;
            i++;
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

/*
 * A registered name or an IPv4 address. A name whose last label looks
 * numeric ("10.1", "0x7f000001", "2130706433") is something resolvers
 * turn into an address in more than one way, so it must be a canonical
 * dotted quad or it is refused.
 */
static int valid_host_name(const char *s, apr_size_t len)
{
    apr_size_t i, label, nlen = len;
    int numeric = 1;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!is_alnum(c) && c != '.' && c != '-' && c != '_') {
            return 0;
        }
    }
    /* an absolute name ("example.com.") is judged by its last label */
    if (nlen > 0 && s[nlen - 1] == '.') {
        nlen--;
    }
    if (nlen == 0) {
        return 0;
    }
    label = nlen;
    while (label > 0 && s[label - 1] != '.') {
        label--;
    }
    if (nlen - label >= 2 && s[label] == '0'
        && (s[label + 1] == 'x' || s[label + 1] == 'X')) {
        for (i = label + 2; i < nlen && numeric; i++) {
            numeric = hex_value((unsigned char)s[i]) >= 0;
        }
    }
    else {
        for (i = label; i < nlen && numeric; i++) {
            numeric = is_digit((unsigned char)s[i]);
        }
    }
    /* an empty last label ("a..") counts as numeric and fails here too */
    return !numeric || (nlen == len && valid_ipv4(s, len));
}

/* User info is dropped from the canonical URL, but a malformed one still
 * means a malformed URL: no spaces or controls, and only valid escapes. */
static int valid_userinfo(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c == 0x7f) {
            return 0;
        }
        if (c == '%') {
            if (len - i < 3 || hex_value((unsigned char)s[i + 1]) < 0
                || hex_value((unsigned char)s[i + 2]) < 0) {
                return 0;
            }
            i += 2;
        }
    }
    return 1;
}

/* Digits only, 1..65535; an empty port means the default (RFC 3986 3.2.3). */
static int parse_port(const char *s, apr_size_t len, apr_port_t *port,
                      apr_port_t def_port)
{
    apr_size_t i;
    long v = 0;

    if (len == 0) {
        *port = def_port;
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
        if (v > 65535) {
            return 0;
        }
    }
    if (v == 0) {
        return 0;
    }
    *port = (apr_port_t)v;
    return 1;
}

int prx_urlcanon_netloc(apr_pool_t *p, const char **url, char **host,
                        apr_port_t *port, apr_port_t def_port)
{
    const char *s = *url, *end, *hp, *at, *hend, *pstart;
    apr_size_t hlen, i;
    char *h;

    if (s == NULL || s[0] != '/' || s[1] != '/') {
        return CANON_BAD_REQUEST;
    }
    s += 2;
    end = s + strcspn(s, "/?");

    /* user info ends at the last '@' of the netloc */
    hp = s;
    for (at = s; at < end; at++) {
        if (*at == '@') {
            hp = at + 1;
        }
    }
    if (hp > s && !valid_userinfo(s, (apr_size_t)(hp - 1 - s))) {
        return CANON_BAD_REQUEST;
    }

    if (*hp == '[') {
        hend = memchr(hp, ']', (apr_size_t)(end - hp));
        if (hend == NULL || !valid_ipv6(hp + 1, (apr_size_t)(hend - hp - 1))) {
            return CANON_BAD_REQUEST;
        }
        pstart = hend + 1;
        hp++;
        if (pstart < end && *pstart != ':') {
            return CANON_BAD_REQUEST;
        }
    }
    else {
        hend = memchr(hp, ':', (apr_size_t)(end - hp));
        if (hend == NULL) {
            hend = end;
        }
        if (!valid_host_name(hp, (apr_size_t)(hend - hp))) {
            return CANON_BAD_REQUEST;
        }
        pstart = hend;
    }
    if (pstart < end) {
        /* skip the ':' */
        pstart++;
    }
    if (!parse_port(pstart, (apr_size_t)(end - pstart), port, def_port)) {
        return CANON_BAD_REQUEST;
    }

    hlen = (apr_size_t)(hend - hp);
    h = apr_pstrmemdup(p, hp, hlen);
    for (i = 0; i < hlen; i++) {
        if (h[i] >= 'A' && h[i] <= 'Z') {
            h[i] = (char)(h[i] - 'A' + 'a');
        }
    }
    *host = h;
    *url = end;
    return 0;
}

/* -- paths */

/* Bytes a path keeps as they are when it is re-encoded (besides ASCII
 * letters and digits). */
static int path_keeps(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("~$-_.+!*'(),;:@&=/", c));
}

int prx_urlcanon_check_ctl(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (s == NULL) {
        return 0;
    }
    for (; *u; u++) {
        if (*u <= 0x20 || *u == 0x7f) {
            return CANON_FORBIDDEN;
        }
    }
    return 0;
}

/*
 * ENCODE and ENCODE_KEEP_ESCAPES. A first pass sizes the result so the
 * common case (nothing to encode) allocates nothing.
 */
static int encode_path(apr_pool_t *p, const char *path, int keep_escapes,
                       char **out)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;
    apr_size_t extra = 0;
    char *o, *d;

    for (s = (const unsigned char *)path; *s; s++) {
        if (*s == '%' && keep_escapes) {
            if (!is_escape((const char *)s)) {
                return CANON_BAD_REQUEST;
            }
            s += 2;
        }
        else if (!path_keeps(*s)) {
            extra += 2;
        }
    }
    if (extra == 0) {
        *out = (char *)path;
        return 0;
    }
    o = apr_palloc(p, strlen(path) + extra + 1);
    d = o;
    for (s = (const unsigned char *)path; *s; s++) {
        if (*s == '%' && keep_escapes) {
            *d++ = (char)*s++;
            *d++ = (char)*s++;
            *d++ = (char)*s;
        }
        else if (path_keeps(*s)) {
            *d++ = (char)*s;
        }
        else {
            *d++ = '%';
            *d++ = hex[*s >> 4];
            *d++ = hex[*s & 0x0f];
        }
    }
    *d = '\0';
    *out = o;
    return 0;
}

int prx_urlcanon_path(apr_pool_t *p, const char *path, prx_canon_mode mode,
                      char **out)
{
    int rv;

    if (path == NULL) {
        path = "";
    }
    switch (mode) {
    case PRX_CANON_ENCODE:
        return encode_path(p, path, 0, out);
    case PRX_CANON_ENCODE_KEEP_ESCAPES:
        return encode_path(p, path, 1, out);
    case PRX_CANON_RAW:
    case PRX_CANON_ENCODED:
    case PRX_CANON_FORWARD:
        /* spec core.md 9: a path used without re-encoding must not carry
         * what re-encoding would have escaped for the request line */
        rv = prx_urlcanon_check_ctl(path);
        if (rv) {
            return rv;
        }
        *out = (char *)path;
        return 0;
    default:
        return CANON_BAD_REQUEST;
    }
}

/* -- whole URLs */

static int known_scheme(const char *scheme)
{
    return strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0
           || strcasecmp(scheme, "ws") == 0 || strcasecmp(scheme, "wss") == 0;
}

int prx_urlcanon_http(apr_pool_t *p, const char *scheme, const char *rest,
                      apr_port_t def_port, prx_canon_mode mode,
                      const char *query, char **out)
{
    char *host, *path;
    apr_port_t port;
    apr_size_t i;
    int rv, with_query;

    if (scheme == NULL || rest == NULL || !known_scheme(scheme)) {
        return CANON_BAD_REQUEST;
    }
    rv = prx_urlcanon_netloc(p, &rest, &host, &port, def_port);
    if (rv) {
        return rv;
    }
    rv = prx_urlcanon_path(p, rest, mode, &path);
    if (rv) {
        return rv;
    }
    /* spec http.md 2.1: nocanon paths carry their own raw query, and a
     * forward proxy's target already includes it */
    with_query = query != NULL && mode != PRX_CANON_RAW
                 && mode != PRX_CANON_FORWARD;
    if (with_query) {
        rv = prx_urlcanon_check_ctl(query);
        if (rv) {
            return rv;
        }
    }

    /* scheme "://" [ "[" ] host [ "]" ] [ ":" port ] [ "/" ] path
     * [ "?" query ], assembled in one allocation (this runs for every
     * proxied request) */
    {
        apr_size_t sl = strlen(scheme), hl = strlen(host), pl = strlen(path);
        apr_size_t ql = with_query ? strlen(query) : 0;
        int bracket = strchr(host, ':') != NULL;
        char portbuf[8], *d;
        apr_size_t portl = 0;

        if (port != def_port) {
            /* ":" and the decimal digits, written backwards */
            unsigned int v = port;
            char *e = portbuf + sizeof(portbuf);

            do {
                *--e = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            *--e = ':';
            portl = (apr_size_t)(portbuf + sizeof(portbuf) - e);
            memmove(portbuf, e, portl);
        }
        d = *out = apr_palloc(p, sl + 3 + hl + 2 * bracket + portl + 1 + pl
                                 + 1 + ql + 1);
        for (i = 0; i < sl; i++) {
            char c = scheme[i];
            *d++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        memcpy(d, "://", 3);
        d += 3;
        if (bracket) {
            *d++ = '[';
        }
        memcpy(d, host, hl);
        d += hl;
        if (bracket) {
            *d++ = ']';
        }
        memcpy(d, portbuf, portl);
        d += portl;
        if (path[0] != '/') {
            *d++ = '/';
        }
        memcpy(d, path, pl);
        d += pl;
        if (with_query) {
            *d++ = '?';
            memcpy(d, query, ql);
            d += ql;
        }
        *d = '\0';
    }
    return 0;
}
