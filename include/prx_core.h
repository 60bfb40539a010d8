/*
 * prx_core.h -- the public API of our mod_proxy core (proxy_module), for
 * scheme modules (mod_proxy_http, mod_proxy_fcgi, ...) and the balancer.
 *
 * Who includes it: every proxy submodule of this project and third-party
 * submodules written against it. It promises: the hooks a scheme module
 * implements, the worker / connection / configuration types it reads, and
 * the helper functions it calls (all named prx_*). Symbols are exported
 * from mod_proxy.so, so mod_proxy.so must be loaded before its submodules
 * (the same LoadModule order stock configurations already use). A stock
 * submodule needs stock's ap_proxy_* symbols, which we never export, and
 * therefore fails to load with an "undefined symbol" error instead of
 * misbehaving at request time.
 *
 * Stability: function signatures and the documented struct fields are the
 * API. Fields marked "private" may change at any time.
 *
 * This header never includes stock's mod_proxy.h; do not include both.
 */
#ifndef PRX_CORE_H
#define PRX_CORE_H

#include <apr_hooks.h>
#include <apr_network_io.h>
#include <apr_optional.h>
#include <apr_tables.h>
#include <apr_uri.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <util_filter.h>
#include <ap_regex.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -- export control ------------------------------------------------------ */

/* The modules are built with -fvisibility=hidden: only what carries these
 * markers is visible to other modules. */
#define PRX_EXPORT __attribute__((visibility("default")))
#define PRX_DECLARE(type)         PRX_EXPORT type
#define PRX_DECLARE_NONSTD(type)  PRX_EXPORT type
#define PRX_DECLARE_DATA          PRX_EXPORT

/** Log tag: every message at debug level or above starts with one,
 *  e.g. `PRXLOGNO(00042) "connect to %pI failed"`. See docs/log-tags/. */
#define PRXLOGNO(n) "PRX" #n ": "

/* -- worker status flags (shared state, spec core.md §5.1) -------------- */

#define PRX_WS_INITIALIZED   0x0001u  /**< O: set once the child set it up */
#define PRX_WS_IGNORE_ERRORS 0x0002u  /**< I: never enters error state */
#define PRX_WS_DRAIN         0x0004u  /**< N: sticky requests only */
#define PRX_WS_GENERIC       0x0008u  /**< G: a default (generic) worker */
#define PRX_WS_IN_SHUTDOWN   0x0010u  /**< U */
#define PRX_WS_DISABLED      0x0020u  /**< D */
#define PRX_WS_STOPPED       0x0040u  /**< S */
#define PRX_WS_IN_ERROR      0x0080u  /**< E: skipped until retry passes */
#define PRX_WS_HOT_STANDBY   0x0100u  /**< H */
#define PRX_WS_HOT_SPARE     0x0200u  /**< R */
#define PRX_WS_FREE          0x0400u  /**< F */
#define PRX_WS_HC_FAIL       0x0800u  /**< C: failed health check */

/** Flags that make a worker unusable (spec: U, D, S, E, C). */
#define PRX_WS_UNUSABLE (PRX_WS_IN_SHUTDOWN | PRX_WS_DISABLED | \
                         PRX_WS_STOPPED | PRX_WS_IN_ERROR | PRX_WS_HC_FAIL)

/** Classification of backend failures: one table maps each to a status. */
typedef enum {
    PRX_FAIL_NONE = 0,
    PRX_FAIL_DNS,           /**< 500 */
    PRX_FAIL_CONNECT,       /**< 503: refused / unreachable / timed out */
    PRX_FAIL_UNAVAILABLE,   /**< 503: worker unusable */
    PRX_FAIL_ACQUIRE,       /**< 503: pool exhausted */
    PRX_FAIL_PING,          /**< 503: no 100-continue in time */
    PRX_FAIL_WRITE,         /**< 502: backend broke while we wrote */
    PRX_FAIL_WRITE_TIMEOUT, /**< 504 */
    PRX_FAIL_READ,          /**< 502: error/EOF before a response head */
    PRX_FAIL_TIMEOUT,       /**< 502: timeout before a response head */
    PRX_FAIL_BAD_HEAD,      /**< 502: malformed response head */
    PRX_FAIL_TRUNCATED,     /**< 502: body ended early (head already sent) */
    PRX_FAIL_CLIENT_BODY,   /**< 400: reading the client's body failed */
    PRX_FAIL_CLIENT_ABORT,  /**< client went away */
    PRX_FAIL_BLOCKED,       /**< 403: ProxyBlock matched the target */
    PRX_FAIL_INTERNAL       /**< 500 */
} prx_fail;

/* -- types ----------------------------------------------------------------- */

struct prx_balancer;
struct prx_worker_rt;
typedef struct prx_worker prx_worker;
typedef struct prx_conn prx_conn;

/** A "not configured" marker for integer and time parameters. */
#define PRX_UNSET (-1)

/** Configured parameters of a worker (spec core.md §5). Values are final:
 *  defaults are resolved when the configuration is complete, except the
 *  timeouts, where PRX_UNSET means "fall back" as documented. */
typedef struct {
    apr_interval_time_t timeout;          /**< I/O timeout, or PRX_UNSET */
    apr_interval_time_t connect_timeout;  /**< connect(), or PRX_UNSET */
    apr_interval_time_t retry;            /**< error-state duration */
    apr_interval_time_t ping;             /**< 100-continue / CPING, 0 = off */
    apr_interval_time_t acquire;          /**< pool wait, PRX_UNSET = forever */
    apr_interval_time_t ttl;              /**< idle conn lifetime, 0 = none */
    apr_interval_time_t flush_wait;
    int min, max, smax;
    int disablereuse;         /**< 1: close connections after each request */
    int keepalive;            /**< SO_KEEPALIVE */
    apr_size_t io_buffer_size;
    int recv_buffer_size;     /**< SO_RCVBUF, 0 = system default */
    apr_size_t response_field_size;
    apr_int32_t address_ttl;  /**< seconds; -1 = once per child; 0 = never */
    int flush_packets;        /**< 0 off, 1 on, 2 auto */
    int lbset;
    int lbfactor;             /**< loadfactor x 100 */
    const char *route;
    const char *redirect;
    const char *secret;
    const char *upgrade;      /**< NULL, "*" or a protocol list */
    const char *flusher;
    unsigned int status_set;  /**< PRX_WS_* flags to set at start */
    unsigned int status_clear;
} prx_worker_params;

#define PRX_ROUTE_MAX 64       /**< route, redirect (with the NUL) */
#define PRX_HOSTNAME_MAX_PUBLIC 256
#define PRX_HCURI_MAX 64

/** Worker state that every child must see, in shared memory (one slot per
 *  worker, created before the children fork; the balancer may move its
 *  members' slots into its own persistent slot memory). The counters and
 *  flags are updated with APR atomics; the balancer fields under the
 *  balancer's lock. Fields a balancer-manager may change at run time live
 *  here, not in prx_worker_params. */
typedef struct {
    volatile apr_uint32_t status;        /**< PRX_WS_* */
    volatile apr_time_t error_time;      /**< when E was set */
    volatile apr_uint32_t retries;       /**< times put back into service */
    volatile apr_uint32_t busy;          /**< requests in flight */
    volatile apr_uint64_t elected;       /**< requests sent */
    volatile apr_uint64_t bytes_read;    /**< from the backend */
    volatile apr_uint64_t bytes_written; /**< to the backend */
    /* balancing (members; spec balancer.md §2.2) */
    volatile apr_int32_t lbstatus;       /**< the lbmethod's accumulator */
    int lbfactor;                        /**< loadfactor x 100 */
    int lbset;
    char route[PRX_ROUTE_MAX];
    char redirect[PRX_ROUTE_MAX];
    apr_time_t updated;                  /**< last manager change */
    /* health checks (mod_proxy_hcheck; spec hcheck.md) */
    int hcmethod;
    apr_interval_time_t hcinterval;
    int hcpasses, hcfails;
    volatile apr_uint32_t hcpcount, hcfcount;
    char hcuri[PRX_HCURI_MAX];
    char hcexpr[16];
    /* identity, for matching persisted slots to the configuration */
    char name[384];
} prx_worker_shared;

/** One origin: identity + parameters + shared state + per-child pool. */
struct prx_worker {
    const char *name;         /**< normalised URL, e.g. "http://b:8080/app" */
    const char *scheme;       /**< lower-case */
    const char *hostname;     /**< lower-case, no brackets; "" for unix: */
    apr_port_t port;          /**< explicit or the scheme's default */
    const char *uds_path;     /**< unix socket (absolute), or NULL */
    server_rec *server;       /**< server that defined it */
    struct prx_balancer *balancer; /**< owning balancer, or NULL */
    unsigned int is_generic:1;     /**< default forward/reverse worker */
    unsigned int is_pattern:1;     /**< ProxyPassMatch name with $n */
    unsigned int address_cacheable:1;
    prx_worker_params p;
    prx_worker_shared *s;
    ap_conf_vector_t *section_config; /**< of its <Proxy url> section */
    struct prx_worker_rt *rt; /**< private: per-child runtime (pool, DNS) */
};

#define PRX_BALANCER_NAME_MAX 96   /**< "balancer://name" with the NUL */
#define PRX_STICKY_MAX 64
#define PRX_LBMETHOD_NAME_MAX 16
#define PRX_NONCE_MAX 37

/** Balancer state every child must see (spec balancer.md §2.1). The
 *  balancer module keeps it in (persistable) slot memory; changes are
 *  made under the balancer's locks. */
typedef struct {
    char name[PRX_BALANCER_NAME_MAX];    /**< "balancer://name", lower-case */
    char sticky[PRX_STICKY_MAX];         /**< cookie name, "" = none */
    char sticky_path[PRX_STICKY_MAX];    /**< URL parameter name */
    char sticky_separator;               /**< 0 = Off (whole value) */
    int sticky_force;                    /**< nofailover */
    int scolonsep;                       /**< scolonpathdelim */
    int forcerecovery;
    apr_interval_time_t timeout;         /**< wait for a member, 0 = none */
    int max_attempts;
    int max_attempts_set;
    char lbpname[PRX_LBMETHOD_NAME_MAX]; /**< lbmethod provider name */
    char nonce[PRX_NONCE_MAX];           /**< manager anti-CSRF, "" = none */
    char vhost[PRX_HOSTNAME_MAX_PUBLIC]; /**< front-end host (display) */
    char vpath[PRX_HOSTNAME_MAX_PUBLIC]; /**< front-end path (display) */
    apr_time_t wupdated;                 /**< last member list change */
    int need_reset;                      /**< lbmethod must reset stats */
} prx_balancer_shared;

struct prx_lbmethod;

/** A balancer: `balancer://name` and its members (workers whose
 *  `balancer` points here). Created by the core's configuration
 *  (ProxyPass/BalancerMember/ProxySet/<Proxy balancer://...>); operated
 *  by mod_proxy_balancer through the hooks. */
typedef struct prx_balancer {
    const char *name;          /**< "balancer://name", lower-case */
    server_rec *server;        /**< server that defined it */
    apr_array_header_t *members;  /**< of prx_worker *, config order */
    prx_balancer_shared *s;
    const struct prx_lbmethod *lbmethod; /**< resolved from s->lbpname */
    apr_array_header_t *errstatuses;     /**< failonstatus, of int */
    int failontimeout;
    int growth;                /**< extra member slots (run-time adds) */
    int max_members;           /**< configured members + growth */
    ap_conf_vector_t *section_config;
    apr_thread_mutex_t *tmutex;/**< per-child lock (set at child init) */
    void *context;             /**< the balancer module's private state */
    /* private: which parameters the configuration set */
    unsigned int lbmethod_set:1, timeout_set:1, sticky_set:1,
                 sticky_sep_set:1, nofailover_set:1, scolon_set:1,
                 forcerecovery_set:1, growth_set:1, nonce_set:1,
                 failontimeout_set:1;
} prx_balancer;

/** A backend connection. Owned by its worker's pool; handed to exactly one
 *  request at a time between prx_conn_acquire() and prx_conn_release(). */
struct prx_conn {
    apr_pool_t *pool;         /**< lives as long as the socket */
    prx_worker *worker;
    apr_socket_t *sock;       /**< NULL until connected */
    apr_sockaddr_t *addr;     /**< address connected to */
    const char *hostname;     /**< host connected to (next hop) */
    apr_port_t port;
    conn_rec *connection;     /**< backend conn_rec (TLS only), or NULL */
    apr_bucket_alloc_t *bucket_alloc; /**< of this connection */
    int requests;             /**< exchanges completed on this socket */
    unsigned int reused:1;    /**< set by acquire: socket carried requests */
    unsigned int close:1;     /**< scheme sets: do not pool after use */
    void *scheme_data;        /**< scheme module's per-connection state,
                                   allocated from `pool` */
    /* private */
    apr_time_t idle_since;
    apr_interval_time_t io_timeout;
    unsigned int nonblock:1;
    unsigned int detached:1;  /* owned by a tunnel, outside the pool's max */
    const char *sni;          /* TLS server name, for TLS connections */
    apr_bucket_brigade *tls_bb;
};

/** One ProxyPass / ProxyPassMatch rule. */
typedef struct {
    const char *fake;         /**< path prefix or regex source */
    const char *real;         /**< target URL, or "!" */
    ap_regex_t *regex;        /**< for regex rules */
    prx_worker *worker;       /**< NULL for "!" or balancer targets */
    struct prx_balancer *balancer;
    unsigned int nocanon:1, noquery:1, interpolate:1;
    int mapping;              /**< 0, PRX_MAPPING_ENCODED or _SERVLET */
} prx_alias;
#define PRX_MAPPING_ENCODED 1
#define PRX_MAPPING_SERVLET 2

/** One ProxyPassReverse / ...CookiePath / ...CookieDomain entry. */
typedef struct {
    const char *real;         /**< backend-side value */
    const char *fake;         /**< client-side value */
    unsigned int interpolate:1;
    struct prx_balancer *balancer; /**< for "balancer://" reals, or NULL */
} prx_reverse_rule;

/** ProxyVia */
enum { PRX_VIA_OFF = 0, PRX_VIA_ON, PRX_VIA_FULL, PRX_VIA_BLOCK };
/** ProxyBadHeader */
enum { PRX_BAD_ISERROR = 0, PRX_BAD_IGNORE, PRX_BAD_STARTBODY };

/** Per-server configuration (read-only at request time). */
typedef struct {
    apr_array_header_t *aliases;   /**< of prx_alias, main server's first */
    apr_array_header_t *workers;   /**< of prx_worker * */
    apr_array_header_t *balancers; /**< of struct prx_balancer * */
    apr_array_header_t *sections;  /**< <Proxy> section configs */
    int req;                  /**< ProxyRequests */
    int via;                  /**< PRX_VIA_* */
    int badheader;            /**< PRX_BAD_* */
    int max_forwards;         /**< ProxyMaxForwards, -1 = none */
    apr_interval_time_t timeout; /**< ProxyTimeout, PRX_UNSET = Timeout */
    apr_size_t io_buffer_size;
    int recv_buffer_size;
    int proxy_status;         /**< ProxyStatus */
    apr_sockaddr_t *source_address;
    int pass_inherit;
    int bal_inherit;
    apr_array_header_t *remotes;   /**< ProxyRemote(Match) entries */
    apr_array_header_t *noproxies; /**< NoProxy entries */
    apr_array_header_t *blocks;    /**< ProxyBlock entries */
    const char *domain;            /**< ProxyDomain, or NULL */
    int bal_growth;                /**< BalancerGrowth */
    int bal_persist;               /**< BalancerPersist (not inherited) */
    unsigned int bal_growth_set:1;
    /* private: "was it set" markers for merging */
    unsigned int req_set:1, via_set:1, badheader_set:1, max_forwards_set:1,
                 timeout_set:1, io_buffer_size_set:1, recv_buffer_size_set:1,
                 proxy_status_set:1, source_address_set:1,
                 pass_inherit_set:1, bal_inherit_set:1;
} prx_server_conf;

/** Per-directory configuration (<Location>, <Proxy>, server defaults).
 *  Tri-state ints: PRX_UNSET until a directive sets them; use the
 *  prx_dir_* getters below, which apply the defaults. */
typedef struct {
    const char *section;      /**< <Location>/<Proxy> argument, or NULL */
    ap_regex_t *section_regex;/**< <ProxyMatch> / wildcard <Proxy> */
    unsigned int section_is_match:1;
    prx_alias *alias;         /**< ProxyPass inside <Location>, or NULL */
    unsigned int alias_set:1;
    apr_array_header_t *raliases;       /**< of prx_reverse_rule */
    apr_array_header_t *cookie_paths;   /**< of prx_reverse_rule */
    apr_array_header_t *cookie_domains; /**< of prx_reverse_rule */
    int preserve_host;
    int add_forwarded_headers;
    int error_override;
    apr_array_header_t *error_override_codes; /**< of int, sorted */
    int interpolate_env;
    int proxy_100_continue;
} prx_dir_conf;

/** Per-request proxy state, created by the core when a request is claimed. */
typedef struct {
    prx_alias *alias;         /**< matched rule, or NULL */
    prx_worker *worker;       /**< worker chosen for the current attempt */
    const char *uds_path;     /**< socket from a request-level unix: URL */
    apr_array_header_t *raliases;       /**< effective (interpolated) */
    apr_array_header_t *cookie_paths;
    apr_array_header_t *cookie_domains;
    int attempts;             /**< attempts made so far (failover) */
    apr_int64_t max_forwards; /**< Max-Forwards to send, -1 = none */
    const char *scheme;       /**< lower-case scheme of the backend URL */
    const char *target_host;  /**< host of the backend URL (ProxyBlock) */
    unsigned int via_remote:1;/**< this attempt goes through ProxyRemote */
    void *scheme_data;        /**< scheme module's per-request state that
                                   must survive failover attempts */
} prx_req;

/* -- hooks ------------------------------------------------------------------ */

/**
 * Handle one proxied request (one attempt) for `url`.
 * @param worker    worker for `url` (a configured one or a generic one)
 * @param url       canonical backend URL ("http://host/path?q")
 * @param proxyname next-hop proxy host (ProxyRemote) or NULL; while such
 *                  an attempt runs, the request note "proxy-basic-creds"
 *                  holds that entry's credentials as a complete field
 *                  value ("Basic <base64>"), or is unset
 * @param proxyport its port
 * @return DECLINED when the scheme is not this module's; OK or an HTTP
 *         status otherwise (503 lets the core fail over to another member).
 * Runs in the handler phase; may block on backend I/O.
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, scheme_handler,
                          (request_rec *r, prx_worker *worker,
                           prx_server_conf *conf, char *url,
                           const char *proxyname, apr_port_t proxyport))

/**
 * Canonicalise `url` (the filename after "proxy:"), setting r->filename to
 * "proxy:" + the canonical URL. Use prx_canon_http() or prx_canon_*().
 * @return DECLINED (not my scheme), OK, or an HTTP error status (400/403).
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, canon_handler,
                          (request_rec *r, char *url))

/**
 * Give a scheme module a veto on a ProxyPass match (spec core.md §7.1 step
 * 5): return DECLINED to let the rule match, anything else to skip it.
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, check_trans,
                          (request_rec *r, const char *url))

/**
 * Balancer: choose the member for `*url` ("balancer://..."), replacing
 * *worker and *url. DECLINED if not a balancer URL.
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, pre_request,
                          (prx_worker **worker, struct prx_balancer **balancer,
                           request_rec *r, prx_server_conf *conf, char **url))

/** Balancer: post-request accounting; runs once after the attempts. */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, post_request,
                          (prx_worker *worker, struct prx_balancer *balancer,
                           request_rec *r, prx_server_conf *conf))

/**
 * A worker parameter the core does not know (e.g. mod_proxy_hcheck's hc*
 * keys): set *err to NULL or to an error message (from `p`) and return OK
 * when `key` is yours, DECLINED otherwise. Runs at configuration time.
 */
APR_DECLARE_EXTERNAL_HOOK(prx, PRX, int, set_worker_param,
                          (apr_pool_t *p, server_rec *s, prx_worker *w,
                           const char *key, const char *val,
                           const char **err))

/* -- configuration access --------------------------------------------------- */

/** @return the proxy server config of `s`. Never NULL. */
PRX_DECLARE(prx_server_conf *) prx_server_conf_get(server_rec *s);
/** @return the proxy per-dir config of `r`. Never NULL. */
PRX_DECLARE(prx_dir_conf *) prx_dir_conf_get(request_rec *r);
/** @return the per-request state, or NULL if the core did not claim `r`. */
PRX_DECLARE(prx_req *) prx_req_get(request_rec *r);

/** Getters applying the defaults of the spec. */
PRX_DECLARE(int) prx_dir_preserve_host(const prx_dir_conf *d);   /* Off */
PRX_DECLARE(int) prx_dir_add_headers(const prx_dir_conf *d);     /* On */
PRX_DECLARE(int) prx_dir_100_continue(const prx_dir_conf *d);    /* On */
/** @return non-zero when ProxyErrorOverride takes over `status`. */
PRX_DECLARE(int) prx_dir_error_override(const prx_dir_conf *d, int status);

/* -- balancers --------------------------------------------------------------- */

/**
 * @return the balancer of `s` named by `url` ("balancer://name[/...]",
 *         scheme and name compared case-insensitively), or NULL.
 */
PRX_DECLARE(prx_balancer *) prx_balancer_find(server_rec *s,
                                              const char *url);

/**
 * Apply one balancer parameter (spec core.md §6). Used by the
 * configuration and by the balancer-manager.
 * @return NULL, or an error message (from `p`) naming the parameter.
 */
PRX_DECLARE(const char *) prx_balancer_set_param(apr_pool_t *p,
                                                 prx_balancer *b,
                                                 const char *key,
                                                 const char *val);

/**
 * Create a member of `b` for `url` with the server's ProxyTimeout /
 * ProxyIOBufferSize / ProxyReceiveBufferSize defaults (not shared with an
 * existing member: the caller checks prx_balancer_member_find() first).
 * At run time (balancer-manager) the caller must then give the worker its
 * shared slot and call prx_worker_child_init().
 * @return NULL or an error message. Allocates from `p`.
 */
PRX_DECLARE(const char *) prx_balancer_add_member(apr_pool_t *p,
                                                  server_rec *s,
                                                  prx_balancer *b,
                                                  const char *url,
                                                  prx_worker **out);

/** @return the member of `b` whose name is the normalised `url`, or the
 *  sharing candidate of core.md §8.2 within the balancer, or NULL. */
PRX_DECLARE(prx_worker *) prx_balancer_member_find(apr_pool_t *p,
                                                   prx_balancer *b,
                                                   const char *url);

/** Per-child runtime (connection pool) of a worker created after the
 *  children started. First resolves what post_config resolves for the
 *  configured workers (reuse and DNS defaults, the <Proxy url> section,
 *  status flags, the route/lbfactor copies in w->s). Allocates from
 *  `pchild` (sub-pools too): the caller serialises calls on one pool. */
PRX_DECLARE(void) prx_worker_child_init(prx_worker *w, apr_pool_t *pchild);

/**
 * The retry check of spec balancer.md §9.3: a worker in error state (and
 * not stopped) whose `retry` time has passed, or that ignores errors, is
 * put back into service (E cleared, retries counted).
 * @return non-zero when `w` is usable afterwards.
 */
PRX_DECLARE(int) prx_worker_retry(prx_worker *w, server_rec *s);

/* -- workers ---------------------------------------------------------------- */

/**
 * Find the worker for `url` among the workers of `s` (longest name that is
 * a prefix of the URL, pattern workers matched with $n as wildcards).
 * @return the worker, or NULL (callers then use prx_worker_generic()).
 * Lock-free; request time.
 */
PRX_DECLARE(prx_worker *) prx_worker_find(server_rec *s, const char *url);

/** @return the default forward (forward != 0) or reverse worker. */
PRX_DECLARE(prx_worker *) prx_worker_generic(server_rec *s, int forward);

/** @return non-zero when `w` may take a request now (spec core.md §8.6):
 *  usable flags, or in error but past its retry time. */
PRX_DECLARE(int) prx_worker_usable(prx_worker *w, server_rec *s);

/** @return `w`'s status as the status pages show it, e.g. "Init Ign Ok"
 *  (spec core.md §5.1), allocated from `p`. */
PRX_DECLARE(const char *) prx_worker_status_str(apr_pool_t *p,
                                                const prx_worker *w);

/** Put `w` in error state (unless it ignores errors), in every child. */
PRX_DECLARE(void) prx_worker_set_error(prx_worker *w, server_rec *s);

/** Set the PRX_WS_* flags `set` and clear those of `clear` in the shared
 *  status `ws`, atomically (every child sees one change, none is lost to
 *  a concurrent one). @return the status before the change. */
PRX_DECLARE(apr_uint32_t) prx_worker_status_change(prx_worker_shared *ws,
                                                   apr_uint32_t set,
                                                   apr_uint32_t clear);

/** Effective I/O and connect timeouts of `w` for a request of `r`. */
PRX_DECLARE(apr_interval_time_t) prx_worker_timeout(const prx_worker *w,
                                                    request_rec *r);
PRX_DECLARE(apr_interval_time_t) prx_worker_connect_timeout(
                                     const prx_worker *w, request_rec *r);

/* -- connections ------------------------------------------------------------ */

/**
 * Take a connection of `w` for `r`: a pooled idle one when the worker
 * reuses connections and one is available (and still alive), else a fresh
 * unconnected one.
 * @param fresh  non-zero forces a new socket (proxy-initial-not-pooled,
 *               retry after a stale connection)
 * @return APR_SUCCESS; APR_EAGAIN when the pool's max is exhausted for
 *         longer than `acquire` (the caller answers 503).
 * May block (pool wait). No lock held on return.
 */
PRX_DECLARE(apr_status_t) prx_conn_acquire(prx_worker *w, request_rec *r,
                                           int fresh, prx_conn **out);

/**
 * Connect `c` (no-op when it is already connected) to `host`:`port`, or to
 * the worker's unix socket. Resolves through the worker's DNS cache, tries
 * every address, applies TCP_NODELAY, SO_RCVBUF, SO_KEEPALIVE,
 * ProxySourceAddress and the connect timeout, then sets the I/O timeout.
 * For https:// and wss:// backends (the worker's scheme, or the request's
 * for the generic worker) TLS is set up through mod_ssl with the server
 * name of spec http.md §2.4; a pooled TLS connection made for another name
 * is reconnected. TLS failures show when writing (the caller's 502).
 * Through a ProxyRemote upstream (prx_req->via_remote) the connection to
 * the upstream stays plain: the caller opens the CONNECT tunnel and then
 * calls prx_conn_tls_start(). A pooled connection to another next hop
 * (`host`:`port`) than asked for is closed and a new one made.
 * @return APR_SUCCESS, or the failure; *fail is set to PRX_FAIL_DNS,
 *         PRX_FAIL_CONNECT or PRX_FAIL_BLOCKED (ProxyBlock matched an
 *         address of the target; 403); the caller answers
 *         prx_fail_status(); the core logged it and did the error state
 *         bookkeeping.
 */
PRX_DECLARE(apr_status_t) prx_conn_connect(prx_conn *c, request_rec *r,
                                           const char *host, apr_port_t port,
                                           prx_fail *fail);

/**
 * A check prx_conn_connect_check() runs on each address of the next hop
 * right after its TCP connect, on the plain connection: APR_SUCCESS keeps
 * it; anything else abandons that address (the core closes the socket)
 * and the next one is tried -- e.g. an upstream proxy that refused
 * CONNECT (spec http.md §2.3). The check logs its own reason.
 */
typedef apr_status_t prx_conn_check_fn(prx_conn *c, request_rec *r,
                                       void *baton);

/**
 * prx_conn_connect() with `check` (may be NULL) run on each address that
 * accepts the connection. A pooled connection is returned unchecked. When
 * no address passes, the result is a connect failure (PRX_FAIL_CONNECT,
 * with the error state bookkeeping of one).
 */
PRX_DECLARE(apr_status_t) prx_conn_connect_check(prx_conn *c,
                                                 request_rec *r,
                                                 const char *host,
                                                 apr_port_t port,
                                                 prx_conn_check_fn *check,
                                                 void *baton,
                                                 prx_fail *fail);

/** @return non-zero when outgoing TLS (mod_ssl) is available, so that a
 *  scheme module can decline https:// cleanly when it is not. */
PRX_DECLARE(int) prx_conn_tls_available(prx_worker *w, request_rec *r);

/**
 * Start TLS on the connected plain connection `c`, e.g. inside a CONNECT
 * tunnel through a ProxyRemote upstream (spec http.md §2.3), with the
 * SSLProxy* settings of `c`'s worker and the server name of spec http.md
 * §2.4 for the target `host` (the client's Host under ProxyPreserveHost).
 * The handshake happens on the first write; its failure shows there.
 * @return APR_SUCCESS; APR_ENOTIMPL when proxy TLS is not enabled for the
 *         worker (logged), or another error (logged). Never blocks.
 */
PRX_DECLARE(apr_status_t) prx_conn_tls_start(prx_conn *c, request_rec *r,
                                             const char *host);

/**
 * ProxyBlock (spec core.md §3.12): @return non-zero, with a warning
 * logged, when `host` contains a blocked word or `addrs` (may be NULL)
 * holds a blocked address. For scheme modules that connect by themselves
 * (mod_proxy_connect); prx_conn_connect() already checks.
 */
PRX_DECLARE(int) prx_blocked(request_rec *r, const char *host,
                             apr_sockaddr_t *addrs);

/** Give `c` back. It is pooled only when the worker reuses connections,
 *  `c->close` is clear and the socket is connected; otherwise closed. */
PRX_DECLARE(void) prx_conn_release(prx_conn *c);

/**
 * Read up to *len bytes from `c`. Blocking reads wait up to the socket
 * timeout. @return APR_SUCCESS (*len > 0), APR_EAGAIN (non-blocking and
 * nothing there), APR_EOF, APR_TIMEUP, or another error. Counts bytes into
 * the worker's bytes_read.
 */
PRX_DECLARE(apr_status_t) prx_conn_read(prx_conn *c, char *buf,
                                        apr_size_t *len, int block);

/**
 * Write every byte of `vec` (blocking, with the socket timeout). Counts
 * bytes into the worker's bytes_written.
 * @return APR_SUCCESS, APR_TIMEUP, or the socket error.
 */
PRX_DECLARE(apr_status_t) prx_conn_write(prx_conn *c, struct iovec *vec,
                                         int nvec);

/** Change the I/O timeout of connected `c` (e.g. to `ping` while waiting
 *  for 100-continue, and back). Later blocking reads and writes use it. */
PRX_DECLARE(void) prx_conn_timeout_set(prx_conn *c, apr_interval_time_t t);

/** @return non-zero when the peer of an idle connection closed it or sent
 *  unexpected data (it must not be reused). Never blocks. */
PRX_DECLARE(int) prx_conn_is_stale(prx_conn *c);

/* -- tunnels (CONNECT, Upgrade) ------------------------------------------------ */

typedef struct prx_tunnel prx_tunnel;

/**
 * Prepare a two-way relay between `r`'s client connection and the
 * connected backend connection `c`, after the response that opens it (101,
 * or 200 for CONNECT) has been sent and flushed to the client.
 * @param data, len  backend bytes already read past that response (they
 *                   are sent to the client first), or NULL, 0
 * From here on the tunnel owns `c`. Allocates from r->pool.
 */
PRX_DECLARE(apr_status_t) prx_tunnel_create(prx_tunnel **t, request_rec *r,
                                            prx_conn *c, const char *data,
                                            apr_size_t len);

#define PRX_TUNNEL_NO_HALFCLOSE 0x1 /**< end as soon as either side ends
                                         (as env proxy-nohalfclose does) */
#define PRX_TUNNEL_NO_TIMEOUT   0x2 /**< no idle timeout: relay until a side
                                         ends or fails */
#define PRX_TUNNEL_NEED_REPLY   0x4 /**< the opening response is relayed by
                                         the tunnel itself: until a first
                                         byte reached the client the tunnel
                                         is not parked, the client's side is
                                         not shut down, and the backend's
                                         end gives HTTP_BAD_GATEWAY: the
                                         caller can still answer (see
                                         prx_tunnel_replied()) */

/**
 * Semantics other than spec http.md §7.3 for tunnel `t` (e.g. the legacy
 * mode of mod_proxy_wstunnel): PRX_TUNNEL_* flags, or-ed. Call between
 * prx_tunnel_create() and prx_tunnel_run(). NO_HALFCLOSE adds to what
 * proxy-nohalfclose says; the other flags replace earlier calls' values.
 */
PRX_DECLARE(void) prx_tunnel_flags_set(prx_tunnel *t, unsigned int flags);

/**
 * Relay until both directions have ended (half-close passed on), an I/O
 * error, or the idle timeout (the larger of the client's and the backend's
 * socket timeouts; spec http.md §7.3).
 * @return OK; HTTP_GATEWAY_TIME_OUT (idle timeout); HTTP_BAD_GATEWAY (an
 *         error before anything reached the client); HTTP_INTERNAL_SERVER_
 *         ERROR (poll failure); or SUSPENDED under the event MPM when the
 *         tunnel went idle and was parked: return SUSPENDED from the scheme
 *         handler and do NOT release `c` -- the core finishes the request,
 *         closes both connections and releases `c` when the tunnel ends.
 *         For any other result the caller releases `c` (marked to close).
 * Blocks (in the caller's thread) while data flows.
 */
PRX_DECLARE(int) prx_tunnel_run(prx_tunnel *t);

/** @return non-zero once a byte of the backend reached the client through
 *  tunnel `t` (after prx_tunnel_run(): whether the client still expects an
 *  HTTP answer from us, with PRX_TUNNEL_NEED_REPLY). */
PRX_DECLARE(int) prx_tunnel_replied(const prx_tunnel *t);

/* -- failures ----------------------------------------------------------------- */

/** @return the status a request gets for `f` (0 for NONE). */
PRX_DECLARE(int) prx_fail_status(prx_fail f);
/** @return a short constant name for `f`. Never NULL. */
PRX_DECLARE(const char *) prx_fail_str(prx_fail f);

/**
 * Prepare the proxy's own error response: status line "<code> Proxy
 * Error" and `reason` (HTML-escaped) on the error page. Logs nothing --
 * the caller logs once with its tag.
 * @return `status`, for `return prx_error(r, 502, "...");`
 */
PRX_DECLARE(int) prx_error(request_rec *r, int status, const char *reason);

/* -- URLs ------------------------------------------------------------------------ */

/**
 * Canonicalise an HTTP-family URL for `r` (spec core.md §9): picks the
 * path mode from the request (nocanon, mapping, forward proxy, encoded
 * slashes) and appends r->args as the spec says; sets r->filename.
 * @param scheme   scheme as found in `url`
 * @param rest     text after "scheme:"
 * @return OK, or 400/403 (logged).
 */
PRX_DECLARE(int) prx_canon_http(request_rec *r, const char *scheme,
                                const char *rest, apr_port_t def_port);

/** @return the default port of `scheme` (http 80, https 443, ws 80, wss
 *  443, fcgi 8000, ajp 8009, scgi 4000, uwsgi 3031, ftp 21 ...), 0 if
 *  unknown. */
PRX_DECLARE(apr_port_t) prx_default_port(const char *scheme);

/* -- headers ------------------------------------------------------------------- */

/**
 * Remove the hop-by-hop fields from `t`: Connection and every field it
 * names (tokens separated by ',' or ';'), Proxy-Connection, Keep-Alive,
 * TE, Trailer, Upgrade. Transfer-Encoding and Content-Length are left to
 * the caller, which re-frames the body.
 * @param close_token may be NULL; set non-zero when Connection carried
 *                    "close"
 */
PRX_DECLARE(void) prx_headers_strip_hop_by_hop(apr_table_t *t,
                                               int *close_token);

/** Append X-Forwarded-For/-Host/-Server to `t` when ProxyAddHeaders is on
 *  and `r` is a reverse-proxy request (comma-merged with client values). */
PRX_DECLARE(void) prx_headers_add_forwarded(request_rec *r, apr_table_t *t);

/** @return the Via value this proxy adds for `r` (ProxyVia On/Full), or
 *  NULL when nothing is to be added. */
PRX_DECLARE(const char *) prx_via_value(request_rec *r);

/**
 * Max-Forwards for the forwarded request (spec http.md §3.6; the core has
 * already answered or refused what needed it): @return the value to send,
 * or -1 to send none. Same as prx_req_get(r)->max_forwards.
 */
PRX_DECLARE(apr_int64_t) prx_max_forwards(request_rec *r);

/**
 * What this proxy adds to the request head `t` it forwards for `r`: the
 * X-Forwarded-* fields (prx_headers_add_forwarded()), Via (removed under
 * ProxyVia Block, else prx_via_value() appended) and Max-Forwards
 * (prx_max_forwards()). Values from r->pool.
 */
PRX_DECLARE(void) prx_headers_add_proxy(request_rec *r, apr_table_t *t);

/** ProxyPassReverse for a URL header value: @return the mapped value (from
 *  r->pool) or `v` unchanged. Only for reverse-proxied requests. */
PRX_DECLARE(const char *) prx_reverse_url(request_rec *r, const char *v);

/** ProxyPassReverseCookiePath/Domain for one Set-Cookie value. */
PRX_DECLARE(const char *) prx_reverse_cookie(request_rec *r, const char *v);

#ifdef __cplusplus
}
#endif
#endif /* PRX_CORE_H */
