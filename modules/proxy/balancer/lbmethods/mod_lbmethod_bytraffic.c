/*
 * mod_lbmethod_bytraffic.c -- the "bytraffic" lbmethod (spec
 * lbmethods.md §4): the member that carried the fewest bytes per unit of
 * weight is chosen. The core's candidate walk (prx_balancer_best_worker)
 * decides which members are considered.
 *
 * A member's traffic is bytes sent to it / lbfactor + bytes read from it
 * / lbfactor (two integer divisions; input and output weigh the same);
 * the smallest wins, a tie keeps the earlier member. Nothing is changed
 * by a decision: the counters grow as the scheme modules move bytes, from
 * the start or the last reset, without aging. With a at loadfactor 2
 * (lbfactor 200) and b at 1 (100), after a carried 30000 bytes out and
 * 10000 in, and b 12000 out and 6000 in:
 *
 *   a: 30000/200 + 10000/200 = 150 + 50 = 200
 *   b: 12000/100 +  6000/100 = 120 + 60 = 180   -> b is chosen
 *
 * so a weight-2 member is expected to carry twice the bytes of a weight-1
 * member (not necessarily twice the requests).
 */
#include "lbmethod_module.h"

typedef struct {
    apr_uint64_t min;   /* traffic of the best member so far */
} bytraffic_baton;

static apr_uint64_t traffic(const prx_worker *w)
{
    apr_uint64_t f = w->s->lbfactor > 0 ? (apr_uint64_t)w->s->lbfactor : 1;

    return w->s->bytes_written / f + w->s->bytes_read / f;
}

/* Called by the walk for each member it considers. Lock: b->tmutex. */
static int bytraffic_is_best(prx_worker *current, prx_worker *best,
                             void *baton)
{
    bytraffic_baton *t = baton;
    apr_uint64_t mine = traffic(current);

    if (!best || mine < t->min) {
        t->min = mine;
        return 1;
    }
    return 0;
}

static prx_worker *bytraffic_finder(prx_balancer *b, request_rec *r)
{
    bytraffic_baton t = { 0 };

    return prx_balancer_best_worker(b, r, bytraffic_is_best, &t);
}

static apr_status_t bytraffic_reset(prx_balancer *b, server_rec *s)
{
    int i;

    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        w->s->bytes_written = 0;
        w->s->bytes_read = 0;
    }
    return APR_SUCCESS;
}

static const prx_lbmethod bytraffic = {
    .name = "bytraffic",
    .finder = bytraffic_finder,
    .context = NULL,
    .reset = bytraffic_reset,
    .age = NULL,              /* never called (as in stock) */
    .updatelbstatus = NULL,   /* sticky requests: the default accounting */
};

PRX_LBMETHOD_MODULE(lbmethod_bytraffic_module, bytraffic)
