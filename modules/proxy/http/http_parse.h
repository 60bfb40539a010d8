/*
 * http_parse.h -- HTTP/1.x wire parsing used by mod_proxy_http: the
 * response head (status line + header fields), message framing decisions
 * and the chunked transfer coding.
 *
 * This is a protocol file: it depends on APR only (never on httpd's
 * request_rec), so it is unit-tested in t/unit/ and fuzzed in fuzz/.
 * Every parser is incremental (input may be split at any byte), bounded
 * (line lengths, header counts, chunk sizes) and strict: anything that
 * could be read two ways by two HTTP implementations is an error, never a
 * guess.
 */
#ifndef PRX_HTTP_PARSE_H
#define PRX_HTTP_PARSE_H

#include <apr_pools.h>
#include <apr_tables.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Results shared by the parsers of this file. */
typedef enum {
    PRX_HP_DONE = 0,     /**< the element is complete */
    PRX_HP_NEED_MORE,    /**< all input consumed, element incomplete */
    PRX_HP_DATA,         /**< (chunked only) a span of body data returned */
    PRX_HP_HTTP09,       /**< (head only) first line is not a status line */
    PRX_HP_TOO_LONG,     /**< a line exceeded its limit */
    PRX_HP_TOO_MANY,     /**< more header fields than allowed */
    PRX_HP_BAD_STATUS,   /**< malformed status line / unsupported version */
    PRX_HP_BAD_HEADER,   /**< malformed header field line */
    PRX_HP_NO_COLON,     /**< header line without ':' and policy IsError */
    PRX_HP_BAD_CHUNK     /**< malformed chunked framing */
} prx_hp_status;

/** @return a short constant name for `st`, for logs. Never NULL. */
const char *prx_hp_status_str(prx_hp_status st);

/** What to do with a response header line that has no ':' (ProxyBadHeader). */
typedef enum {
    PRX_BADHDR_ISERROR = 0, /**< fail the head with PRX_HP_NO_COLON */
    PRX_BADHDR_IGNORE,      /**< drop the line, note a warning */
    PRX_BADHDR_STARTBODY    /**< end the head; the line starts the body */
} prx_badheader_mode;

/** Warning bits collected in prx_http_head.warnings (caller logs them). */
#define PRX_HPW_DROPPED_LINE   0x01 /**< a colon-less line was dropped */
#define PRX_HPW_STARTED_BODY   0x02 /**< a colon-less line started the body */
#define PRX_HPW_NO_HEADERS     0x04 /**< StartBody before any header: dropped */
#define PRX_HPW_STRAY_STATUS   0x08 /**< a second "HTTP/x.y nnn" line ignored */
#define PRX_HPW_LEADING_EMPTY  0x10 /**< one empty line before the status */

/** One header field. Both strings are NUL-terminated, allocated from the
 *  pool given to prx_http_head_init(). The value has its surrounding
 *  whitespace removed. */
typedef struct {
    const char *name;
    const char *value;
} prx_http_field;

/**
 * Incremental parser of a response head. Initialise with
 * prx_http_head_init(), feed with prx_http_head_parse() until it returns
 * something other than PRX_HP_NEED_MORE. All fields are read-only for the
 * caller.
 */
typedef struct {
    /* limits and policy, set by prx_http_head_init() */
    apr_pool_t *pool;
    apr_size_t max_line;          /**< longest line, terminator excluded */
    int max_fields;               /**< most header fields accepted */
    prx_badheader_mode badheader;

    /* results */
    int major, minor;             /**< HTTP version of the status line */
    int status;                   /**< 100..999 */
    const char *reason;           /**< reason phrase, may be "" */
    const char *status_line;      /**< "nnn reason" as httpd wants it, or
                                       "nnn" when the reason is empty */
    apr_array_header_t *fields;   /**< of prx_http_field, in wire order */
    int warnings;                 /**< PRX_HPW_* bits */
    const char *warn_line;        /**< first line a warning was about */
    /** With PRX_HPW_STARTED_BODY: the dropped line + "\r\n", which is the
     *  first body bytes (the caller must emit it before further input). */
    const char *body_prefix;
    apr_size_t body_prefix_len;

    /* private state */
    char *line;                   /**< max_line + 1 bytes */
    apr_size_t line_len;
    int state;
    int saw_cr;
    int empty_lines;
    prx_hp_status result;         /**< final result once finished */
} prx_http_head;

/**
 * Prepare `h` for a new response head.
 * @param pool       where the line buffer and all results are allocated
 * @param max_line   longest status or header line accepted (>= 64)
 * @param max_fields most header fields accepted (>= 1)
 * @param mode       ProxyBadHeader policy
 */
void prx_http_head_init(prx_http_head *h, apr_pool_t *pool,
                        apr_size_t max_line, int max_fields,
                        prx_badheader_mode mode);

/**
 * Feed `len` bytes of `buf` to the head parser.
 * @param consumed set to the number of bytes of `buf` used; on PRX_HP_DONE
 *                 the body starts at buf + *consumed (for a StartBody end,
 *                 after body_prefix).
 * @return PRX_HP_NEED_MORE: feed more (all `len` bytes consumed);
 *         PRX_HP_DONE: head complete, see the result fields;
 *         PRX_HP_HTTP09: the response has no status line (its first
 *                 bytes are not "HTTP/"): every byte consumed so far is
 *                 body and is copied to body_prefix; the body continues at
 *                 buf + *consumed (the tolerated leading empty line is
 *                 not part of it);
 *         anything else: a fatal error, the head must be rejected (502).
 *         Once a result other than PRX_HP_NEED_MORE was returned, further
 *         calls return it again and consume nothing.
 * Rules: lines end in CRLF or a bare LF; a bare CR anywhere, a NUL, any
 * control character other than HT in a value, a field name that is not a
 * token, whitespace before ':' and obsolete line folding (a line starting
 * with SP or HT) are PRX_HP_BAD_HEADER. The status line must be
 * "HTTP/1.d SP ddd [SP reason]" (a reason glued to the code is accepted);
 * another major version is PRX_HP_BAD_STATUS, as is anything else that
 * starts with "HTTP/" but is not such a line (two spaces, a fourth digit,
 * a control character in the reason). One empty line before the status
 * line is tolerated. A line is PRX_HP_TOO_LONG as soon as its
 * (max_line + 1)th byte arrives. Only stored fields count against
 * max_fields (dropped lines and stray status lines do not). A colon-less
 * line goes to the ProxyBadHeader policy, except a stray "HTTP/d.d ddd"
 * line which is always dropped (PRX_HPW_STRAY_STATUS).
 */
prx_hp_status prx_http_head_parse(prx_http_head *h, const char *buf,
                                  apr_size_t len, apr_size_t *consumed);

/**
 * Parse one complete header line (no terminator) into name and value,
 * with the same strictness as prx_http_head_parse(). Used for trailers.
 * @return PRX_HP_DONE, PRX_HP_NO_COLON or PRX_HP_BAD_HEADER. On success the
 *         strings are allocated from `p`.
 */
prx_hp_status prx_http_field_parse(apr_pool_t *p, const char *line,
                                   apr_size_t len, prx_http_field *out);

/** How a message body is delimited. */
typedef enum {
    PRX_FRAME_NONE = 0,  /**< no body (request without C-L or T-E) */
    PRX_FRAME_LENGTH,    /**< exactly `length` bytes */
    PRX_FRAME_CHUNKED,   /**< chunked transfer coding */
    PRX_FRAME_CLOSE,     /**< until the peer closes (responses only) */
    PRX_FRAME_ERROR      /**< ambiguous or invalid: reject the message */
} prx_frame_kind;

/**
 * Decide the framing of a message from its Transfer-Encoding and
 * Content-Length field values.
 * @param te        all Transfer-Encoding values in order (`const char *`
 *                  elements; a NULL element counts as ""), or NULL/empty
 * @param cl        all Content-Length values in order (same), or NULL/empty
 * @param response  non-zero for a response (no framing = PRX_FRAME_CLOSE),
 *                  zero for a request (no framing = PRX_FRAME_NONE)
 * @param length    set to the body length for PRX_FRAME_LENGTH, to 0 for
 *                  any other result; may be NULL
 * @return PRX_FRAME_ERROR when both headers are present, when the
 *         Content-Length values (several headers or a comma list) are not
 *         all the same valid decimal number (digits only, surrounding
 *         whitespace ignored, leading zeros allowed, no sign, no overflow
 *         past 2^63-1, no empty element), or when the transfer codings are
 *         anything but exactly
 *         one "chunked" (case-insensitive, surrounding whitespace ignored;
 *         empty list elements ignored).
 */
prx_frame_kind prx_http_framing(const apr_array_header_t *te,
                                const apr_array_header_t *cl, int response,
                                apr_off_t *length);

/** Incremental decoder of the chunked transfer coding. */
typedef struct {
    /** Called once per trailer field line (no terminator; line[len] is
     *  a NUL), already checked like prx_http_field_parse() does; may be
     *  NULL (trailers then are validated and dropped). A non-zero return
     *  aborts decoding with PRX_HP_BAD_CHUNK. */
    int (*trailer)(void *baton, const char *line, apr_size_t len);
    void *baton;
    apr_size_t max_line;      /**< bound of a chunk-size line with extensions */
    apr_size_t max_trailers;  /**< bound of the whole trailer section: the
                                   bytes of its field lines, each counted
                                   with a 2-byte terminator */

    /* private state */
    int state;
    int digits;
    apr_off_t remaining;      /**< data bytes left in the current chunk */
    apr_size_t line_len;
    apr_size_t trailer_total;
    char tline[1024];         /**< a trailer line being assembled */
    apr_size_t tline_len;
    prx_hp_status result;     /**< final result once finished */
} prx_chunked;

/**
 * Prepare `c`.
 * @param max_line      longest chunk-size line (size + extensions, no
 *                      terminator), raised to 16 when smaller
 * @param max_trailers  most bytes of trailer section accepted (see the
 *                      field); a single trailer line is also bounded by
 *                      sizeof(tline) - 1 = 1023 bytes
 * Set `trailer` and `baton` after this call.
 */
void prx_chunked_init(prx_chunked *c, apr_size_t max_line,
                      apr_size_t max_trailers);

/**
 * Decode from `in`. Call repeatedly, advancing `in` by *consumed, until the
 * input is used up or the result is PRX_HP_DONE or an error.
 * @param consumed  bytes of `in` used by this call
 * @param data      on PRX_HP_DATA: body bytes (points into `in`; the span
 *                  ends exactly at in + *consumed), else NULL
 * @param data_len  on PRX_HP_DATA: their count (> 0), else 0
 * @return PRX_HP_DATA: a span of body bytes is returned;
 *         PRX_HP_NEED_MORE: all input consumed, more needed;
 *         PRX_HP_DONE: last chunk and trailers read; *consumed points
 *                 just past the final CRLF (anything after is not body);
 *         PRX_HP_TOO_LONG: chunk-size line or trailers too long;
 *         PRX_HP_BAD_CHUNK: invalid hex size (empty, sign, overflow past
 *                 2^63-1, more than 16 digits), bad extension, missing
 *                 CRLF after data, bare CR, invalid trailer line.
 * Size line: hex digits, optional SP/HT, then extensions
 * `;name[=token|"quoted"]` with optional SP/HT around ';' and '=', then
 * CRLF or LF. Once a result other than PRX_HP_NEED_MORE/PRX_HP_DATA was
 * returned, further calls return it again and consume nothing.
 */
prx_hp_status prx_chunked_decode(prx_chunked *c, const char *in,
                                 apr_size_t in_len, apr_size_t *consumed,
                                 const char **data, apr_size_t *data_len);

#ifdef __cplusplus
}
#endif
#endif /* PRX_HTTP_PARSE_H */
