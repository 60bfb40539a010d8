# Tests for the idle timeout of tunnels and for tunnels ending under them
# (spec http.md §7.3; connect-wstunnel-express.md §3.5 step 6): in a
# one-child httpd with Timeout 2, three idle tunnels of a worker with
# timeout=2 are torn down after about 2 s (the client and the origin both
# see the connection go), while on the same poller a tunnel of a worker
# with timeout=30 and a legacy-mode tunnel (no idle timeout) live on and
# work afterwards -- several tunnels expiring at once must not disturb the
# others. A client that drops its connection ends its tunnel: the origin
# sees it. Config: t/conf/ws_timeout.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Time::HiRes ();
use PrxTest;
use PrxHttpd;
use PrxWs;

plan tests => 9, need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_wstunnel.c'),
    PrxWs::need());

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $wse = PrxTest::backend('ws_echo', name => 'ws_timeout');
my $httpd = PrxHttpd->start(conf => 'ws_timeout.conf', define => 'PRX_WS_TIMEOUT',
    port => PrxTest::vars('backend_ws_timeout_httpd_port'));
my $base = 'ws://127.0.0.1:' . $httpd->port;
my $ws = PrxWs->new;
my @short = map { "s$_" } 1 .. 3;

sub closes { grep { ($_->{kind} // '') eq 'close' } $wse->requests }

# (the long-lived ones first: parked earlier, they are behind the short
# ones on the poller's list)
my $opened = 0;
for my $n ('long', 'legacy', @short) {
    my $path = $n =~ /^s/ ? "/short/$n" : "/$n/$n";
    $opened++ if ($ws->open($n, "$base$path")->{status} // 0) == 101
        && $ws->cmd(op => 'echo', name => $n, text => "hi $n")->{match};
}
is $opened, 5, 'five tunnels: three with timeout=2, one with timeout=30, one legacy';

# all idle: the three short ones go after their 2 s
my $t0 = Time::HiRes::time();
my @gone = map { $ws->cmd(op => 'wait_closed', name => $_, timeout => 8) } @short;
my $took = Time::HiRes::time() - $t0;
is scalar(grep { $_->{ok} } @gone), 3, 'the timeout=2 tunnels are closed while idle';
ok $took >= 1.5 && $took < 5, sprintf('after about 2 s (%.1f s)', $took);
Time::HiRes::sleep(0.5);
is scalar(closes()), 3, 'the origin saw their connections go';
my @l = grep { /PRX0009[13]/ } PrxTest::errorlog_lines();
is scalar(@l), 3, "each logged as a tunnel timeout ($mpm: "
    . join(' ', map { /(PRX0009[13])/ } @l) . ')';

# the others, on the same poller, idle longer still work
Time::HiRes::sleep(1);
is $ws->cmd(op => 'echo', name => 'long', text => 'still here', wait => 10)->{match}, 1,
    'the timeout=30 tunnel works after 3.5 s idle';
is $ws->cmd(op => 'echo', name => 'legacy', text => 'still here', wait => 10)->{match}, 1,
    'the legacy tunnel (no idle timeout) too, despite its worker\'s timeout=2';

# a client that drops its connection ends the tunnel
$ws->cmd(op => 'abort', name => 'long');
Time::HiRes::sleep(1);
is scalar(closes()), 4, 'a client dropping its connection: the origin sees the tunnel end';
$ws->quit;

PrxTest::errorlog_ok();
$httpd->stop;
