/*
 * prx_lbmethod.h -- the interface of load-balancing methods (lbmethods):
 * the provider record mod_lbmethod_* modules register and
 * mod_proxy_balancer calls (spec lbmethods.md §1).
 *
 * Who includes it: the lbmethod modules and mod_proxy_balancer. It
 * promises: the provider group and version, the record layout, the
 * calling context of each member. Our providers live in our own group,
 * never in stock's "proxylbmethod": a stock lbmethod expects stock's
 * structures and must not be handed ours.
 */
#ifndef PRX_LBMETHOD_H
#define PRX_LBMETHOD_H

#include "prx_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ap_register_provider(p, PRX_LBMETHOD_GROUP, name,
 *  PRX_LBMETHOD_VERSION, &record) in register_hooks. */
#define PRX_LBMETHOD_GROUP   "prx_lbmethod"
#define PRX_LBMETHOD_VERSION "0"

typedef struct prx_lbmethod {
    /** Method name as lbmethod= and the manager spell it (< 16 chars). */
    const char *name;
    /**
     * Choose a member for `r` (no usable sticky route). Must return a
     * usable member or NULL (none available). Runs with the balancer's
     * per-child lock (b->tmutex) held. Never NULL.
     */
    prx_worker *(*finder)(prx_balancer *b, request_rec *r);
    /** Free for the provider's use. */
    void *context;
    /** Forget the method's statistics of every member (the balancer's
     *  need_reset was found set). Same lock. May be NULL. */
    apr_status_t (*reset)(prx_balancer *b, server_rec *s);
    /** Periodic decay; never called (as in stock). May be NULL. */
    apr_status_t (*age)(prx_balancer *b, server_rec *s);
    /** Account for `elected`, chosen by stickiness without the finder.
     *  NULL: the balancer's default accounting (spec balancer.md §7.5). */
    apr_status_t (*updatelbstatus)(prx_balancer *b, prx_worker *elected,
                                   server_rec *s);
} prx_lbmethod;

/** Comparison an lbmethod gives prx_balancer_best_worker(): non-zero when
 *  `current` should replace `best` (which may be NULL: then it must return
 *  non-zero). May update per-member state and `baton`. */
typedef int prx_is_best_fn(prx_worker *current, prx_worker *best,
                           void *baton);

/**
 * The candidate walk shared by byrequests, bytraffic and bybusyness (spec
 * balancer.md §6): lbsets from 0 up, draining members skipped, errored
 * members given their retry check, usable normal members compared with
 * `is_best`, then as many usable hot spares as there are unusable normal
 * members, then hot standbys.
 * @return the best usable member, or NULL. Caller holds b->tmutex.
 */
PRX_DECLARE(prx_worker *) prx_balancer_best_worker(prx_balancer *b,
                                                   request_rec *r,
                                                   prx_is_best_fn *is_best,
                                                   void *baton);

#ifdef __cplusplus
}
#endif
#endif /* PRX_LBMETHOD_H */
