/*
 * prx_fakedns.c -- a resolver a test controls, for the test httpd only.
 *
 * Preloaded into an httpd (LD_PRELOAD; t/lib/PrxHttpd.pm env => ...), it
 * answers getaddrinfo() for names under the reserved test domain
 * prx-test.invalid (RFC 2606: .invalid never resolves for real) from a
 * mapping file, and records every such lookup. Every other name goes to
 * the real getaddrinfo (the next definition: libc's, or the sanitizer's
 * interceptor when that is preloaded first). Only loopback addresses are
 * ever returned: anything else in the mapping is refused.
 *
 * Environment:
 *   PRX_FAKEDNS_MAP  the mapping, read again on every lookup (replace it
 *                    atomically: write a new file, rename it over):
 *                        # comment
 *                        origin.prx-test.invalid  127.0.0.2 127.0.0.1 ::1
 *                        gone.prx-test.invalid    fail    (EAI_NONAME)
 *                        flaky.prx-test.invalid   again   (EAI_AGAIN)
 *                    Names are case-insensitive; a trailing dot is
 *                    ignored; a name that is not listed gets EAI_NONAME.
 *   PRX_FAKEDNS_LOG  each lookup of a test name appends one line:
 *                        <name> <pid> <unix time.usec> <answer>
 *                    answer: the addresses returned, comma-separated,
 *                    or fail / again / none (not listed, no usable
 *                    address, or no mapping file).
 *
 * The answer honours the hints' family (AF_UNSPEC, AF_INET, AF_INET6),
 * socket type (0 gives a stream and a datagram entry), protocol,
 * AI_CANONNAME and AI_NUMERICHOST (passed on: a test name is no number);
 * the service must be numeric or NULL. freeaddrinfo() knows the lists it
 * made and hands every other list to the real one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define TEST_DOMAIN ".prx-test.invalid"
#define MAX_NAME 255
#define MAX_ADDRS 16

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);
typedef void (*freeai_fn)(struct addrinfo *);

/* the exported overrides (declared here for -Wmissing-prototypes: netdb.h
 * declares them too, identically) */
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res);
void freeaddrinfo(struct addrinfo *res);

typedef struct {
    int family;                   /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } u;
} fake_addr;

/* one entry of a list we made: the sockaddr lives with its addrinfo */
typedef struct {
    struct addrinfo ai;
    struct sockaddr_storage ss;
} fake_ai;

/* the heads of the lists we handed out, so that freeaddrinfo() tells
 * ours from the real resolver's */
typedef struct made_list {
    struct addrinfo *head;
    struct made_list *next;
} made_list;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static gai_fn real_gai;
static freeai_fn real_freeai;
static pthread_mutex_t made_lock = PTHREAD_MUTEX_INITIALIZER;
static made_list *made;

static void find_real(void)
{
    real_gai = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    real_freeai = (freeai_fn)dlsym(RTLD_NEXT, "freeaddrinfo");
}

/* Is `node` a name of the test domain? Its lower-cased form, without a
 * trailing dot, goes to `out`. */
static int test_name(const char *node, char *out, size_t outlen)
{
    size_t n = strlen(node), dl = sizeof(TEST_DOMAIN) - 1, i;

    if (n > 0 && node[n - 1] == '.') {
        n--;
    }
    if (n == 0 || n >= outlen || n > MAX_NAME) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char ch = node[i];
        out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    out[n] = '\0';
    if (!strcmp(out, &TEST_DOMAIN[1])) {
        return 1;
    }
    return n > dl && !strcmp(out + n - dl, TEST_DOMAIN);
}

static int is_loopback(const fake_addr *a)
{
    if (a->family == AF_INET) {
        return (ntohl(a->u.v4.s_addr) >> 24) == 127;
    }
    return IN6_IS_ADDR_LOOPBACK(&a->u.v6);
}

enum answer { ANS_NONE, ANS_ADDRS, ANS_FAIL, ANS_AGAIN };

/* Looks `name` up in the mapping file: up to MAX_ADDRS loopback addresses
 * into `addrs` (count in *naddrs). */
static enum answer map_lookup(const char *name, fake_addr *addrs,
                              int *naddrs)
{
    const char *path = getenv("PRX_FAKEDNS_MAP");
    char line[1024];
    enum answer ans = ANS_NONE;
    FILE *f;

    *naddrs = 0;
    if (!path || !(f = fopen(path, "re"))) {
        return ANS_NONE;
    }
    while (ans == ANS_NONE && fgets(line, sizeof(line), f)) {
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        char *dot;

        if (!tok || tok[0] == '#') {
            continue;
        }
        dot = tok + strlen(tok) - 1;
        if (*dot == '.' && dot > tok) {
            *dot = '\0';
        }
        if (strcasecmp(tok, name)) {
            continue;
        }
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            fake_addr a;

            if (!strcasecmp(tok, "fail")) {
                ans = ANS_FAIL;
                break;
            }
            if (!strcasecmp(tok, "again")) {
                ans = ANS_AGAIN;
                break;
            }
            memset(&a, 0, sizeof(a));
            if (inet_pton(AF_INET, tok, &a.u.v4) == 1) {
                a.family = AF_INET;
            }
            else if (inet_pton(AF_INET6, tok, &a.u.v6) == 1) {
                a.family = AF_INET6;
            }
            else {
                continue;
            }
            if (!is_loopback(&a)) {
                fprintf(stderr, "prx_fakedns: %s: %s is not a loopback "
                        "address, refused\n", name, tok);
                continue;
            }
            if (*naddrs < MAX_ADDRS) {
                addrs[(*naddrs)++] = a;
            }
        }
        if (ans == ANS_NONE && *naddrs > 0) {
            ans = ANS_ADDRS;
        }
        else if (ans == ANS_NONE) {
            break;                /* listed, but nothing usable */
        }
    }
    fclose(f);
    return ans;
}

/* One line of PRX_FAKEDNS_LOG, written by one write() to an O_APPEND file
 * (lines of concurrent lookups never interleave). */
static void log_lookup(const char *name, enum answer ans,
                       const fake_addr *addrs, int naddrs)
{
    const char *path = getenv("PRX_FAKEDNS_LOG");
    char line[MAX_NAME + 64 + MAX_ADDRS * (INET6_ADDRSTRLEN + 1)];
    struct timeval tv;
    size_t len;
    int fd, i, saved = errno;

    if (!path) {
        return;
    }
    gettimeofday(&tv, NULL);
    len = (size_t)snprintf(line, sizeof(line), "%s %ld %ld.%06ld ", name,
                           (long)getpid(), (long)tv.tv_sec,
                           (long)tv.tv_usec);
    if (ans == ANS_ADDRS) {
        for (i = 0; i < naddrs; i++) {
            char txt[INET6_ADDRSTRLEN];

            inet_ntop(addrs[i].family, &addrs[i].u, txt, sizeof(txt));
            len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
                                    i ? "," : "", txt);
        }
    }
    else {
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s",
                                ans == ANS_FAIL ? "fail"
                                : ans == ANS_AGAIN ? "again" : "none");
    }
    len += (size_t)snprintf(line + len, sizeof(line) - len, "\n");
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, len);
        (void)w;
        close(fd);
    }
    errno = saved;
}

static int port_of(const char *service, int flags, unsigned short *port)
{
    char *end;
    unsigned long n;

    *port = 0;
    if (!service) {
        return 0;
    }
    errno = 0;
    n = strtoul(service, &end, 10);
    if (!*service || *end || errno || n > 65535) {
        return (flags & AI_NUMERICSERV) ? EAI_NONAME : EAI_SERVICE;
    }
    *port = htons((unsigned short)n);
    return 0;
}

/* Appends one entry for `a` and socket type `st` to the list at *tail. */
static int add_entry(struct addrinfo ***tail, const fake_addr *a, int st,
                     int proto, unsigned short port)
{
    fake_ai *e = calloc(1, sizeof(*e));

    if (!e) {
        return EAI_MEMORY;
    }
    e->ai.ai_family = a->family;
    e->ai.ai_socktype = st;
    e->ai.ai_protocol = proto ? proto
                        : st == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    e->ai.ai_addr = (struct sockaddr *)&e->ss;
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&e->ss;

        sin->sin_family = AF_INET;
        sin->sin_port = port;
        sin->sin_addr = a->u.v4;
        e->ai.ai_addrlen = sizeof(*sin);
    }
    else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&e->ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = port;
        sin6->sin6_addr = a->u.v6;
        e->ai.ai_addrlen = sizeof(*sin6);
    }
    **tail = &e->ai;
    *tail = &e->ai.ai_next;
    return 0;
}

static void free_ours(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;

        free(ai->ai_canonname);
        free(ai);                 /* the fake_ai it is the first member of */
        ai = next;
    }
}

/* Builds the answer for the hints; 0 or an EAI_ code. */
static int build(const char *name, const fake_addr *addrs, int naddrs,
                 const char *service, const struct addrinfo *hints,
                 struct addrinfo **res)
{
    int family = hints ? hints->ai_family : AF_UNSPEC;
    int st = hints ? hints->ai_socktype : 0;
    int proto = hints ? hints->ai_protocol : 0;
    int flags = hints ? hints->ai_flags : 0;
    struct addrinfo *head = NULL, **tail = &head;
    unsigned short port;
    int rv, i;
    made_list *m;

    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
        return EAI_FAMILY;
    }
    if (st != 0 && st != SOCK_STREAM && st != SOCK_DGRAM) {
        return EAI_SOCKTYPE;
    }
    if ((rv = port_of(service, flags, &port)) != 0) {
        return rv;
    }
    for (i = 0; i < naddrs; i++) {
        if (family != AF_UNSPEC && addrs[i].family != family) {
            continue;
        }
        if (st == 0 || st == SOCK_STREAM) {
            rv = add_entry(&tail, &addrs[i], SOCK_STREAM, proto, port);
        }
        if (!rv && (st == 0 || st == SOCK_DGRAM)) {
            rv = add_entry(&tail, &addrs[i], SOCK_DGRAM, proto, port);
        }
        if (rv) {
            free_ours(head);
            return rv;
        }
    }
    if (!head) {
        return EAI_NONAME;        /* none of the family asked for */
    }
    if ((flags & AI_CANONNAME) && !(head->ai_canonname = strdup(name))) {
        free_ours(head);
        return EAI_MEMORY;
    }
    if (!(m = malloc(sizeof(*m)))) {
        free_ours(head);
        return EAI_MEMORY;
    }
    m->head = head;
    pthread_mutex_lock(&made_lock);
    m->next = made;
    made = m;
    pthread_mutex_unlock(&made_lock);
    *res = head;
    return 0;
}

int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    char name[MAX_NAME + 1];
    fake_addr addrs[MAX_ADDRS];
    enum answer ans;
    int naddrs;

    pthread_once(&real_once, find_real);
    if (!node || !test_name(node, name, sizeof(name))
        || (hints && (hints->ai_flags & AI_NUMERICHOST))) {
        return real_gai ? real_gai(node, service, hints, res) : EAI_SYSTEM;
    }
    ans = map_lookup(name, addrs, &naddrs);
    log_lookup(name, ans, addrs, naddrs);
    switch (ans) {
    case ANS_ADDRS:
        return build(name, addrs, naddrs, service, hints, res);
    case ANS_AGAIN:
        return EAI_AGAIN;
    default:
        return EAI_NONAME;
    }
}

void freeaddrinfo(struct addrinfo *res)
{
    made_list **pp, *m = NULL;

    pthread_once(&real_once, find_real);
    pthread_mutex_lock(&made_lock);
    for (pp = &made; *pp; pp = &(*pp)->next) {
        if ((*pp)->head == res) {
            m = *pp;
            *pp = m->next;
            break;
        }
    }
    pthread_mutex_unlock(&made_lock);
    if (m) {
        free(m);
        free_ours(res);
    }
    else if (real_freeai) {
        real_freeai(res);
    }
}
