# Tests for failover (spec balancer.md §9): a member whose origin goes
# down costs the client nothing (the request fails over to another
# member), enters error state (PRX00004) shared by every child -- no child
# contacts it until `retry` has passed, even once its origin is back --
# and serves again after that; maxattempts bounds the attempts of one
# request (default: members - 1); with every member in error state
# forcerecovery On tries them again at once, Off waits for retry. Held
# keep-alive connections keep, under prefork, one child busy each, so
# that the next connection reaches another child; the access log names
# the child. Run it under prefork too (scripts/test does):
# PRX_MPM=prefork t/run-suite t/balancer/failover.t
# Config: t/conf/balancer_failover.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;
use PrxStatus;

plan tests => 2 + 6 + 4 + 3 + 4 + 1 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_status.c');

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $port = Apache::Test::config()->{vhosts}{balancer_failover}{port} or die 'no port';
my $log = PrxTest::vars('t_logs') . '/balancer_failover_access.log';
my $aport = PrxTest::vars('backend_balancer_fo_a_port');
my $aname = "http://127.0.0.1:$aport";
my $retry = 3;
my $tag = 0;
my %pids;

# GET on held connection `c` (a new one if undef); returns the response
# and the pid of the child that served it
sub tagged_get {
    my ($c, $path, @h) = @_;
    my $own = !$c;
    $c ||= PrxStatus::Conn->new($port);
    my $t = 'tag=' . ++$tag;
    my $res = $c->get($path . ($path =~ /\?/ ? '&' : '?') . $t, @h);
    $c->close if $own;
    my $pid = PrxStatus::served_by($log, $t) // '?';
    $pids{$pid} = 1;
    return ($res, $pid);
}
sub origin_of {
    my $res = shift;
    return 'E' . $res->{status} if $res->{status} != 200;
    return PrxTest::header_of($res, 'X-Origin') // '?';
}
sub status_of {
    my ($c, $name) = @_;
    my ($res) = tagged_get($c, '/server-status?auto');
    return PrxStatus::parse_auto($res->{body})->{$name} || {};
}
sub connect_failures {
    my $re = shift;
    return scalar grep { /PRX00016/ && /$re/ } PrxTest::errorlog_lines(settle => 0.3);
}

# both members up: both serve
my $o1 = PrxTest::backend('echo', name => 'balancer_fo_o1', args => ['--set', 'header=X-Origin: o1']);
my $a = PrxTest::backend('echo', name => 'balancer_fo_a', args => ['--set', 'header=X-Origin: a']);
my %seen = map { origin_of((tagged_get(undef, '/basic/hello.txt'))[0]) => 1 } 1 .. 4;
is join(' ', sort keys %seen), 'a o1', 'both members serve';
is scalar($a->requests), 2, 'a got every other request';

# a goes down: no client error, a in error state, in every child
$a->stop;
my $h1 = PrxStatus::Conn->new($port);
my $h2 = PrxStatus::Conn->new($port);
my @who;
my $t_err;
for my $i (1 .. 4) {
    my ($res, $pid) = tagged_get($i % 2 ? $h1 : $h2, '/basic/hello.txt');
    $t_err //= Time::HiRes::time();
    push @who, origin_of($res) . "($pid)";
}
is join(' ', map { s/\(.*//r } @who), 'o1 o1 o1 o1', "origin of a down: every request served by o1 (@who)";
my @err = grep { /PRX00004/ && /\Q$aname\E/ } PrxTest::errorlog_lines(settle => 0.3);
is scalar(@err), 1, 'a put in error state once (PRX00004)';
like status_of($h1, $aname)->{Status} // '', qr/\bErr\b/, 'ProxyStatus: a is Err (held connection 1)';
like status_of($h2, $aname)->{Status} // '', qr/\bErr\b/, 'and Err (held connection 2)';
like status_of(undef, $aname)->{Status} // '', qr/\bErr\b/, 'and Err (a new connection)';
$a = PrxTest::backend('echo', name => 'balancer_fo_a', args => ['--set', 'header=X-Origin: a']);
@who = map { origin_of((tagged_get($_ % 3 == 0 ? undef : $_ % 3 == 1 ? $h1 : $h2, '/basic/hello.txt'))[0]) } 1 .. 6;
is "@who", 'o1 o1 o1 o1 o1 o1', 'a back within retry: still skipped by every child';

# after retry a serves again, for every child
Time::HiRes::sleep($t_err + $retry + 0.3 - Time::HiRes::time());
@who = map { origin_of((tagged_get($_ % 3 == 0 ? undef : $_ % 3 == 1 ? $h1 : $h2, '/basic/hello.txt'))[0]) } 1 .. 6;
ok scalar(grep { $_ eq 'a' } @who) >= 2, "after retry=$retry s a serves again (@who)";
ok !grep({ /^E/ } @who), 'no error';
ok $a->requests >= 2, 'a got requests (' . scalar($a->requests) . ')';
unlike status_of($h2, $aname)->{Status} // 'Err', qr/\bErr\b/, 'Err cleared for every child';
$h1->close;
$h2->close;

# maxattempts=1: at most two tries per request
my $n0 = connect_failures(qr/\S/);
my @codes = map { (tagged_get(undef, "/max1/hello.txt"))[0]{status} } 1 .. 3;
is "@codes", '503 200 200', 'maxattempts=1, three dead members first: 503 (two dead tried), then 200 (dead, live)';
is connect_failures(qr/\S/) - $n0, 3, 'three connect failures in all (2 + 1)';
@codes = map { (tagged_get(undef, "/max0/hello.txt"))[0]{status} } 1 .. 2;
is "@codes", '503 200', 'maxattempts=0: no failover, the dead member costs a 503';

# the default maxattempts (members - 1): three dead members, every request served
@codes = map { (tagged_get(undef, "/maxdef/hello.txt"))[0]{status} } 1 .. 3;
is "@codes", '200 200 200', 'default maxattempts (3 of 4 members dead): no client error';

# forcerecovery: every member in error, one origin comes back within retry
my ($res) = tagged_get(undef, '/recover-on/hello.txt');
is $res->{status}, 503, 'forcerecovery On: every member dead: 503';
my $on = PrxTest::backend('echo', name => 'balancer_fo_on');
($res) = tagged_get(undef, '/recover-on/hello.txt');
is $res->{status}, 200, 'an origin back: the error states are cleared at once, 200';
($res) = tagged_get(undef, '/recover-off/hello.txt');
is $res->{status}, 503, 'forcerecovery Off: every member dead: 503';
my $off = PrxTest::backend('echo', name => 'balancer_fo_off');
my $n = connect_failures(qr/\S/);
($res) = tagged_get(undef, '/recover-off/hello.txt');
is $res->{status}, 503, 'an origin back: still 503 until retry passes';
is scalar($off->requests), 0, 'the origin got no request';
ok scalar(grep { /PRX00607/ && /fo-recover-off/ } PrxTest::errorlog_lines(settle => 0.3)) >= 1,
    'all workers in error state (PRX00607)';
is connect_failures(qr/\S/), $n, 'no connection was tried';

SKIP: {
    skip "which child serves a connection is up to $mpm", 1 unless $mpm eq 'prefork';
    ok scalar(keys %pids) >= 3, 'prefork: several children took part (' . join(' ', sort keys %pids) . ')';
}
diag 'children that served: ' . join(' ', sort keys %pids);

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016 PRX00607)]);
