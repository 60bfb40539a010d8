/*
 * proxy_params.c -- the worker `key=value` parameters (spec core.md §5):
 * one table of { name, parser }, the defaults of a new worker, and the
 * `status=` flag string.
 *
 * Every parameter of the spec's table is listed. The ones whose effect this
 * build does not deliver yet are marked `pending`: they are refused with a
 * message saying so, instead of being accepted and ignored. Parameters that
 * only mean something to another module (route, lbset, loadfactor and
 * redirect to the balancer, secret to AJP, flushpackets/flushwait to AJP and
 * FastCGI, flusher to fdpass) are stored for that module, as in stock.
 */
#include "proxy_private.h"

#include <apr_lib.h>

typedef const char *(*param_fn)(apr_pool_t *p, prx_worker *w,
                                const char *key, const char *val);

typedef struct {
    const char *name;
    param_fn set;
    int pending;       /* known, but not honoured by this build yet */
} param_entry;

void params_init(prx_worker_params *wp, const prx_server_conf *sc)
{
    memset(wp, 0, sizeof(*wp));
    wp->timeout = sc ? sc->timeout : PRX_UNSET;
    wp->connect_timeout = PRX_UNSET;
    wp->retry = apr_time_from_sec(60);
    wp->acquire = PRX_UNSET;
    wp->flush_wait = apr_time_from_msec(10);
    wp->disablereuse = PRX_UNSET;
    wp->io_buffer_size = sc ? sc->io_buffer_size : 8192;
    wp->recv_buffer_size = sc ? sc->recv_buffer_size : 0;
    wp->response_field_size = 8192;
    wp->address_ttl = -1;
    wp->lbfactor = 100;
    wp->flusher = "flush";
}

static const char *bad(apr_pool_t *p, const char *key, const char *val,
                       const char *what)
{
    return apr_psprintf(p, "worker parameter %s='%s': %s", key, val, what);
}

static int parse_onoff(const char *val, int *out)
{
    if (!strcasecmp(val, "on")) {
        *out = 1;
        return 1;
    }
    if (!strcasecmp(val, "off")) {
        *out = 0;
        return 1;
    }
    return 0;
}

/* Integer seconds, no units (spec: "timeout=500ms" is 500 seconds). */
static const char *set_timeout(apr_pool_t *p, prx_worker *w, const char *key,
                               const char *val)
{
    int n = atoi(val);
    if (n < 1) {
        return bad(p, key, val, "timeout must be at least one second");
    }
    w->p.timeout = apr_time_from_sec(n);
    return NULL;
}

/* Time with optional unit, at least 1 ms. */
static const char *parse_ms_time(apr_pool_t *p, const char *key,
                                 const char *val, const char *unit,
                                 apr_interval_time_t *out)
{
    apr_interval_time_t t;

    if (val[0] == '-'
        || ap_timeout_parameter_parse(val, &t, unit) != APR_SUCCESS) {
        return bad(p, key, val, "wrong format (a number, then optionally "
                   "ms, s, mi or h)");
    }
    if (t < apr_time_from_msec(1)) {
        return bad(p, key, val, "must be at least one millisecond");
    }
    *out = t;
    return NULL;
}

static const char *set_connect_timeout(apr_pool_t *p, prx_worker *w,
                                       const char *key, const char *val)
{
    return parse_ms_time(p, key, val, "s", &w->p.connect_timeout);
}

static const char *set_ping(apr_pool_t *p, prx_worker *w, const char *key,
                            const char *val)
{
    return parse_ms_time(p, key, val, "s", &w->p.ping);
}

static const char *set_acquire(apr_pool_t *p, prx_worker *w, const char *key,
                               const char *val)
{
    return parse_ms_time(p, key, val, "ms", &w->p.acquire);
}

static const char *set_retry(apr_pool_t *p, prx_worker *w, const char *key,
                             const char *val)
{
    int n = atoi(val);
    if (n < 0) {
        return bad(p, key, val, "retry must be a positive value");
    }
    w->p.retry = apr_time_from_sec(n);
    return NULL;
}

static const char *set_ttl(apr_pool_t *p, prx_worker *w, const char *key,
                           const char *val)
{
    int n = atoi(val);
    if (n < 1) {
        return bad(p, key, val, "ttl must be at least one second");
    }
    w->p.ttl = apr_time_from_sec(n);
    return NULL;
}

static const char *set_pool_size(apr_pool_t *p, prx_worker *w,
                                 const char *key, const char *val)
{
    int n = atoi(val);
    if (n < 0) {
        return bad(p, key, val, "must be a positive number");
    }
    if (!strcasecmp(key, "min")) {
        w->p.min = n;
    }
    else if (!strcasecmp(key, "max")) {
        w->p.max = n;
    }
    else {
        w->p.smax = n;
    }
    return NULL;
}

static const char *set_reuse(apr_pool_t *p, prx_worker *w, const char *key,
                             const char *val)
{
    int on;
    if (!parse_onoff(val, &on)) {
        return bad(p, key, val, "must be On|Off");
    }
    w->p.disablereuse = !strcasecmp(key, "disablereuse") ? on : !on;
    return NULL;
}

static const char *set_keepalive(apr_pool_t *p, prx_worker *w,
                                 const char *key, const char *val)
{
    if (!parse_onoff(val, &w->p.keepalive)) {
        return bad(p, key, val, "must be On|Off");
    }
    return NULL;
}

static const char *set_iobuffersize(apr_pool_t *p, prx_worker *w,
                                    const char *key, const char *val)
{
    long n = atol(val);
    if (n != 0 && n < 512) {
        return bad(p, key, val, "must be >= 512 bytes, or 0 for the "
                   "default (8192)");
    }
    w->p.io_buffer_size = n ? (apr_size_t)n : 8192;
    return NULL;
}

static const char *set_recvbuffersize(apr_pool_t *p, prx_worker *w,
                                      const char *key, const char *val)
{
    int n = atoi(val);
    if (n != 0 && n < 512) {
        return bad(p, key, val, "must be >= 512 bytes, or 0 for system "
                   "default");
    }
    w->p.recv_buffer_size = n;
    return NULL;
}

static const char *set_responsefieldsize(apr_pool_t *p, prx_worker *w,
                                         const char *key, const char *val)
{
    long n = atol(val);
    if (n < 0) {
        return bad(p, key, val, "must be a positive number (0 = 8192)");
    }
    w->p.response_field_size = n ? (apr_size_t)n : 8192;
    return NULL;
}

static const char *set_addressttl(apr_pool_t *p, prx_worker *w,
                                  const char *key, const char *val)
{
    apr_interval_time_t t;

    if (!strcmp(val, "-1")) {
        w->p.address_ttl = -1;
        return NULL;
    }
    if (val[0] == '-' || ap_timeout_parameter_parse(val, &t, "s")
                         != APR_SUCCESS
        || t % APR_USEC_PER_SEC || apr_time_sec(t) > 2147483647) {
        return bad(p, key, val, "must be -1 or a number of seconds not "
                   "exceeding 2147483647");
    }
    w->p.address_ttl = (apr_int32_t)apr_time_sec(t);
    return NULL;
}

static const char *set_flushpackets(apr_pool_t *p, prx_worker *w,
                                    const char *key, const char *val)
{
    if (!strcasecmp(val, "on")) {
        w->p.flush_packets = 1;
    }
    else if (!strcasecmp(val, "off")) {
        w->p.flush_packets = 0;
    }
    else if (!strcasecmp(val, "auto")) {
        w->p.flush_packets = 2;
    }
    else {
        return bad(p, key, val, "must be on|off|auto");
    }
    return NULL;
}

static const char *set_flushwait(apr_pool_t *p, prx_worker *w,
                                 const char *key, const char *val)
{
    int n = atoi(val);
    if (n < 0 || n > 1000) {
        return bad(p, key, val, "must be <= 1000, or 0 for system default "
                   "of 10 millseconds");
    }
    w->p.flush_wait = apr_time_from_msec(n ? n : 10);
    return NULL;
}

static const char *set_lbset(apr_pool_t *p, prx_worker *w, const char *key,
                             const char *val)
{
    int n = atoi(val);
    if (n < 0 || n > 99) {
        return bad(p, key, val, "must be a number between 0 and 99");
    }
    w->p.lbset = n;
    return NULL;
}

/* loadfactor: a decimal 1..100 kept x100 (two decimals of precision) */
static const char *set_loadfactor(apr_pool_t *p, prx_worker *w,
                                  const char *key, const char *val)
{
    double f = atof(val);
    int n = (int)(f * 100.0 + 0.5);
    if (n < 100 || n > 10000) {
        return bad(p, key, val, "must be a number between 1..100");
    }
    w->p.lbfactor = n;
    return NULL;
}

static const char *set_string(apr_pool_t *p, const char *key,
                              const char *val, apr_size_t max,
                              const char **out)
{
    if (strlen(val) >= max) {
        return bad(p, key, val, apr_psprintf(p, "must be shorter than %"
                                             APR_SIZE_T_FMT " characters",
                                             max));
    }
    *out = apr_pstrdup(p, val);
    return NULL;
}

static const char *set_route(apr_pool_t *p, prx_worker *w, const char *key,
                             const char *val)
{
    return set_string(p, key, val, 64, &w->p.route);
}

static const char *set_redirect(apr_pool_t *p, prx_worker *w,
                                const char *key, const char *val)
{
    return set_string(p, key, val, 64, &w->p.redirect);
}

static const char *set_secret(apr_pool_t *p, prx_worker *w, const char *key,
                              const char *val)
{
    return set_string(p, key, val, 64, &w->p.secret);
}

static const char *set_flusher(apr_pool_t *p, prx_worker *w,
                               const char *key, const char *val)
{
    return set_string(p, key, val, 16, &w->p.flusher);
}

static const char *set_upgrade(apr_pool_t *p, prx_worker *w,
                               const char *key, const char *val)
{
    if (!strcasecmp(val, "ANY")) {
        val = "*";
    }
    return set_string(p, key, val, 16, &w->p.upgrade);
}

static const char *set_status(apr_pool_t *p, prx_worker *w, const char *key,
                              const char *val)
{
    const char *err = params_parse_status(val, &w->p.status_set,
                                          &w->p.status_clear);
    return err ? bad(p, key, val, err) : NULL;
}

static const struct {
    char letter;
    unsigned int flag;
} status_letters[] = {
    { 'D', PRX_WS_DISABLED },     { 'S', PRX_WS_STOPPED },
    { 'I', PRX_WS_IGNORE_ERRORS },{ 'R', PRX_WS_HOT_SPARE },
    { 'H', PRX_WS_HOT_STANDBY },  { 'E', PRX_WS_IN_ERROR },
    { 'N', PRX_WS_DRAIN },        { 'C', PRX_WS_HC_FAIL },
    { 'O', PRX_WS_INITIALIZED },  { 'G', PRX_WS_GENERIC },
    { 'U', PRX_WS_IN_SHUTDOWN },  { 'F', PRX_WS_FREE },
};

/* spec core.md §5.1: '+' and '-' switch modes that persist; letters are
 * case-insensitive. "S-E" sets Stopped and clears Error. */
const char *params_parse_status(const char *val, unsigned int *set,
                                unsigned int *clear)
{
    int setting = 1;

    for (; *val; val++) {
        apr_size_t i;
        unsigned int flag = 0;

        if (*val == '+') {
            setting = 1;
            continue;
        }
        if (*val == '-') {
            setting = 0;
            continue;
        }
        for (i = 0; i < sizeof(status_letters) / sizeof(status_letters[0]);
             i++) {
            if (apr_toupper(*val) == status_letters[i].letter) {
                flag = status_letters[i].flag;
                break;
            }
        }
        if (!flag) {
            return "Unknown status parameter option";
        }
        if (setting) {
            *set |= flag;
            *clear &= ~flag;
        }
        else {
            *clear |= flag;
            *set &= ~flag;
        }
    }
    return NULL;
}

/* Sorted for the reader, looked up linearly (config time only). */
static const param_entry params[] = {
    { "acquire",           set_acquire,           0 },
    { "addressttl",        set_addressttl,        0 },
    { "connectiontimeout", set_connect_timeout,   0 },
    { "disablereuse",      set_reuse,             0 },
    { "enablereuse",       set_reuse,             0 },
    { "flusher",           set_flusher,           0 },
    { "flushpackets",      set_flushpackets,      0 },
    { "flushwait",         set_flushwait,         0 },
    { "iobuffersize",      set_iobuffersize,      0 },
    { "keepalive",         set_keepalive,         0 },
    { "lbset",             set_lbset,             0 },
    { "loadfactor",        set_loadfactor,        0 },
    { "max",               set_pool_size,         0 },
    { "min",               set_pool_size,         0 },
    { "ping",              set_ping,              0 },
    { "receivebuffersize", set_recvbuffersize,    0 },
    { "redirect",          set_redirect,          0 },
    { "responsefieldsize", set_responsefieldsize, 0 },
    { "retry",             set_retry,             0 },
    { "route",             set_route,             0 },
    { "secret",            set_secret,            0 },
    { "smax",              set_pool_size,         0 },
    { "status",            set_status,            0 },
    { "timeout",           set_timeout,           0 },
    { "ttl",               set_ttl,               0 },
    { "upgrade",           set_upgrade,           0 },
};

const char *params_set_worker(apr_pool_t *p, prx_worker *w, const char *key,
                              const char *val)
{
    apr_size_t i;

    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (strcasecmp(key, params[i].name)) {
            continue;
        }
        if (params[i].pending) {
            return apr_psprintf(p, "worker parameter '%s' is not supported "
                                "by this build yet (it comes with the "
                                "WebSocket tunnel work); remove it", key);
        }
        return params[i].set(p, w, key, val);
    }
    {
        const char *err = NULL;
        if (prx_run_set_worker_param(p, w->server, w, key, val, &err)
            == OK) {
            return err;
        }
    }
    if (!strncasecmp(key, "hc", 2)) {
        return apr_psprintf(p, "worker parameter '%s' needs "
                            "mod_proxy_hcheck (load it before this line)",
                            key);
    }
    return apr_psprintf(p, "unknown Worker parameter '%s'", key);
}
