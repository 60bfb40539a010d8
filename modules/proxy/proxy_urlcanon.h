/*
 * proxy_urlcanon.h -- canonicalisation of backend URLs (spec core.md §9,
 * http.md §2.1): netloc validation, path re-encoding, control-character
 * checks. Shared by every scheme module through the prx_canon_* exports of
 * prx_core.h, which are thin wrappers around these functions.
 *
 * Protocol file: depends on APR only, unit-tested (t/unit/test_urlcanon.c)
 * and fuzzed (fuzz/fuzz_urlcanon.c). Results are 0 on success or the HTTP
 * status the request must fail with (400 or 403).
 */
#ifndef PRX_URLCANON_H
#define PRX_URLCANON_H

#include <apr_pools.h>
#include <apr_network_io.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How the path part of a URL is to be treated. */
typedef enum {
    /** reverse proxy default: the path is decoded (from r->uri); re-encode
     *  every byte that is not alphanumeric and not one of
     *  ~$-_.+!*'(),;:@&=/ as %XX (uppercase hex), '%' included. */
    PRX_CANON_ENCODE = 0,
    /** like ENCODE, but a valid %XX already present is kept as is (the core
     *  left encoded slashes in place: AllowEncodedSlashes NoDecode); a '%'
     *  not followed by two hex digits is an error (400). */
    PRX_CANON_ENCODE_KEEP_ESCAPES,
    /** nocanon / [NE]: the path (and any query in it) is used raw; a control
     *  character or space in it is an error (403). */
    PRX_CANON_RAW,
    /** mapping=encoded|servlet (proxy-noencode): the path is already
     *  encoded, used as is; control characters or space -> 403. */
    PRX_CANON_ENCODED,
    /** forward proxy: the path (with its query) is never modified;
     *  control characters or space -> 403 (it is used raw). */
    PRX_CANON_FORWARD
} prx_canon_mode;

/**
 * Parse and validate the network location that follows "scheme:".
 * @param p        pool for the results
 * @param url      in: text after "scheme:", must start with "//";
 *                 out: advanced to the first character after the netloc
 *                 (the path, '?', or end of string); untouched on error
 * @param host     out: host, lower-cased, without brackets for IPv6
 * @param port     out: port; `def_port` when none was given
 * @param def_port the scheme's default port
 * @return 0, or 400 when the netloc is missing or malformed: empty host,
 *         characters outside [A-Za-z0-9.-_] in a name, an IPv6 literal
 *         that is not valid or carries a zone id, a port that is not
 *         1..65535 digits-only, a bad %-escape in the user info. User info
 *         (`user[:pass]@`, split at the last '@') is validated (no space
 *         or control character, valid escapes) then dropped. An empty port
 *         ("host:") means `def_port`. A name whose last label is numeric
 *         (all digits, or 0x + hex digits) must be a dotted-quad IPv4
 *         address without leading zeros ("10.1", "0x7f000001",
 *         "010.0.0.1" are 400: resolvers read them in different ways).
 */
int prx_urlcanon_netloc(apr_pool_t *p, const char **url, char **host,
                        apr_port_t *port, apr_port_t def_port);

/**
 * Re-encode or check `path` according to `mode`.
 * @param out  set to the result, allocated from `p` (may be `path` itself
 *             when nothing changes)
 * @return 0, 400 (bad escape in ENCODE_KEEP_ESCAPES, unknown mode) or 403
 *         (control character or space in RAW/ENCODED/FORWARD). A NULL
 *         `path` is taken as "".
 */
int prx_urlcanon_path(apr_pool_t *p, const char *path, prx_canon_mode mode,
                      char **out);

/** @return 403 when `s` holds a control character (< 0x20 or 0x7F) or a
 *  space, else 0. NULL is accepted (0). */
int prx_urlcanon_check_ctl(const char *s);

/**
 * Canonicalise a whole HTTP-family backend URL.
 * @param p        pool for the result
 * @param scheme   "http", "https", "ws" or "wss" (any case; output lower;
 *                 anything else is 400)
 * @param rest     text after "scheme:" (starts with "//")
 * @param def_port default port of the scheme
 * @param mode     path treatment, see prx_canon_mode
 * @param query    the request's query string (r->args) to append with '?'
 *                 for every mode but RAW and FORWARD, or NULL; checked
 *                 with prx_urlcanon_check_ctl()
 * @param out      "scheme://host[:port]/path[?query]": port only when it
 *                 differs from `def_port`, IPv6 host re-bracketed, a "/"
 *                 put before a path that does not start with one (so an
 *                 empty path becomes "/")
 * @return 0, 400 or 403 as for the functions above.
 */
int prx_urlcanon_http(apr_pool_t *p, const char *scheme, const char *rest,
                      apr_port_t def_port, prx_canon_mode mode,
                      const char *query, char **out);

#ifdef __cplusplus
}
#endif
#endif /* PRX_URLCANON_H */
