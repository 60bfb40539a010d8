/*
 * proxy_tunnel.c -- the two-way byte relay between a client connection and
 * a backend connection, used by CONNECT and by HTTP Upgrade (WebSocket):
 * non-blocking in both directions with back-pressure, half-close, and an
 * idle timeout (spec http.md §7.3).
 *
 * Under the event MPM a tunnel that goes idle does not keep its worker
 * thread: the request is suspended (the handler returns SUSPENDED), the
 * tunnel's two sockets are parked on one poller thread per child, and when
 * either side speaks again the MPM lends us a worker thread (a timed
 * callback) to relay it. Under worker and prefork the relay runs in the
 * handler's thread until the tunnel ends, as stock does.
 */
#include "proxy_private.h"

#include <apr_poll.h>
#include <apr_atomic.h>
#include <ap_mpm.h>
#include <mpm_common.h>
#include <http_connection.h>
#include <http_ssl.h>

/* How long a tunnel may sit idle in a worker thread before it is parked
 * (async MPMs only). Short: parking costs one poller add and one callback. */
#define TUNNEL_PARK_AFTER apr_time_from_msec(250)
/* The same once woken from the poller: the thread is lent for the bytes
 * that woke the tunnel and an immediate answer, not to sit idle -- with
 * 250 ms, 100 tunnels woken together kept 4 threads busy for 6 s, and new
 * requests waited that long. */
#define TUNNEL_REPARK_AFTER apr_time_from_msec(5)
#define TUNNEL_BUFSIZE    (16 * 1024)
/* Non-blocking reads through TLS tried before "nothing there" is
 * believed: mod_ssl clears OpenSSL's auto-retry, so a read that consumes
 * a record carrying no data (a TLS 1.3 session ticket, a key update)
 * says "try again" although data may already be buffered -- where poll()
 * cannot see it. One record per read; servers send two tickets. */
#define TUNNEL_TLS_READS  8

/* One side of the tunnel. */
typedef struct {
    apr_socket_t *sock;
    conn_rec *rc;             /* read through its filters, or NULL: socket */
    conn_rec *wc;             /* write through its filters, or NULL */
    int tls;                  /* `rc` has TLS in its filters */
    apr_bucket_brigade *bb;
    int eof;                  /* the peer finished sending */
    int shut;                 /* we finished sending to the peer */
    apr_pollfd_t pfd;
} endpoint;

/* Bytes read from one side, waiting to be written to the other. */
typedef struct {
    char *buf;
    apr_size_t off, len;
} pending;

struct prx_tunnel {
    request_rec *r;
    prx_conn *backend;
    endpoint client, origin;
    pending up, down;         /* client -> origin, origin -> client */
    apr_interval_time_t timeout;
    apr_time_t last_activity;
    apr_off_t bytes_down;     /* relayed to the client */
    int nohalfclose;
    int notimeout;            /* PRX_TUNNEL_NO_TIMEOUT */
    int need_reply;           /* PRX_TUNNEL_NEED_REPLY */
    int async;                /* may be parked */
    int parking;              /* handler returned SUSPENDED for it */
    int status;               /* final status once ended */
    struct prx_tunnel *next;  /* poller list */
};

/* -- endpoints ---------------------------------------------------------------- */

static apr_status_t ep_read(endpoint *e, char *buf, apr_size_t *len)
{
    apr_size_t want = *len;
    apr_status_t rv;
    int tries = 0;

    if (!e->rc) {
        rv = apr_socket_recv(e->sock, buf, len);
        if (rv == APR_SUCCESS && *len == 0) {
            rv = APR_EOF;
        }
        return *len > 0 ? APR_SUCCESS : rv;
    }
    do {
        *len = 0;
        rv = ap_get_brigade(e->rc->input_filters, e->bb, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, (apr_off_t)want);
        if (rv == APR_SUCCESS) {
            int eos = !APR_BRIGADE_EMPTY(e->bb)
                      && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(e->bb));
            *len = want;
            rv = apr_brigade_flatten(e->bb, buf, len);
            if (rv == APR_SUCCESS && *len == 0) {
                rv = eos ? APR_EOF : APR_EAGAIN;
            }
        }
        apr_brigade_cleanup(e->bb);
    } while (APR_STATUS_IS_EAGAIN(rv) && e->tls && ++tries < TUNNEL_TLS_READS);
    return rv;
}

/* Write what the peer takes now (plain sockets, non-blocking), or
 * everything (filters: TLS, which block with the socket timeout). */
static apr_status_t ep_write(endpoint *e, const char *buf, apr_size_t *len)
{
    apr_status_t rv;

    if (!e->wc) {
        rv = apr_socket_send(e->sock, buf, len);
        return *len > 0 ? APR_SUCCESS : rv;
    }
    APR_BRIGADE_INSERT_TAIL(e->bb, apr_bucket_transient_create(
                                       buf, *len, e->wc->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(e->bb, apr_bucket_flush_create(
                                       e->wc->bucket_alloc));
    rv = ap_pass_brigade(e->wc->output_filters, e->bb);
    apr_brigade_cleanup(e->bb);
    if (rv != APR_SUCCESS) {
        *len = 0;
    }
    return rv;
}

static void ep_shutdown_write(endpoint *e)
{
    apr_socket_shutdown(e->sock, APR_SHUTDOWN_WRITE);
    e->shut = 1;
}

/* -- relaying ------------------------------------------------------------------- */

/* NEED_REPLY: until a first byte reached the client, the client's side is
 * not shut down, so that the caller can still answer with an error. */
static int owes_reply(const prx_tunnel *t, const endpoint *dst)
{
    return t->need_reply && !t->bytes_down && dst == &t->client;
}

/* Move bytes from `src` to `dst` until nothing more can move without
 * waiting. @return APR_SUCCESS, or an I/O error that ends the tunnel;
 * *moved is set when anything changed. */
static apr_status_t relay(prx_tunnel *t, endpoint *src, endpoint *dst,
                          pending *p, int *moved)
{
    apr_status_t rv;

    for (;;) {
        if (!p->len && !src->eof) {
            apr_size_t n = TUNNEL_BUFSIZE;

            rv = ep_read(src, p->buf, &n);
            if (APR_STATUS_IS_EAGAIN(rv)) {
                break;
            }
            if (APR_STATUS_IS_EOF(rv)) {
                src->eof = 1;
                *moved = 1;
            }
            else if (rv != APR_SUCCESS) {
                return rv;
            }
            else {
                p->off = 0;
                p->len = n;
                *moved = 1;
                if (src == &t->origin) {
                    /* the worker's counters count tunnel bytes too */
                    apr_atomic_add64(&t->backend->worker->s->bytes_read, n);
                }
            }
        }
        if (p->len) {
            apr_size_t n = p->len;

            rv = ep_write(dst, p->buf + p->off, &n);
            if (n > 0) {
                p->off += n;
                p->len -= n;
                *moved = 1;
                if (dst == &t->client) {
                    t->bytes_down += n;
                }
                else {
                    apr_atomic_add64(&t->backend->worker->s->bytes_written,
                                     n);
                }
            }
            if (p->len) {
                if (rv == APR_SUCCESS || APR_STATUS_IS_EAGAIN(rv)) {
                    break;   /* wait until the peer takes more */
                }
                return rv;
            }
        }
        if (src->eof && !p->len) {
            if (!dst->shut && !t->nohalfclose && !owes_reply(t, dst)) {
                /* spec http.md §7.3: pass the half-close on (without it
                 * the tunnel ends here and the connections are closed) */
                ep_shutdown_write(dst);
                *moved = 1;
            }
            break;
        }
    }
    return APR_SUCCESS;
}

static int tunnel_done(const prx_tunnel *t)
{
    /* proxy-nohalfclose: over once a side has ended and what it sent
     * before is passed on */
    if (t->nohalfclose && ((t->client.eof && !t->up.len)
                           || (t->origin.eof && !t->down.len))) {
        return 1;
    }
    /* NEED_REPLY: the backend ended without a byte for the client; over
     * (waiting for the client's EOF would wait for nothing) */
    if (t->need_reply && !t->bytes_down && t->origin.eof) {
        return 1;
    }
    return t->client.eof && t->origin.eof && !t->up.len && !t->down.len;
}

/* Poll events each side needs now. */
static void want_events(prx_tunnel *t)
{
    t->client.pfd.reqevents = 0;
    t->origin.pfd.reqevents = 0;
    if (!t->up.len && !t->client.eof) {
        t->client.pfd.reqevents |= APR_POLLIN;
    }
    if (t->down.len) {
        t->client.pfd.reqevents |= APR_POLLOUT;
    }
    if (!t->down.len && !t->origin.eof) {
        t->origin.pfd.reqevents |= APR_POLLIN;
    }
    if (t->up.len) {
        t->origin.pfd.reqevents |= APR_POLLOUT;
    }
}

/* Relay both ways until nothing moves. @return APR_SUCCESS or the error. */
static apr_status_t relay_both(prx_tunnel *t, int *moved_any)
{
    int moved;
    apr_status_t rv;

    do {
        moved = 0;
        rv = relay(t, &t->client, &t->origin, &t->up, &moved);
        if (rv == APR_SUCCESS) {
            rv = relay(t, &t->origin, &t->client, &t->down, &moved);
        }
        if (moved) {
            *moved_any = 1;
            t->last_activity = apr_time_now();
        }
    } while (rv == APR_SUCCESS && moved && !tunnel_done(t));
    return rv;
}

enum { RUN_DONE, RUN_IDLE };

/* A tunnel that must produce a reply may not be parked before it did:
 * its caller still answers with an error if none comes. */
static int may_park(const prx_tunnel *t)
{
    return !t->need_reply || t->bytes_down > 0;
}

/* Run in this thread until the tunnel ends, or (when `park_after` > 0) it
 * has been idle that long. */
static int run_here(prx_tunnel *t, apr_interval_time_t park_after)
{
    apr_pollfd_t pfds[2];

    for (;;) {
        int moved = 0;
        apr_int32_t n = 0, i, k = 0;
        apr_interval_time_t wait;
        apr_status_t rv = relay_both(t, &moved);

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, t->r, PRXLOGNO(00090)
                          "tunnel to %s ended by an I/O error",
                          t->backend->hostname);
            t->status = t->bytes_down ? OK : HTTP_BAD_GATEWAY;
            return RUN_DONE;
        }
        if (tunnel_done(t)) {
            t->status = t->need_reply && !t->bytes_down ? HTTP_BAD_GATEWAY
                                                        : OK;
            return RUN_DONE;
        }
        want_events(t);
        for (i = 0; i < 2; i++) {
            endpoint *e = i ? &t->origin : &t->client;
            if (e->pfd.reqevents) {
                pfds[k++] = e->pfd;
            }
        }
        wait = t->notimeout ? -1
               : t->timeout - (apr_time_now() - t->last_activity);
        if (park_after > 0 && (wait < 0 || park_after < wait)) {
            wait = park_after;
        }
        if (wait < 0 && !t->notimeout) {
            wait = 0;
        }
        rv = apr_poll(pfds, k, &n, wait);
        if (APR_STATUS_IS_TIMEUP(rv) || (rv == APR_SUCCESS && !n)) {
            if (!t->notimeout
                && apr_time_now() - t->last_activity >= t->timeout) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, t->r,
                              PRXLOGNO(00091) "tunnel to %s timed out",
                              t->backend->hostname);
                t->status = HTTP_GATEWAY_TIME_OUT;
                return RUN_DONE;
            }
            if (park_after > 0 && may_park(t)) {
                return RUN_IDLE;
            }
            continue;
        }
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EINTR(rv)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, t->r, PRXLOGNO(00092)
                          "tunnel to %s: poll failed", t->backend->hostname);
            t->status = HTTP_INTERNAL_SERVER_ERROR;
            return RUN_DONE;
        }
    }
}

/* -- the poller of parked tunnels (async MPMs) ---------------------------------- */

typedef struct {
    apr_pool_t *pool;
    apr_pollset_t *ps;
    apr_thread_mutex_t *mutex;   /* guards `list` and what is in `ps`:
                                    a tunnel is on both or on neither */
    prx_tunnel *list;            /* parked tunnels */
    apr_thread_t *thread;
    volatile apr_uint32_t stop;
    volatile apr_uint32_t stopping; /* the child is stopping: the MPM
                                       lends no more threads */
} poller_t;

static poller_t *poller;

static void finish(prx_tunnel *t);
static void resume_in_worker(void *baton);

/* The sockets of `t` in or out of the pollset. Caller holds the mutex. */
static void pollset_change(prx_tunnel *t, int add)
{
    int i;

    for (i = 0; i < 2; i++) {
        endpoint *e = i ? &t->origin : &t->client;
        if (!e->pfd.reqevents) {
            continue;
        }
        if (add) {
            e->pfd.client_data = t;
            apr_pollset_add(poller->ps, &e->pfd);
        }
        else {
            apr_pollset_remove(poller->ps, &e->pfd);
        }
    }
}

/* List and pollset change together under the mutex: otherwise the poller
 * could take (and wake) a tunnel whose sockets are still being added, and
 * a socket would stay in the pollset for a tunnel no longer listed. */
static void poller_add(prx_tunnel *t)
{
    want_events(t);
    apr_thread_mutex_lock(poller->mutex);
    t->next = poller->list;
    poller->list = t;
    pollset_change(t, 1);
    apr_thread_mutex_unlock(poller->mutex);
}

/* Take `t` off the poller. @return non-zero if it was there. */
static int poller_take(prx_tunnel *t)
{
    prx_tunnel **pp;
    int found = 0;

    apr_thread_mutex_lock(poller->mutex);
    for (pp = &poller->list; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            pollset_change(t, 0);
            found = 1;
            break;
        }
    }
    apr_thread_mutex_unlock(poller->mutex);
    return found;
}

/* Hand `t` to a worker thread of the MPM (or, if the MPM will not lend
 * one, relay right here in the poller thread). */
static void resume_here(prx_tunnel *t);

static void wake(prx_tunnel *t)
{
    if (apr_atomic_read32(&poller->stopping)
        || ap_mpm_register_timed_callback(0, resume_in_worker, t)
           != APR_SUCCESS) {
        resume_here(t);
    }
}

/* Tunnels idle past their timeout, taken off the poller (unlinked from
 * the list before their `next` becomes the link of the returned one). */
static prx_tunnel *take_expired(apr_time_t now, apr_interval_time_t *next)
{
    prx_tunnel *t, *expired = NULL, **pp;

    *next = apr_time_from_sec(1);
    apr_thread_mutex_lock(poller->mutex);
    for (pp = &poller->list; (t = *pp) != NULL;) {
        apr_interval_time_t left = t->timeout - (now - t->last_activity);

        if (t->notimeout || left > 0) {
            if (!t->notimeout && left < *next) {
                *next = left;
            }
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        pollset_change(t, 0);
        t->status = HTTP_GATEWAY_TIME_OUT;
        t->next = expired;
        expired = t;
    }
    apr_thread_mutex_unlock(poller->mutex);
    return expired;
}

static void *APR_THREAD_FUNC poller_main(apr_thread_t *thd, void *data)
{
    while (!apr_atomic_read32(&poller->stop)) {
        const apr_pollfd_t *out;
        apr_int32_t n = 0, i;
        apr_interval_time_t next;
        prx_tunnel *t, *expired = take_expired(apr_time_now(), &next);

        for (t = expired; t; t = expired) {
            expired = t->next;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, t->r, PRXLOGNO(00093)
                          "parked tunnel to %s timed out",
                          t->backend->hostname);
            wake(t);
        }
        if (apr_pollset_poll(poller->ps, next, &n, &out) != APR_SUCCESS) {
            continue;
        }
        for (i = 0; i < n; i++) {
            t = out[i].client_data;
            if (poller_take(t)) {
                wake(t);
            }
        }
    }
    return NULL;
}

static apr_status_t poller_stop(void *data)
{
    apr_status_t rv;

    apr_atomic_set32(&poller->stop, 1);
    apr_pollset_wakeup(poller->ps);
    apr_thread_join(&rv, poller->thread);
    return APR_SUCCESS;
}

void tunnel_child_init(apr_pool_t *pchild, server_rec *s)
{
    int async = 0;
    apr_status_t rv;

    if (ap_mpm_query(AP_MPMQ_IS_ASYNC, &async) != APR_SUCCESS || !async) {
        return;
    }
    poller = apr_pcalloc(pchild, sizeof(*poller));
    poller->pool = pchild;
    rv = apr_pollset_create(&poller->ps, 64, pchild,
                            APR_POLLSET_THREADSAFE | APR_POLLSET_WAKEABLE
                            | APR_POLLSET_NOCOPY);
    if (rv == APR_SUCCESS) {
        apr_thread_mutex_create(&poller->mutex, APR_THREAD_MUTEX_DEFAULT,
                                pchild);
        rv = apr_thread_create(&poller->thread, NULL, poller_main, NULL,
                               pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PRXLOGNO(00094)
                     "cannot start the tunnel poller; tunnels will keep "
                     "their worker threads");
        poller = NULL;
        return;
    }
    /* before the pollset and mutex go away with the child pool */
    apr_pool_pre_cleanup_register(pchild, NULL, poller_stop);
}

/* suspend_connection hook: the MPM has let go of the connection whose
 * handler returned SUSPENDED for a tunnel; only now may another thread
 * touch it. */
void tunnel_suspend_connection(conn_rec *c, request_rec *r)
{
    prx_tunnel *t = ap_get_module_config(c->conn_config, &proxy_module);

    if (t && t->parking && r == t->r) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "tunnel to %s parked",
                      t->backend->hostname);
        t->parking = 0;
        poller_add(t);
    }
}

/* Relay in a worker thread the MPM lent us, then park again or finish. */
static void resume_in_worker(void *baton)
{
    prx_tunnel *t = baton;

    if (t->status == 0 && run_here(t, TUNNEL_REPARK_AFTER) == RUN_IDLE) {
        poller_add(t);
        return;
    }
    finish(t);
}

/* The same in the poller's own thread (child stopping): relay what is
 * there and park again at once, so one tunnel cannot hold the others. */
static void resume_here(prx_tunnel *t)
{
    if (t->status == 0 && run_here(t, apr_time_from_msec(1)) == RUN_IDLE) {
        poller_add(t);
        return;
    }
    finish(t);
}

/* child_stopping hook: from now on the poller relays by itself. */
void tunnel_child_stopping(apr_pool_t *pchild, int graceful)
{
    if (poller) {
        apr_atomic_set32(&poller->stopping, 1);
        apr_pollset_wakeup(poller->ps);
    }
}

/* End a suspended tunnel: release both connections and complete the
 * request the MPM no longer tracks (logging, then freeing the connection
 * with the MPM's own cleanups). */
static void finish(prx_tunnel *t)
{
    request_rec *r = t->r;
    conn_rec *c = r->connection;

    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, "tunnel to %s ends (%d)",
                  t->backend->hostname, t->status);
    t->backend->close = 1;
    prx_conn_release(t->backend);
    ap_set_module_config(c->conn_config, &proxy_module, NULL);
    ap_run_resume_connection(c, r);
    c->aborted = 1;
    ap_process_request_after_handler(r);
    /* the MPM counts this connection as suspended: it must be in that
     * state when its pool cleanups run (they close the socket too; no
     * lingering close: it would hold this thread while the peer talks) */
    c->cs->state = CONN_STATE_SUSPENDED;
    apr_socket_close(ap_get_conn_socket(c));
    apr_pool_destroy(c->pool);
}

/* -- API -------------------------------------------------------------------------- */

/* `rc`/`wc`: connection whose filters we read/write through, or NULL for
 * the bare socket. A socket we write to directly is made non-blocking;
 * one written through filters keeps its timeout, which the filters need
 * to wait for a slow peer. */
static void endpoint_init(endpoint *e, apr_pool_t *p,
                          apr_bucket_alloc_t *ba, apr_socket_t *sock,
                          conn_rec *rc, conn_rec *wc, int tls)
{
    e->sock = sock;
    e->rc = rc;
    e->wc = wc;
    e->tls = tls;
    e->bb = apr_brigade_create(p, ba);
    e->pfd.p = p;
    e->pfd.desc_type = APR_POLL_SOCKET;
    e->pfd.desc.s = sock;
    if (!wc) {
        apr_socket_timeout_set(sock, 0);
    }
}

PRX_DECLARE(apr_status_t) prx_tunnel_create(prx_tunnel **out,
                                            request_rec *r, prx_conn *bc,
                                            const char *data,
                                            apr_size_t len)
{
    conn_rec *c = r->connection;
    prx_tunnel *t = apr_pcalloc(r->pool, sizeof(*t));
    apr_socket_t *csock = ap_get_conn_socket(c);
    apr_interval_time_t bt = prx_worker_timeout(bc->worker, r);

    t->r = r;
    t->backend = bc;
    connpool_detach(bc);
    /* the client side always reads through its filters (bytes the core
     * already buffered, TLS); plain client writes go to the socket */
    endpoint_init(&t->client, r->pool, c->bucket_alloc, csock, c,
                  ap_ssl_conn_is_ssl(c) ? c : NULL, ap_ssl_conn_is_ssl(c));
    /* a backend conn_rec exists for TLS connections only */
    endpoint_init(&t->origin, r->pool, bc->bucket_alloc, bc->sock,
                  bc->connection, bc->connection, bc->connection != NULL);
    t->up.buf = apr_palloc(r->pool, TUNNEL_BUFSIZE);
    /* backend bytes read together with the response head go first; the
     * buffer holds all of them (later reads fill TUNNEL_BUFSIZE of it) */
    t->down.buf = apr_palloc(r->pool, len > TUNNEL_BUFSIZE ? len
                                                           : TUNNEL_BUFSIZE);
    if (len) {
        memcpy(t->down.buf, data, len);
        t->down.len = len;
    }
    /* spec http.md §7.3: the larger of the two sockets' timeouts */
    t->timeout = r->server->timeout > bt ? r->server->timeout : bt;
    t->nohalfclose = apr_table_get(r->subprocess_env, "proxy-nohalfclose")
                     != NULL;
    /* parking needs the event MPM's hold on a plain HTTP/1 connection */
    t->async = poller != NULL && c->cs != NULL && !r->main && !c->master;
    t->last_activity = apr_time_now();
    ap_remove_input_filter_byhandle(c->input_filters, "reqtimeout");
    c->keepalive = AP_CONN_CLOSE;
    *out = t;
    return APR_SUCCESS;
}

PRX_DECLARE(void) prx_tunnel_flags_set(prx_tunnel *t, unsigned int flags)
{
    if (flags & PRX_TUNNEL_NO_HALFCLOSE) {
        t->nohalfclose = 1;
    }
    t->notimeout = (flags & PRX_TUNNEL_NO_TIMEOUT) != 0;
    t->need_reply = (flags & PRX_TUNNEL_NEED_REPLY) != 0;
}

PRX_DECLARE(int) prx_tunnel_replied(const prx_tunnel *t)
{
    return t->bytes_down > 0;
}

PRX_DECLARE(int) prx_tunnel_run(prx_tunnel *t)
{
    if (run_here(t, t->async ? TUNNEL_PARK_AFTER : 0) == RUN_IDLE) {
        t->parking = 1;
        ap_set_module_config(t->r->connection->conn_config, &proxy_module,
                             t);
        return SUSPENDED;
    }
    t->backend->close = 1;
    /* the relay made a plain client socket non-blocking; what httpd
     * writes after the handler (an error page, the lingering close)
     * needs the timeout back */
    apr_socket_timeout_set(t->client.sock, t->r->server->timeout);
    return t->status;
}
