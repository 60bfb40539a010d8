# Tests for the test harness itself: the backends in t/backends/, the raw
# client and response parser of PrxTest, and the origin vhosts of
# t/conf/extra.conf.in. Needs none of our modules, so it also runs while
# a feature is missing.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Digest::SHA qw(sha1_hex);
use PrxTest;

# mode => what its raw answer looks like
my %bad_modes = (
    'bad-status'        => qr{\AHTTP/1\.1 2x0 Broken\r\n},
    'cl-dup'            => qr{\r\nContent-Length: 3\r\nContent-Length: 5\r\n},
    'truncated-cl'      => qr{\r\nContent-Length: 1000\r\n\r\n.{100}\z}s,
    'reset-before-head' => qr{\A\z},
    'garbage'           => qr{\Athis is not an HTTP response\r\n},
);
my @bad_modes = sort keys %bad_modes;

plan tests => 14 + 2 * @bad_modes;

my $echo = PrxTest::backend('echo');
my $port = $echo->port;

# two pipelined requests on one connection: one connection id, numbered 1, 2
my $raw = PrxTest::raw_request($port,
    "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nX-Order: b\r\nX-Order: a\r\n\r\n",
    responses => 2);
my @r = PrxTest::parse_responses($raw);
is scalar(@r), 2, 'echo answered both pipelined requests';
is join(',', map { PrxTest::header_of($_, 'X-Echo-Conn') } @r), '1,1',
    'both on connection 1';
is join(',', map { PrxTest::header_of($_, 'X-Echo-Seq') } @r), '1,2',
    'numbered 1 and 2 on it';
my $rec = PrxTest::echo_of($r[1]{body}) || {};
is_deeply $rec->{lines}, [ 'Host: x', 'X-Order: b', 'X-Order: a' ],
    'the echo lists header lines verbatim, in order';

# a chunked body behind Expect: 100-continue: 100 first, body decoded
my $body = "hello, chunked world";
$raw = PrxTest::raw_request($port, "POST /up HTTP/1.1\r\nHost: x\r\n"
    . "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "5\r\nhello\r\nf\r\n, chunked world\r\n0\r\n\r\n");
@r = PrxTest::parse_responses($raw);
is $r[0]{status}, 100, 'interim 100 comes first';
$rec = PrxTest::echo_of($r[1]{body}) || {};
is "$rec->{body_length} $rec->{body_sha1}", length($body) . ' ' . sha1_hex($body),
    'the chunked body arrived whole';
is_deeply $echo->last_request->{chunk_sizes}, [ 5, 15, 0 ],
    'the record keeps the chunk sizes';

# a configured response: status, header, chunked body with a trailer
$raw = PrxTest::raw_request($port, "GET /c?echo.status=201&echo.framing=chunked"
    . "&echo.body=100&echo.chunk=30&echo.trailer=X-T:%201 HTTP/1.1\r\n"
    . "Host: x\r\nX-Echo-Header: Location: http://{self}/x\r\n\r\n");
@r = PrxTest::parse_responses($raw);
is $r[0]{status}, 201, 'status chosen by query parameter';
is PrxTest::header_of($r[0], 'Location'), "http://127.0.0.1:$port/x",
    'header chosen by request header, {self} expanded';
is length($r[0]{body}) . " $r[0]{trailers}", "100 X-T: 1\r\n",
    'chunked body and trailer';

# misbehaving backend: each mode breaks the response, and the next normal
# request on a new connection still works
my $bad = PrxTest::backend('bad');
for my $mode (@bad_modes) {
    my $got = PrxTest::raw_request($bad->port, "GET /bad/$mode HTTP/1.1\r\nHost: x\r\n\r\n",
        timeout => 2);
    like $got, $bad_modes{$mode}, "mode $mode misbehaves as documented";
    $got = PrxTest::raw_request($bad->port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    like $got, qr{^HTTP/1\.1 200 OK\r\n}, "after $mode a normal request works";
}
is $bad->last_request->{mode}, 'ok', 'the bad backend records the mode it used';

my $closer = PrxTest::backend('bad', args => [ '--mode', 'close' ]);
is PrxTest::raw_request($closer->port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), '',
    'mode close answers nothing';

# origin vhosts label themselves
Apache::TestRequest::module('origin_a');
my $res = GET '/hello.txt';
is $res->code . ' ' . ($res->header('X-Origin') // ''), '200 a',
    'origin_a serves t/htdocs and says X-Origin: a';

PrxTest::errorlog_ok();
