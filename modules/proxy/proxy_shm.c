/*
 * proxy_shm.c -- where worker state lives: one anonymous shared memory
 * segment, created before the children fork, holding the
 * prx_worker_shared slot of every worker, so that status flags, error
 * times and counters are the same in every child process and thread.
 *
 * We use our own anonymous segment rather than mod_slotmem_shm: stock
 * configurations of plain reverse proxying do not load that module, its
 * anonymous instances share one name, and its named ones are files that it
 * re-attaches by name across restarts, which would carry state into a
 * changed configuration. Balancer persistence (BalancerPersist) is the
 * balancer's business and uses the slotmem provider.
 */
#include "proxy_private.h"

#include <apr_shm.h>

/* One slot per cache line, so busy counters of two workers never share
 * one (false sharing between threads of different workers). */
#define SLOT_ALIGN 64
#define SLOT_SIZE  APR_ALIGN(sizeof(prx_worker_shared), SLOT_ALIGN)

static void count_one(prx_worker *w, server_rec *s, void *baton)
{
    (*(int *)baton)++;
}

typedef struct {
    char *next;    /* the next free slot */
} move_ctx;

/* Copy `w`'s initial state into the next slot and point the worker at it. */
static void move_to_slot(prx_worker *w, server_rec *s, void *baton)
{
    move_ctx *ctx = baton;
    prx_worker_shared *shared = (prx_worker_shared *)ctx->next;

    memcpy(shared, w->s, sizeof(*shared));
    w->s = shared;
    ctx->next += SLOT_SIZE;
}

int shm_workers_post_config(apr_pool_t *pconf, server_rec *s)
{
    int n = 2;  /* the generic reverse and forward workers */
    apr_size_t size;
    apr_shm_t *shm;
    apr_status_t rv;
    move_ctx ctx;

    worker_foreach(s, count_one, &n);
    size = (apr_size_t)n * SLOT_SIZE;
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRXLOGNO(00060)
                     "cannot create %" APR_SIZE_T_FMT " bytes of anonymous "
                     "shared memory for %d workers", size, n);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ctx.next = apr_shm_baseaddr_get(shm);
    memset(ctx.next, 0, size);
    move_to_slot(prx_generic_reverse, s, &ctx);
    move_to_slot(prx_generic_forward, s, &ctx);
    worker_foreach(s, move_to_slot, &ctx);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRXLOGNO(00061)
                 "shared state of %d workers in %" APR_SIZE_T_FMT " bytes",
                 n, size);
    return OK;
}
