# Tests for Expect: 100-continue toward the backend and the `ping` worker
# parameter (spec http.md §5): Proxy100Continue On relays the backend's 100
# before the client sends its body; Off answers 100 locally and hides
# Expect from the backend; a final response before 100 is relayed without
# sending the body; `ping` adds Expect for bodies and gives 503 when no
# 100 comes in time.
# Config: <VirtualHost http_expect> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha1_hex);
use PrxTest;

plan tests => 21, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
my $echo2 = PrxTest::backend('echo', name => 'http_echo2');
Apache::TestRequest::module('http_expect');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;
my $body = 'twenty bytes of body';

# Sends the head, waits up to `wait` s for an interim 100, then sends the
# body; returns (saw_100, final response).
sub expect_post {
    my ($path, %o) = @_;
    my $c = PrxTest::Raw->new($port);
    my $head = "POST $path HTTP/1.1\r\nHost: x\r\nContent-Length: "
        . length($body) . "\r\n";
    $head .= "Expect: 100-continue\r\n" unless $o{no_expect};
    $head .= "$_\r\n" for @{ $o{headers} || [] };
    $c->send("$head\r\n");
    my $got = $o{no_expect} ? '' : read_one_head($c, $o{wait} // 3);
    my $saw = $got =~ m{\AHTTP/1\.1 100 } ? 1 : 0;
    my ($early) = grep { !$_->{interim} && $_->{complete} } PrxTest::parse_responses($got);
    if (!$early && $got =~ /\r\n\r\n\z/ && $got !~ m{\AHTTP/1\.1 100 }) {
        $got .= $c->read(timeout => 10);   # a final head without its body yet
        ($early) = grep { !$_->{interim} && $_->{complete} } PrxTest::parse_responses($got);
    }
    $c->send($body) unless $early;
    $got .= $c->read(timeout => 10) unless $early;
    $c->close;
    my ($final) = grep { !$_->{interim} } PrxTest::parse_responses($got);
    return ($saw, $final // {});
}

# Reads until one response head is complete, the peer closes or `wait` s.
sub read_one_head {
    my ($c, $wait) = @_;
    my $got = '';
    my $deadline = time + $wait;
    my $fh = $c->{sock};
    while ($got !~ /\r\n\r\n/ && time <= $deadline) {
        my $rin = '';
        vec($rin, fileno($fh), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, 0.2) > 0;
        last unless sysread $fh, $got, 65536, length $got;
    }
    return $got;
}

# Proxy100Continue On (default): the backend's 100 reaches the client
# before it sends the body
my ($saw, $r) = expect_post('/on/up');
ok $saw, 'the client got 100 Continue before sending its body';
is $r->{status}, 200, 'then the final 200';
my $rec = $echo->last_request // {};
like PrxTest::header_of($rec, 'Expect') // '', qr/100-continue/i,
    'the backend was asked for 100-continue';
ok $rec->{sent_100}, 'and answered it with 100';
is $rec->{body_sha1}, sha1_hex($body), 'the body arrived after the 100';

# a final response before 100: relayed, the body never sent
($saw, $r) = expect_post('/on/final', headers => ['X-Echo-Expect: final']);
ok !$saw, 'no 100 when the backend answers at once';
is $r->{status}, 200, 'the early final response reaches the client';
$rec = $echo->last_request // {};
ok $rec->{body_unread}, 'the backend never read a body';

# Proxy100Continue Off: httpd answers 100 itself, the backend sees no Expect
($saw, $r) = expect_post('/off/up');
ok $saw, 'Proxy100Continue Off: the client still gets 100 (from httpd)';
is $r->{status}, 200, 'and the final 200';
$rec = $echo->last_request // {};
ok !defined PrxTest::header_of($rec, 'Expect'), 'the backend saw no Expect';
ok !$rec->{sent_100}, 'and sent no 100';
is $rec->{body_sha1}, sha1_hex($body), 'the body arrived';

# ping: Expect is added for a request with a body, 100 awaited
($saw, $r) = expect_post('/ping/up', no_expect => 1);
is $r->{status}, 200, 'ping: a body request without Expect answers 200';
$rec = $echo2->last_request // {};
like PrxTest::header_of($rec, 'Expect') // '', qr/^100-continue$/i,
    'ping added Expect: 100-Continue toward the backend';
is $rec->{body_sha1}, sha1_hex($body), 'and sent the body after the 100';

# a GET without a body gets no Expect even with ping
$echo2->clear;
PrxTest::raw_request($port, "GET /ping/get HTTP/1.1\r\nHost: x\r\n\r\n");
$rec = $echo2->last_request // {};
ok !defined PrxTest::header_of($rec, 'Expect'), 'ping: no Expect without body';

# a backend that never sends 100: 503 after `ping` (300 ms)
($saw, $r) = expect_post('/ping/slow', no_expect => 1,
    headers => ['X-Echo-Expect: ignore']);
is $r->{status}, 503, 'ping: no 100 in time is a 503';

# and the next request works
($saw, $r) = expect_post('/ping/again', no_expect => 1);
is $r->{status}, 200, 'the next ping request answers 200';

# HTTP/1.0 client with Expect: never an interim response
my $raw = PrxTest::raw_request($port, "POST /on/old HTTP/1.0\r\nHost: x\r\n"
    . "Expect: 100-continue\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
unlike $raw // '', qr{\AHTTP/1\.. 100}, 'no 100 is sent to an HTTP/1.0 client';

PrxTest::errorlog_ok(expect => ['PRX00313']);
