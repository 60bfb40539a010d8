/*
 * mod_lbmethod_bybusyness.c -- the "bybusyness" lbmethod (spec
 * lbmethods.md §5): the member with the fewest requests in flight (busy,
 * counted by the balancer from election to the end of the request) is
 * chosen; among equally busy members byrequests' weighted counting
 * decides. The core's candidate walk (prx_balancer_best_worker) decides
 * which members are considered.
 *
 * Each considered member earns its lbfactor in lbstatus; the chosen one
 * pays back the sum (as byrequests). With a and b at weight 1 (lbfactor
 * 100), lbstatus 0 and 0:
 *
 *   busy a=2, b=1: earn 100, 100 -> b (fewer in flight); pays 200:
 *                  lbstatus a=100, b=-100
 *   busy a=1, b=1: earn 200, 0   -> a (tie on busy, higher lbstatus);
 *                  pays 200: a=0, b=0
 *   busy a=1, b=1: earn 100, 100 -> a (complete tie: the earlier member)
 */
#include "lbmethod_module.h"

typedef struct {
    apr_int32_t total;   /* weights handed out in this decision */
} bybusyness_baton;

/* Called by the walk for each member it considers. Lock: b->tmutex. */
static int bybusyness_is_best(prx_worker *current, prx_worker *best,
                              void *baton)
{
    bybusyness_baton *t = baton;

    current->s->lbstatus += current->s->lbfactor;
    t->total += current->s->lbfactor;
    return !best || current->s->busy < best->s->busy
           || (current->s->busy == best->s->busy
               && current->s->lbstatus > best->s->lbstatus);
}

static prx_worker *bybusyness_finder(prx_balancer *b, request_rec *r)
{
    bybusyness_baton t = { 0 };
    prx_worker *w = prx_balancer_best_worker(b, r, bybusyness_is_best, &t);

    if (w) {
        w->s->lbstatus -= t.total;
    }
    return w;
}

/* Note: zeroing busy while requests are in flight makes it under-count
 * until they end; the balancer never lets it go below 0. */
static apr_status_t bybusyness_reset(prx_balancer *b, server_rec *s)
{
    int i;

    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        w->s->lbstatus = 0;
        w->s->busy = 0;
    }
    return APR_SUCCESS;
}

static const prx_lbmethod bybusyness = {
    .name = "bybusyness",
    .finder = bybusyness_finder,
    .context = NULL,
    .reset = bybusyness_reset,
    .age = NULL,              /* never called (as in stock) */
    .updatelbstatus = NULL,   /* sticky requests: the default accounting */
};

PRX_LBMETHOD_MODULE(lbmethod_bybusyness_module, bybusyness)
