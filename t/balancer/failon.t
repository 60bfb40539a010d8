# Tests for failonstatus and failontimeout (spec balancer.md §9.4): a
# member that answers a listed status, or times out with failontimeout
# On, is put in error state for later requests -- the response itself
# reaches the client unchanged and is not retried; a member with I is
# never put in error state; the proxy's own 502 counts as a status; a
# timeout without failontimeout leaves the member usable.
# Config: t/conf/balancer_failon.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;
use PrxStatus;

plan tests => 5 + 3 + 4 + 4 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_status.c');

my $ok = PrxTest::backend('echo', name => 'balancer_fail_ok');
my $slow = PrxTest::backend('echo', name => 'balancer_fail_slow', args => ['--set', 'delay=3000']);
my ($op, $sp) = ($ok->port, $slow->port);
Apache::TestRequest::module('balancer_failon');

sub status_of {
    my $name = shift;
    return (PrxStatus::parse_auto((GET '/server-status?auto')->content)->{$name} || {})->{Status} // '';
}
sub path_of { my $r = PrxTest::echo_of(shift) || {}; ($r->{target} // '') =~ m{^/(\w+)/} ? $1 : '?' }

# failonstatus=500,503: the 500 reaches the client, s1 goes into error
my $res = GET '/status/x', 'X-Echo-Status' => 500;
is $res->code, 500, 'a listed status from the origin reaches the client';
is path_of($res), 's1', 'it came from s1 (not retried elsewhere)';
like status_of("http://127.0.0.1:$op/s1"), qr/\bErr\b/, 's1 is in error state';
my @p = map { path_of(GET '/status/x') } 1 .. 4;
is "@p", 's2 s2 s2 s2', 'later requests go to s2';
ok scalar(grep { /PRX00610/ && m{/s1} } PrxTest::errorlog_lines(settle => 0.3)) == 1, 'logged once (PRX00610)';

# status=+I: never in error state
is path_of(GET '/ign/x', 'X-Echo-Status' => 500), 'i1', 'i1 answers a listed status';
unlike status_of("http://127.0.0.1:$op/i1"), qr/\bErr\b/, 'a member with I stays out of error state';
@p = map { path_of(GET '/ign/x') } 1 .. 4;
is "@p", 'i2 i1 i2 i1', 'and keeps its share';

# the proxy's 502 (the origin does not answer within timeout=1) is listed
$res = GET '/proxy502/x';
is $res->code, 502, 'no response head within timeout=1: 502';
is $res->header('X-Member'), "http://127.0.0.1:$sp/p1", 'from p1';
like status_of("http://127.0.0.1:$sp/p1"), qr/\bErr\b/, 'failonstatus=502 puts p1 in error state';
@p = map { path_of(GET '/proxy502/x') } 1 .. 2;
is "@p", 'p2 p2', 'later requests go to p2';

# failontimeout On
$res = GET '/timeout/x';
is $res->code, 502, 'failontimeout: the timed-out request gets its 502';
like status_of("http://127.0.0.1:$sp/t1"), qr/\bErr\b/, 't1 is in error state';
@p = map { path_of(GET '/timeout/x') } 1 .. 2;
is "@p", 't2 t2', 'later requests go to t2';
ok scalar(grep { /PRX00611/ && m{/t1} } PrxTest::errorlog_lines(settle => 0.3)) == 1, 'logged (PRX00611)';

# without failontimeout: the member stays usable
is((GET '/notimeout/x')->code, 502, 'failontimeout Off: 502 too');
unlike status_of("http://127.0.0.1:$sp/n1"), qr/\bErr\b/, 'but n1 stays usable';

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00610 PRX00611 PRX00314)]);
