# Tests for backend connection reuse and the settings that prevent it
# (spec http.md §3.8 step 5, §10.2, §10.4, §11.1: proxy-nokeepalive,
# force-proxy-request-1.0, proxy-initial-not-pooled, disablereuse).
# Reuse is proven by the echo backend's connection id and request number.
# Config: <VirtualHost http_keepalive> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);
use PrxTest;

plan tests => 17, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
my $echo2 = PrxTest::backend('echo', name => 'http_echo2');
Apache::TestRequest::module('http_keepalive');

sub conn_seq {
    my $res = shift;
    return ($res->header('X-Echo-Conn') // 0, $res->header('X-Echo-Seq') // 0);
}

# three requests on one client connection go over one backend connection,
# which was asked to stay open
PrxTest::ua(keep_alive => 1);
my @r = map { GET "/ka/n$_" } 1 .. 3;
is join(' ', map { $_->code } @r), '200 200 200', 'keep-alive requests answer 200';
my @c = map { [ conn_seq($_) ] } @r;
is join(',', map { $_->[0] } @c), join(',', ($c[0][0]) x 3),
    'all three used the same backend connection';
is join(',', map { $_->[1] } @c), join(',', map { $c[0][1] + $_ } 0 .. 2),
    'as consecutive requests on it';
my $rec = PrxTest::echo_of($r[2]) || {};
is PrxTest::header_of($rec, 'Connection'), 'Keep-Alive',
    'the backend was sent Connection: Keep-Alive';
is $rec->{request_line}, 'GET /n3 HTTP/1.1', 'as an HTTP/1.1 request';

# a POST with a body does not break reuse either
my $p = POST '/ka/post', content => 'x' x 100;
is((conn_seq($p))[0], $c[0][0], 'a POST reuses the same backend connection');

# proxy-nokeepalive: Connection: close, a new backend connection each time
@r = map { GET "/nokeep/n$_" } 1 .. 2;
$rec = PrxTest::echo_of($r[0]) || {};
is PrxTest::header_of($rec, 'Connection'), 'close',
    'proxy-nokeepalive sends Connection: close';
isnt((conn_seq($r[0]))[0], (conn_seq($r[1]))[0],
    'and the backend connection is not reused');
is((conn_seq($r[1]))[1], 1, 'each request is the first on its connection');

# force-proxy-request-1.0: HTTP/1.0 request line, no Connection header
@r = map { GET "/v10/n$_" } 1 .. 2;
$rec = PrxTest::echo_of($r[0]) || {};
is $rec->{request_line}, 'GET /n1 HTTP/1.0',
    'force-proxy-request-1.0 sends an HTTP/1.0 request';
ok !defined PrxTest::header_of($rec, 'Connection'),
    'with no Connection header';
isnt((conn_seq($r[0]))[0], (conn_seq($r[1]))[0],
    'and never reuses the connection');

# disablereuse=On on the worker
@r = map { GET "/disable/n$_" } 1 .. 2;
$rec = PrxTest::echo_of($r[0]) || {};
is PrxTest::header_of($rec, 'Connection'), 'close',
    'disablereuse sends Connection: close';
isnt((conn_seq($r[0]))[0], (conn_seq($r[1]))[0],
    'and opens a new backend connection per request');

# proxy-initial-not-pooled: the first request of a client connection never
# takes a pooled backend connection (seq 1), while without it a first
# request does reuse one (seq > 1) in a child that has one pooled
my (@initial, @plain);
for my $round (1 .. 6) {
    PrxTest::ua(keep_alive => 1);
    push @initial, (conn_seq(GET "/initial/r$round"))[1];
    GET "/ka/prime$round";
    PrxTest::ua(keep_alive => 1);
    push @plain, (conn_seq(GET "/ka/r$round"))[1];
}
is join(',', @initial), join(',', (1) x 6),
    'proxy-initial-not-pooled: first requests get a fresh connection';
ok scalar(grep { $_ > 1 } @plain), 'without it first requests reuse pooled ones';

PrxTest::errorlog_ok();
