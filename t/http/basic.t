# Tests for the basic reverse-proxy path: ProxyPass to an HTTP origin,
# connection reuse and ProxyPassReverse on Location (spec core.md
# "ProxyPass", "ProxyPassReverse"; http.md request forwarding).
# Config: <VirtualHost http_basic> in t/conf/extra.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 12, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'echo');
my $port = $echo->port;
Apache::TestRequest::module('http_basic');
my $hostport = Apache::TestRequest::hostport();

# a GET through ProxyPass reaches the origin with the path mapped, and the
# client gets the origin's answer
my $res = GET '/echo/hello?x=1';
is $res->code, 200, 'GET through ProxyPass answers 200';
my $rec = PrxTest::echo_of($res) || {};
is $rec->{request_line}, 'GET /hello?x=1 HTTP/1.1',
    'the backend got the mapped request line';
is PrxTest::header_of($rec, 'Host'), "127.0.0.1:$port",
    'the backend got the Host of the ProxyPass URL';
is $echo->last_request->{target}, '/hello?x=1',
    'the backend recorded the same request';

# two requests on one keep-alive client connection reuse one backend
# connection: same connection id, next request number on it
PrxTest::ua(keep_alive => 1);
my $r1 = GET '/echo/one';
my $r2 = GET '/echo/two';
is $r1->code . ' ' . $r2->code, '200 200', 'both keep-alive requests answer 200';
is Apache::TestRequest::user_agent_request_num($r2), 2,
    'the client sent both on one connection';
ok defined $r1->header('X-Echo-Conn')
    && $r2->header('X-Echo-Conn') eq $r1->header('X-Echo-Conn'),
    'the second request reused the backend connection';
is $r2->header('X-Echo-Seq'), ($r1->header('X-Echo-Seq') // 0) + 1,
    'it was the next request on that backend connection';
PrxTest::ua();

# ProxyPassReverse rewrites a Location that points at the backend
$res = GET '/echo/r', redirect_ok => 0,
    'X-Echo-Status' => 302,
    'X-Echo-Header' => "Location: http://127.0.0.1:$port/target?q=1";
is $res->code, 302, 'the backend redirect reaches the client';
is $res->header('Location'), "http://$hostport/echo/target?q=1",
    'its Location is rewritten into the proxy URL space';

# an origin vhost of this httpd behind ProxyPass: its own redirect is
# rewritten too
$res = GET '/a/redirect/hello.txt', redirect_ok => 0;
is $res->header('Location'), "http://$hostport/a/hello.txt",
    'the origin vhost redirect is rewritten';

PrxTest::errorlog_ok();
