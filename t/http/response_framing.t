# Tests for relaying response bodies (spec http.md §6.4): Content-Length,
# chunked (with trailers) and read-until-close bodies arrive intact; HEAD,
# 204 and 304 carry no body and leave the backend connection reusable;
# streamed responses flow to the client as they are produced; a
# close-delimited body never leaves a connection in the pool.
# Config: <VirtualHost http_resp> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha1_hex);
use Time::HiRes ();
use PrxTest;

plan tests => 23, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
Apache::TestRequest::module('http_resp');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub filler {
    my $n = shift;
    my $unit = join '', map { sprintf "%07d\n", $_ } 0 .. 1023;
    return substr $unit x (int($n / length $unit) + 1), 0, $n;
}

# one request on a fresh client connection; `method` defaults to GET
sub req {
    my ($path, %o) = @_;
    my $m = $o{method} // 'GET';
    my $raw = PrxTest::raw_request($port, "$m $path HTTP/1.1\r\nHost: x\r\n\r\n",
        timeout => 20, head => $m eq 'HEAD');
    my @r = PrxTest::parse_responses($raw // '', head => $m eq 'HEAD');
    return $r[-1] // {};
}

my $n = 300_000;
my $want = sha1_hex(filler($n));

for my $framing (qw(cl chunked close)) {
    my $r = req("/r/f?echo.body=$n&echo.framing=$framing");
    is $r->{status}, 200, "$framing body: 200";
    ok $r->{complete} && sha1_hex($r->{body}) eq $want,
        "$framing body: all $n bytes, intact";
}

# close-delimited: the connection it came on is not pooled
PrxTest::ua(keep_alive => 1);
my $a = Apache::TestRequest::GET('/r/a?echo.framing=close');
my $b = Apache::TestRequest::GET('/r/b');
isnt $b->header('X-Echo-Conn'), $a->header('X-Echo-Conn'),
    'after a read-until-close body a new backend connection is used';

# chunked from the backend with a trailer: body intact, no T-E leaks
my $r = req('/r/t?echo.body=5000&echo.framing=chunked&echo.chunk=1000&echo.trailer=X-Sum:%2042');
ok $r->{complete} && length($r->{body}) == 5000, 'chunked with trailer: body intact';
unlike PrxTest::header_of($r, 'Transfer-Encoding') // '', qr/,/,
    'the client response is framed once';

# HEAD: no body, Content-Length kept, connection reusable
my $h = Apache::TestRequest::HEAD('/r/h?echo.body=1234');
is $h->code, 200, 'HEAD: 200';
is $h->header('Content-Length'), 1234, 'HEAD: the backend Content-Length';
is length($h->content), 0, 'HEAD: no body';
my $after = Apache::TestRequest::GET('/r/after-head');
is $after->header('X-Echo-Conn'), $h->header('X-Echo-Conn'),
    'HEAD: the backend connection is reused afterwards';

# 204 and 304: no body, connection reusable
for my $st (204, 304) {
    my $x = Apache::TestRequest::GET("/r/s?echo.status=$st");
    is $x->code, $st, "$st relayed";
    is length($x->content), 0, "$st has no body";
    my $y = Apache::TestRequest::GET('/r/after');
    is $y->header('X-Echo-Conn'), $x->header('X-Echo-Conn'),
        "$st: backend connection reused";
}
PrxTest::ua();

# a dripped body reaches the client piece by piece, not at the end:
# 5 pieces 300 ms apart; the first must arrive well before the last
my $c = PrxTest::Raw->new($port);
$c->send("GET /r/drip?echo.body=50&echo.chunk=10&echo.drip=300&echo.framing=chunked "
    . "HTTP/1.1\r\nHost: x\r\n\r\n");
my ($buf, $t0, $first) = ('', Time::HiRes::time());
my $fh = $c->{sock};
while (Time::HiRes::time() - $t0 < 10) {
    my $rin = '';
    vec($rin, fileno($fh), 1) = 1;
    next unless select(my $rout = $rin, undef, undef, 0.05) > 0;
    last unless sysread $fh, $buf, 65536, length $buf;
    if (!defined $first && $buf =~ /\r\n\r\n[0-9a-f]+\r\n./s) {
        $first = Time::HiRes::time() - $t0;
    }
    last if $buf =~ /\r\n0\r\n\r\n\z/;
}
my $total = Time::HiRes::time() - $t0;
$c->close;
ok defined $first && $first < $total - 0.6,
    sprintf('streamed: first body bytes after %.2fs, all after %.2fs', $first // -1, $total);
my ($dr) = PrxTest::parse_responses($buf);
is length($dr->{body} // ''), 50, 'the dripped body is complete';

# a client that goes away mid-body: the backend connection is dropped, the
# server keeps serving
$c = PrxTest::Raw->new($port);
$c->send("GET /r/big?echo.body=67108864 HTTP/1.1\r\nHost: x\r\n\r\n");
$buf = '';
$fh = $c->{sock};
while (length $buf < 100_000) {
    last unless sysread $fh, $buf, 65536, length $buf;
}
$c->close;
Time::HiRes::sleep(0.3);
$r = req('/r/after-abort');
is $r->{status}, 200, 'after a client abort mid-body the next request answers 200';

PrxTest::errorlog_ok();
