/*
 * balancer_private.h -- what the files of mod_proxy_balancer share: the
 * module record, the per-balancer private state (prx_balancer.context),
 * the layout of a member's slot, and the helpers one file offers another.
 * Hidden from other modules; the public side is include/prx_balancer.h.
 */
#ifndef PRX_BALANCER_PRIVATE_H
#define PRX_BALANCER_PRIVATE_H

#include "prx_core.h"
#include "prx_lbmethod.h"
#include "prx_balancer.h"

#include <apr_global_mutex.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <ap_slotmem.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

extern module AP_MODULE_DECLARE_DATA proxy_balancer_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(proxy_balancer);
#endif

/** The mutex type of the cross-process lock (Mutex directive). */
#define BAL_MUTEX_TYPE "proxy-balancer-shm"

/** Longest member URL kept for re-creating a member in another child
 *  ("unix:/path|" + a worker name). */
#define BAL_URL_MAX (PRX_HOSTNAME_MAX_PUBLIC + 512)

/**
 * One slot of a balancer's member slot memory. A member's w->s points at
 * `s`, so `s` must stay first. `url` and `runtime` let another child (or
 * the next generation, with BalancerPersist) make the member again.
 */
typedef struct {
    prx_worker_shared s;
    char url[BAL_URL_MAX];       /* as configured or added */
    apr_uint32_t runtime;        /* added at run time (manager) */
    volatile apr_uint32_t used;  /* holds a member; set last */
} bal_member_slot;

/** One slot of a server's balancer slot memory. */
typedef struct {
    prx_balancer_shared s;       /* b->s points here; first */
    volatile apr_uint32_t used;
} bal_balancer_slot;

/** Per-balancer private state (prx_balancer.context), made at post_config
 *  in the parent; the per-child fields are set at child init. */
typedef struct {
    ap_slotmem_instance_t *wslots;   /* member slots */
    unsigned int nslots;
    bal_member_slot **slots;         /* pointers into the slot memory */
    unsigned char *known;            /* [nslots] attached in this child */
    apr_global_mutex_t *gmutex;      /* member-list changes, all children */
    const char *gmutex_id;
    apr_time_t wupdated;             /* b->s->wupdated at our last sync */
    apr_pool_t *rt_pool;             /* per child: run-time members;
                                        used under b->tmutex only */
    int persisted;                   /* BalancerPersist of its server */
} bal_ctx;

/* -- balancer_shm.c -------------------------------------------------------- */

/** pre_config: register the mutex type. */
int bal_shm_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp);
/** post_config: slot memory and global mutexes of every balancer; members'
 *  w->s into the slots. @return OK or a startup failure (logged). */
int bal_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s);
/** child init: thread and global mutexes, the first sync. */
void bal_shm_child_init(apr_pool_t *pchild, server_rec *s);
/** prx_balancer_sync() with b->tmutex already held. */
void bal_sync_locked(prx_balancer *b, server_rec *s);

/* -- mod_proxy_balancer.c -------------------------------------------------- */

/** @return non-zero when `w` is usable by its flags (spec balancer.md §3:
 *  O set, none of U D S E C). */
static APR_INLINE int bal_usable(const prx_worker *w)
{
    apr_uint32_t st = w->s->status;
    return (st & PRX_WS_INITIALIZED) && !(st & PRX_WS_UNUSABLE);
}

#endif /* PRX_BALANCER_PRIVATE_H */
