/*
 * hc_run.c -- running the health checks in the background (spec hcheck.md
 * §6, §7): a singleton mod_watchdog instance calls us every 100 ms in one
 * child; each tick starts the checks that are due, on a thread pool
 * (ProxyHCTPsize) or one after another, and each finished check moves the
 * member's C flag in shared memory, so every child sees it at once.
 *
 * What one check does on the wire is hc_probe.c's.
 */
#include "hc_private.h"

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_thread_pool.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <unistd.h>

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;

/* State of the checking child; touched by the watchdog callbacks, and
 * the checks (possibly on pool threads) read their own hc_member. The
 * callbacks run under `lock`: mod_watchdog may call STOPPING from the
 * child's exit cleanup on the main thread while its own thread is still
 * in a RUNNING tick, and hc_stop() destroys what tick() uses. When the
 * child exits, a pre-cleanup of its pool stops the checks for good
 * (`exiting`) before any of the pool's sub-pools (worker runtime, balancer
 * state) is destroyed: nothing depends on when mod_watchdog stops its
 * thread. */
static struct {
    apr_thread_mutex_t *lock;  /* from pconf, created before the fork */
    int exiting;               /* the child is going: no more callbacks */
    apr_pool_t *pool;          /* own allocator with a mutex: check
                                  threads create sub-pools concurrently */
    apr_hash_t *members;       /* prx_worker_shared * -> hc_member * */
    apr_pool_t *pool_tick;     /* cleared at every tick */
    apr_thread_pool_t *tp;     /* NULL: checks run in the watchdog thread */
    server_rec *s;             /* main server */
} hc;

/* The balancer module's member-list sync (members the manager added in
 * another child), when it offers one. Without b->tmutex held. */
static void hc_balancer_sync(prx_balancer *b, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(prx_balancer_sync) *sync =
        APR_RETRIEVE_OPTIONAL_FN(prx_balancer_sync);

    if (sync) {
        sync(b, s);
    }
}

/* -- state machine (spec hcheck.md §6) ------------------------------------------- */

/* Counts are cumulative, not consecutive: a pass while healthy keeps
 * fcount, a failure while failed keeps pcount (stock behaviour). */
static void hc_apply(hc_member *m, hc_result res)
{
    prx_worker *w = m->member;
    prx_worker_shared *ws = w->s;
    apr_uint32_t st = apr_atomic_read32(&ws->status);

    if (st & (PRX_WS_HC_FAIL | PRX_WS_IN_ERROR)) {
        if (res == HC_PASS) {
            apr_uint32_t n = apr_atomic_inc32(&ws->hcpcount) + 1;
            if ((int)n >= ws->hcpasses) {
                prx_worker_status_change(ws, 0,
                                         PRX_WS_HC_FAIL | PRX_WS_IN_ERROR);
                apr_atomic_set32(&ws->hcpcount, 0);
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, m->s, PRXLOGNO(00800)
                             "%s (%s): health check passed %u time(s): "
                             "back in service", w->name, m->balancer->name,
                             n);
            }
        }
        return;
    }
    if (res == HC_FAIL) {
        apr_uint32_t n = apr_atomic_inc32(&ws->hcfcount) + 1;
        ws->error_time = apr_time_now();
        if ((int)n >= ws->hcfails) {
            prx_worker_status_change(ws, PRX_WS_HC_FAIL, 0);
            apr_atomic_set32(&ws->hcfcount, 0);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, m->s, PRXLOGNO(00801)
                         "%s (%s): health check failed %u time(s): taken "
                         "out of service (HcFl)", w->name, m->balancer->name,
                         n);
        }
    }
}

/* -- one check ------------------------------------------------------------------- */

static void run_check(hc_member *m)
{
    apr_pool_t *p;
    hc_result res;
    int method = m->member->s->hcmethod;

    apr_pool_create(&p, m->pool);
    apr_pool_tag(p, "prx_hc_check");
    res = hc_probe(m, method, p);
    if (res != HC_NOT_IMPLEMENTED) {
        hc_apply(m, res);
    }
    apr_pool_destroy(p);
    m->updated = apr_time_now();
    apr_atomic_set32(&m->busy, 0);
}

static void *APR_THREAD_FUNC check_task(apr_thread_t *t, void *arg)
{
    run_check(arg);
    return NULL;
}

/* The runtime of member `w`, made the first time a tick sees it. Its
 * first check is one interval later (spec hcheck.md §7.2). */
static hc_member *member_get(prx_balancer *b, prx_worker *w)
{
    hc_member *m = apr_hash_get(hc.members, &w->s, sizeof(w->s));
    prx_worker *h;

    if (m) {
        m->member = w;
        return m;
    }
    m = apr_pcalloc(hc.pool, sizeof(*m));
    apr_pool_create(&m->pool, hc.pool);
    apr_pool_tag(m->pool, "prx_hc_member");
    m->member = w;
    m->balancer = b;
    m->s = b->server;
    m->updated = apr_time_now();
    /* spec hcheck.md §4.1: a helper worker with the member's address and
     * timeouts, its own pool, flags I and G so that it never enters error
     * state, and no connection reuse */
    h = apr_pmemdup(m->pool, w, sizeof(*w));
    h->s = apr_pcalloc(m->pool, sizeof(*h->s));
    h->s->status = PRX_WS_INITIALIZED | PRX_WS_IGNORE_ERRORS
                   | PRX_WS_GENERIC;
    h->balancer = NULL;
    h->rt = NULL;
    h->p.disablereuse = 1;
    prx_worker_child_init(h, m->pool);
    m->helper = h;
    apr_hash_set(hc.members, apr_pmemdup(hc.pool, &w->s, sizeof(w->s)),
                 sizeof(w->s), m);
    return m;
}

static void consider(prx_balancer *b, prx_worker *w, apr_time_t now)
{
    prx_worker_shared *ws = w->s;
    apr_interval_time_t iv;
    hc_member *m;

    if (ws->hcmethod == PRX_HC_NONE
        || (apr_atomic_read32(&ws->status) & PRX_WS_STOPPED)) {
        return;
    }
    m = member_get(b, w);
    if (apr_atomic_read32(&m->busy)) {
        return;
    }
    iv = ws->hcinterval > 0 ? ws->hcinterval : PRX_HC_DEFAULT_INTERVAL;
    if (now <= m->updated + iv) {
        return;
    }
    apr_atomic_set32(&m->busy, 1);
    if (hc.tp && apr_thread_pool_push(hc.tp, check_task, m,
                                      APR_THREAD_TASK_PRIORITY_NORMAL,
                                      NULL) == APR_SUCCESS) {
        return;
    }
    run_check(m);
}

/* One tick: every member of every balancer, each once (inherited
 * balancers are the same objects: visit them under their own server). */
static void tick(void)
{
    apr_time_t now = apr_time_now();
    server_rec *vs;

    for (vs = hc.s; vs; vs = vs->next) {
        apr_array_header_t *bl = prx_server_conf_get(vs)->balancers;
        int i, j;

        for (i = 0; i < bl->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(bl, i, prx_balancer *);
            apr_array_header_t *snap;

            if (b->server != vs) {
                continue;
            }
            hc_balancer_sync(b, vs);
            /* the member list may grow under the balancer's lock in this
             * child (members added by the manager): take a copy */
            if (b->tmutex) {
                apr_thread_mutex_lock(b->tmutex);
            }
            snap = apr_array_copy(hc.pool_tick, b->members);
            if (b->tmutex) {
                apr_thread_mutex_unlock(b->tmutex);
            }
            for (j = 0; j < snap->nelts; j++) {
                consider(b, APR_ARRAY_IDX(snap, j, prx_worker *), now);
            }
        }
    }
}

/* -- the watchdog ------------------------------------------------------------------ */

static apr_status_t hc_start(apr_pool_t *wdpool)
{
    apr_allocator_t *alloc;
    apr_thread_mutex_t *mx;
    int n = hc_conf(hc.s)->tpsize;
    apr_status_t rv;

    /* `wdpool` lives for one callback only; ours until STOPPING. Not a
     * child of the child's pool either: that one belongs to the main
     * thread, we are the watchdog's */
    apr_allocator_create(&alloc);
    apr_pool_create_unmanaged_ex(&hc.pool, NULL, alloc);
    apr_allocator_owner_set(alloc, hc.pool);
    apr_thread_mutex_create(&mx, APR_THREAD_MUTEX_DEFAULT, hc.pool);
    apr_allocator_mutex_set(alloc, mx);
    apr_pool_tag(hc.pool, "prx_hc");
    apr_pool_create(&hc.pool_tick, hc.pool);
    apr_pool_tag(hc.pool_tick, "prx_hc_tick");
    hc.members = apr_hash_make(hc.pool);
    hc.tp = NULL;
    if (n > 0) {
        rv = apr_thread_pool_create(&hc.tp, (apr_size_t)n, (apr_size_t)n,
                                    hc.pool);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, hc.s, PRXLOGNO(00802)
                         "cannot create a pool of %d health check threads; "
                         "the checks run one after another", n);
            hc.tp = NULL;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, hc.s, PRXLOGNO(00803)
                 "health checks start in child %" APR_PID_T_FMT " (%d "
                 "threads)", getpid(), hc.tp ? n : 0);
    return APR_SUCCESS;
}

static void hc_stop(void)
{
    if (hc.tp) {
        /* waits for the running checks */
        apr_thread_pool_destroy(hc.tp);
        hc.tp = NULL;
    }
    if (hc.pool) {
        apr_pool_destroy(hc.pool);
        hc.pool = NULL;
    }
}

static apr_status_t hc_watchdog_callback(int state, void *data,
                                         apr_pool_t *pool)
{
    apr_status_t rv = APR_SUCCESS;

    if (hc.lock) {
        apr_thread_mutex_lock(hc.lock);
    }
    if (hc.exiting) {
        state = -1;   /* hc_child_exit() has stopped everything */
    }
    switch (state) {
    case AP_WATCHDOG_STATE_STARTING:
        rv = hc_start(pool);
        break;
    case AP_WATCHDOG_STATE_RUNNING:
        if (hc.pool) {
            apr_pool_clear(hc.pool_tick);
            tick();
        }
        break;
    case AP_WATCHDOG_STATE_STOPPING:
        hc_stop();
        break;
    }
    if (hc.lock) {
        apr_thread_mutex_unlock(hc.lock);
    }
    return rv;
}

static apr_status_t hc_child_exit(void *data)
{
    if (hc.lock) {
        apr_thread_mutex_lock(hc.lock);
    }
    hc.exiting = 1;
    hc_stop();
    if (hc.lock) {
        apr_thread_mutex_unlock(hc.lock);
    }
    return APR_SUCCESS;
}

void hc_run_child_init(apr_pool_t *pchild)
{
    hc.exiting = 0;
    apr_pool_pre_cleanup_register(pchild, NULL, hc_child_exit);
}

int hc_run_post_config(apr_pool_t *pconf, server_rec *s)
{
    ap_watchdog_t *wd;
    apr_status_t rv;

    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get_instance || !wd_register) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PRXLOGNO(00804)
                     "mod_proxy_hcheck: mod_watchdog is required (LoadModule "
                     "watchdog_module)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* a singleton: the checks run in exactly one child at a time */
    rv = wd_get_instance(&wd, HC_WATCHDOG_NAME, 0, 1, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRXLOGNO(00805)
                     "mod_proxy_hcheck: cannot create the watchdog %s",
                     HC_WATCHDOG_NAME);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    hc.s = s;
    hc.lock = NULL;
    apr_thread_mutex_create(&hc.lock, APR_THREAD_MUTEX_DEFAULT, pconf);
    rv = wd_register(wd, HC_TICK, s, hc_watchdog_callback);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PRXLOGNO(00806)
                     "mod_proxy_hcheck: cannot register with the watchdog "
                     "%s", HC_WATCHDOG_NAME);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
