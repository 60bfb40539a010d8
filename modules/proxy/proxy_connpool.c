/*
 * proxy_connpool.c -- backend connections: the per-child pool of each
 * worker (acquire / release / reuse checks), name resolution with the
 * per-child address cache, connect with the worker's socket options, and
 * the plain socket I/O every scheme module reads and writes through.
 *
 * Locking: everything in a worker's prx_worker_rt is guarded by rt->mutex
 * (absent when the MPM runs one thread per child). A prx_conn between
 * acquire and release belongs to one request and needs no lock.
 */
#include "proxy_private.h"

#include <apr_atomic.h>
#include <sys/socket.h>
#include <errno.h>

static void rt_lock(struct prx_worker_rt *rt)
{
    if (rt->mutex) {
        apr_thread_mutex_lock(rt->mutex);
    }
}

static void rt_unlock(struct prx_worker_rt *rt)
{
    if (rt->mutex) {
        apr_thread_mutex_unlock(rt->mutex);
    }
}

/* The runtime pool of a worker has an allocator of its own with a mutex:
 * connection sub-pools are used by request threads concurrently, and the
 * child pool's allocator has no lock. */
static apr_pool_t *make_rt_pool(apr_pool_t *pchild, int threads)
{
    apr_allocator_t *alloc;
    apr_pool_t *p;

    apr_allocator_create(&alloc);
    if (threads > 1) {
        apr_thread_mutex_t *m;
        apr_thread_mutex_create(&m, APR_THREAD_MUTEX_DEFAULT, pchild);
        apr_allocator_mutex_set(alloc, m);
    }
    apr_pool_create_ex(&p, pchild, NULL, alloc);
    apr_allocator_owner_set(alloc, p);
    apr_pool_tag(p, "prx_worker_rt");
    return p;
}

/* Allocate one connection slot (memory only). Caller holds the lock. */
static prx_conn *slot_new_locked(prx_worker *w)
{
    struct prx_worker_rt *rt = w->rt;
    prx_conn *c = apr_pcalloc(rt->pool, sizeof(*c));

    apr_pool_create(&c->pool, rt->pool);
    apr_pool_tag(c->pool, "prx_conn");
    c->worker = w;
    return c;
}

void connpool_init_worker(prx_worker *w, apr_pool_t *pchild, int threads)
{
    struct prx_worker_rt *rt = apr_pcalloc(pchild, sizeof(*rt));
    int i;

    rt->pool = make_rt_pool(pchild, threads);
    /* spec core.md §8.5: max defaults to the threads of a child; under a
     * single-threaded MPM there is one connection per worker and child,
     * whatever max says; smax <= max; min <= smax */
    rt->max = threads > 1 && w->p.max > 0 ? w->p.max : threads;
    rt->smax = w->p.smax > 0 && w->p.smax < rt->max ? w->p.smax : rt->max;
    rt->min = w->p.min < rt->smax ? w->p.min : rt->smax;
    rt->cap = rt->max;
    rt->idle = apr_pcalloc(rt->pool, sizeof(prx_conn *) * rt->cap);
    rt->spare = apr_pcalloc(rt->pool, sizeof(prx_conn *) * rt->cap);
    if (threads > 1) {
        apr_thread_mutex_create(&rt->mutex, APR_THREAD_MUTEX_DEFAULT,
                                rt->pool);
        apr_thread_cond_create(&rt->cond, rt->pool);
    }
    w->rt = rt;
    /* `min`: slots allocated up front, as stock does (no connections) */
    for (i = 0; i < rt->min; i++) {
        rt->spare[rt->nspare++] = slot_new_locked(w);
    }
}

static int worker_reuses(const prx_worker *w)
{
    return !w->is_generic && !w->p.disablereuse;
}

/* Close the socket and forget everything that belonged to it; the slot
 * and its (cleared) pool stay. The pool's cleanups free the TLS state. */
static void conn_reset(prx_conn *c)
{
    apr_pool_t *cp = c->pool;
    prx_worker *w = c->worker;

    if (c->sock) {
        apr_socket_close(c->sock);
    }
    apr_pool_clear(cp);
    memset(c, 0, sizeof(*c));
    c->pool = cp;
    c->worker = w;
}

/* Close the socket and keep the slot for the next connection. Caller
 * holds the rt lock. */
static void conn_recycle_locked(prx_conn *c)
{
    struct prx_worker_rt *rt = c->worker->rt;

    conn_reset(c);
    if (rt->nspare < rt->cap) {
        rt->spare[rt->nspare++] = c;
    }
    else {
        apr_pool_destroy(c->pool);
    }
}

PRX_DECLARE(int) prx_conn_is_stale(prx_conn *c)
{
    apr_os_sock_t fd;
    char b;
    ssize_t n;

    if (!c->sock || apr_os_sock_get(&fd, c->sock) != APR_SUCCESS) {
        return 1;
    }
    /* one peek: EOF or unexpected bytes both mean "do not reuse" */
    do {
        n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

static int idle_expired(const prx_worker *w, const prx_conn *c,
                        apr_time_t now)
{
    return w->p.ttl > 0 && now - c->idle_since >= w->p.ttl;
}

/* Pop the newest idle connection that is not past its ttl (closing those
 * that are), or NULL. Whether the backend closed it is checked by the
 * caller, after the lock is released: that costs a system call. */
static prx_conn *take_idle_locked(prx_worker *w, request_rec *r)
{
    struct prx_worker_rt *rt = w->rt;
    apr_time_t now = w->p.ttl > 0 ? apr_time_now() : 0;

    while (rt->nidle > 0) {
        prx_conn *c = rt->idle[--rt->nidle];

        if (idle_expired(w, c, now)) {
            ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r,
                          "%s: pooled connection idle past ttl, closed",
                          w->name);
            conn_recycle_locked(c);
            continue;
        }
        return c;
    }
    return NULL;
}

/* An unconnected slot for a request already counted in rt->in_use. */
static prx_conn *take_slot_locked(prx_worker *w)
{
    struct prx_worker_rt *rt = w->rt;

    if (rt->nidle > 0 && rt->in_use + rt->nidle > rt->max) {
        /* never more than max sockets: drop the oldest idle one */
        conn_recycle_locked(rt->idle[0]);
        memmove(rt->idle, rt->idle + 1, --rt->nidle * sizeof(prx_conn *));
    }
    return rt->nspare > 0 ? rt->spare[--rt->nspare] : slot_new_locked(w);
}

/* spec core.md §5 smax/ttl: idle connections beyond smax that sat idle for
 * ttl are closed, oldest (bottom of the stack) first. */
static void reap_idle_locked(prx_worker *w)
{
    struct prx_worker_rt *rt = w->rt;
    apr_time_t now;
    int i, kept = 0;

    if (w->p.ttl <= 0 || rt->nidle <= rt->smax) {
        return;
    }
    now = apr_time_now();
    for (i = 0; i < rt->nidle; i++) {
        prx_conn *c = rt->idle[i];
        if (rt->nidle - i + kept > rt->smax && idle_expired(w, c, now)) {
            conn_recycle_locked(c);
        }
        else {
            rt->idle[kept++] = c;
        }
    }
    rt->nidle = kept;
}

PRX_DECLARE(apr_status_t) prx_conn_acquire(prx_worker *w, request_rec *r,
                                           int fresh, prx_conn **out)
{
    struct prx_worker_rt *rt = w->rt;
    prx_conn *c = NULL;
    apr_time_t deadline = 0;
    int reuse;

    rt_lock(rt);
    while (rt->in_use >= rt->max && rt->cond) {
        apr_status_t rv;

        /* every connection is busy: wait for one, up to `acquire` in all
         * (a wake-up whose connection another request took first waits
         * only for what is left) */
        rt->waiters++;
        if (w->p.acquire == PRX_UNSET) {
            rv = apr_thread_cond_wait(rt->cond, rt->mutex);
        }
        else {
            apr_time_t now = apr_time_now();

            if (!deadline) {
                deadline = now + w->p.acquire;
            }
            rv = now < deadline
                 ? apr_thread_cond_timedwait(rt->cond, rt->mutex,
                                             deadline - now)
                 : APR_TIMEUP;
        }
        rt->waiters--;
        if (APR_STATUS_IS_TIMEUP(rv)) {
            rt_unlock(rt);
            return APR_EAGAIN;
        }
    }
    rt->in_use++;
    reuse = !fresh && worker_reuses(w);
    if (reuse) {
        c = take_idle_locked(w, r);
    }
    if (!c) {
        c = take_slot_locked(w);
    }
    rt_unlock(rt);

    /* a pooled connection the backend closed (or wrote to unasked) is not
     * reused: checked without the lock, which other threads want */
    while (c->sock && prx_conn_is_stale(c)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PRXLOGNO(00010)
                      "%s: pooled connection closed by the backend or "
                      "not empty; not reused", w->name);
        rt_lock(rt);
        conn_recycle_locked(c);
        c = reuse ? take_idle_locked(w, r) : NULL;
        if (!c) {
            c = take_slot_locked(w);
        }
        rt_unlock(rt);
    }

    if (!c->bucket_alloc) {
        c->bucket_alloc = apr_bucket_alloc_create(c->pool);
    }
    c->reused = c->requests > 0;
    c->close = 0;
    *out = c;
    return APR_SUCCESS;
}

/* A tunnel keeps its backend connection for as long as it lives, longer
 * than any request thread: it stops counting against the pool's `max`
 * (which is sized by threads), and is closed when given back. */
void connpool_detach(prx_conn *c)
{
    struct prx_worker_rt *rt = c->worker->rt;

    rt_lock(rt);
    if (!c->detached) {
        c->detached = 1;
        rt->in_use--;
        if (rt->waiters) {
            apr_thread_cond_signal(rt->cond);
        }
    }
    rt_unlock(rt);
}

PRX_DECLARE(void) prx_conn_release(prx_conn *c)
{
    prx_worker *w = c->worker;
    struct prx_worker_rt *rt = w->rt;
    /* the idle time matters to ttl only */
    apr_time_t now = w->p.ttl > 0 ? apr_time_now() : 0;

    rt_lock(rt);
    if (c->detached) {
        conn_recycle_locked(c);
        rt_unlock(rt);
        return;
    }
    rt->in_use--;
    if (c->sock && !c->close && worker_reuses(w) && rt->nidle < rt->cap) {
        c->requests++;
        c->idle_since = now;
        rt->idle[rt->nidle++] = c;
        reap_idle_locked(w);
    }
    else {
        conn_recycle_locked(c);
    }
    if (rt->waiters) {
        apr_thread_cond_signal(rt->cond);
    }
    rt_unlock(rt);
}

/* -- resolution ----------------------------------------------------------------- */

/* Copy an address list into `p`: connections keep their own copy, so the
 * cache may be replaced under them. */
static apr_sockaddr_t *copy_addrs(apr_pool_t *p, const apr_sockaddr_t *src)
{
    apr_sockaddr_t *head = NULL, **tail = &head;

    for (; src; src = src->next) {
        apr_sockaddr_t *a = apr_pmemdup(p, src, sizeof(*src));

        a->pool = p;
        a->hostname = src->hostname ? apr_pstrdup(p, src->hostname) : NULL;
        a->servname = src->servname ? apr_pstrdup(p, src->servname) : NULL;
        a->ipaddr_ptr = (char *)&a->sa
                        + ((const char *)src->ipaddr_ptr
                           - (const char *)&src->sa);
        a->next = NULL;
        *tail = a;
        tail = &a->next;
    }
    return head;
}

/* spec core.md §5 addressttl: the expiry is a multiple of the ttl, so that
 * every child re-resolves at the same moment without talking to others. */
static apr_time_t address_expiry(const prx_worker *w)
{
    apr_int64_t ttl = w->p.address_ttl, now;

    if (ttl <= 0) {
        return 0;
    }
    now = apr_time_sec(apr_time_now());
    return apr_time_from_sec((now / ttl + 1) * ttl);
}

static int cache_matches(const struct prx_worker_rt *rt, const char *host,
                         apr_port_t port)
{
    return rt->addr && rt->addr_port == port && !strcmp(rt->addr_host, host);
}

/* Resolve into a new cache generation; the old one is freed. Lock held. */
static apr_status_t refresh_cache_locked(prx_worker *w, const char *host,
                                         apr_port_t port)
{
    struct prx_worker_rt *rt = w->rt;
    apr_pool_t *np;
    apr_sockaddr_t *sa;
    apr_status_t rv;

    apr_pool_create(&np, rt->pool);
    apr_pool_tag(np, "prx_dns");
    rv = apr_sockaddr_info_get(&sa, host, APR_UNSPEC, port, 0, np);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(np);
        return rv;
    }
    if (rt->addr_pool) {
        apr_pool_destroy(rt->addr_pool);
    }
    rt->addr_pool = np;
    rt->addr = sa;
    rt->addr_port = port;
    rt->addr_host = apr_pstrdup(np, host);
    rt->addr_expiry = address_expiry(w);
    return APR_SUCCESS;
}

/* Addresses for host:port, copied into the connection's pool: from the
 * worker's per-child cache when it may cache (spec core.md §8.6), else a
 * fresh lookup. `force` re-resolves even a valid cache entry. */
static apr_status_t resolve(prx_conn *c, request_rec *r, const char *host,
                            apr_port_t port, int force, apr_sockaddr_t **addr)
{
    prx_worker *w = c->worker;
    struct prx_worker_rt *rt = w->rt;
    apr_status_t rv = APR_SUCCESS;

    if (!w->address_cacheable) {
        return apr_sockaddr_info_get(addr, host, APR_UNSPEC, port, 0,
                                     c->pool);
    }
    rt_lock(rt);
    if (force || !cache_matches(rt, host, port)
        || (rt->addr_expiry && apr_time_now() >= rt->addr_expiry)) {
        rv = refresh_cache_locked(w, host, port);
        if (rv != APR_SUCCESS && cache_matches(rt, host, port)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, PRXLOGNO(00011)
                          "%s: re-resolving %s failed; keeping the previous "
                          "address", w->name, host);
            rt->addr_expiry = address_expiry(w);
            rv = APR_SUCCESS;
        }
    }
    if (rv == APR_SUCCESS) {
        *addr = copy_addrs(c->pool, rt->addr);
    }
    rt_unlock(rt);
    return rv;
}

static int same_addrs(const apr_sockaddr_t *a, const apr_sockaddr_t *b)
{
    for (; a && b; a = a->next, b = b->next) {
        if (!apr_sockaddr_equal(a, b)) {
            return 0;
        }
    }
    return a == b;
}

/* -- connect --------------------------------------------------------------------- */

static apr_status_t set_socket_options(prx_conn *c, request_rec *r,
                                       apr_socket_t *sock, int tcp)
{
    prx_worker *w = c->worker;
    prx_server_conf *sc = prx_server_conf_get(r->server);

    if (!tcp) {
        return APR_SUCCESS;
    }
    apr_socket_opt_set(sock, APR_TCP_NODELAY, 1);
    if (w->p.recv_buffer_size > 0) {
        apr_status_t rv = apr_socket_opt_set(sock, APR_SO_RCVBUF,
                                             w->p.recv_buffer_size);
        if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, PRXLOGNO(00012)
                          "%s: setting SO_RCVBUF to %d failed", w->name,
                          w->p.recv_buffer_size);
        }
    }
    if (w->p.keepalive) {
        apr_socket_opt_set(sock, APR_SO_KEEPALIVE, 1);
    }
    if (sc->source_address) {
        apr_status_t rv = apr_socket_bind(sock, sc->source_address);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, PRXLOGNO(00013)
                          "%s: binding to ProxySourceAddress %pI failed; "
                          "connecting unbound", w->name, sc->source_address);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t connect_one(prx_conn *c, request_rec *r,
                                apr_sockaddr_t *sa, int tcp)
{
    apr_socket_t *sock;
    apr_status_t rv;

    rv = apr_socket_create(&sock, sa->family, SOCK_STREAM,
                           tcp ? APR_PROTO_TCP : 0, c->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    set_socket_options(c, r, sock, tcp);
    apr_socket_timeout_set(sock, prx_worker_connect_timeout(c->worker, r));
    rv = apr_socket_connect(sock, sa);
    if (rv != APR_SUCCESS) {
        apr_socket_close(sock);
        return rv;
    }
    c->io_timeout = prx_worker_timeout(c->worker, r);
    apr_socket_timeout_set(sock, c->io_timeout);
    c->nonblock = 0;
    c->sock = sock;
    c->addr = sa;
    return APR_SUCCESS;
}

/* Run `check` (when given) on the connection just made; on failure the
 * socket is closed. */
static apr_status_t run_check(prx_conn *c, request_rec *r,
                              prx_conn_check_fn *check, void *baton)
{
    apr_status_t rv = check ? check(c, r, baton) : APR_SUCCESS;

    if (rv != APR_SUCCESS) {
        apr_socket_close(c->sock);
        c->sock = NULL;
        c->addr = NULL;
    }
    return rv;
}

/* The first address that accepts a connection and passes `check` (when
 * given); the socket of one that fails it is closed. */
static apr_status_t connect_any(prx_conn *c, request_rec *r,
                                apr_sockaddr_t *addr,
                                prx_conn_check_fn *check, void *baton)
{
    apr_status_t rv = APR_EGENERAL;

    for (; addr; addr = addr->next) {
        rv = connect_one(c, r, addr, 1);
        if (rv == APR_SUCCESS
            && (rv = run_check(c, r, check, baton)) == APR_SUCCESS) {
            break;
        }
    }
    return rv;
}

static const char *conn_uds_path(prx_conn *c, request_rec *r)
{
    prx_req *pr;

    if (c->worker->uds_path) {
        return c->worker->uds_path;
    }
    pr = prx_req_get(r);
    return pr ? pr->uds_path : NULL;
}

/* May the connected `c` carry a request for next hop `host`:`port` with
 * TLS name `sni` (NULL: plain)? */
static int same_hop(const prx_conn *c, const char *host, apr_port_t port,
                    const char *sni)
{
    if (!c->hostname || strcasecmp(c->hostname, host) || c->port != port) {
        return 0;
    }
    if (!c->connection) {
        return sni == NULL;
    }
    return sni && c->sni && !strcmp(c->sni, sni);
}

PRX_DECLARE(apr_status_t) prx_conn_connect(prx_conn *c, request_rec *r,
                                           const char *host, apr_port_t port,
                                           prx_fail *fail)
{
    return prx_conn_connect_check(c, r, host, port, NULL, NULL, fail);
}

PRX_DECLARE(apr_status_t) prx_conn_connect_check(prx_conn *c,
                                                 request_rec *r,
                                                 const char *host,
                                                 apr_port_t port,
                                                 prx_conn_check_fn *check,
                                                 void *baton,
                                                 prx_fail *fail)
{
    prx_worker *w = c->worker;
    prx_req *pr = prx_req_get(r);
    const char *uds = conn_uds_path(c, r);
    const char *scheme, *sni;
    apr_sockaddr_t *addr;
    apr_status_t rv = APR_EGENERAL;

    *fail = PRX_FAIL_NONE;
    scheme = w->is_generic && pr && pr->scheme ? pr->scheme : w->scheme;
    /* through an upstream proxy, TLS starts inside the CONNECT tunnel the
     * scheme module opens (prx_conn_tls_start) */
    sni = tls_scheme(scheme) && !(pr && pr->via_remote)
          ? tls_server_name(r, host) : NULL;
    if (c->sock && !same_hop(c, host, port, sni)) {
        /* made for another next hop (an upstream proxy and the origin
         * share the worker) or another TLS name (spec http.md §2.4);
         * what the caller decided about the request's use of it stays */
        unsigned int close = c->close;

        conn_reset(c);
        c->close = close;
        c->bucket_alloc = apr_bucket_alloc_create(c->pool);
    }
    if (c->sock) {
        /* pooled: this request's timeout (a scheme may have changed it
         * for the previous one, e.g. for `ping`) */
        apr_interval_time_t t = prx_worker_timeout(w, r);
        if (t != c->io_timeout) {
            prx_conn_timeout_set(c, t);
        }
        return APR_SUCCESS;
    }
    c->hostname = apr_pstrdup(c->pool, host);
    c->port = port;
    if (uds) {
        rv = apr_sockaddr_info_get(&addr, uds, APR_UNIX, 0, 0, c->pool);
        if (rv == APR_SUCCESS) {
            rv = connect_one(c, r, addr, 0);
        }
        if (rv == APR_SUCCESS) {
            rv = run_check(c, r, check, baton);
        }
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00014)
                          "%s: connect to unix socket %s failed", w->name,
                          uds);
        }
    }
    else {
        rv = resolve(c, r, host, port, 0, &addr);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00015)
                          "%s: DNS lookup failure for: %s", w->name, host);
            *fail = PRX_FAIL_DNS;
            return rv;
        }
        if (pr && !pr->via_remote
            && prx_server_conf_get(r->server)->blocks->nelts
            && prx_blocked(r, host, addr)) {
            /* spec core.md §3.12: a direct connection to a blocked
             * address; through an upstream proxy only names count */
            *fail = PRX_FAIL_BLOCKED;
            return APR_EACCES;
        }
        rv = connect_any(c, r, addr, check, baton);
        if (rv != APR_SUCCESS && w->address_cacheable) {
            /* spec core.md §8.6: the cached addresses may be stale; look
             * once more and try the new ones if they differ */
            apr_sockaddr_t *fresh;
            if (resolve(c, r, host, port, 1, &fresh) == APR_SUCCESS
                && !same_addrs(fresh, addr)) {
                addr = fresh;
                rv = connect_any(c, r, addr, check, baton);
            }
        }
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00016)
                          "%s: connect to %s:%u (%pI) failed", w->name, host,
                          port, addr);
        }
    }
    if (rv != APR_SUCCESS) {
        *fail = PRX_FAIL_CONNECT;
        prx_worker_set_error(w, r->server);
        return rv;
    }
    if (sni && (rv = tls_setup(c, r, sni)) != APR_SUCCESS) {
        apr_socket_close(c->sock);
        c->sock = NULL;
        *fail = PRX_FAIL_INTERNAL;
        return rv;
    }
    if (apr_atomic_read32(&w->s->status) & PRX_WS_IN_ERROR) {
        /* it answers again: back in service for every child */
        prx_worker_status_change(w->s, 0, PRX_WS_IN_ERROR);
        w->s->retries = 0;
    }
    return APR_SUCCESS;
}

/* -- I/O -------------------------------------------------------------------------- */

PRX_DECLARE(void) prx_conn_timeout_set(prx_conn *c, apr_interval_time_t t)
{
    c->io_timeout = t;
    if (c->sock) {
        apr_socket_timeout_set(c->sock, t);
        c->nonblock = 0;
    }
}

PRX_DECLARE(apr_status_t) prx_conn_read(prx_conn *c, char *buf,
                                        apr_size_t *len, int block)
{
    apr_status_t rv;

    if (c->connection) {
        rv = tls_read(c, buf, len, block);
        if (rv == APR_SUCCESS) {
            apr_atomic_add64(&c->worker->s->bytes_read, *len);
        }
        return rv;
    }
    if ((block ? 0 : 1) != c->nonblock) {
        apr_socket_timeout_set(c->sock, block ? c->io_timeout : 0);
        c->nonblock = !block;
    }
    rv = apr_socket_recv(c->sock, buf, len);
    if (*len > 0) {
        apr_atomic_add64(&c->worker->s->bytes_read, *len);
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        rv = APR_EOF;
    }
    return rv;
}

PRX_DECLARE(apr_status_t) prx_conn_write(prx_conn *c, struct iovec *vec,
                                         int nvec)
{
    apr_uint64_t total = 0;
    apr_status_t rv;
    int i;

    if (c->connection) {
        for (i = 0; i < nvec; i++) {
            total += vec[i].iov_len;
        }
        rv = tls_write(c, vec, nvec);
        if (rv == APR_SUCCESS) {
            apr_atomic_add64(&c->worker->s->bytes_written, total);
        }
        return rv;
    }
    if (c->nonblock) {
        apr_socket_timeout_set(c->sock, c->io_timeout);
        c->nonblock = 0;
    }
    while (nvec > 0) {
        apr_size_t n = 0;

        rv = apr_socket_sendv(c->sock, vec, nvec, &n);

        total += n;
        if (rv != APR_SUCCESS) {
            apr_atomic_add64(&c->worker->s->bytes_written, total);
            return rv;
        }
        /* skip what was written; a partial vector is advanced in place */
        while (nvec > 0 && n >= vec->iov_len) {
            n -= vec->iov_len;
            vec++;
            nvec--;
        }
        if (nvec > 0 && n > 0) {
            vec->iov_base = (char *)vec->iov_base + n;
            vec->iov_len -= n;
        }
    }
    apr_atomic_add64(&c->worker->s->bytes_written, total);
    return APR_SUCCESS;
}
