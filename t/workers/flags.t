# Tests for the status= worker parameter outside balancers (spec core.md
# §5.1): D (disabled) and S (stopped) make a worker unusable -- 503 with
# PRX00050 and the origin never contacted -- and show as Dis/Stop in
# ProxyStatus; H (hot standby) only matters to balancers, the worker stays
# usable; "DS-DI" is processed left to right (set D and S, then clear D and
# I); every worker outside a balancer shows Ign unless -I.
# Config: <VirtualHost workers_flags> in t/conf/workers_retry.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;
use PrxStatus;

my @cases = (
    # prefix, code, status string (§5.1: each flag name is followed by a
    # space, then Ok if usable)
    [ 'dis',   503, 'Init Ign Dis ' ],
    [ 'stop',  503, 'Init Ign Stop ' ],
    [ 'stby',  200, 'Init Ign Stby Ok' ],
    [ 'mixed', 503, 'Init Stop ' ],
    [ 'plain', 200, 'Init Ign Ok' ],
);
plan tests => 3 * @cases + 2 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_flags');
my $b = 'http://127.0.0.1:' . $echo->port;
Apache::TestRequest::module('workers_flags');

my $st = PrxStatus::parse_auto((GET '/server-status?auto')->content);
for my $c (@cases) {
    my ($p, $code, $status) = @$c;
    is $st->{"$b/$p/"}{Status}, $status, "status for /$p/: '$status'";
    my $res = GET "/$p/x";
    is $res->code, $code, "/$p/: $code";
    my $seen = grep { $_->{target} eq "/$p/x" } $echo->requests;
    is $seen, $code == 200 ? 1 : 0, "/$p/: the origin " . ($code == 200 ? 'got' : 'never saw') . ' it';
}
# refusing a stopped worker (status=-I: errors count) is no error of it
ok !grep({ /PRX00004/ } PrxTest::errorlog_lines(settle => 0.3)),
    'no worker was put in error state (PRX00004)';
my $after = PrxStatus::parse_auto((GET '/server-status?auto')->content);
is $after->{"$b/mixed/"}{Status}, 'Init Stop ', '/mixed/ is still just stopped, not in error';

PrxTest::errorlog_ok(expect => ['PRX00050']);
