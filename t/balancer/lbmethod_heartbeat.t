# Tests for the heartbeat lbmethod (spec lbmethods.md §6): members are
# chosen at random, weighted by the ready count their origins report in
# the heartbeat storage file (the format mod_heartmonitor writes, here
# written by the test; HeartbeatStorage names it); a member is matched
# by its host literally; an origin reporting no busy worker counts a
# quarter of its ready ones; one not seen for 10 s or more is left out;
# comment lines and lines without a space are ignored; without the file
# the request gets 503 and the error is logged.
# Config: t/conf/balancer_lbmethods.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 3 + 2 + 2 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_heartbeat.c');

my $a = PrxTest::backend('echo', name => 'balancer_lb_a', args => ['--set', 'header=X-Origin: a']);
my $b = PrxTest::backend('echo', name => 'balancer_lb_b', args => ['--set', 'header=X-Origin: b']);
my $file = PrxTest::vars('t_logs') . '/balancer_hb.dat';
Apache::TestRequest::module('balancer_lbmethods');

sub storage {
    open my $fh, '>', "$file.tmp" or die "$file: $!";
    print $fh @_;
    close $fh;
    rename "$file.tmp", $file or die "rename: $!";
}
sub counts {
    my $n = shift;
    my %c;
    for (1 .. $n) {
        my $res = GET '/hb/x';
        $c{ $res->code == 200 ? $res->header('X-Origin') // '?' : 'E' . $res->code }++;
    }
    return \%c;
}

# a: ready 30 (busy 2); b: ready 40 but busy 0, so 40 / 4 = 10. The pick
# is uniform in [0, 40]: a takes [0, 30), b [30, 40] -> 30 : 11
storage("# written by lbmethod_heartbeat.t\n",
        "127.0.0.1 &ready=30&busy=2&lastseen=1&port=80\n",
        "garbage-without-space\n",
        "localhost &ready=40&busy=0&lastseen=3&port=80\n");
my $n = 300;
my $c = counts($n);
ok !grep({ /^E/ } keys %$c), 'no errors (' . join(' ', map { "$_=$c->{$_}" } sort keys %$c) . ')';
my $want = $n * 30 / 41;
ok abs(($c->{a} // 0) - $want) <= 30, sprintf('ready 30 : 40 with b idle (40/4): a %d of %d (want %.0f +- 30, 4 sigma)',
    $c->{a} // 0, $n, $want);
ok(($c->{b} // 0) > 0, 'b is chosen too (' . ($c->{b} // 0) . ')');
diag sprintf 'measured heartbeat 30:10 -> %d:%d of %d', $c->{a} // 0, $c->{b} // 0, $n;

# b last seen 10 s ago: left out
storage("127.0.0.1 &ready=5&busy=1&lastseen=2\n", "localhost &ready=500&busy=3&lastseen=10\n");
$c = counts(20);
is $c->{a} // 0, 20, 'an origin not seen for 10 s is left out: a takes all';
# a line without lastseen counts as fresh; later lines override
storage("localhost &ready=5&busy=1&lastseen=60\n", "127.0.0.1 &ready=0&busy=1\n",
        "localhost &lastseen=0\n");
$c = counts(20);
is $c->{b} // 0, 20, 'a later line overrides the fields of an earlier one; no ready means never chosen';

# the member's host is matched literally: an origin named otherwise is unknown
storage("127.0.0.2 &ready=50&busy=1\n", "localhost &ready=5&busy=1\n");
$c = counts(10);
is $c->{b} // 0, 10, 'reports for other hosts are ignored';
storage("127.0.0.2 &ready=50&busy=1\n");
is((GET '/hb/x')->code, 503, 'no report for any member: 503');

# no storage file
unlink $file;
my $res = GET '/hb/x';
is $res->code, 503, 'no heartbeat storage file: 503';
my @l = grep { /PRX00637/ } PrxTest::errorlog_lines(settle => 0.3);
is scalar(@l), 1, 'the unreadable file is logged (PRX00637)';
like $l[0] // '', qr/\Q$file\E/, 'naming the file';

PrxTest::errorlog_ok(expect => [qw(PRX00607 PRX00637)]);
