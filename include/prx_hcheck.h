/*
 * prx_hcheck.h -- what mod_proxy_hcheck offers other modules: the health
 * check method numbers kept in prx_worker_shared.hcmethod, their names,
 * and the optional functions the balancer-manager uses to show and edit a
 * member's checks (spec hcheck.md §1, §9; balancer.md §13.4, §13.6).
 *
 * Who includes it: mod_proxy_hcheck and mod_proxy_balancer (the manager).
 * It promises: the method numbers (stored in shared memory, so they never
 * change meaning), the name table, and the optional functions below. When
 * mod_proxy_hcheck is not loaded the optional functions are absent
 * (APR_RETRIEVE_OPTIONAL_FN gives NULL) and the manager shows no health
 * check columns.
 */
#ifndef PRX_HCHECK_H
#define PRX_HCHECK_H

#include "prx_core.h"

#include <apr_optional.h>
#include <apr_strings.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Health check methods (spec hcheck.md §3), as stored in `hcmethod`. */
typedef enum {
    PRX_HC_NONE = 0,   /**< no checks (the default) */
    PRX_HC_TCP,        /**< connect only */
    PRX_HC_OPTIONS,    /**< OPTIONS * HTTP/1.0 */
    PRX_HC_HEAD,       /**< HEAD <uri> HTTP/1.0 */
    PRX_HC_GET,        /**< GET <uri> HTTP/1.0, body read */
    PRX_HC_CPING,      /**< AJP CPING/CPONG (needs mod_proxy_ajp) */
    PRX_HC_PROVIDER,   /**< reserved, never implemented */
    PRX_HC_OPTIONS11,  /**< as OPTIONS, HTTP/1.1 */
    PRX_HC_HEAD11,     /**< as HEAD, HTTP/1.1 */
    PRX_HC_GET11,      /**< as GET, HTTP/1.1 */
    PRX_HC_METHOD_COUNT
} prx_hc_method;

/** @return the name of method `m` ("NONE", "GET11", ...), "???" when `m`
 *  is out of range. Never NULL. */
static inline const char *prx_hc_method_name(int m)
{
    static const char *const names[PRX_HC_METHOD_COUNT] = {
        "NONE", "TCP", "OPTIONS", "HEAD", "GET", "CPING", "PROVIDER",
        "OPTIONS11", "HEAD11", "GET11"
    };
    return m >= 0 && m < PRX_HC_METHOD_COUNT ? names[m] : "???";
}

/** @return the method named `name` (case-insensitive), or -1. */
static inline int prx_hc_method_find(const char *name)
{
    int m;

    for (m = 0; m < PRX_HC_METHOD_COUNT; m++) {
        if (!strcasecmp(name, prx_hc_method_name(m))) {
            return m;
        }
    }
    return -1;
}

/** @return non-zero when method `m` uses an hcexpr (the HTTP methods). */
static inline int prx_hc_method_has_expr(int m)
{
    return m == PRX_HC_OPTIONS || m == PRX_HC_HEAD || m == PRX_HC_GET
           || m == PRX_HC_OPTIONS11 || m == PRX_HC_HEAD11
           || m == PRX_HC_GET11;
}

/** Default interval of a member's checks (spec hcheck.md §2). */
#define PRX_HC_DEFAULT_INTERVAL apr_time_from_sec(30)
/** Shortest interval accepted anywhere (hcinterval, ProxyHCTemplate, the
 *  manager's w_hi). */
#define PRX_HC_MIN_INTERVAL apr_time_from_msec(100)

/**
 * @return non-zero when this build can perform method `m` (NONE included;
 * CPING only when mod_proxy_ajp offers it; PROVIDER never).
 * Any context, no lock.
 */
APR_DECLARE_OPTIONAL_FN(int, prx_hc_implemented, (int m));

/**
 * @return non-zero when `name` is a ProxyHCExpr defined for server `s`.
 * Any context, no lock.
 */
APR_DECLARE_OPTIONAL_FN(int, prx_hc_expr_exists, (server_rec *s,
                                                  const char *name));

/**
 * Write (ap_rputs) the HTML table rows of the ProxyHCExpr definitions of
 * r->server: one `<tr><td>name</td><td>expression</td></tr>` per
 * expression, HTML-escaped; with `count_only` write nothing.
 * @return the number of expressions.
 */
APR_DECLARE_OPTIONAL_FN(int, prx_hc_expr_rows, (request_rec *r,
                                                int count_only));

/**
 * Write one `<option>` per ProxyHCExpr of r->server (value = name,
 * escaped), the one named `selected` (may be NULL or "") marked selected.
 */
APR_DECLARE_OPTIONAL_FN(void, prx_hc_expr_options, (request_rec *r,
                                                    const char *selected));

/**
 * Offered by mod_proxy_ajp (register it under this name): send an AJP
 * CPING on the connected `c` and wait up to `timeout` for the CPONG.
 * @return APR_SUCCESS when the CPONG arrived in time, else the failure.
 * Its presence makes the CPING health check method available.
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, prx_ajp_cping,
                        (prx_conn *c, request_rec *r,
                         apr_interval_time_t timeout));

/**
 * Give the health check fields of `ws` the defaults of a member that was
 * never configured for checks (method NONE, interval 30 s, passes 1,
 * fails 1, no uri, no expression), e.g. for a member the manager adds at
 * run time. Caller holds the balancer lock or owns `ws`.
 */
static inline void prx_hc_shared_defaults(prx_worker_shared *ws)
{
    ws->hcmethod = PRX_HC_NONE;
    ws->hcinterval = PRX_HC_DEFAULT_INTERVAL;
    ws->hcpasses = 1;
    ws->hcfails = 1;
    ws->hcpcount = 0;
    ws->hcfcount = 0;
    ws->hcuri[0] = '\0';
    ws->hcexpr[0] = '\0';
}

#ifdef __cplusplus
}
#endif
#endif /* PRX_HCHECK_H */
