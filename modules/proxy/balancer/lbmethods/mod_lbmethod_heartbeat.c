/*
 * mod_lbmethod_heartbeat.c -- the "heartbeat" lbmethod (spec lbmethods.md
 * §6): members are chosen at random, weighted by the free capacity their
 * origin servers report in heartbeats (mod_heartbeat on the origins,
 * collected on this proxy by mod_heartmonitor). The reports are read at
 * each election from mod_heartmonitor's shared slot table when it has one,
 * else from its storage file (HeartbeatStorage). This method ignores
 * loadfactor, lbsets, spares, standbys and draining: it does not use the
 * core's candidate walk.
 *
 * The file has one line per origin, "<ip> <query string>", e.g.
 * "10.0.0.5 &ready=75&busy=3&lastseen=2&port=80". A member is matched by
 * its host, literally (BalancerMember http://10.0.0.5:8080 takes the
 * line of 10.0.0.5; the port is not compared). An origin that reports no
 * busy worker counts a quarter of its ready ones (a freshly started one
 * is not flooded); one not heard of for 10 s or more is left out. Example,
 * members a (10.0.0.1) and b (10.0.0.2):
 *
 *   10.0.0.1 &ready=30&busy=2&lastseen=1   -> a counts 30
 *   10.0.0.2 &ready=40&busy=0&lastseen=3   -> b counts 40 / 4 = 10
 *
 * open = 40; pick = random in [0, 40]; a covers [0, 30], b [30, 40]
 * (a later range wins where they touch), so a takes about 3 of 4
 * requests.
 */
#include "prx_lbmethod.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <ap_provider.h>
#include <ap_slotmem.h>
#include <http_core.h>
#include <util_cfgtree.h>

extern module AP_MODULE_DECLARE_DATA lbmethod_heartbeat_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(lbmethod_heartbeat);
#endif

#define HB_DEFAULT_FILE "hb.dat"
#define HB_LINE_MAX     4096
#define HB_FRESH_SECS   10

/* mod_heartmonitor's slot record (spec lbmethods.md §6.3). */
#define HB_IP_MAX 46
typedef struct {
    char ip[HB_IP_MAX];
    int busy;
    int ready;
    apr_time_t seen;
    int id;
} hb_slot_record;

typedef struct {
    const char *storage;   /* HeartbeatStorage as written, or NULL */
} hb_conf;

/* What post_config resolved for this generation. */
static const char *hb_path;
static ap_slotmem_instance_t *hb_slots;
static const ap_slotmem_provider_t *hb_storage;

/* One origin's report. */
typedef struct {
    const char *ip;
    int busy, ready, port;
    apr_int64_t lastseen;   /* seconds; -1 when not reported */
    prx_worker *member;
} hb_server;

static hb_server *server_get(apr_pool_t *p, apr_hash_t *servers,
                             const char *ip)
{
    hb_server *s = apr_hash_get(servers, ip, APR_HASH_KEY_STRING);

    if (!s) {
        s = apr_pcalloc(p, sizeof(*s));
        s->ip = apr_pstrdup(p, ip);
        s->lastseen = -1;
        s->port = 80;
        apr_hash_set(servers, s->ip, APR_HASH_KEY_STRING, s);
    }
    return s;
}

/* "&ready=75&busy=3&lastseen=2&port=80" into `s` (spec §6.2: items split
 * on '&', no '=' means the value 1, keys and values URL-decoded, unknown
 * keys ignored). */
static void parse_report(apr_pool_t *p, hb_server *s, char *qs)
{
    char *item, *last;

    for (item = apr_strtok(qs, "&", &last); item;
         item = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(item, '=');
        char *val = "1";

        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
        ap_unescape_url(item);
        ap_unescape_url(val);
        if (!strcasecmp(item, "busy")) {
            s->busy = atoi(val);
        }
        else if (!strcasecmp(item, "ready")) {
            s->ready = atoi(val);
        }
        else if (!strcasecmp(item, "lastseen")) {
            s->lastseen = apr_atoi64(val);
        }
        else if (!strcasecmp(item, "port")) {
            s->port = atoi(val);
        }
    }
}

static apr_status_t read_file(request_rec *r, apr_hash_t *servers)
{
    char *line = apr_palloc(r->pool, HB_LINE_MAX);
    apr_file_t *f;
    apr_status_t rv;

    rv = apr_file_open(&f, hb_path, APR_READ | APR_BUFFERED, APR_OS_DEFAULT,
                       r->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_file_gets(line, HB_LINE_MAX, f) == APR_SUCCESS) {
        char *sp, *nl;

        if ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
        }
        if (line[0] == '#' || !(sp = strchr(line, ' '))) {
            continue;
        }
        *sp = '\0';
        /* later lines of the same address override its fields */
        parse_report(r->pool, server_get(r->pool, servers, line),
                     apr_pstrdup(r->pool, sp + 1));
    }
    apr_file_close(f);
    return APR_SUCCESS;
}

typedef struct {
    request_rec *r;
    apr_hash_t *servers;
    apr_time_t now;
} slot_baton;

static apr_status_t read_slot(void *mem, void *data, apr_pool_t *p)
{
    const hb_slot_record *rec = mem;
    slot_baton *sb = data;
    char ip[HB_IP_MAX];
    hb_server *s;

    apr_cpystrn(ip, rec->ip, sizeof(ip));
    if (!*ip) {
        return APR_SUCCESS;
    }
    s = server_get(sb->r->pool, sb->servers, ip);
    s->busy = rec->busy;
    s->ready = rec->ready;
    s->lastseen = apr_time_sec(sb->now - rec->seen);
    return APR_SUCCESS;
}

static apr_status_t read_servers(request_rec *r, apr_hash_t *servers)
{
    if (hb_slots) {
        slot_baton sb = { r, servers, apr_time_now() };
        return hb_storage->doall(hb_slots, read_slot, &sb, r->pool);
    }
    return read_file(r, servers);
}

static int usable(const prx_worker *w)
{
    apr_uint32_t st = w->s->status;
    return (st & PRX_WS_INITIALIZED) && !(st & PRX_WS_UNUSABLE);
}

/* Lock: b->tmutex (held by the balancer). */
static prx_worker *heartbeat_finder(prx_balancer *b, request_rec *r)
{
    apr_hash_t *servers = apr_hash_make(r->pool);
    apr_array_header_t *up = apr_array_make(r->pool, b->members->nelts + 1,
                                            sizeof(hb_server *));
    apr_hash_index_t *hi;
    apr_uint32_t open = 0, pick, c = 0;
    prx_worker *chosen = NULL;
    apr_status_t rv;
    int i;

    rv = read_servers(r, servers);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PRXLOGNO(00637)
                      "%s: heartbeat: cannot read the heartbeat data (%s)",
                      b->name, hb_slots ? "(slotmem)" : hb_path);
        return NULL;
    }
    for (hi = apr_hash_first(r->pool, servers); hi; hi = apr_hash_next(hi)) {
        hb_server *s = apr_hash_this_val(hi);
        if (s->ready < 0) {
            s->ready = 0;
        }
        if (s->busy == 0 && s->ready != 0) {
            s->ready /= 4;
        }
    }
    for (i = 0; i < b->members->nelts; i++) {
        prx_worker *w = APR_ARRAY_IDX(b->members, i, prx_worker *);
        hb_server *s = apr_hash_get(servers, w->hostname,
                                    APR_HASH_KEY_STRING);

        if (!s) {
            continue;
        }
        if (!usable(w)) {
            prx_worker_retry(w, r->server);
        }
        if (usable(w)) {
            s->member = w;
            if (s->lastseen < HB_FRESH_SECS) {
                open += (apr_uint32_t)s->ready;
                APR_ARRAY_PUSH(up, hb_server *) = s;
            }
        }
    }
    if (!open) {
        return NULL;
    }
    pick = ap_random_pick(0, open);
    for (i = 0; i < up->nelts; i++) {
        hb_server *s = APR_ARRAY_IDX(up, i, hb_server *);
        if (pick >= c && pick <= c + (apr_uint32_t)s->ready) {
            chosen = s->member;
        }
        c += (apr_uint32_t)s->ready;
    }
    return chosen;
}

static const prx_lbmethod heartbeat = {
    .name = "heartbeat",
    .finder = heartbeat_finder,
    .context = NULL,
    .reset = NULL,            /* no statistics of its own to forget */
    .age = NULL,              /* never called (as in stock) */
    .updatelbstatus = NULL,   /* sticky requests: the default accounting */
};

/* -- configuration ----------------------------------------------------------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(hb_conf));
}

/* HeartbeatStorage path (global only). mod_heartmonitor has a directive
 * of the same name and meaning, and httpd hands a line to the first module
 * that has it: when mod_heartmonitor comes after us it is handed the line
 * too (DECLINE_CMD passes it on); when it comes first, post_config finds
 * the line in the configuration tree. One setting serves both. */
static const char *set_heartbeat_storage(cmd_parms *cmd, void *dummy,
                                         const char *path)
{
    hb_conf *conf = ap_get_module_config(cmd->server->module_config,
                                         &lbmethod_heartbeat_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return apr_pstrcat(cmd->pool, "HeartbeatStorage: ", err, NULL);
    }
    if (!*path) {
        return "HeartbeatStorage: an empty path is no file";
    }
    conf->storage = apr_pstrdup(cmd->pool, path);
    if (ap_find_linked_module("mod_heartmonitor.c")) {
        return DECLINE_CMD;
    }
    return NULL;
}

/* The last global HeartbeatStorage line of the configuration: the one
 * mod_heartmonitor took when it came first in httpd's directive lookup
 * (the module loaded last does) and did not pass the line on. */
static const char *storage_in_tree(apr_pool_t *p)
{
    const char *found = NULL;
    ap_directive_t *d;

    for (d = ap_conftree; d; d = d->next) {
        if (!strcasecmp(d->directive, "HeartbeatStorage") && d->args) {
            const char *args = d->args;
            char *w = ap_getword_conf(p, &args);
            if (*w) {
                found = w;
            }
        }
    }
    return found;
}

static int heartbeat_post_config(apr_pool_t *p, apr_pool_t *plog,
                                 apr_pool_t *ptemp, server_rec *s)
{
    hb_conf *conf = ap_get_module_config(s->module_config,
                                         &lbmethod_heartbeat_module);
    const char *storage = conf->storage ? conf->storage : storage_in_tree(p);
    apr_size_t size;
    unsigned int num;

    hb_path = ap_runtime_dir_relative(p, storage ? storage
                                                 : HB_DEFAULT_FILE);
    hb_slots = NULL;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* mod_heartmonitor's shared table, when it made one */
    hb_storage = ap_lookup_provider(AP_SLOTMEM_PROVIDER_GROUP, "shm",
                                    AP_SLOTMEM_PROVIDER_VERSION);
    if (hb_storage && ap_find_linked_module("mod_heartmonitor.c")
        && hb_storage->attach(&hb_slots, "mod_heartmonitor", &size, &num,
                              p) == APR_SUCCESS) {
        if (size != sizeof(hb_slot_record)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, PRXLOGNO(00638)
                         "heartbeat: mod_heartmonitor's slots have %"
                         APR_SIZE_T_FMT " bytes, not %" APR_SIZE_T_FMT
                         ": reading %s instead", size,
                         sizeof(hb_slot_record), hb_path);
            hb_slots = NULL;
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, PRXLOGNO(00639)
                         "heartbeat: reading mod_heartmonitor's shared "
                         "table (%u servers)", num);
        }
    }
    return OK;
}

static const command_rec heartbeat_cmds[] = {
    AP_INIT_TAKE1("HeartbeatStorage", set_heartbeat_storage, NULL,
                  RSRC_CONF, "path of the heartbeat storage file (default "
                  HB_DEFAULT_FILE " in the runtime directory)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

static void register_hooks(apr_pool_t *p)
{
    /* mod_heartmonitor makes its table in its post_config */
    static const char *const after[] = { "mod_heartmonitor.c", NULL };

    ap_register_provider(p, PRX_LBMETHOD_GROUP, "heartbeat",
                         PRX_LBMETHOD_VERSION, &heartbeat);
    ap_hook_post_config(heartbeat_post_config, after, NULL, APR_HOOK_MIDDLE);
}

PRX_EXPORT module AP_MODULE_DECLARE_DATA lbmethod_heartbeat_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_server_conf,
    NULL,
    heartbeat_cmds,
    register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_NONE
#endif
};
