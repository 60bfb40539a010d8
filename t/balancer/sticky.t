# Tests for sticky sessions (spec balancer.md §7, §10): a route from the
# URL parameter (path or query) wins over the cookie; the route is the
# text after the first separator (stickysessionsep, '.' by default; with
# Off the whole value); scolonpathdelim ends a URL value at ';'; a
# session whose member is unusable goes to its member's redirect route
# (BALANCER_ROUTE_CHANGED), or gets 503 with nofailover; a draining
# member serves its sessions but no new ones; route lookup prefers
# members without H; BALANCER_SESSION_STICKY / _ROUTE say what was found.
# Config: t/conf/balancer_sticky.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 9 + 4 + 5 + 3 + 6 + 5 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c');

Apache::TestRequest::module('balancer_sticky');

sub origin { my $r = shift; $r->header('X-Origin') // ('none:' . $r->code) }
sub origins {
    my ($path, @h) = @_;
    return join ' ', map { origin(GET $path, @h) } 1 .. 4;
}

# cookie form, URL form (query and path parameter), the URL wins
my $res = GET '/basic/hello.txt', Cookie => 'JSESSIONID=abc123.b';
is origin($res), 'o2', 'cookie JSESSIONID=abc123.b: route b, member o2';
is origins('/basic/hello.txt', Cookie => 'other=1; JSESSIONID=abc.a; x=y'), 'o1 o1 o1 o1',
    'cookie among others, route a: o1 every time';
is $res->header('X-Session-Sticky'), 'JSESSIONID', 'BALANCER_SESSION_STICKY names the cookie';
is $res->header('X-Session-Route'), 'b', 'BALANCER_SESSION_ROUTE is the route';
ok !defined $res->header('X-Route-Changed'), 'no BALANCER_ROUTE_CHANGED for a session kept';
is origins('/basic/hello.txt?jsessionid=abc.b'), 'o2 o2 o2 o2', 'URL query parameter jsessionid=abc.b: o2';
$res = GET '/basic/hello.txt;jsessionid=abc.a', Cookie => 'JSESSIONID=abc.b';
is $res->header('X-Member-Route'), 'a', 'path parameter ;jsessionid=abc.a beats the cookie\'s route b';
is $res->header('X-Session-Sticky'), 'jsessionid', 'BALANCER_SESSION_STICKY names the URL parameter';
is origin(GET '/basic/hello.txt', Cookie => 'XJSESSIONID=abc.a; JSESSIONID=abc.b'), 'o2',
    'a cookie whose name only ends with the sticky name is not it';

# no route, unknown route: load balancing, BALANCER_ROUTE_CHANGED
$res = GET '/basic/hello.txt', Cookie => 'JSESSIONID=nodot';
is $res->header('X-Route-Changed'), '1', 'a value without separator: balanced, BALANCER_ROUTE_CHANGED=1';
ok !defined $res->header('X-Session-Route'), 'and no session route';
$res = GET '/basic/hello.txt', Cookie => 'JSESSIONID=abc.zz';
is $res->header('X-Route-Changed'), '1', 'an unknown route: balanced, BALANCER_ROUTE_CHANGED=1';
is $res->header('X-Session-Route'), 'zz', 'the route found is still reported';

# draining member c: its sessions reach it, new requests never
is origins('/basic/hello.txt', Cookie => 'JSESSIONID=x.c'), 'o3 o3 o3 o3', 'draining member: sessions of route c still reach o3';
my %seen = map { origin(GET '/basic/hello.txt') => 1 } 1 .. 12;
is join(' ', sort keys %seen), 'o1 o2', 'without a session the draining member is never chosen';
is origins('/sep/hello.txt', Cookie => 'SID=abc_r2'), 'o2 o2 o2 o2', "stickysessionsep=_: 'abc_r2' is route r2";
is origin(GET '/sep/hello.txt?SID=abc_r1'), 'o1', 'one name for cookie and URL parameter';
is origins('/nosep/hello.txt', Cookie => 'SID=r2'), 'o2 o2 o2 o2', 'stickysessionsep=Off: the whole value r2 is the route';

# scolonpathdelim
$res = GET '/scolon/hello.txt;sid=abc.r2;foo=bar';
is $res->header('X-Member-Route'), 'r2', 'scolonpathdelim On: ;sid=abc.r2;foo=bar is route r2';
$res = GET '/noscolon/hello.txt;sid=abc.r2;foo=bar';
is $res->header('X-Session-Route'), 'r2;foo=bar', 'Off: the value runs on to the end (route r2;foo=bar)';
is $res->header('X-Route-Changed'), '1', 'which no member has: balanced';

# redirect: the dead member's sessions go to route r2
$res = GET '/redirect/hello.txt', Cookie => 'S=x.r1';
is $res->code, 200, 'session of a dead member: no error (failover to its redirect)';
is origin($res), 'o2', 'served by the redirect route\'s member o2';
is $res->header('X-Route-Changed'), '1', 'BALANCER_ROUTE_CHANGED=1';
is $res->header('X-Member-Route'), 'r2', 'BALANCER_WORKER_ROUTE is the new member\'s route';
is origins('/redirect/hello.txt', Cookie => 'S=x.r1'), 'o2 o2 o2 o2', 'and so on for the next requests';
is origins('/redirect/hello.txt', Cookie => 'S=x.r3'), 'o3 o3 o3 o3', 'other routes unaffected';

# nofailover: 503 for the dead member's sessions, others served
my @codes = map { (GET '/nofail/hello.txt', Cookie => 'S=x.r1')->code } 1 .. 3;
is "@codes", '503 503 503', 'nofailover On, session of a dead member: 503';
my @l = grep { /PRX00606/ } PrxTest::errorlog_lines(settle => 0.3);
ok scalar(@l) >= 3, 'each logged (PRX00606)';
is origin(GET '/nofail/hello.txt', Cookie => 'S=x.r2'), 'o2', 'a session of a live member is served';
is origin(GET '/nofail/hello.txt', Cookie => 'S=x.r9'), 'o2', 'a route no member has: balanced, served';
is origin(GET '/nofail/hello.txt'), 'o2', 'no session: balanced to the live member';

# route lookup: the member without H first, though configured later
is origins('/standby/hello.txt', Cookie => 'S=x.r5'), 'o2 o2 o2 o2', 'route r5: o2 (no H) before o1 (H)';
is origin(GET '/standby/hello.txt', Cookie => 'S=x.r3'), 'o3', 'route r3: o3';

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016 PRX00606)]);
