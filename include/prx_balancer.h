/*
 * prx_balancer.h -- what mod_proxy_balancer offers other code at run time:
 * the member-list synchronisation, members added while the server runs
 * (balancer-manager, spec balancer.md §13.5), the free-slot count and the
 * locks that guard changes of a balancer's shared state.
 *
 * Who includes it: the balancer-manager (balancer_manager.c, built into
 * mod_proxy_balancer.so) and any module that changes balancers at run
 * time. It promises: the functions below and their locking rules. The
 * functions are exported from mod_proxy_balancer.so, so a separate module
 * using them must be loaded after it.
 *
 * How run-time changes travel between the children: shared fields
 * (b->s, w->s) live in slot memory every child maps. A change of the
 * member list (a member added) or of b->s->lbpname is announced with
 * prx_balancer_touch() (b->s->wupdated := now); each child compares that
 * time with its own at its next prx_balancer_sync() -- done before every
 * election and at the start of every manager request -- and attaches the
 * members it does not know yet, re-reads the lbmethod, and runs the
 * lbmethod's reset when b->s->need_reset is set.
 */
#ifndef PRX_BALANCER_H
#define PRX_BALANCER_H

#include "prx_core.h"
#include "prx_lbmethod.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bring this child's view of `b` up to date with shared memory (spec
 * balancer.md §8 step 4): members that other children added are
 * attached (connection pool included), the lbmethod is looked up again
 * from b->s->lbpname when the member list changed, and the lbmethod's
 * reset runs (and b->s->need_reset is cleared) when need_reset is set.
 * Takes and releases b->tmutex: call it without holding
 * prx_balancer_lock().
 * @return APR_SUCCESS, or the error of taking the lock (logged).
 */
PRX_DECLARE(apr_status_t) prx_balancer_sync(prx_balancer *b, server_rec *s);

/** The same, as an optional function (registered by mod_proxy_balancer),
 *  for modules that must not depend on being loaded after it:
 *  APR_RETRIEVE_OPTIONAL_FN(prx_balancer_sync). */
APR_DECLARE_OPTIONAL_FN(apr_status_t, prx_balancer_sync,
                        (prx_balancer *b, server_rec *s));

/**
 * Add a member for `url` (BalancerMember syntax: "[unix:/path|]scheme://
 * host[:port][/path]") to `b` at run time, as the manager's b_nwrkr/b_wyes
 * does (spec balancer.md §13.5): under the balancer's per-child and
 * cross-process locks, the member gets a free slot of the balancer's slot
 * memory, the server's ProxyTimeout/ProxyIOBufferSize/
 * ProxyReceiveBufferSize defaults, its connection pool in this child, and
 * the D (disabled) flag, as members added through the manager start
 * disabled; b->s->wupdated and the member's w->s->updated become now, so
 * every other child attaches it at its next sync. With BalancerPersist On
 * the member survives restarts (restored from the persisted slots).
 * Call it without holding prx_balancer_lock() (it takes the locks).
 * @param out  the new member (may be NULL)
 * @return APR_SUCCESS; APR_EEXIST when `b` has a member of that URL
 *         (normalised); APR_ENOSPC when no member slot is free (growth=
 *         exhausted); APR_EINVAL when `url` is no valid member URL (logged
 *         with the reason); another error of the locks (logged). A
 *         manager answers 400 to anything but APR_SUCCESS.
 * May block on the locks. Allocates from a per-child pool of `b`.
 */
PRX_DECLARE(apr_status_t) prx_balancer_manage_add(request_rec *r,
                                                  prx_balancer *b,
                                                  const char *url,
                                                  prx_worker **out);

/** @return the number of members that can still be added to `b` at run
 *  time: b->max_members (configured members + growth) less the members
 *  this child knows, 0 at least. Lock-free (a snapshot). */
PRX_DECLARE(int) prx_balancer_free_slots(prx_balancer *b);

/** Announce a change of b->s->lbpname (or of the member list) to every
 *  child: b->s->wupdated := now. A manager that switches the lbmethod
 *  sets b->s->lbpname and b->s->need_reset = 1, then calls this (spec
 *  balancer.md §13.5, b_lbm). Call it with prx_balancer_lock() held. */
PRX_DECLARE(void) prx_balancer_touch(prx_balancer *b);

/**
 * Lock `b` for changes of its shared state (b->s, the members' w->s
 * fields lbfactor, lbset, route, redirect, status, lbstatus): the
 * per-child thread lock b->tmutex (elections and syncs in this child wait)
 * and the balancer's cross-process lock (the mutex type
 * "proxy-balancer-shm", configurable with the core's Mutex directive).
 * Not recursive: do not call prx_balancer_sync() or
 * prx_balancer_manage_add() while holding it.
 * @return APR_SUCCESS, or the error (logged; nothing is held then).
 */
PRX_DECLARE(apr_status_t) prx_balancer_lock(prx_balancer *b,
                                            server_rec *s);

/** Release what prx_balancer_lock() took. */
PRX_DECLARE(void) prx_balancer_unlock(prx_balancer *b, server_rec *s);

#ifdef __cplusplus
}
#endif
#endif /* PRX_BALANCER_H */
