/*
 * test_urlcanon.c -- unit tests of modules/proxy/proxy_urlcanon.c: netloc
 * validation, path modes and whole HTTP-family URLs (spec core.md 9,
 * http.md 2.1).
 */
#include "unit.h"
#include "proxy_urlcanon.h"

typedef struct {
    const char *scheme;
    const char *rest;
    apr_port_t def_port;
    prx_canon_mode mode;
    const char *query;
    int rv;
    const char *out;          /* expected result when rv == 0 */
} url_case;

#define ENC PRX_CANON_ENCODE
#define KEEP PRX_CANON_ENCODE_KEEP_ESCAPES
#define RAW PRX_CANON_RAW
#define ENCD PRX_CANON_ENCODED
#define FWD PRX_CANON_FORWARD

static const url_case cases[] = {
    /* -- host and port -- */
    { "http", "//Example.COM/a/b", 80, ENC, NULL, 0,
      "http://example.com/a/b" },
    { "HTTP", "//host/", 80, ENC, NULL, 0, "http://host/" },
    { "http", "//host:80/x", 80, ENC, NULL, 0, "http://host/x" },
    { "http", "//host:8080/x", 80, ENC, NULL, 0, "http://host:8080/x" },
    { "https", "//host:443/", 443, ENC, NULL, 0, "https://host/" },
    { "https", "//host:80/", 443, ENC, NULL, 0, "https://host:80/" },
    { "ws", "//h/", 80, ENC, NULL, 0, "ws://h/" },
    { "WsS", "//h:8443/x", 443, ENC, NULL, 0, "wss://h:8443/x" },
    { "http", "//host:65535/", 80, ENC, NULL, 0, "http://host:65535/" },
    { "http", "//host:1/", 80, ENC, NULL, 0, "http://host:1/" },
    { "http", "//host:0080/", 80, ENC, NULL, 0, "http://host/" },
    { "http", "//host:/x", 80, ENC, NULL, 0, "http://host/x" },
    { "http", "//host", 80, ENC, NULL, 0, "http://host/" },
    { "http", "//a_b-c.Example./", 80, ENC, NULL, 0,
      "http://a_b-c.example./" },
    { "http", "//1e100.net/", 80, ENC, NULL, 0, "http://1e100.net/" },
    { "http", "//127.0.0.1:81/", 80, ENC, NULL, 0, "http://127.0.0.1:81/" },
    { "http", "//0.0.0.0/", 80, ENC, NULL, 0, "http://0.0.0.0/" },
    { "http", "//255.255.255.255/", 80, ENC, NULL, 0,
      "http://255.255.255.255/" },
    { "http", "//host:0/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:65536/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:99999999999999999999/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:-1/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:+80/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:8a/", 80, ENC, NULL, 400, NULL },
    { "http", "//host:1:2/", 80, ENC, NULL, 400, NULL },
    { "http", "//host: 80/", 80, ENC, NULL, 400, NULL },
    { "http", "///x", 80, ENC, NULL, 400, NULL },
    { "http", "//", 80, ENC, NULL, 400, NULL },
    { "http", "//:80/x", 80, ENC, NULL, 400, NULL },
    { "http", "//user@/x", 80, ENC, NULL, 400, NULL },
    { "http", "", 80, ENC, NULL, 400, NULL },
    { "http", "/x", 80, ENC, NULL, 400, NULL },
    { "http", "host/x", 80, ENC, NULL, 400, NULL },
    { "http", "//ho st/", 80, ENC, NULL, 400, NULL },
    { "http", "//ho%73t/", 80, ENC, NULL, 400, NULL },
    { "http", "//host#frag/", 80, ENC, NULL, 400, NULL },
    { "http", "//host\x01/", 80, ENC, NULL, 400, NULL },
    { "http", "//h\xc3\xb6/", 80, ENC, NULL, 400, NULL },
    { "http", "//host\\evil/", 80, ENC, NULL, 400, NULL },
    { "http", "//host,x/", 80, ENC, NULL, 400, NULL },
    /* numbers resolvers read in several ways */
    { "http", "//010.0.0.1/", 80, ENC, NULL, 400, NULL },
    { "http", "//256.1.1.1/", 80, ENC, NULL, 400, NULL },
    { "http", "//1.2.3/", 80, ENC, NULL, 400, NULL },
    { "http", "//1.2.3.4.5/", 80, ENC, NULL, 400, NULL },
    { "http", "//2130706433/", 80, ENC, NULL, 400, NULL },
    { "http", "//0x7f000001/", 80, ENC, NULL, 400, NULL },
    { "http", "//0x7f.0.0.1/", 80, ENC, NULL, 400, NULL },
    { "http", "//host.0X1F/", 80, ENC, NULL, 400, NULL },
    { "http", "//host.123/", 80, ENC, NULL, 400, NULL },
    { "http", "//1.2.3.4./", 80, ENC, NULL, 400, NULL },
    { "http", "//./", 80, ENC, NULL, 400, NULL },
    { "http", "//a../", 80, ENC, NULL, 400, NULL },
    { "http", "//a.b.c/", 80, ENC, NULL, 0, "http://a.b.c/" },
    { "http", "//host.0x/", 80, ENC, NULL, 400, NULL },
    { "http", "//host.0xg/", 80, ENC, NULL, 0, "http://host.0xg/" },

    /* -- user info: checked, then dropped -- */
    { "http", "//user:pass@host/x", 80, ENC, NULL, 0, "http://host/x" },
    { "http", "//a@b@Host:81/", 80, ENC, NULL, 0, "http://host:81/" },
    { "http", "//us%20er:p%41ss@host/", 80, ENC, NULL, 0, "http://host/" },
    { "http", "//@host/", 80, ENC, NULL, 0, "http://host/" },
    { "http", "//us%2@host/", 80, ENC, NULL, 400, NULL },
    { "http", "//us%zz@host/", 80, ENC, NULL, 400, NULL },
    { "http", "//us%@host/", 80, ENC, NULL, 400, NULL },
    { "http", "//u s@host/", 80, ENC, NULL, 400, NULL },
    { "http", "//u\x7f@host/", 80, ENC, NULL, 400, NULL },
    { "http", "//user@host@/x", 80, ENC, NULL, 400, NULL },

    /* -- IPv6 literals -- */
    { "http", "//[::1]:8080/x", 80, ENC, NULL, 0, "http://[::1]:8080/x" },
    { "http", "//[2001:DB8::1]/", 80, ENC, NULL, 0, "http://[2001:db8::1]/" },
    { "http", "//[::]/", 80, ENC, NULL, 0, "http://[::]/" },
    { "http", "//[1:2:3:4:5:6:7:8]/", 80, ENC, NULL, 0,
      "http://[1:2:3:4:5:6:7:8]/" },
    { "http", "//[1::]/", 80, ENC, NULL, 0, "http://[1::]/" },
    { "http", "//[::ffff:1.2.3.4]/", 80, ENC, NULL, 0,
      "http://[::ffff:1.2.3.4]/" },
    { "http", "//[1:2:3:4:5:6:1.2.3.4]/", 80, ENC, NULL, 0,
      "http://[1:2:3:4:5:6:1.2.3.4]/" },
    { "http", "//u@[::1]:80/", 80, ENC, NULL, 0, "http://[::1]/" },
    { "http", "//[::1]:/", 80, ENC, NULL, 0, "http://[::1]/" },
    { "http", "//[::1]", 80, ENC, NULL, 0, "http://[::1]/" },
    { "http", "//[fe80::1%25eth0]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[fe80::1%eth0]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[::1/", 80, ENC, NULL, 400, NULL },
    { "http", "//[::1]x/", 80, ENC, NULL, 400, NULL },
    { "http", "//[::1]:0/", 80, ENC, NULL, 400, NULL },
    { "http", "//[]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1:2:3:4:5:6:7:8:9]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1:2:3:4:5:6:7::8]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1:2:3:4:5:6:7]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1::2::3]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[:::]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[:1::]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1:]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[12345::]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[g::1]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1.2.3.4]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[::1.2.3.4:5]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[::01.2.3.4]/", 80, ENC, NULL, 400, NULL },
    { "http", "//[1:2:3:4:5:6:7:1.2.3.4]/", 80, ENC, NULL, 400, NULL },
    { "http", "//::1/", 80, ENC, NULL, 400, NULL },

    /* -- ENCODE: the decoded path is re-encoded, query appended -- */
    { "http", "//h/a b", 80, ENC, NULL, 0, "http://h/a%20b" },
    { "http", "//h/100%", 80, ENC, NULL, 0, "http://h/100%25" },
    { "http", "//h/a%2Fb", 80, ENC, NULL, 0, "http://h/a%252Fb" },
    { "http", "//h/a?b", 80, ENC, NULL, 0, "http://h/a%3Fb" },
    { "http", "//h/~$-_.+!*'(),;:@&=/AZaz09", 80, ENC, NULL, 0,
      "http://h/~$-_.+!*'(),;:@&=/AZaz09" },
    { "http", "//h/\x01\x1f\x7f\x80\xff", 80, ENC, NULL, 0,
      "http://h/%01%1F%7F%80%FF" },
    { "http", "//h/\"#<>[\\]^`{|}", 80, ENC, NULL, 0,
      "http://h/%22%23%3C%3E%5B%5C%5D%5E%60%7B%7C%7D" },
    { "http", "//h/p", 80, ENC, "x=1&y=%20", 0, "http://h/p?x=1&y=%20" },
    { "http", "//h/p", 80, ENC, "", 0, "http://h/p?" },
    { "http", "//h", 80, ENC, "q", 0, "http://h/?q" },
    { "http", "//h?q", 80, ENC, NULL, 0, "http://h/%3Fq" },
    { "http", "//h/p", 80, ENC, "a b", 403, NULL },
    { "http", "//h/p", 80, ENC, "a\tb", 403, NULL },
    { "http", "//h/p", 80, ENC, "a\x7f", 403, NULL },
    { "http", "//h/p", 80, ENC, "\xe9t\xe9", 0, "http://h/p?\xe9t\xe9" },
    /* a bad netloc is reported before a bad query */
    { "http", "//h:0/p", 80, ENC, "a b", 400, NULL },

    /* -- ENCODE_KEEP_ESCAPES -- */
    { "http", "//h/a%2Fb%2fc d", 80, KEEP, NULL, 0, "http://h/a%2Fb%2fc%20d" },
    { "http", "//h/%41%zz", 80, KEEP, NULL, 400, NULL },
    { "http", "//h/a%2", 80, KEEP, NULL, 400, NULL },
    { "http", "//h/%", 80, KEEP, NULL, 400, NULL },
    { "http", "//h/a%%41", 80, KEEP, NULL, 400, NULL },
    { "http", "//h/p", 80, KEEP, "q=1", 0, "http://h/p?q=1" },
    { "http", "//h/p", 80, KEEP, "q 1", 403, NULL },

    /* -- RAW (nocanon): as is, its own query, no controls or spaces -- */
    { "http", "//h/a%20b?x=1", 80, RAW, NULL, 0, "http://h/a%20b?x=1" },
    { "http", "//h/a?x=1", 80, RAW, "ignored", 0, "http://h/a?x=1" },
    { "http", "//h/a", 80, RAW, "not appended, so not checked", 0,
      "http://h/a" },
    { "http", "//h?q", 80, RAW, NULL, 0, "http://h/?q" },
    { "http", "//h/\x80\xff", 80, RAW, NULL, 0, "http://h/\x80\xff" },
    { "http", "//h/%zz", 80, RAW, NULL, 0, "http://h/%zz" },
    { "http", "//h/a b", 80, RAW, NULL, 403, NULL },
    { "http", "//h/a?b c", 80, RAW, NULL, 403, NULL },
    { "http", "//h/a\tb", 80, RAW, NULL, 403, NULL },
    { "http", "//h/a\x7f", 80, RAW, NULL, 403, NULL },
    { "http", "//h/a\r\nX: y", 80, RAW, NULL, 403, NULL },
    { "http", "//h:x/a b", 80, RAW, NULL, 400, NULL },

    /* -- ENCODED (mapping=encoded|servlet) -- */
    { "http", "//h/a%2Fb", 80, ENCD, "q", 0, "http://h/a%2Fb?q" },
    { "http", "//h/a b", 80, ENCD, NULL, 403, NULL },
    { "http", "//h/a", 80, ENCD, "a\x01", 403, NULL },

    /* -- FORWARD: never modified -- */
    { "http", "//H/a?b=c", 80, FWD, "zzz", 0, "http://h/a?b=c" },
    { "http", "//h/%7e", 80, FWD, NULL, 0, "http://h/%7e" },
    { "http", "//h/a b", 80, FWD, NULL, 403, NULL },

    /* -- schemes -- */
    { "ftp", "//h/", 21, ENC, NULL, 400, NULL },
    { "", "//h/", 80, ENC, NULL, 400, NULL },
    { "https2", "//h/", 80, ENC, NULL, 400, NULL },
};

static void test_http(apr_pool_t *p)
{
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const url_case *tc = &cases[i];
        char *out = NULL;
        const char *what = apr_psprintf(p, "%s:%s mode %d query %s",
                                        tc->scheme,
                                        unit_esc(p, tc->rest,
                                                 strlen(tc->rest)),
                                        (int)tc->mode,
                                        tc->query ? unit_esc(p, tc->query,
                                                             strlen(tc->query))
                                                  : "(none)");
        int rv = prx_urlcanon_http(p, tc->scheme, tc->rest, tc->def_port,
                                   tc->mode, tc->query, &out);

        if (tc->rv) {
            CHECK(rv == tc->rv, "%s -> %d (want %d)", what, rv, tc->rv);
        }
        else {
            CHECK(rv == 0 && out && strcmp(out, tc->out) == 0, "%s -> %d %s",
                  what, rv, out ? unit_esc(p, out, strlen(out)) : "(null)");
        }
    }
    CHECK(prx_urlcanon_http(p, NULL, "//h/", 80, ENC, NULL, &(char *){ 0 })
          == 400, "NULL scheme refused");
}

static void test_netloc(apr_pool_t *p)
{
    const char *url;
    char *host = NULL;
    apr_port_t port = 0;
    int rv;

    url = "//u:p@Host:81/p?q";
    rv = prx_urlcanon_netloc(p, &url, &host, &port, 80);
    CHECK(rv == 0 && strcmp(host, "host") == 0 && port == 81
          && strcmp(url, "/p?q") == 0, "netloc: all parts (%s %u %s)",
          host, (unsigned)port, url);

    url = "//h?x";
    rv = prx_urlcanon_netloc(p, &url, &host, &port, 80);
    CHECK(rv == 0 && strcmp(host, "h") == 0 && port == 80
          && strcmp(url, "?x") == 0, "netloc: ends at '?', default port");

    url = "//[FE80::A]";
    rv = prx_urlcanon_netloc(p, &url, &host, &port, 443);
    CHECK(rv == 0 && strcmp(host, "fe80::a") == 0 && port == 443
          && *url == '\0', "netloc: IPv6 without brackets, end of string");

    url = "//bad host/";
    host = NULL;
    rv = prx_urlcanon_netloc(p, &url, &host, &port, 80);
    CHECK(rv == 400 && strcmp(url, "//bad host/") == 0 && host == NULL,
          "netloc: failure leaves the outputs alone");

    url = NULL;
    CHECK(prx_urlcanon_netloc(p, &url, &host, &port, 80) == 400,
          "netloc: NULL url");
}

static void test_path(apr_pool_t *p)
{
    const char *plain = "/a/b;c=d";
    char *out = NULL;

    CHECK(prx_urlcanon_path(p, plain, ENC, &out) == 0 && out == plain,
          "path: nothing to encode returns the input itself");
    CHECK(prx_urlcanon_path(p, "", ENC, &out) == 0 && *out == '\0',
          "path: empty");
    CHECK(prx_urlcanon_path(p, "a%41", KEEP, &out) == 0
          && strcmp(out, "a%41") == 0, "path: escape kept");
    CHECK(prx_urlcanon_path(p, "a%4", KEEP, &out) == 400,
          "path: escape cut at the end");
    CHECK(prx_urlcanon_path(p, "/x y", RAW, &out) == 403,
          "path: RAW space");
    CHECK(prx_urlcanon_path(p, "/x y", ENCD, &out) == 403,
          "path: ENCODED space");
    CHECK(prx_urlcanon_path(p, "/x y", FWD, &out) == 403,
          "path: FORWARD space");
    CHECK(prx_urlcanon_path(p, "/x", (prx_canon_mode)42, &out) == 400,
          "path: unknown mode");
    CHECK(prx_urlcanon_path(p, NULL, ENC, &out) == 0 && *out == '\0',
          "path: NULL is empty");
}

static void test_ctl(void)
{
    CHECK(prx_urlcanon_check_ctl(NULL) == 0, "ctl: NULL");
    CHECK(prx_urlcanon_check_ctl("") == 0, "ctl: empty");
    CHECK(prx_urlcanon_check_ctl("a/b?c=%20&d") == 0, "ctl: clean");
    CHECK(prx_urlcanon_check_ctl("\x80\xff") == 0, "ctl: obs-text allowed");
    CHECK(prx_urlcanon_check_ctl("a b") == 403, "ctl: space");
    CHECK(prx_urlcanon_check_ctl("a\tb") == 403, "ctl: HT");
    CHECK(prx_urlcanon_check_ctl("\x1f") == 403, "ctl: US");
    CHECK(prx_urlcanon_check_ctl("x\x7f") == 403, "ctl: DEL");
    CHECK(prx_urlcanon_check_ctl("\r\n") == 403, "ctl: CRLF");
}

int main(void)
{
    apr_pool_t *p = unit_init();

    test_http(p);
    test_netloc(p);
    test_path(p);
    test_ctl();
    return unit_done(p);
}
