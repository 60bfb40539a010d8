/*
 * balancer_shm.c -- where balancers and their members keep the state every
 * child shares: slot memory of httpd's "shm" slotmem provider
 * (mod_slotmem_shm), one table of balancer slots per server and one table
 * of member slots per balancer, sized for members added at run time
 * (growth=) and persisted across restarts with BalancerPersist (spec
 * balancer.md §5, §12). Also the locks (a thread mutex per balancer per
 * child, a cross-process mutex per balancer), the member-list sync and the
 * run-time addition of members (include/prx_balancer.h).
 *
 * The core made each member's prx_worker_shared in its own anonymous
 * segment; at post_config (after the core's) we copy that initial state
 * into our slot and point w->s at the slot, so from then on the slot is
 * the member's state. Election and sessions are mod_proxy_balancer.c's.
 */
#include "balancer_private.h"

#include <apr_atomic.h>
#include <ap_mpm.h>
#include <util_mutex.h>

static const ap_slotmem_provider_t *storage;

/* -- helpers -------------------------------------------------------------------- */

/* FNV-1a, 64 bits: short stable names for slot files and mutexes. */
static const char *hash_hex(apr_pool_t *p, const char *s)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= APR_UINT64_C(1099511628211);
    }
    return apr_psprintf(p, "%016" APR_UINT64_T_HEX_FMT, h);
}

/* Make `w` visible to lock-free readers of b->members (the candidate walk
 * of other threads, ProxyStatus): the element is written before the count
 * grows. The array has room (reserved at post_config). */
static void members_publish(prx_balancer *b, prx_worker *w)
{
    apr_array_header_t *a = b->members;

    ((prx_worker **)a->elts)[a->nelts] = w;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    a->nelts++;
}

/* A new worker for member URL `url` of `b`, made outside b->members
 * (members_publish() adds it once it is ready), or NULL with *err set. */
static prx_worker *member_make(apr_pool_t *p, prx_balancer *b,
                               const char *url, const char **err)
{
    prx_balancer scratch = *b;
    prx_worker *w = NULL;

    /* prx_balancer_add_member() appends to the balancer's list: let it
     * append to a scratch list */
    scratch.members = apr_array_make(p, 1, sizeof(prx_worker *));
    *err = prx_balancer_add_member(p, b->server, &scratch, url, &w);
    if (*err) {
        return NULL;
    }
    w->balancer = b;
    return w;
}

static const char *member_url_of(apr_pool_t *p, const prx_worker *w)
{
    return w->uds_path ? apr_pstrcat(p, "unix:", w->uds_path, "|", w->name,
                                     NULL)
                       : w->name;
}

/* -- server ids (spec balancer.md §5 step 1) -------------------------------------- */

static const char *server_id(apr_pool_t *p, server_rec *s, int extended)
{
    const char *id = s->server_hostname ? s->server_hostname : "";
    server_addr_rec *a;
    char ip[64];
    int i;

    for (a = s->addrs; a; a = a->next) {
        if (a->host_addr && apr_sockaddr_ip_getbuf(ip, sizeof(ip),
                                                   a->host_addr)
                            == APR_SUCCESS) {
            id = apr_psprintf(p, "%s|%s:%u", id, ip, a->host_port);
        }
        else {
            id = apr_psprintf(p, "%s|*:%u", id, a->host_port);
        }
        if (!extended) {
            break;
        }
    }
    if (extended && s->names) {
        for (i = 0; i < s->names->nelts; i++) {
            id = apr_pstrcat(p, id, "|", APR_ARRAY_IDX(s->names, i, char *),
                             NULL);
        }
    }
    if (extended && s->wild_names) {
        for (i = 0; i < s->wild_names->nelts; i++) {
            id = apr_pstrcat(p, id, "|",
                             APR_ARRAY_IDX(s->wild_names, i, char *), NULL);
        }
    }
    return id;
}

/* A stable id per server: first address and ServerName; all addresses
 * and aliases when two servers collide; a counter for what still does. */
static apr_hash_t *server_ids(apr_pool_t *p, server_rec *s)
{
    apr_hash_t *by_server = apr_hash_make(p), *seen = apr_hash_make(p);
    server_rec *vs;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        apr_hash_t *count = apr_hash_make(p);

        for (vs = s; vs; vs = vs->next) {
            const char *id = server_id(p, vs, pass);
            int *n = apr_hash_get(count, id, APR_HASH_KEY_STRING);

            if (!n) {
                n = apr_pcalloc(p, sizeof(*n));
                apr_hash_set(count, id, APR_HASH_KEY_STRING, n);
            }
            (*n)++;
        }
        for (vs = s; vs; vs = vs->next) {
            const char *id = server_id(p, vs, pass);
            int *n = apr_hash_get(count, id, APR_HASH_KEY_STRING);

            if (pass == 0 && *n > 1) {
                continue;   /* decided with the extended id */
            }
            if (apr_hash_get(by_server, &vs, sizeof(vs))) {
                continue;
            }
            while (apr_hash_get(seen, id, APR_HASH_KEY_STRING)) {
                id = apr_psprintf(p, "%s#", id);
            }
            apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
            apr_hash_set(by_server, apr_pmemdup(p, &vs, sizeof(vs)),
                         sizeof(vs), hash_hex(p, id));
        }
    }
    return by_server;
}

/* The balancers `vs` owns (defined there, or merged for a virtual host),
 * each once. */
static apr_array_header_t *owned_balancers(apr_pool_t *p, server_rec *vs)
{
    apr_array_header_t *all = prx_server_conf_get(vs)->balancers;
    apr_array_header_t *out = apr_array_make(p, all->nelts,
                                             sizeof(prx_balancer *));
    int i;

    for (i = 0; i < all->nelts; i++) {
        prx_balancer *b = APR_ARRAY_IDX(all, i, prx_balancer *);
        if (b->server == vs) {
            APR_ARRAY_PUSH(out, prx_balancer *) = b;
        }
    }
    return out;
}

/* -- slot tables ---------------------------------------------------------------------- */

static apr_status_t table_create(apr_pool_t *pconf, server_rec *s,
                                 const char *name, apr_size_t size,
                                 unsigned int n, int persist,
                                 ap_slotmem_instance_t **inst, void ***ptrs)
{
    apr_status_t rv;
    unsigned int i;

    rv = storage->create(inst, name, size, n,
                         persist ? AP_SLOTMEM_TYPE_PERSIST
                                   | AP_SLOTMEM_TYPE_CLEARINUSE
                                 : 0, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, PRXLOGNO(00620)
                     "cannot create the balancer slot memory %s (%u slots "
                     "of %" APR_SIZE_T_FMT " bytes)", name ? name : "(anon)",
                     n, size);
        return rv;
    }
    *ptrs = apr_palloc(pconf, sizeof(void *) * n);
    for (i = 0; i < n; i++) {
        rv = storage->dptr(*inst, i, &(*ptrs)[i]);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, PRXLOGNO(00621)
                         "balancer slot memory %s: no slot %u",
                         name ? name : "(anon)", i);
            return rv;
        }
        if (!persist) {
            /* recreated from the configuration at every (re)start,
             * whatever an earlier generation left (§12.2) */
            memset((*ptrs)[i], 0, size);
        }
    }
    return APR_SUCCESS;
}

/* Give every member `b` owns its slot: a restored slot of the same name
 * (BalancerPersist) with its content, else a free one with the
 * configured state. Restored slots of configured members that are gone
 * are freed; restored slots of members added at run time stay, for the
 * first sync of each child to attach. */
static apr_status_t member_slots(apr_pool_t *pconf, apr_pool_t *ptemp,
                                 server_rec *vs, prx_balancer *b,
                                 bal_ctx *ctx, const char *name)
{
    apr_array_header_t *m = b->members;
    int *slot_of = apr_pcalloc(ptemp, sizeof(int) * (m->nelts + 1));
    unsigned int i, nfree;
    apr_status_t rv;
    int k, restored = 0, again;

    ctx->nslots = b->max_members > 0 ? (unsigned int)b->max_members : 1;
    if ((unsigned int)m->nelts > ctx->nslots) {
        ctx->nslots = (unsigned int)m->nelts;
    }
    rv = table_create(pconf, vs, name, sizeof(bal_member_slot), ctx->nslots,
                      ctx->persisted, &ctx->wslots, (void ***)&ctx->slots);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ctx->known = apr_pcalloc(pconf, ctx->nslots);
    do {
        again = 0;
        for (k = 0; k < m->nelts; k++) {
            prx_worker *w = APR_ARRAY_IDX(m, k, prx_worker *);
            slot_of[k] = -1;
            for (i = 0; ctx->persisted && w->balancer == b
                        && i < ctx->nslots; i++) {
                bal_member_slot *sl = ctx->slots[i];
                if (sl->used && !ctx->known[i]
                    && !strcmp(sl->s.name, w->name)) {
                    slot_of[k] = (int)i;
                    ctx->known[i] = 1;
                    sl->runtime = 0;
                    restored++;
                    break;
                }
            }
        }
        for (i = 0; i < ctx->nslots; i++) {
            bal_member_slot *sl = ctx->slots[i];
            if (sl->used && !ctx->known[i] && !sl->runtime) {
                memset(sl, 0, sizeof(*sl));   /* no longer configured */
            }
        }
        for (i = 0, nfree = 0; i < ctx->nslots; i++) {
            nfree += !ctx->slots[i]->used;
        }
        for (k = 0; k < m->nelts; k++) {
            prx_worker *w = APR_ARRAY_IDX(m, k, prx_worker *);
            if (w->balancer == b && slot_of[k] < 0 && !nfree--) {
                /* restored run-time members took the room: start over
                 * from the configuration */
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, vs,
                             PRXLOGNO(00622) "%s: persisted members leave "
                             "no slot for configured member %s: the "
                             "persisted state is dropped", b->name,
                             w->name);
                for (i = 0; i < ctx->nslots; i++) {
                    memset(ctx->slots[i], 0, sizeof(bal_member_slot));
                    ctx->known[i] = 0;
                }
                restored = 0;
                again = 1;
                break;
            }
        }
    } while (again);
    for (k = 0; k < m->nelts; k++) {
        prx_worker *w = APR_ARRAY_IDX(m, k, prx_worker *);
        bal_member_slot *sl;

        if (w->balancer != b) {
            continue;   /* a merged balancer: the main server's member */
        }
        if (slot_of[k] < 0) {
            for (i = 0; ctx->slots[i]->used; i++) {
                ;
            }
            sl = ctx->slots[i];
            memcpy(&sl->s, w->s, sizeof(sl->s));
            apr_cpystrn(sl->url, member_url_of(ptemp, w), sizeof(sl->url));
            sl->runtime = 0;
            sl->used = 1;
            ctx->known[i] = 1;
        }
        else {
            sl = ctx->slots[slot_of[k]];
        }
        w->s = &sl->s;
    }
    if (restored) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, vs, PRXLOGNO(00623)
                     "%s: %d member(s) keep their persisted state", b->name,
                     restored);
    }
    /* room for the members other children add: b->members never grows
     * its storage in a child (lock-free readers) */
    if (m->nalloc < (int)ctx->nslots + 1) {
        apr_array_header_t *big = apr_array_make(pconf, (int)ctx->nslots + 1,
                                                 sizeof(prx_worker *));
        apr_array_cat(big, m);
        b->members = big;
    }
    return APR_SUCCESS;
}

/* A random nonce in UUID form (spec balancer.md §5 step 4). */
static void make_nonce(char *out)
{
    unsigned char r[16];
    static const char *hex = "0123456789abcdef";
    int i, o = 0;

    if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        apr_time_t t = apr_time_now();
        memcpy(r, &t, sizeof(t));
        memcpy(r + 8, &t, sizeof(t));
    }
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
}

static apr_status_t server_tables(apr_pool_t *pconf, apr_pool_t *ptemp,
                                  server_rec *vs, const char *sid)
{
    prx_server_conf *sc = prx_server_conf_get(vs);
    apr_array_header_t *list = owned_balancers(ptemp, vs);
    int persist = sc->bal_persist == 1;
    unsigned int n, i;
    bal_balancer_slot **slots;
    ap_slotmem_instance_t *inst;
    apr_status_t rv;
    int k;

    if (!list->nelts) {
        return APR_SUCCESS;
    }
    n = (unsigned int)list->nelts + (unsigned int)sc->bal_growth;
    rv = table_create(pconf, vs,
                      persist ? apr_pstrcat(pconf, "prxbal-", sid, NULL)
                              : NULL,
                      sizeof(bal_balancer_slot), n, persist, &inst,
                      (void ***)&slots);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* restored balancer slots are matched by name; others are freed */
    for (i = 0; i < n; i++) {
        int match = 0;
        for (k = 0; slots[i]->used && k < list->nelts; k++) {
            match |= !strcmp(slots[i]->s.name,
                             APR_ARRAY_IDX(list, k, prx_balancer *)->name);
        }
        if (slots[i]->used && !match) {
            memset(slots[i], 0, sizeof(*slots[i]));
        }
    }
    for (k = 0; k < list->nelts; k++) {
        prx_balancer *b = APR_ARRAY_IDX(list, k, prx_balancer *);
        bal_ctx *ctx = apr_pcalloc(pconf, sizeof(*ctx));
        bal_balancer_slot *sl = NULL;
        int restored = 0;

        for (i = 0; persist && i < n && !sl; i++) {
            if (slots[i]->used && !strcmp(slots[i]->s.name, b->name)) {
                sl = slots[i];
                restored = 1;
            }
        }
        for (i = 0; !sl && i < n; i++) {
            if (!slots[i]->used) {
                sl = slots[i];
                memcpy(&sl->s, b->s, sizeof(sl->s));
                sl->used = 1;
            }
        }
        b->s = &sl->s;
        if (restored) {
            b->lbmethod = ap_lookup_provider(PRX_LBMETHOD_GROUP,
                                             b->s->lbpname,
                                             PRX_LBMETHOD_VERSION);
        }
        else if (!b->nonce_set && !*b->s->nonce) {
            make_nonce(b->s->nonce);
        }
        if (!b->lbmethod) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, vs, PRXLOGNO(00624)
                         "%s: Cannot find LB Method '%s' (is "
                         "mod_lbmethod_%s loaded?)", b->name,
                         b->s->lbpname, b->s->lbpname);
            return APR_EGENERAL;
        }
        ctx->persisted = persist;
        rv = member_slots(pconf, ptemp, vs, b, ctx,
                          persist ? apr_pstrcat(pconf, "prxbal-", sid, "-",
                                                hash_hex(ptemp, b->name),
                                                NULL)
                                  : NULL);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        ctx->gmutex_id = apr_psprintf(pconf, "%s-%d", sid, k);
        rv = ap_global_mutex_create(&ctx->gmutex, NULL, BAL_MUTEX_TYPE,
                                    ctx->gmutex_id, vs, pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, vs, PRXLOGNO(00625)
                         "%s: cannot create the balancer's cross-process "
                         "lock (mutex %s)", b->name, BAL_MUTEX_TYPE);
            return rv;
        }
        b->context = ctx;
    }
    return APR_SUCCESS;
}

/* -- hooks -------------------------------------------------------------------------------- */

int bal_shm_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp)
{
    apr_status_t rv = ap_mutex_register(pconf, BAL_MUTEX_TYPE, NULL,
                                        APR_LOCK_DEFAULT, 0);

    return rv == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int bal_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *ids;
    server_rec *vs;
    int any = 0;

    /* the first of the two start-up passes only checks the config */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    for (vs = s; vs && !any; vs = vs->next) {
        any = owned_balancers(ptemp, vs)->nelts > 0;
    }
    if (!any) {
        return OK;
    }
    storage = ap_lookup_provider(AP_SLOTMEM_PROVIDER_GROUP, "shm",
                                 AP_SLOTMEM_PROVIDER_VERSION);
    if (!storage) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, PRXLOGNO(00626)
                     "mod_proxy_balancer needs the slotmem provider 'shm': "
                     "LoadModule slotmem_shm_module (mod_slotmem_shm.so)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ids = server_ids(ptemp, s);
    for (vs = s; vs; vs = vs->next) {
        const char *sid = apr_hash_get(ids, &vs, sizeof(vs));
        if (server_tables(pconf, ptemp, vs, sid) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

void bal_shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *vs;
    int i;

    for (vs = s; vs; vs = vs->next) {
        apr_array_header_t *list = owned_balancers(pchild, vs);

        for (i = 0; i < list->nelts; i++) {
            prx_balancer *b = APR_ARRAY_IDX(list, i, prx_balancer *);
            bal_ctx *ctx = b->context;
            apr_status_t rv;

            if (!ctx) {
                continue;
            }
            rv = apr_thread_mutex_create(&b->tmutex, APR_THREAD_MUTEX_DEFAULT,
                                         pchild);
            if (rv == APR_SUCCESS) {
                rv = apr_global_mutex_child_init(
                         &ctx->gmutex, apr_global_mutex_lockfile(ctx->gmutex),
                         pchild);
            }
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, rv, vs, PRXLOGNO(00627)
                             "%s: cannot set up the balancer's locks in "
                             "this child", b->name);
                b->context = NULL;   /* requests for it decline (500) */
                continue;
            }
            apr_pool_create(&ctx->rt_pool, pchild);
            apr_pool_tag(ctx->rt_pool, "prx_balancer_rt");
            /* spec balancer.md §5 step 5 */
            if (!b->s->max_attempts_set && b->members->nelts > 1) {
                b->s->max_attempts = b->members->nelts - 1;
                b->s->max_attempts_set = 1;
            }
            /* the forced first sync: members added at run time by an
             * earlier child or generation */
            ctx->wupdated = -1;
            bal_sync_locked(b, vs);
        }
    }
}

/* -- the member-list sync (spec balancer.md §8 step 4) ---------------------------------- */

/* Make the member of slot `i`, added elsewhere, a member in this child. */
static void attach_slot(prx_balancer *b, bal_ctx *ctx, unsigned int i,
                        server_rec *s)
{
    bal_member_slot *sl = ctx->slots[i];
    const char *err;
    prx_worker *w;

    ctx->known[i] = 1;
    if (b->members->nelts >= b->members->nalloc) {
        return;
    }
    w = member_make(ctx->rt_pool, b, sl->url, &err);
    if (!w) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PRXLOGNO(00628)
                     "%s: cannot attach member %s of slot %u: %s", b->name,
                     sl->url, i, err);
        return;
    }
    prx_worker_child_init(w, ctx->rt_pool);
    w->s = &sl->s;
    members_publish(b, w);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRXLOGNO(00629)
                 "%s: member %s (added at run time) attached", b->name,
                 w->name);
}

void bal_sync_locked(prx_balancer *b, server_rec *s)
{
    bal_ctx *ctx = b->context;
    apr_time_t updated;
    unsigned int i;

    if (!ctx) {
        return;
    }
    updated = b->s->wupdated;
    if (updated > ctx->wupdated) {
        const prx_lbmethod *lb = ap_lookup_provider(PRX_LBMETHOD_GROUP,
                                                    b->s->lbpname,
                                                    PRX_LBMETHOD_VERSION);
        if (lb) {
            b->lbmethod = lb;
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PRXLOGNO(00630)
                         "%s: lbmethod '%s' is not loaded; keeping '%s'",
                         b->name, b->s->lbpname,
                         b->lbmethod ? b->lbmethod->name : "none");
        }
        for (i = 0; i < ctx->nslots; i++) {
            if (ctx->slots[i]->used && !ctx->known[i]) {
                __atomic_thread_fence(__ATOMIC_ACQUIRE);
                attach_slot(b, ctx, i, s);
            }
        }
        ctx->wupdated = updated;
    }
    if (b->s->need_reset) {
        if (b->lbmethod && b->lbmethod->reset) {
            b->lbmethod->reset(b, s);
        }
        b->s->need_reset = 0;
    }
}

/* -- the public API (include/prx_balancer.h) --------------------------------------------- */

PRX_DECLARE(apr_status_t) prx_balancer_sync(prx_balancer *b, server_rec *s)
{
    apr_status_t rv;

    if (!b->context || !b->tmutex) {
        return APR_SUCCESS;
    }
    rv = apr_thread_mutex_lock(b->tmutex);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PRXLOGNO(00631)
                     "%s: cannot take the balancer's lock", b->name);
        return rv;
    }
    bal_sync_locked(b, s);
    apr_thread_mutex_unlock(b->tmutex);
    return APR_SUCCESS;
}

PRX_DECLARE(apr_status_t) prx_balancer_lock(prx_balancer *b, server_rec *s)
{
    bal_ctx *ctx = b->context;
    apr_status_t rv;

    if (!ctx || !b->tmutex) {
        return APR_ENOLOCK;
    }
    rv = apr_thread_mutex_lock(b->tmutex);
    if (rv == APR_SUCCESS) {
        rv = apr_global_mutex_lock(ctx->gmutex);
        if (rv != APR_SUCCESS) {
            apr_thread_mutex_unlock(b->tmutex);
        }
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PRXLOGNO(00632)
                     "%s: cannot take the balancer's locks", b->name);
    }
    return rv;
}

PRX_DECLARE(void) prx_balancer_unlock(prx_balancer *b, server_rec *s)
{
    bal_ctx *ctx = b->context;

    if (ctx && b->tmutex) {
        apr_global_mutex_unlock(ctx->gmutex);
        apr_thread_mutex_unlock(b->tmutex);
    }
}

PRX_DECLARE(void) prx_balancer_touch(prx_balancer *b)
{
    b->s->wupdated = apr_time_now();
}

PRX_DECLARE(int) prx_balancer_free_slots(prx_balancer *b)
{
    int n = b->max_members - b->members->nelts;

    return n > 0 ? n : 0;
}

/* The work of prx_balancer_manage_add() with both locks held. */
static apr_status_t add_locked(request_rec *r, prx_balancer *b,
                               const char *url, prx_worker **out)
{
    bal_ctx *ctx = b->context;
    bal_member_slot *sl = NULL;
    const char *err;
    prx_worker *w;
    unsigned int i;
    int k;

    bal_sync_locked(b, r->server);
    w = member_make(ctx->rt_pool, b, url, &err);
    if (!w) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00633)
                      "%s: cannot add member %s: %s", b->name, url, err);
        return APR_EINVAL;
    }
    for (k = 0; k < b->members->nelts; k++) {
        if (!strcmp(APR_ARRAY_IDX(b->members, k, prx_worker *)->name,
                    w->name)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00634)
                          "%s: cannot add member %s: it is a member "
                          "already", b->name, w->name);
            return APR_EEXIST;
        }
    }
    for (i = 0; i < ctx->nslots && !sl; i++) {
        if (!ctx->slots[i]->used) {
            sl = ctx->slots[i];
            break;
        }
    }
    if (!sl || b->members->nelts >= b->max_members
        || b->members->nelts >= b->members->nalloc) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PRXLOGNO(00635)
                      "%s: cannot add member %s: no free member slot "
                      "(growth=%d)", b->name, w->name, b->growth);
        return APR_ENOSPC;
    }
    prx_worker_child_init(w, ctx->rt_pool);
    memset(sl, 0, sizeof(*sl));
    memcpy(&sl->s, w->s, sizeof(sl->s));
    sl->s.status |= PRX_WS_DISABLED | PRX_WS_INITIALIZED;
    sl->s.updated = apr_time_now();
    apr_cpystrn(sl->url, url, sizeof(sl->url));
    sl->runtime = 1;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    sl->used = 1;
    ctx->known[i] = 1;
    w->s = &sl->s;
    members_publish(b, w);
    b->s->wupdated = sl->s.updated;
    ctx->wupdated = sl->s.updated;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PRXLOGNO(00636)
                  "%s: member %s added (disabled)", b->name, w->name);
    if (out) {
        *out = w;
    }
    return APR_SUCCESS;
}

PRX_DECLARE(apr_status_t) prx_balancer_manage_add(request_rec *r,
                                                  prx_balancer *b,
                                                  const char *url,
                                                  prx_worker **out)
{
    apr_status_t rv = prx_balancer_lock(b, r->server);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = add_locked(r, b, url, out);
    prx_balancer_unlock(b, r->server);
    return rv;
}
