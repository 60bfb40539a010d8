/*
 * http_private.h -- what the three files of mod_proxy_http share: the
 * module extern, the per-request body state that survives failover, the
 * per-attempt exchange context and the functions each file exports to the
 * others. Nothing here is visible outside mod_proxy_http.so.
 */
#ifndef HTTP_PRIVATE_H
#define HTTP_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "prx_core.h"
#include "http_parse.h"

extern module AP_MODULE_DECLARE_DATA proxy_http_module;
APLOG_USE_MODULE(proxy_http);

#define HTTP_HIDDEN __attribute__((visibility("hidden")))

/* spec http.md §4.2: the prefetch stops within 80 bytes of 16 KiB. */
#define HTTP_PREFETCH_MAX   16384
#define HTTP_PREFETCH_SLACK 80
/* spec http.md §4.4: the request body is read in pieces of up to 8 KiB. */
#define HTTP_BODY_READ      8192
/* Pieces the client has already sent go to the backend in one write, up
 * to this much (written at once when the client stalls). */
#define HTTP_BODY_GATHER    65536
/* Response body reads (each at most ProxyIOBufferSize) that follow one
 * another without waiting are passed to the client together, up to this
 * much: fewer, larger writes. Not used when ProxyIOBufferSize is more than
 * half of it. */
#define HTTP_RESP_GATHER    65536
/* spec http.md §6.5: the 10th consecutive interim response ends it. */
#define HTTP_MAX_INTERIM    10

/* How the request body reaches the backend (spec http.md §4.3). */
typedef enum {
    BODY_NONE = 0,     /* no body, no framing header */
    BODY_CL,           /* stream with a known Content-Length */
    BODY_CHUNKED,      /* stream with Transfer-Encoding: chunked */
    BODY_SPOOL         /* spooled to memory + temp file, sent with C-L */
} http_body_mode;

/*
 * Per-request body state, kept in prx_req->scheme_data so that a failover
 * attempt (or our own stale-connection retry) sends the same prefetched
 * bytes again. Allocated from r->pool.
 */
typedef struct {
    int prepared;          /* strategy chosen (done once per request) */
    http_body_mode mode;
    int client_chunked;    /* client sent Transfer-Encoding: chunked */
    int client_cl_sent;    /* client sent Content-Length */
    apr_off_t length;      /* Content-Length sent (BODY_CL, BODY_SPOOL) */
    char *pre;             /* prefetched bytes (HTTP_PREFETCH_MAX) */
    apr_size_t pre_len;
    int pre_eos;           /* end of body seen while prefetching */
    apr_file_t *spool;     /* BODY_SPOOL: bytes beyond `pre`, or NULL */
    apr_off_t spool_len;
    int streamed;          /* client bytes beyond `pre` were consumed:
                              the body can no longer be replayed */
    apr_bucket_brigade *bb;/* client input brigade */
    apr_bucket_brigade *hold; /* pieces queued for the backend, kept
                              until written (at most HTTP_BODY_GATHER) */
} http_body;

/* Per-connection read buffer (prx_conn->scheme_data, from c->pool). */
typedef struct {
    char *buf;
    apr_size_t size;
    char *gather;          /* HTTP_RESP_GATHER bytes for relaying response
                              bodies, allocated when first needed */
} http_conn_buf;

/* Outcome of one request/response exchange on one backend connection. */
typedef enum {
    XCHG_OK = 0,       /* ctx->status holds the handler result */
    XCHG_STALE         /* reused connection failed before any response
                          byte: the caller may retry on a fresh one */
} http_xchg;

/* One attempt: everything the request and response halves share. */
typedef struct {
    request_rec *r;
    prx_worker *worker;
    prx_server_conf *conf;
    prx_dir_conf *dconf;
    prx_conn *c;
    http_body *body;
    const char *url;
    apr_uri_t uri;
    const char *proxyname;
    apr_port_t proxyport;
    int via_connect;       /* https/wss through the ProxyRemote upstream
                              `proxyname`: TLS inside a CONNECT tunnel */

    /* request side */
    int force10;           /* force-proxy-request-1.0 */
    int close;             /* Connection: close toward the backend */
    int expect100;         /* doing 100-continue toward the backend */
    const char *upgrade;   /* the client's Upgrade value when the request
                              is sent as an upgrade (spec http.md §7.1) */
    int body_sent;         /* body completely written */
    char *head;            /* request head, one buffer */
    apr_size_t head_len;

    /* response side */
    char *buf;             /* == connection's read buffer */
    apr_size_t bufsize;
    apr_size_t rpos, rlen; /* unconsumed bytes: buf[rpos, rlen) */
    int got_bytes;         /* any response byte was read */
    int interim;           /* consecutive interim responses */
    int status;            /* handler result when XCHG_OK */
} http_ctx;

/* http_request.c */
HTTP_HIDDEN int http_upgrade_allowed(const http_ctx *x, const char *proto);
HTTP_HIDDEN int http_body_prepare(http_ctx *x);
HTTP_HIDDEN int http_request_head(http_ctx *x);
HTTP_HIDDEN int http_send(http_ctx *x, int head, int body,
                          apr_status_t *wrv);
HTTP_HIDDEN int http_body_replayable(const http_ctx *x);
HTTP_HIDDEN int http_write_status(http_ctx *x, apr_status_t rv,
                                  const char *what);

/* http_response.c */
HTTP_HIDDEN http_xchg http_response(http_ctx *x);

#endif /* HTTP_PRIVATE_H */
