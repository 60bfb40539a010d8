/*
 * mod_lbmethod_byrequests.c -- the "byrequests" lbmethod (spec
 * lbmethods.md §3): weighted request counting, the default method of a
 * balancer. Only the comparison and the pay-back live here; lbsets, hot
 * spares, standbys and draining members are the core's candidate walk
 * (prx_balancer_best_worker).
 *
 * Every member the walk considers earns its weight (lbfactor, loadfactor
 * x 100) in its lbstatus; the member with the highest lbstatus is chosen
 * and pays back what all of them earned, so the sum of lbstatus does not
 * change and each member is chosen in proportion to its weight. With
 * weights a=3, b=1 (lbfactor 300, 100), both starting at 0:
 *
 *   decision  earn (a, b)   chosen           after paying 400 (a, b)
 *   1         300,  100     a                -100,  100
 *   2         200,  200     a (tie: earlier) -200,  200
 *   3         100,  300     b                 100, -100
 *   4         400,    0     a                   0,    0   -> a a b a ...
 *
 * A member that is unusable, draining or in a higher lbset is not
 * considered: it neither earns nor pays.
 */
#include "lbmethod_module.h"

typedef struct {
    apr_int32_t total;   /* weights handed out in this decision */
} byrequests_baton;

/* Called by the walk for each member it considers. Lock: b->tmutex. */
static int byrequests_is_best(prx_worker *current, prx_worker *best,
                              void *baton)
{
    byrequests_baton *t = baton;

    current->s->lbstatus += current->s->lbfactor;
    t->total += current->s->lbfactor;
    return !best || current->s->lbstatus > best->s->lbstatus;
}

static prx_worker *byrequests_finder(prx_balancer *b, request_rec *r)
{
    byrequests_baton t = { 0 };
    prx_worker *w = prx_balancer_best_worker(b, r, byrequests_is_best, &t);

    if (w) {
        w->s->lbstatus -= t.total;
    }
    return w;
}

static apr_status_t byrequests_reset(prx_balancer *b, server_rec *s)
{
    int i;

    for (i = 0; i < b->members->nelts; i++) {
        APR_ARRAY_IDX(b->members, i, prx_worker *)->s->lbstatus = 0;
    }
    return APR_SUCCESS;
}

static const prx_lbmethod byrequests = {
    .name = "byrequests",
    .finder = byrequests_finder,
    .context = NULL,
    .reset = byrequests_reset,
    .age = NULL,              /* never called (as in stock) */
    .updatelbstatus = NULL,   /* sticky requests: the default accounting */
};

PRX_LBMETHOD_MODULE(lbmethod_byrequests_module, byrequests)
