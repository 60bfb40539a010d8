# Tests for the byrequests lbmethod (spec lbmethods.md §3) and for what
# every balanced request gets (balancer.md §8, §10): members are elected
# in proportion to their loadfactor, in the exact order of the weighted
# counting (a a b a for 3 : 1); unusable members are skipped (the others
# round-robin); lbsets are tiers; BALANCER_NAME / _WORKER_NAME /
# _WORKER_ROUTE name the balancer and the member; the member URL is the
# member's URL + the path after the balancer's name; ProxyStatus counts
# each election once. Config: t/conf/balancer_byrequests.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;
use PrxStatus;

plan tests => 6 + 3 + 2 + 3 + 3 + 4 + 3 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_status.c');

my %port = map { $_ => Apache::Test::config()->{vhosts}{"balancer_br_$_"}{port} } qw(o1 o2 o3);
my %member = map { $_ => "http://127.0.0.1:$port{$_}" } keys %port;
my %origin_of = reverse %member;
Apache::TestRequest::module('balancer_byrequests');

# the origins that served `n` GETs of `path`, in order
sub serve {
    my ($path, $n) = @_;
    my @who;
    for (1 .. $n) {
        my $res = GET $path;
        push @who, $res->code == 200 ? ($res->header('X-Origin') // '?') : 'E' . $res->code;
    }
    return @who;
}
sub counts { my %c; $c{$_}++ for @_; return \%c }

# 3 : 1 -- the exact sequence of weighted counting, and the share
my @seq = serve('/w31/hello.txt', 40);
is "@seq[0..7]", 'o1 o1 o2 o1 o1 o1 o2 o1', '3 : 1 elects a a b a, a a b a';
my $c = counts(@seq);
is $c->{o1}, 30, '3 : 1 over 40 requests: o1 30 times';
is $c->{o2}, 10, 'o2 10 times';
my $res = GET '/w31/hello.txt';
is $res->header('X-Balancer'), 'balancer://br-3to1', 'BALANCER_NAME, lower-cased';
like $res->header('X-Member') // '', qr{\Ahttp://127\.0\.0\.1:\d+\z}, 'BALANCER_WORKER_NAME is the member URL';
is $res->header('X-Member-Route'), { $member{o1} => 'r1', $member{o2} => 'r2' }->{$res->header('X-Member') // ''},
    'BALANCER_WORKER_ROUTE is that member\'s route';

# 5 : 3 : 2 over 100 requests: within 2 of 50 / 30 / 20 (in fact exact)
$c = counts(serve('/w532/hello.txt', 100));
my %want = (o1 => 50, o2 => 30, o3 => 20);
for my $o (sort keys %want) {
    ok abs(($c->{$o} // 0) - $want{$o}) <= 2, "5 : 3 : 2: $o served " . ($c->{$o} // 0) . " of 100 (want $want{$o} +- 2)";
}
diag sprintf 'measured 5:3:2 -> %d:%d:%d', map { $c->{$_} // 0 } qw(o1 o2 o3);

# loadfactor 2.5 : 1.25 is 2 : 1
$c = counts(serve('/frac/hello.txt', 30));
is $c->{o1}, 20, 'loadfactor 2.5 : 1.25 over 30: o1 20 times';
is $c->{o2}, 10, 'o2 10 times';

# one of four members dead: the client never sees it, the other three
# share the requests (the dead one kept what it had earned when it failed,
# so the first turns are uneven: within 1 of 10 each over 30)
my @rr = serve('/rr/hello.txt', 33);
ok !grep({ /^E/ } @rr), 'the dead member costs no request an error (' . join(' ', grep { /^E/ } @rr) . ')';
$c = counts(@rr[3 .. 32]);
ok !grep({ abs(($c->{$_} // 0) - 10) > 1 } qw(o1 o2 o3)),
    'then the others share 30 requests: ' . join(' / ', map { $c->{$_} // 0 } qw(o1 o2 o3)) . ' (10 +- 1 each)';
my %n = map { $_ => 1 } @rr[30 .. 32];
is scalar(keys %n), 3, 'in turn once settled (' . join(' ', @rr[27 .. 32]) . ')';

# lbset tiers: set 0 is dead, set 1 (o2, o1) serves, set 2 (o3) never
my @sets = serve('/sets/hello.txt', 20);
ok !grep({ /^E/ } @sets), 'lbset 0 dead: no client error';
$c = counts(@sets);
is join(' ', map { $c->{$_} // 0 } qw(o1 o2)), '10 10', 'lbset 1 shares the requests';
ok !$c->{o3}, 'lbset 2 is never used while lbset 1 has a member';

# the member URL: member URL + the path after the balancer name
my $echo = PrxTest::backend('echo', name => 'balancer_br');
$res = GET '/bpath/a%20b/c?q=1';
is $res->code, 200, 'member with a path: 200';
my $rec = PrxTest::echo_of($res) || {};
is $rec->{target}, '/sub/x/a%20b/c?q=1', 'the origin got member path + balancer path + query, canonicalised';
is $res->header('X-Member'), 'http://127.0.0.1:' . $echo->port . '/sub', 'BALANCER_WORKER_NAME includes the member path';
is PrxTest::header_of($rec, 'Host'), '127.0.0.1:' . $echo->port, 'Host is the member\'s';

# a unix-socket member: the socket is connected, the URL's path composed
my $sock = PrxTest::vars('t_logs') . '/balancer_br.sock';
my $ux = PrxTest::backend('echo', args => ['--unix', $sock]);
$res = GET '/uds/y?z=2';
is $res->code, 200, 'unix-socket member: 200';
is((PrxTest::echo_of($res) || {})->{target}, '/u/y?z=2', 'the origin on the socket got /u/y?z=2');
is $res->header('X-Member'), 'http://localhost/u', 'BALANCER_WORKER_NAME is the URL after the socket';

# ProxyStatus: each election counted once (the balancer counts, not the
# core as well)
my $auto = (GET '/server-status?auto')->content;
my %el;
my %bname;
while ($auto =~ /^ProxyBalancer\[(\d+)\]Name: (\S+)/mg) { $bname{$1} = $2 }
while ($auto =~ /^ProxyBalancer\[(\d+)\]Worker\[(\d+)\]Elected: (\d+)/mg) { $el{$bname{$1}}[$2] = $3 }
is join(' ', @{ $el{'balancer://br-3to1'} || [] }), '31 10', 'ProxyStatus: br-3to1 elected 31 and 10 times (41 requests)';
is join(' ', @{ $el{'balancer://br-532'} || [] }), '50 30 20', 'br-532: 50 30 20';
# (busy is taken back just after the client had the response: the last
# request may still count for a moment)
my $busy_of = sub { ($_[0] =~ /^ProxyBalancer\[\d+\]Worker\[\d+\]Busy: ([1-9]\d*)/m)[0] };
$auto = PrxTest::settle(sub { (GET '/server-status?auto')->content },
                        sub { !defined $busy_of->($_[0]) });
ok !defined $busy_of->($auto), 'no member busy once the requests are done';

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016)]);
