/*
 * proxy_private.h -- what the files of the core (mod_proxy.so) share with
 * each other and nobody else: the module record, internal types and the
 * helpers one file offers another. All of it is hidden from other modules
 * (the build uses -fvisibility=hidden); the public API is prx_core.h.
 */
#ifndef PRX_PROXY_PRIVATE_H
#define PRX_PROXY_PRIVATE_H

#include "prx_core.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

extern module AP_MODULE_DECLARE_DATA proxy_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(proxy);
#endif

#define PRX_HANDLER_NAME "proxy-server"
#define PRX_FILENAME_PREFIX "proxy:"
#define PRX_FILENAME_PREFIX_LEN 6

/* Limits of the spec (core.md §3.1, §8.1). */
#define PRX_WORKER_NAME_MAX 384
#define PRX_HOSTNAME_MAX    256
#define PRX_UDS_PATH_MAX    96
#define PRX_PREGSUB_MAX     (64 * 1024)

/* Request notes the spec makes visible (core.md §14). */
#define PRX_NOTE_NOCANON  "proxy-nocanon"
#define PRX_NOTE_NOQUERY  "proxy-noquery"
#define PRX_NOTE_NOENCODE "proxy-noencode"
#define PRX_NOTE_UDS      "uds_path"

/* -- proxy_config.c -------------------------------------------------------- */

extern const command_rec prx_cmds[];
void *config_server_create(apr_pool_t *p, server_rec *s);
void *config_server_merge(apr_pool_t *p, void *basev, void *addv);
void *config_dir_create(apr_pool_t *p, char *dir);
void *config_dir_merge(apr_pool_t *p, void *basev, void *addv);

/* -- proxy_params.c ------------------------------------------------------- */

/** Defaults of a new worker, copying the server's ProxyTimeout etc. */
void params_init(prx_worker_params *wp, const prx_server_conf *sc);

/**
 * Apply one worker parameter `key`=`val` to `w`.
 * @return NULL, or an error message (from `p`) naming the parameter, the
 *         value and what is allowed.
 */
const char *params_set_worker(apr_pool_t *p, prx_worker *w, const char *key,
                              const char *val);

/** Turn the `status=` flag string into set/clear masks. */
const char *params_parse_status(const char *val, unsigned int *set,
                                unsigned int *clear);

/* -- proxy_worker.c ------------------------------------------------------- */

/**
 * Split a worker URL into its normalised name and parts.
 * @param url   "[unix:/path|]scheme://host[:port][/path]"
 * @return NULL or an error message.
 */
const char *worker_parse_url(apr_pool_t *p, const char *url,
                             const char **name, const char **scheme,
                             const char **host, apr_port_t *port,
                             const char **uds_path);

/** Sharing lookup at configuration time (spec core.md §8.2). */
prx_worker *worker_lookup_config(apr_array_header_t *workers,
                                 const char *name);

/** Create a worker for `url` (in no list). */
const char *worker_new(apr_pool_t *p, server_rec *s, prx_server_conf *sc,
                       const char *url, int is_pattern, prx_worker **out);

/** Create a worker for `url` in `sc`'s list of workers. */
const char *worker_create(apr_pool_t *p, server_rec *s, prx_server_conf *sc,
                          const char *url, int is_pattern,
                          prx_worker **out);

typedef void (*worker_fn)(prx_worker *w, server_rec *owner, void *baton);

/** Call `fn` once for every configured worker (not the generic one), with
 *  the server that defined it. */
void worker_foreach(server_rec *s, worker_fn fn, void *baton);

/** Child init: per-child runtime of every worker of every server. */
void worker_child_init(apr_pool_t *pchild, server_rec *s);

/** Post config: resolve defaults once the configuration is complete. */
int worker_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* -- proxy_shm.c ------------------------------------------------------------ */

/** Post config, after worker_post_config(): move every worker's shared
 *  state into one anonymous shared memory segment. */
int shm_workers_post_config(apr_pool_t *pconf, server_rec *s);

/* -- proxy_connpool.c ----------------------------------------------------- */

/** Per-child runtime of a worker: its connection pool and DNS cache. */
struct prx_worker_rt {
    apr_pool_t *pool;             /* tagged "prx_worker_rt" */
    apr_thread_mutex_t *mutex;    /* guards everything below; NULL if
                                     the MPM runs one thread per child */
    apr_thread_cond_t *cond;      /* waiters for a free slot (acquire) */
    int waiters;                  /* threads waiting on cond */
    prx_conn **idle;              /* stack of idle connected conns,
                                     oldest at the bottom */
    int nidle;
    prx_conn **spare;             /* unconnected slots kept for reuse */
    int nspare;
    int cap;                      /* size of both stacks = max */
    int in_use;                   /* handed out right now */
    int max, smax, min;
    apr_pool_t *addr_pool;        /* holds the cached resolution */
    apr_sockaddr_t *addr;         /* cached resolution, or NULL */
    apr_time_t addr_expiry;       /* 0 = never */
    apr_port_t addr_port;
    const char *addr_host;
};

void connpool_init_worker(prx_worker *w, apr_pool_t *pchild, int threads);
/** A tunnel took `c` for its whole life: stop counting it against max. */
void connpool_detach(prx_conn *c);

/* -- proxy_balancer.c ------------------------------------------------------- */

/** Find (or, with `create`, make) the balancer of `url` in cmd's server. */
const char *balancer_get(cmd_parms *cmd, const char *url, int create,
                         prx_balancer **out);
/** key=value words of `args` as balancer parameters; errors name `who`. */
const char *balancer_apply_words(cmd_parms *cmd, prx_balancer *b,
                                 const char *who, const char *args);
const char *balancer_set_member(cmd_parms *cmd, void *dconf,
                                const char *args);
const char *balancer_set_growth(cmd_parms *cmd, void *dconf, const char *v);
const char *balancer_set_persist(cmd_parms *cmd, void *dconf, int flag);
const char *balancer_set_inherit(cmd_parms *cmd, void *dconf, int flag);
void balancer_post_config(server_rec *s);
/** A virtual host's balancers after inheriting `base`'s: same-named ones
 *  merged (spec balancer.md §12.3). Allocates from `p`; changes neither
 *  list. */
apr_array_header_t *balancer_merge_lists(apr_pool_t *p,
                                         const apr_array_header_t *base,
                                         const apr_array_header_t *add);

/* -- proxy_config.c (shared with proxy_balancer.c) ------------------------- */

/** key=value words of `args` as worker parameters of `w`; when `shared`
 *  (an earlier rule's worker), each is validated and ignored with a
 *  warning. */
const char *worker_apply_words(cmd_parms *cmd, prx_worker *w, int shared,
                               const char *url, const char *who,
                               const char *args);

/* -- proxy_sections.c ----------------------------------------------------- */

const char *sections_set_proxy_section(cmd_parms *cmd, void *dummy,
                                       const char *arg);
const char *sections_set_proxy_set(cmd_parms *cmd, void *dconf,
                                   const char *args);
/** The <Proxy url> section whose URL is exactly `w`'s name, or NULL. */
ap_conf_vector_t *sections_of_worker(server_rec *s, apr_pool_t *ptemp,
                                     prx_worker *w);
/** map_to_storage: merge the <Proxy> sections matching `r`'s URL. */
void sections_apply(request_rec *r);
/** post_config: let other modules (mod_ssl) finish each section's config. */
int sections_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp, server_rec *s);

/* -- proxy_status.c --------------------------------------------------------- */

void status_register_hooks(void);

/* -- proxy_forward.c -------------------------------------------------------- */

void forward_init_conf(apr_pool_t *p, prx_server_conf *sc);
const char *forward_set_requests(cmd_parms *cmd, void *dconf, int flag);
const char *forward_set_remote(cmd_parms *cmd, void *dconf, const char *a1,
                               const char *a2, const char *a3);
const char *forward_set_noproxy(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *forward_set_block(cmd_parms *cmd, void *dconf, const char *arg);
const char *forward_set_domain(cmd_parms *cmd, void *dconf, const char *arg);
int forward_post_read_request(request_rec *r);
void forward_warn_open(server_rec *s);
int forward_is_direct(request_rec *r, const char *host);
int forward_blocked_name(request_rec *r, const char *host);
/** The next ProxyRemote entry matching `url` from index *from on (advanced
 *  past it); sets the proxy-basic-creds note. @return its host or NULL. */
const char *forward_next_remote(request_rec *r, const char *url,
                                const char *scheme, int *from,
                                apr_port_t *port);
int forward_domain_redirect(request_rec *r);
PRX_DECLARE(int) prx_blocked_addr(request_rec *r, apr_sockaddr_t *addrs);

/* -- proxy_tunnel.c --------------------------------------------------------- */

void tunnel_child_init(apr_pool_t *pchild, server_rec *s);
void tunnel_suspend_connection(conn_rec *c, request_rec *r);
void tunnel_child_stopping(apr_pool_t *pchild, int graceful);

/* -- proxy_tls.c ------------------------------------------------------------ */

int tls_scheme(const char *scheme);
const char *tls_server_name(request_rec *r, const char *host);
apr_status_t tls_setup(prx_conn *c, request_rec *r, const char *sni);
apr_status_t tls_read(prx_conn *c, char *buf, apr_size_t *len, int block);
apr_status_t tls_write(prx_conn *c, struct iovec *vec, int nvec);

/* -- proxy_route.c -------------------------------------------------------- */

int route_pre_translate(request_rec *r);
int route_translate(request_rec *r);
int route_map_to_storage(request_rec *r);
int route_fixups(request_rec *r);

/** Interpolate ${VAR} from r->subprocess_env into `s` (core.md §3.8). */
const char *route_interpolate(request_rec *r, const char *s);

/** Create or fetch the per-request state of `r`. */
prx_req *route_req_make(request_rec *r);

/* -- proxy_reverse.c ------------------------------------------------------ */

/** Fixups: per-request interpolated copies of the reverse tables. */
void reverse_prepare(request_rec *r, prx_req *pr, prx_dir_conf *d);

/* -- proxy_headers.c ------------------------------------------------------ */

/** Handler-time Max-Forwards / TRACE / OPTIONS processing (http.md §3.6).
 *  @return DECLINED to go on proxying, else the final status. */
int headers_max_forwards_check(request_rec *r);

/* -- mod_proxy.c ---------------------------------------------------------- */

/** The workers used when a request's backend URL has no configured one. */
extern prx_worker *prx_generic_reverse;
extern prx_worker *prx_generic_forward;

#endif /* PRX_PROXY_PRIVATE_H */
