# Tests for response head processing (spec http.md §6.1-§6.3, §9): HTTP/1.0
# and HTTP/0.9 origins, status line and reason, Date/Expires/Last-Modified
# normalisation, ProxyPassReverse on Location/Content-Location/URI/
# Destination, cookie path/domain mapping, hop-by-hop removal (including
# what Connection names, and its close token), Warning cleaning, and a
# backend that sends more than its Content-Length.
# The scripted origin t/backends/http_raw.pl sends the exact bytes each
# request asks for. Config: <VirtualHost http_resp> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 qw(encode_base64);
use PrxTest;

plan tests => 31, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $raw = PrxTest::backend('http_raw', name => 'http_raw');
my $rport = $raw->port;
Apache::TestRequest::module('http_resp');
my $hostport = Apache::TestRequest::hostport();
my $port = $hostport =~ s/.*://r;

# Asks the origin for `resp` (bytes); more request lines in `extra`.
sub scripted {
    my ($resp, @extra) = @_;
    return "GET /raw/x HTTP/1.1\r\nHost: $hostport\r\nX-Raw-B64: "
        . encode_base64($resp, '') . "\r\n" . join('', map { "$_\r\n" } @extra) . "\r\n";
}

sub one {
    my ($resp, @extra) = @_;
    my $bytes = PrxTest::raw_request($port, scripted($resp, @extra), timeout => 10);
    my @r = grep { !$_->{interim} } PrxTest::parse_responses($bytes // '');
    return $r[0] // {};
}

sub two {
    my ($resp, @extra) = @_;
    my $bytes = PrxTest::raw_request($port, scripted($resp, @extra)
        . "GET /raw/next HTTP/1.1\r\nHost: x\r\n\r\n", responses => 2, timeout => 10);
    return PrxTest::parse_responses($bytes // '');
}

# an HTTP/1.0 origin: body relayed, its connection never reused
my @r = two("HTTP/1.0 200 OK\r\nX-Raw-Conn: {conn}\r\nContent-Length: 2\r\n\r\nok");
is $r[0]{status}, 200, 'HTTP/1.0 response: 200';
is $r[0]{body}, 'ok', 'HTTP/1.0 response: body';
isnt PrxTest::header_of($r[1], 'X-Raw-Conn'), PrxTest::header_of($r[0], 'X-Raw-Conn'),
    'HTTP/1.0 response: the backend connection was not reused';

# HTTP/1.0 without Content-Length: until the backend closes
my $r = one("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close\n",
    'X-Raw-Close: 1');
is $r->{body}, "until close\n", 'HTTP/1.0 close-delimited body relayed';

# HTTP/0.9: no status line at all, the bytes are the body
$r = one("hello from 0.9\n", 'X-Raw-Close: 1');
is $r->{status}, 200, 'HTTP/0.9 response becomes a 200';
is $r->{body}, "hello from 0.9\n", 'with the bytes as its body';

# status line: code and reason phrase relayed
$r = one("HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n");
is $r->{status_line}, 'HTTP/1.1 200 Fine Thanks', 'the reason phrase is kept';
$r = one("HTTP/1.1 299 Odd\r\nContent-Length: 0\r\n\r\n");
is $r->{status}, 299, 'an unknown status code is relayed';

# dates: RFC 850 and asctime become RFC 1123, garbage stays
$r = one("HTTP/1.1 200 OK\r\nDate: Sunday, 06-Nov-94 08:49:37 GMT\r\n"
    . "Expires: Sun Nov  6 08:49:37 1994\r\nLast-Modified: not a date\r\n"
    . "Content-Length: 0\r\n\r\n");
is PrxTest::header_of($r, 'Date'), 'Sun, 06 Nov 1994 08:49:37 GMT',
    'Date in RFC 850 form is normalised';
is PrxTest::header_of($r, 'Expires'), 'Sun, 06 Nov 1994 08:49:37 GMT',
    'Expires in asctime form is normalised';
is PrxTest::header_of($r, 'Last-Modified'), 'not a date',
    'an unparsable Last-Modified is left alone';

# ProxyPassReverse on the four URL headers
my $b = "http://127.0.0.1:$rport";
$r = one("HTTP/1.1 302 Found\r\nLocation: $b/p?q=1\r\nContent-Location: $b/cl\r\n"
    . "URI: $b/u\r\nDestination: $b/d\r\nX-Other: $b/o\r\nContent-Length: 0\r\n\r\n");
is PrxTest::header_of($r, 'Location'), "http://$hostport/raw/p?q=1", 'Location mapped';
is PrxTest::header_of($r, 'Content-Location'), "http://$hostport/raw/cl",
    'Content-Location mapped';
is PrxTest::header_of($r, 'URI'), "http://$hostport/raw/u", 'URI mapped';
is PrxTest::header_of($r, 'Destination'), "http://$hostport/raw/d", 'Destination mapped';
is PrxTest::header_of($r, 'X-Other'), "$b/o", 'other headers are not mapped';

# cookies: path and domain mapped, the rest byte for byte, each kept
$r = one("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/app/x; Domain=internal.example; HttpOnly\r\n"
    . "Set-Cookie: b=2;path=/other\r\nContent-Length: 0\r\n\r\n");
my @ck = PrxTest::headers_of($r, 'Set-Cookie');
is $ck[0], 'a=1; Path=/raw/; Domain=public.example; HttpOnly',
    'cookie path and domain mapped';
is $ck[1], 'b=2;path=/other', 'a cookie without a matching rule is unchanged';

# hop-by-hop response fields, and what Connection names
@r = two("HTTP/1.1 200 OK\r\nX-Raw-Conn: {conn}\r\nConnection: X-Drop, close\r\nX-Drop: 1\r\n"
    . "X-Stay: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\n"
    . "Upgrade: h2c\r\nTrailer: X-T\r\nContent-Length: 2\r\n\r\nok");
my @gone = grep { defined PrxTest::header_of($r[0], $_) }
    qw(X-Drop Keep-Alive Proxy-Authenticate Upgrade Trailer);
is "@gone", '', 'hop-by-hop fields and those named in Connection are dropped';
is PrxTest::header_of($r[0], 'X-Stay'), 1, 'end-to-end fields stay';
isnt PrxTest::header_of($r[1], 'X-Raw-Conn'), PrxTest::header_of($r[0], 'X-Raw-Conn'),
    'Connection: close from the backend: its connection is not reused';

# a keep-alive backend connection is reused
@r = two("HTTP/1.1 200 OK\r\nX-Raw-Conn: {conn}\r\nContent-Length: 2\r\n\r\nok");
is PrxTest::header_of($r[1], 'X-Raw-Conn'), PrxTest::header_of($r[0], 'X-Raw-Conn'),
    'a clean HTTP/1.1 exchange leaves the connection reusable';

# Warning: dated values survive only when they match Date
$r = one("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    . "Warning: 199 agent \"no date\"\r\n"
    . "Warning: 110 agent \"same\" \"Sun, 06 Nov 1994 08:49:37 GMT\", 112 agent \"old\" \"Mon, 07 Nov 1994 08:49:37 GMT\"\r\n"
    . "Warning: junk\r\nContent-Length: 0\r\n\r\n");
my @w = PrxTest::headers_of($r, 'Warning');
is $w[0], '199 agent "no date"', 'a warning without date is kept';
is $w[1], '110 agent "same" "Sun, 06 Nov 1994 08:49:37 GMT"',
    'a warning dated like the response is kept, a stale one dropped';
is scalar(@w), 2, 'a value that is not warning syntax is dropped';

# more bytes than Content-Length: the body is cut at the length and the
# connection is not reused (it is out of step)
@r = two("HTTP/1.1 200 OK\r\nX-Raw-Conn: {conn}\r\nContent-Length: 2\r\n\r\nokEXTRA");
is $r[0]{body}, 'ok', 'only Content-Length bytes are relayed';
isnt PrxTest::header_of($r[1], 'X-Raw-Conn'), PrxTest::header_of($r[0], 'X-Raw-Conn'),
    'a connection with stray bytes is not reused';

# Set-Cookie set locally (mod_headers onsuccess table is headers_out) is
# kept next to the backend's; Content-Type comes from the backend
$r = one("HTTP/1.1 200 OK\r\nContent-Type: text/x-raw\r\nContent-Length: 0\r\n\r\n");
is PrxTest::header_of($r, 'Content-Type'), 'text/x-raw', 'Content-Type relayed';

# a response head split over many small writes is assembled
$r = one("HTTP/1.1 200 OK\r\nX-Split: yes\r\nContent-Length: 2\r\n\r\nok", 'X-Raw-Delay: 0');
is PrxTest::header_of($r, 'X-Split'), 'yes', 'scripted head relayed';

# a 1xx before the scripted final response
$r = one("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
is $r->{body}, 'ok', 'an interim + final response in one write';

PrxTest::errorlog_ok();
