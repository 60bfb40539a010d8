# Tests for hot standbys, hot spares, draining members and lbset tiers
# (spec balancer.md §6): a standby (H) serves only when its lbset has no
# usable normal member and no spare that replaces one; spares (R) replace
# as many unusable (or draining) normal members as there are, the
# earliest first; a draining member (N) is never elected by load; lower
# lbsets first, a tier's standby before the next tier; nobody usable (or
# no member) gives 503. Config: t/conf/balancer_standby.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 2 + 3 + 3 + 2 + 4,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c');

Apache::TestRequest::module('balancer_standby');

# who served `n` requests of `path`: "o1 o3 ..." sorted and unique, and
# the counts
sub served {
    my ($path, $n) = @_;
    my %c;
    for (1 .. $n) {
        my $res = GET $path;
        $c{ $res->code == 200 ? $res->header('X-Origin') // '?' : 'E' . $res->code }++;
    }
    return (join(' ', sort keys %c), \%c);
}

my ($who, $c) = served('/idle/hello.txt', 6);
is $who, 'o1', 'a normal member usable: the standby is idle';
($who, $c) = served('/takeover/hello.txt', 8);
is "$who $c->{o3} $c->{o4}", 'o3 o4 4 4', 'no normal member usable: the standbys take over (and share)';

($who, $c) = served('/spare1/hello.txt', 8);
is $who, 'o1 o3', 'one member unusable: the first spare replaces it';
is "$c->{o1} $c->{o3}", '4 4', 'and shares the load with the usable member';
($who) = served('/spare0/hello.txt', 6);
is $who, 'o1 o2', 'nobody unusable: the spare is idle';

($who) = served('/drain/hello.txt', 6);
is $who, 'o1 o3', 'a draining member is never elected, and a spare replaces it';
($who) = served('/both/hello.txt', 6);
is $who, 'o3', 'normal member unusable, spare and standby: the spare serves';
($who) = served('/sets/hello.txt', 6);
is $who, 'o2', 'lbset 0 without usable normal member: its standby before lbset 1';

($who) = served('/sets2/hello.txt', 6);
is $who, 'o3', 'nothing usable in lbset 0: lbset 1 (not 3)';
($who) = served('/none/hello.txt', 2);
is $who, 'E503', 'no usable member: 503';
ok scalar(grep { /PRX00607/ && /sb-none/ } PrxTest::errorlog_lines(settle => 0.3)) >= 2,
    'logged: all workers in error state (PRX00607)';

($who) = served('/empty/hello.txt', 1);
is $who, 'E503', 'a balancer without members: 503';
ok scalar(grep { /PRX00608/ && /sb-empty/ } PrxTest::errorlog_lines(settle => 0.3)) >= 1,
    'logged: no workers in balancer (PRX00608)';

PrxTest::errorlog_ok(expect => [qw(PRX00607 PRX00608)]);
