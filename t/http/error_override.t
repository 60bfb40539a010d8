# Tests for ProxyErrorOverride (spec http.md §8): a backend error status
# in the override set is answered with the local error page (ErrorDocument)
# and the backend status, its body read and dropped (the backend connection
# stays reusable), WWW-Authenticate kept on 401; statuses outside the set,
# or with the override Off, pass through with the backend's body.
# Config: <VirtualHost http_override> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD);
use PrxTest;

plan tests => 17, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
Apache::TestRequest::module('http_override');
PrxTest::ua(keep_alive => 1);

# a 404 from the backend becomes the local 404 page
my $r = GET '/eo/missing?echo.status=404&echo.body=5000';
is $r->code, 404, 'the backend 404 status is kept';
is $r->content, 'local-404-page', 'with the local ErrorDocument';
my $err = $echo->last_request;
my $next = GET '/eo/next';
is $next->code, 200, 'a 200 passes through';
is $next->header('X-Echo-Conn'), $err->{conn},
    'the discarded error body left the backend connection reusable';

# a 401: local page, the backend's challenge kept
$r = GET '/eo/auth?echo.status=401', 'X-Echo-Header' => 'WWW-Authenticate: Basic realm="b"';
is $r->code, 401, '401 is overridden';
is $r->content, 'local-401-page', 'with the local page';
is $r->header('WWW-Authenticate'), 'Basic realm="b"', 'WWW-Authenticate is kept';

# a large error body is drained, not relayed
# (a 404: after a 500 httpd closes the client connection, which could move
# the next request to another child and its own pool)
$r = GET '/eo/big?echo.status=404&echo.body=300000&echo.framing=chunked';
is $r->code . ' ' . $r->content, '404 local-404-page', 'a large chunked 404 body is replaced';
$next = GET '/eo/next2';
is $next->header('X-Echo-Conn'), $echo->requests ? ($echo->requests)[-2]{conn} : -1,
    'and its connection reused afterwards';

# HEAD of an error: status only
$r = HEAD '/eo/h?echo.status=404';
is $r->code, 404, 'HEAD of a 404 is overridden too';

# a code list: only the listed codes are overridden
$r = GET '/list/x?echo.status=404';
is $r->code, 404, 'a 404 outside the list passes';
like $r->content, qr/"request_line"/, 'with the backend body';
$r = GET '/list/x?echo.status=500';
is $r->content, 'local-500-page', 'a listed 500 is overridden';

# override Off for a Location
$r = GET '/plain/x?echo.status=404';
like $r->content, qr/"request_line"/, 'ProxyErrorOverride Off relays the backend body';

# success statuses are never touched
$r = GET '/eo/fine?echo.status=201';
is $r->code, 201, 'a 201 passes through';
like $r->content, qr/"request_line"/, 'with its body';

PrxTest::errorlog_ok();
