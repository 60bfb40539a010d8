# Tests for the bybusyness lbmethod (spec lbmethods.md §5): the member
# with the fewest requests in flight is elected; equally busy members
# share by weighted counting. While a slow request keeps member a busy,
# every other request goes to the idle member b; with one slow request on
# each, the counting decides (a, which earned while b served, catches up); busy is counted from election to the end of the
# request and is back to 0 afterwards (ProxyStatus).
# Config: t/conf/balancer_lbmethods.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;

plan tests => 3 + 2 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_bybusyness.c', 'mod_status.c');

my $a = PrxTest::backend('echo', name => 'balancer_lb_a', args => ['--set', 'header=X-Origin: a']);
my $b = PrxTest::backend('echo', name => 'balancer_lb_b', args => ['--set', 'header=X-Origin: b']);
my $port = Apache::Test::config()->{vhosts}{balancer_lbmethods}{port} or die 'no port';
Apache::TestRequest::module('balancer_lbmethods');

# a slow request, sent now and held at the origin until release() (a
# gate file, so that no timing decides how long it lasts), read later
my $gates = PrxTest::vars('t_logs') . '/balancer_busy_gate';
unlink glob "$gates.*";
sub slow {
    my $name = shift;
    my $c = PrxTest::Raw->new($port, timeout => 10) or die "connect: $!";
    $c->send("GET /busy/slow HTTP/1.1\r\nHost: localhost\r\nX-Echo-Gate: $gates.$name\r\n"
        . "Connection: close\r\n\r\n");
    return $c;
}
sub release { open my $fh, '>', "$gates.$_" or die "$gates.$_: $!" for @_ }
sub origin_of_raw {
    my $c = shift;
    my ($res) = PrxTest::parse_responses($c->read(timeout => 10));
    $c->close;
    return $res ? PrxTest::header_of($res, 'X-Origin') // '?' : 'none';
}
sub busy_of {
    my $auto = (GET '/server-status?auto')->content;
    my %bname;
    while ($auto =~ /^ProxyBalancer\[(\d+)\]Name: (\S+)/mg) { $bname{$1} = $2 }
    my @busy;
    while ($auto =~ /^ProxyBalancer\[(\d+)\]Worker\[(\d+)\]Busy: (\d+)/mg) {
        $busy[$2] = $3 if $bname{$1} eq 'balancer://lb-busy';
    }
    return "@busy";
}
# wait (up to 3 s: loaded machines, sanitizer builds) until the slow
# requests were elected, instead of sleeping a fixed time
sub busy_becomes {
    my $want = shift;
    return PrxTest::settle(\&busy_of, sub { $_[0] eq $want });
}
# `n` fast requests, one after the other; each one's busy count is taken
# back just after its client had the response, so wait until busy is
# `settled` again before the next (else it may still count as in flight)
sub origins {
    my ($n, $settled) = @_;
    return join ' ', map {
        my $r = GET '/busy/fast';
        busy_becomes($settled);
        $r->header('X-Origin') // $r->code
    } 1 .. $n;
}

# idle: both serve
is origins(4, '0 0'), 'a b a b', 'both idle: they take turns';

# a slow request on a: the idle member b takes everything else
my $s1 = slow('s1');
is busy_becomes('1 0'), '1 0', 'ProxyStatus: a busy with the slow request';
is origins(5, '1 0'), 'b b b b b', 'a busy: every other request goes to the idle b';

# a slow one on each: equally busy, they take turns again
my $s2 = slow('s2');
is busy_becomes('1 1'), '1 1', 'a second slow request went to b';
# lbstatus after the b-only phase: a 600, b -600 (a earned 100 per
# election without paying); each election of a closes the gap by 200
is origins(4, '1 1'), 'a a a a', 'equally busy: the weighted counting decides (a catches up on what b took)';

release('s1', 's2');
is origin_of_raw($s1) . ' ' . origin_of_raw($s2), 'a b', 'the slow requests were served by a, then b';
is busy_becomes('0 0'), '0 0', 'busy back to 0 once they are done';

PrxTest::errorlog_ok();
