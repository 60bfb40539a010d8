/*
 * hc_private.h -- what the files of mod_proxy_hcheck share: the module
 * record, the per-server configuration (templates, expressions, thread
 * pool size), the per-member runtime of the checking child, and the
 * functions one file offers the others. Hidden from other modules.
 */
#ifndef PRX_HC_PRIVATE_H
#define PRX_HC_PRIVATE_H

#include "prx_core.h"
#include "prx_hcheck.h"
/* prx_balancer_sync as an optional function: this module may be loaded
 * before mod_proxy_balancer */
#include "prx_balancer.h"

#include <ap_expr.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

extern module AP_MODULE_DECLARE_DATA proxy_hcheck_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(proxy_hcheck);
#endif

/** Name of our watchdog instance (spec hcheck.md §7.1). */
#define HC_WATCHDOG_NAME "_proxy_hcheck_"
/** How often the watchdog calls us. */
#define HC_TICK apr_time_from_msec(100)
/** Longest status line / header line of a check response. */
#define HC_MAX_LINE 8192
/** Most header fields kept from a check response. */
#define HC_MAX_FIELDS 100
/** Most body bytes a GET check keeps for hc('body'); the rest is read
 *  and dropped. */
#define HC_MAX_BODY (1024 * 1024)

/** ProxyHCTemplate: the settings hctemplate= copies into a worker. */
typedef struct {
    const char *name;
    int method;
    apr_interval_time_t interval;
    int passes, fails;
    const char *uri;
    const char *expr;
} hc_template;

/** ProxyHCExpr */
typedef struct {
    const char *name;
    const char *source;         /**< as written, for the manager's table */
    ap_expr_info_t *expr;
} hc_expr;

/** Per-server configuration; not inherited by virtual hosts (spec
 *  hcheck.md §2, "same server context"). */
typedef struct {
    apr_array_header_t *templates;  /**< of hc_template, in config order */
    apr_array_header_t *exprs;      /**< of hc_expr, in config order */
    int tpsize;                     /**< ProxyHCTPsize (main server) */
    unsigned int tpsize_set:1;
} hc_server_conf;

/** Outcome of one check. */
typedef enum {
    HC_PASS = 0,
    HC_FAIL,
    HC_NOT_IMPLEMENTED     /**< method unknown here: no state change */
} hc_result;

/** Per-member runtime in the child that runs the checks. */
typedef struct hc_member {
    prx_worker *member;         /**< the balancer member checked */
    prx_balancer *balancer;
    server_rec *s;              /**< server whose ProxyHCExpr apply */
    prx_worker *helper;         /**< own pool, flags I and G, never E */
    apr_pool_t *pool;           /**< holds the helper */
    ap_conf_vector_t *dir_config; /**< for expressions, made once */
    apr_time_t updated;         /**< end of the last check, 0 = running */
    volatile apr_uint32_t busy; /**< a check is queued or running */
} hc_member;

/* -- mod_proxy_hcheck.c ---------------------------------------------------- */

/** @return the configuration of `s`. Never NULL. */
hc_server_conf *hc_conf(server_rec *s);
/** @return the expression `name` of `s`, or NULL. */
hc_expr *hc_expr_find(server_rec *s, const char *name);
/** @return non-zero when CPING can be performed (mod_proxy_ajp). */
int hc_cping_available(void);

/* -- hc_run.c -------------------------------------------------------------- */

/** Post config: get our watchdog and register the tick callback.
 *  @return OK, or 500 (logged) when mod_watchdog is missing. */
int hc_run_post_config(apr_pool_t *pconf, server_rec *s);
/** Child init: stop the checks first thing when the child exits (a
 *  pre-cleanup of `pchild`). */
void hc_run_child_init(apr_pool_t *pchild);

/* -- hc_probe.c ------------------------------------------------------------ */

/**
 * Perform one check of `m` with `method`, allocating from `p` (cleared by
 * the caller afterwards). May block for the member's timeouts. Logs its
 * findings at debug level.
 */
hc_result hc_probe(hc_member *m, int method, apr_pool_t *p);

/** The ap_expr lookup hook providing hc('body') and %{HC_*}. */
int hc_expr_lookup(ap_expr_lookup_parms *parms);

#endif /* PRX_HC_PRIVATE_H */
