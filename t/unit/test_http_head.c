/*
 * test_http_head.c -- unit tests of the response head parser and the field
 * parser of modules/proxy/http/http_parse.c (spec http.md 6.1, 6.2).
 *
 * Every case is fed whole, byte by byte, at every single split point and
 * (for short inputs) at every pair of split points; all feeds must give
 * the same description of the result as the whole one.
 */
#include "unit.h"
#include "http_parse.h"

#define S(lit) lit, sizeof(lit) - 1

/* expectations a case does not care about */
#define ANY (-1)

typedef struct {
    const char *name;
    const char *in;
    apr_size_t len;
    apr_size_t max_line;      /* 0: 256 */
    int max_fields;           /* 0: 100 */
    prx_badheader_mode mode;
    prx_hp_status st;
    long stop;                /* input offset where parsing stopped, ANY */
    int status;               /* ANY for error cases */
    const char *reason;       /* NULL: do not check */
    const char *status_line;
    const char *fields;       /* "name=value|" each, NULL: do not check */
    int warnings;             /* ANY: do not check */
    const char *body_prefix;  /* NULL: do not check ("" = none) */
} head_case;

static const head_case cases[] = {
    /* -- well-formed heads -- */
    { "simple CRLF", S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                       "Content-Length: 5\r\n\r\nhello"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 64, 200, "OK", "200 OK",
      "Content-Type=text/plain|Content-Length=5|", 0, "" },
    { "bare LF", S("HTTP/1.0 404 Not Found\nA: b\n\nX"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 29, 404, "Not Found",
      "404 Not Found", "A=b|", 0, "" },
    { "mixed line ends", S("HTTP/1.1 301 Moved\nLocation: /x\r\nA: 1\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 40, 301, "Moved", "301 Moved",
      "Location=/x|A=1|", 0, "" },
    { "no fields", S("HTTP/1.1 204 No Content\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 27, 204, "No Content",
      "204 No Content", "", 0, "" },
    { "no reason", S("HTTP/1.1 204\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 16, 204, "", "204", "", 0, "" },
    { "empty reason after SP", S("HTTP/1.1 204 \r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 17, 204, "", "204", "", 0, "" },
    { "reason glued to code", S("HTTP/1.1 200OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 18, 200, "OK", "200 OK", "", 0,
      "" },
    { "reason with HT, spaces, obs-text",
      S("HTTP/1.1 200 Tr\xe8s\tbien  fait\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200,
      "Tr\xe8s\tbien  fait", "200 Tr\xe8s\tbien  fait", "", 0, "" },
    { "lowest and highest codes", S("HTTP/1.1 100 Continue\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 100, "Continue", NULL, "",
      0, "" },
    { "code 999", S("HTTP/1.0 999 Odd\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 999, "Odd", "999 Odd", "",
      0, "" },
    { "minor version 9", S("HTTP/1.9 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL, "", 0, "" },
    { "interim then final: stops after the interim head",
      S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 25, 100, NULL, NULL, "", 0, "" },
    { "value trimming", S("HTTP/1.1 200 OK\r\nA:   a b  \t\r\nB:\r\n"
                          "C: \t \r\nD:x\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "A=a b|B=|C=|D=x|", 0, "" },
    { "duplicates kept in order",
      S("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: y\r\n"
        "Set-Cookie: b=2\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "Set-Cookie=a=1|X=y|Set-Cookie=b=2|", 0, "" },
    { "obs-text and colons in a value",
      S("HTTP/1.1 200 OK\r\nX: \x80\xff:\x7e\"\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "X=\x80\xff:~\"|", 0, "" },
    { "every tchar in a name",
      S("HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09Az: v\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "!#$%&'*+-.^_`|~09Az=v|", 0, "" },
    { "one leading CRLF tolerated", S("\r\nHTTP/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 21, 200, NULL, NULL, "",
      PRX_HPW_LEADING_EMPTY, "" },
    { "one leading LF tolerated", S("\nHTTP/1.1 200 OK\n\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 18, 200, NULL, NULL, "",
      PRX_HPW_LEADING_EMPTY, "" },

    /* -- HTTP/0.9: decided at the first byte that is not "HTTP/" -- */
    { "0.9 text", S("hello world\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 0, ANY, NULL, NULL, NULL,
      ANY, "" },
    { "0.9 html", S("<html><body>hi</body></html>"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 0, ANY, NULL, NULL, NULL,
      ANY, "" },
    { "0.9 after partial prefix", S("HTTX/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 3, ANY, NULL, NULL, NULL,
      ANY, "HTT" },
    { "0.9: lower-case prefix", S("http/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 0, ANY, NULL, NULL, NULL,
      ANY, "" },
    { "0.9: HTTP then line end", S("HTTP\r\nabc"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 4, ANY, NULL, NULL, NULL,
      ANY, "HTTP" },
    { "0.9: NUL in prefix is body", S("H\0TTP"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 1, ANY, NULL, NULL, NULL,
      ANY, "H" },
    { "0.9: second empty line is body", S("\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 2, ANY, NULL, NULL, NULL,
      PRX_HPW_LEADING_EMPTY, "" },
    { "0.9 after leading empty line", S("\nabc"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_HTTP09, 1, ANY, NULL, NULL, NULL,
      PRX_HPW_LEADING_EMPTY, "" },

    /* -- incomplete input -- */
    { "prefix only", S("HTTP"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_NEED_MORE, 4, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "status line only", S("HTTP/1.1 200 OK\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_NEED_MORE, 17, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "head without final line", S("HTTP/1.1 200 OK\r\nA: b\r\n\r"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_NEED_MORE, 24, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "empty input", S(""),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_NEED_MORE, 0, ANY, NULL, NULL, NULL,
      ANY, NULL },

    /* -- stray status lines and ProxyBadHeader -- */
    { "stray status line ignored (IsError)",
      S("HTTP/1.1 200 OK\r\nA: 1\r\nHTTP/1.1 200 OK\r\nB: 2\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "A=1|B=2|", PRX_HPW_STRAY_STATUS, "" },
    { "stray status line ignored (StartBody)",
      S("HTTP/1.1 200 OK\r\nHTTP/1.0 302 Found\r\nB: 2\r\n\r\n"),
      0, 0, PRX_BADHDR_STARTBODY, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "B=2|", PRX_HPW_STRAY_STATUS, "" },
    { "no colon, IsError", S("HTTP/1.1 200 OK\r\nA: 1\r\nbogus line\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_NO_COLON, 35, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "no colon, Ignore", S("HTTP/1.1 200 OK\r\nA: 1\r\nbogus line\r\n"
                            "B: 2\r\nmore\r\n\r\nX"),
      0, 0, PRX_BADHDR_IGNORE, PRX_HP_DONE, 49, 200, NULL, NULL, "A=1|B=2|",
      PRX_HPW_DROPPED_LINE, "" },
    { "no colon, StartBody", S("HTTP/1.1 200 OK\r\nA: 1\r\nbogus line\r\n"
                               "B: 2\r\n\r\n"),
      0, 0, PRX_BADHDR_STARTBODY, PRX_HP_DONE, 35, 200, NULL, NULL, "A=1|",
      PRX_HPW_STARTED_BODY, "bogus line\r\n" },
    { "no colon, StartBody, LF line", S("HTTP/1.1 200 OK\nA: 1\nbody\nmore"),
      0, 0, PRX_BADHDR_STARTBODY, PRX_HP_DONE, 26, 200, NULL, NULL, "A=1|",
      PRX_HPW_STARTED_BODY, "body\r\n" },
    { "no colon, StartBody, before any field",
      S("HTTP/1.1 200 OK\r\nbogus\r\nrest"),
      0, 0, PRX_BADHDR_STARTBODY, PRX_HP_DONE, 24, 200, NULL, NULL, "",
      PRX_HPW_NO_HEADERS, "" },

    /* -- line terminators and forbidden bytes -- */
    { "bare CR in status line", S("HTTP/1.1 200 OK\rX: y\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 16, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "bare CR in a value", S("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 22, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "CR CR LF", S("HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 22, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "bare CR as final line", S("HTTP/1.1 200 OK\r\nA: b\r\n\rX"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 24, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "bare CR before status line", S("\rHTTP/1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 1, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "NUL in value", S("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 21, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "NUL in name", S("HTTP/1.1 200 OK\r\nA\0: b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 18, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "NUL in status line", S("HTTP/1.1 200 O\0K\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 14, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "obs-fold with SP", S("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 27, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "obs-fold with HT", S("HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 27, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "first field line starts with SP", S("HTTP/1.1 200 OK\r\n A: b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "folded colon-less line under Ignore",
      S("HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n"),
      0, 0, PRX_BADHDR_IGNORE, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "SP before colon", S("HTTP/1.1 200 OK\r\nA : b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, 24, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "HT before colon", S("HTTP/1.1 200 OK\r\nA\t: b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "empty name", S("HTTP/1.1 200 OK\r\n: b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "separator in name", S("HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "quote in name", S("HTTP/1.1 200 OK\r\nA\"b: c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "slash in name", S("HTTP/1.1 200 OK\r\nA/B: c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "obs-text in name", S("HTTP/1.1 200 OK\r\n\xc4: c\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "SOH in value", S("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "DEL in value", S("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "ESC in value", S("HTTP/1.1 200 OK\r\nA: \x1b[0m\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "VT in value", S("HTTP/1.1 200 OK\r\nA: b\x0b\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "control in a colon-less line under Ignore",
      S("HTTP/1.1 200 OK\r\nbo\x01gus\r\n\r\n"),
      0, 0, PRX_BADHDR_IGNORE, PRX_HP_BAD_HEADER, ANY, ANY, NULL, NULL, NULL,
      ANY, NULL },

    /* -- status lines -- */
    { "HTTP/2.0", S("HTTP/2.0 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, 17, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "HTTP/0.9 as a version", S("HTTP/0.9 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "two digit code", S("HTTP/1.1 99 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "code below 100", S("HTTP/1.1 099 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "four digit code", S("HTTP/1.1 2000 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "four digits, no reason", S("HTTP/1.1 2000\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "two spaces before code", S("HTTP/1.1  200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "HT before code", S("HTTP/1.1\t200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "two digit minor", S("HTTP/1.10 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "letter as minor", S("HTTP/1.x 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "space after slash", S("HTTP/ 1.1 200 OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "version only", S("HTTP/1.1\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, 10, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "prefix then line end", S("HTTP/\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, 7, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "control in reason", S("HTTP/1.1 200 O\x01K\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "DEL in reason", S("HTTP/1.1 200 O\x7fK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },
    { "letters as code", S("HTTP/1.1 abc OK\r\n\r\n"),
      0, 0, PRX_BADHDR_ISERROR, PRX_HP_BAD_STATUS, ANY, ANY, NULL, NULL,
      NULL, ANY, NULL },

    /* -- limits (max_line 64, max_fields 2) -- */
    { "status line of exactly max_line",
      S("HTTP/1.1 200 OKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "\r\n\r\n"),
      64, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 68, 200, NULL, NULL, "", 0,
      "" },
    { "status line one past max_line",
      S("HTTP/1.1 200 OKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "\r\n\r\n"),
      64, 0, PRX_BADHDR_ISERROR, PRX_HP_TOO_LONG, 64, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "field line of exactly max_line",
      S("HTTP/1.1 200 OK\r\n"
        "X: 3456789012345678901234567890123456789012345678901234567890123"
        "\r\n\r\n"),
      64, 0, PRX_BADHDR_ISERROR, PRX_HP_DONE, 85, 200, NULL, NULL,
      "X=3456789012345678901234567890123456789012345678901234567890123|", 0,
      "" },
    { "field line one past max_line",
      S("HTTP/1.1 200 OK\r\n"
        "X: 34567890123456789012345678901234567890123456789012345678901234"
        "\r\n\r\n"),
      64, 0, PRX_BADHDR_ISERROR, PRX_HP_TOO_LONG, 81, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "colon-less line past max_line under Ignore",
      S("HTTP/1.1 200 OK\r\n"
        "x234567890123456789012345678901234567890123456789012345678901234"
        "5\r\n\r\n"),
      64, 0, PRX_BADHDR_IGNORE, PRX_HP_TOO_LONG, 81, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "exactly max_fields", S("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"),
      0, 2, PRX_BADHDR_ISERROR, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "A=1|B=2|", 0, "" },
    { "one past max_fields", S("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
                               "\r\n"),
      0, 2, PRX_BADHDR_ISERROR, PRX_HP_TOO_MANY, 35, ANY, NULL, NULL, NULL,
      ANY, NULL },
    { "dropped lines do not count as fields",
      S("HTTP/1.1 200 OK\r\nA: 1\r\nx\r\nHTTP/1.1 200 OK\r\nB: 2\r\ny\r\n\r\n"),
      0, 2, PRX_BADHDR_IGNORE, PRX_HP_DONE, ANY, 200, NULL, NULL,
      "A=1|B=2|", PRX_HPW_DROPPED_LINE | PRX_HPW_STRAY_STATUS, "" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/*
 * Feed `tc` to a fresh parser in pieces cut at `cuts[0..ncuts)` (sorted,
 * pieces may be empty) and describe the outcome as one string, so that
 * different ways of cutting can be compared with strcmp().
 */
static const char *run(apr_pool_t *p, const head_case *tc,
                       const apr_size_t *cuts, int ncuts, prx_http_head *h,
                       prx_hp_status *st_out, apr_size_t *stop_out)
{
    apr_size_t start = 0, end, consumed, stop = 0;
    prx_hp_status st = PRX_HP_NEED_MORE;
    const char *desc;
    int i, k;

    prx_http_head_init(h, p, tc->max_line ? tc->max_line : 256,
                       tc->max_fields ? tc->max_fields : 100, tc->mode);
    for (k = 0; k <= ncuts; k++) {
        char *piece;

        end = k < ncuts ? cuts[k] : tc->len;
        piece = unit_piece(tc->in + start, end - start);
        consumed = (apr_size_t)-1;
        st = prx_http_head_parse(h, piece, end - start, &consumed);
        free(piece);
        if (consumed > end - start) {
            CHECK(0, "%s: consumed %lu of %lu", tc->name,
                  (unsigned long)consumed, (unsigned long)(end - start));
            consumed = end - start;
        }
        stop = start + consumed;
        if (st != PRX_HP_NEED_MORE) {
            break;
        }
        if (consumed != end - start) {
            CHECK(0, "%s: NEED_MORE with %lu of %lu consumed", tc->name,
                  (unsigned long)consumed, (unsigned long)(end - start));
        }
        start = end;
    }
    desc = apr_psprintf(p, "%s@%lu", prx_hp_status_str(st),
                        (unsigned long)stop);
    if (st == PRX_HP_DONE) {
        desc = apr_psprintf(p, "%s %d.%d %d [%s] [%s]", desc, h->major,
                            h->minor, h->status, h->reason,
                            h->status_line);
        for (i = 0; i < h->fields->nelts; i++) {
            prx_http_field *f = &APR_ARRAY_IDX(h->fields, i, prx_http_field);

            desc = apr_psprintf(p, "%s %s=%s|", desc, f->name, f->value);
        }
    }
    desc = apr_psprintf(p, "%s w=%x wl=[%s] bp=[%.*s]", desc, h->warnings,
                        h->warn_line ? h->warn_line : "",
                        (int)h->body_prefix_len,
                        h->body_prefix ? h->body_prefix : "");
    *st_out = st;
    *stop_out = stop;
    return unit_esc(p, desc, strlen(desc));
}

static const char *fields_of(apr_pool_t *p, const prx_http_head *h)
{
    const char *s = "";
    int i;

    for (i = 0; i < h->fields->nelts; i++) {
        prx_http_field *f = &APR_ARRAY_IDX(h->fields, i, prx_http_field);

        s = apr_pstrcat(p, s, f->name, "=", f->value, "|", NULL);
    }
    return s;
}

static void check_whole(apr_pool_t *p, const head_case *tc)
{
    prx_http_head h;
    prx_hp_status st;
    apr_size_t stop, c2;
    int ok = 1;

    run(p, tc, NULL, 0, &h, &st, &stop);
    ok &= CHECK(st == tc->st, "%s: result %s (want %s)", tc->name,
                prx_hp_status_str(st), prx_hp_status_str(tc->st));
    if (tc->stop != ANY) {
        ok &= CHECK(stop == (apr_size_t)tc->stop, "%s: stops at %lu (want %ld)",
                    tc->name, (unsigned long)stop, tc->stop);
    }
    if (st == PRX_HP_DONE) {
        if (tc->status != ANY) {
            ok &= CHECK(h.status == tc->status, "%s: status %d", tc->name,
                        h.status);
        }
        if (tc->reason) {
            ok &= CHECK(strcmp(h.reason, tc->reason) == 0,
                        "%s: reason [%s]", tc->name, h.reason);
        }
        if (tc->status_line) {
            ok &= CHECK(strcmp(h.status_line, tc->status_line) == 0,
                        "%s: status_line [%s]", tc->name, h.status_line);
        }
        if (tc->fields) {
            const char *f = fields_of(p, &h);

            ok &= CHECK(strcmp(f, tc->fields) == 0, "%s: fields [%s]",
                        tc->name, f);
        }
    }
    if (tc->warnings != ANY) {
        ok &= CHECK(h.warnings == tc->warnings, "%s: warnings %#x",
                    tc->name, h.warnings);
    }
    if (tc->body_prefix) {
        apr_size_t want = strlen(tc->body_prefix);

        ok &= CHECK(h.body_prefix_len == want
                    && (want == 0 || memcmp(h.body_prefix, tc->body_prefix,
                                            want) == 0),
                    "%s: body prefix [%s]", tc->name,
                    unit_esc(p, h.body_prefix ? h.body_prefix : "",
                             h.body_prefix_len));
    }
    if (st != PRX_HP_NEED_MORE) {
        /* a finished parser keeps its answer and takes no more input */
        prx_hp_status again = prx_http_head_parse(&h, "x", 1, &c2);

        ok &= CHECK(again == st && c2 == 0, "%s: sticky result", tc->name);
    }
    CHECK(ok, "%s: whole feed", tc->name);
}

static void check_splits(apr_pool_t *parent, const head_case *tc)
{
    apr_pool_t *p;
    prx_http_head h;
    prx_hp_status st, st2;
    apr_size_t stop, stop2, i, j, *cuts;
    const char *whole, *desc;
    long runs = 0, bad = 0;

    apr_pool_create(&p, parent);
    whole = apr_pstrdup(parent, run(p, tc, NULL, 0, &h, &st, &stop));

    /* byte by byte, with an empty feed before every byte */
    cuts = apr_palloc(parent, sizeof(*cuts) * (2 * tc->len + 1));
    for (i = 0; i < tc->len; i++) {
        cuts[2 * i] = i;
        cuts[2 * i + 1] = i + 1;
    }
    desc = run(p, tc, cuts, (int)(2 * tc->len), &h, &st2, &stop2);
    CHECK(strcmp(desc, whole) == 0, "%s: byte by byte gives %s", tc->name,
          desc);

    UNIT_QUIET_BEGIN();
    for (i = 0; i <= tc->len; i++) {
        apr_size_t two[2];

        two[0] = i;
        apr_pool_clear(p);
        desc = run(p, tc, two, 1, &h, &st2, &stop2);
        runs++;
        if (!CHECK(strcmp(desc, whole) == 0, "%s: split at %lu gives %s",
                   tc->name, (unsigned long)i, desc)) {
            bad++;
        }
        if (tc->len > 80) {
            continue;
        }
        for (j = i; j <= tc->len; j++) {
            two[1] = j;
            apr_pool_clear(p);
            desc = run(p, tc, two, 2, &h, &st2, &stop2);
            runs++;
            if (!CHECK(strcmp(desc, whole) == 0,
                       "%s: split at %lu+%lu gives %s", tc->name,
                       (unsigned long)i, (unsigned long)j, desc)) {
                bad++;
            }
        }
    }
    UNIT_QUIET_END();
    CHECK(bad == 0, "%s: %ld split feeds agree with the whole feed",
          tc->name, runs);
    apr_pool_destroy(p);
}

static void test_field_parse(apr_pool_t *p)
{
    prx_http_field f = { NULL, NULL };

    CHECK(prx_http_field_parse(p, S("Name: va lue "), &f) == PRX_HP_DONE
          && strcmp(f.name, "Name") == 0 && strcmp(f.value, "va lue") == 0,
          "field: plain line");
    CHECK(prx_http_field_parse(p, S("X:"), &f) == PRX_HP_DONE
          && strcmp(f.name, "X") == 0 && strcmp(f.value, "") == 0,
          "field: empty value");
    /* only `len` bytes count: what follows is not part of the line */
    CHECK(prx_http_field_parse(p, "A: bc\x01", 5, &f) == PRX_HP_DONE
          && strcmp(f.value, "bc") == 0, "field: honours len");
    CHECK(prx_http_field_parse(p, S("no colon here"), &f) == PRX_HP_NO_COLON,
          "field: no colon");
    CHECK(prx_http_field_parse(p, S(""), &f) == PRX_HP_NO_COLON,
          "field: empty line has no colon");
    CHECK(prx_http_field_parse(p, S("A : b"), &f) == PRX_HP_BAD_HEADER,
          "field: space before colon");
    CHECK(prx_http_field_parse(p, S(" A: b"), &f) == PRX_HP_BAD_HEADER,
          "field: leading space");
    CHECK(prx_http_field_parse(p, S("\tA: b"), &f) == PRX_HP_BAD_HEADER,
          "field: leading tab");
    CHECK(prx_http_field_parse(p, S("A: b\r"), &f) == PRX_HP_BAD_HEADER,
          "field: CR");
    CHECK(prx_http_field_parse(p, S("A: b\nC: d"), &f) == PRX_HP_BAD_HEADER,
          "field: LF");
    CHECK(prx_http_field_parse(p, S("A: b\0"), &f) == PRX_HP_BAD_HEADER,
          "field: NUL");
    CHECK(prx_http_field_parse(p, S("A: \x7f"), &f) == PRX_HP_BAD_HEADER,
          "field: DEL");
    CHECK(prx_http_field_parse(p, S("A: \tb\t"), &f) == PRX_HP_DONE
          && strcmp(f.value, "b") == 0, "field: HT trimmed");
    CHECK(prx_http_field_parse(p, S("A: b\x80\xfe"), &f) == PRX_HP_DONE,
          "field: obs-text accepted");
    CHECK(prx_http_field_parse(p, S("A@B: c"), &f) == PRX_HP_BAD_HEADER,
          "field: '@' in name");
    CHECK(prx_http_field_parse(p, S(":x"), &f) == PRX_HP_BAD_HEADER,
          "field: empty name");
    CHECK(prx_http_field_parse(p, S("bad line\x01"), &f)
          == PRX_HP_BAD_HEADER, "field: control beats missing colon");
}

/* Field values are checked eight bytes at a time: every byte value at
 * every offset of values of 1..24 bytes (so within and across words, and
 * in the byte-wise tail) must get the byte-wise verdict (HT, SP, VCHAR,
 * obs-text accepted; other controls and DEL refused), in a header line
 * and in the reason phrase of a status line. */
static void test_value_bytes(apr_pool_t *p)
{
    char line[64], head[96];
    apr_size_t vlen, at, n, used;
    unsigned int c;
    int bad_lines = 0, bad_status = 0;

    UNIT_QUIET_BEGIN();
    for (vlen = 1; vlen <= 24; vlen++) {
        for (at = 0; at < vlen; at++) {
            for (c = 0; c < 256; c++) {
                prx_http_field f = { NULL, NULL };
                prx_http_head h;
                int ok = c == '\t' || (c >= 0x20 && c != 0x7f);
                int lone = c == '\r' || c == '\n';
                prx_hp_status st;

                memcpy(line, "X: ", 3);
                memset(line + 3, 'v', vlen);
                line[3 + at] = (char)c;
                /* (a value that ends or starts in OWS is trimmed, still
                 * valid) */
                st = prx_http_field_parse(p, line, 3 + vlen, &f);
                CHECK((st == PRX_HP_DONE) == ok,
                      "value byte 0x%02x at %u of %u", c, (unsigned)at,
                      (unsigned)vlen);
                bad_lines += (st == PRX_HP_DONE) != ok;
                if (lone) {
                    continue;   /* a line terminator in a whole head */
                }
                n = (apr_size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 ");
                memset(head + n, 'r', vlen);
                head[n + at] = (char)c;
                memcpy(head + n + vlen, "\r\n\r\n", 4);
                prx_http_head_init(&h, p, 256, 10, PRX_BADHDR_ISERROR);
                st = prx_http_head_parse(&h, head, n + vlen + 4, &used);
                CHECK((st == PRX_HP_DONE) == ok,
                      "reason byte 0x%02x at %u of %u: %s", c,
                      (unsigned)at, (unsigned)vlen, prx_hp_status_str(st));
                bad_status += (st == PRX_HP_DONE) != ok;
            }
        }
    }
    UNIT_QUIET_END();
    CHECK(bad_lines == 0, "value bytes: word-wise check agrees with byte-wise");
    CHECK(bad_status == 0, "reason bytes: word-wise check agrees with byte-wise");
}

static void test_status_str(void)
{
    static const struct {
        prx_hp_status st;
        const char *name;
    } names[] = {
        { PRX_HP_DONE, "DONE" }, { PRX_HP_NEED_MORE, "NEED_MORE" },
        { PRX_HP_DATA, "DATA" }, { PRX_HP_HTTP09, "HTTP09" },
        { PRX_HP_TOO_LONG, "TOO_LONG" }, { PRX_HP_TOO_MANY, "TOO_MANY" },
        { PRX_HP_BAD_STATUS, "BAD_STATUS" },
        { PRX_HP_BAD_HEADER, "BAD_HEADER" }, { PRX_HP_NO_COLON, "NO_COLON" },
        { PRX_HP_BAD_CHUNK, "BAD_CHUNK" }
    };
    apr_size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK(strcmp(prx_hp_status_str(names[i].st), names[i].name) == 0,
              "status_str %s", names[i].name);
    }
    CHECK(prx_hp_status_str((prx_hp_status)99) != NULL
          && prx_hp_status_str((prx_hp_status)-1) != NULL,
          "status_str out of range is not NULL");
}

/* init raises limits below the documented floors instead of misbehaving */
static void test_floors(apr_pool_t *p)
{
    prx_http_head h;
    apr_size_t c;

    prx_http_head_init(&h, p, 1, 0, PRX_BADHDR_ISERROR);
    CHECK(h.max_line == 64 && h.max_fields == 1, "init: floors applied");
    CHECK(prx_http_head_parse(&h, S("HTTP/1.1 200 OK\r\nA: b\r\n\r\n"), &c)
          == PRX_HP_DONE, "init: floors still parse a head");
}

int main(void)
{
    apr_pool_t *p = unit_init();
    apr_size_t i;

    for (i = 0; i < NCASES; i++) {
        apr_pool_t *cp;

        apr_pool_create(&cp, p);
        check_whole(cp, &cases[i]);
        check_splits(cp, &cases[i]);
        apr_pool_destroy(cp);
    }
    test_field_parse(p);
    test_value_bytes(p);
    test_status_str();
    test_floors(p);
    return unit_done(p);
}
