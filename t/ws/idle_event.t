# Tests that idle WebSocket tunnels hold no worker thread under the event
# MPM (docs/architecture.md "tunnels"; spec http.md §7.3 says what a
# tunnel does, not how many threads it may pin): in an httpd with one
# child of 4 threads, 40 tunnels (30 through mod_proxy_http, 10 through
# mod_proxy_wstunnel's legacy mode) are opened one after the other, each
# answering while the earlier ones sit idle; with all of them idle the
# server reports at most one busy thread (the status request itself), 3
# slow requests are served side by side, and afterwards every tunnel still
# works -- woken by its client (echo, ping) or by its origin (a message
# after a silence; a request made right after all of them woke at once is
# served at once) -- and closes cleanly. Under worker and prefork a
# tunnel keeps its thread or process for its lifetime (stock behaviour):
# the test skips there. Config: t/conf/ws_idle.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use IO::Socket::INET ();
use Time::HiRes ();
use PrxTest;
use PrxHttpd;
use PrxWs;

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $tunnels = 40;
my $threads = 4;
plan tests => 11, need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_wstunnel.c'),
    PrxWs::need(),
    { "the event MPM (this is $mpm: a tunnel keeps its thread)" => $mpm eq 'event' });

my $wse = PrxTest::backend('ws_echo', name => 'ws_idle');
my $echo = PrxTest::backend('echo', name => 'ws_idle_echo');
my $httpd = PrxHttpd->start(conf => 'ws_idle.conf', define => 'PRX_WS_IDLE',
    port => PrxTest::vars('backend_ws_idle_httpd_port'));
my $port = $httpd->port;
my $ws = PrxWs->new;
my @names = map { "t$_" } 1 .. $tunnels;
sub path_of { my $i = shift; $i % 4 == 0 ? "/legacy/$i" : "/ws/$i" }

# "BusyWorkers IdleWorkers" from mod_status
sub workers {
    my $raw = PrxTest::raw_request($port, "GET /server-status?auto HTTP/1.1\r\n"
        . "Host: localhost\r\nConnection: close\r\n\r\n") // '';
    my ($b) = $raw =~ /^BusyWorkers: (\d+)/m;
    my ($i) = $raw =~ /^IdleWorkers: (\d+)/m;
    return ($b // -1, $i // -1);
}

# every tunnel opens and answers while the ones before it sit idle: with
# 4 threads, the 5th could not if idle tunnels held theirs
my @ok;
for my $i (1 .. $tunnels) {
    my $r = $ws->open("t$i", "ws://127.0.0.1:$port" . path_of($i), timeout => 5);
    push @ok, $i if ($r->{status} // 0) == 101
        && $ws->cmd(op => 'echo', name => "t$i", text => "hello $i", wait => 10)->{match};
    Time::HiRes::sleep(0.1);   # the earlier ones go idle (parked after 250 ms)
}
is scalar(@ok), $tunnels, "$tunnels tunnels opened one by one through $threads threads, each answering";

Time::HiRes::sleep(1);
my ($busy, $idle) = workers();
ok $busy >= 0 && $busy <= 1,
    "$tunnels idle tunnels: $busy busy thread(s), $idle idle (the status request is one)";

# slow requests (2 s at the origin) at once, one per free thread: all are
# free (but one: the event MPM takes no connection while no thread is idle
# besides the one its listener holds, and parked tunnels count)
my $slow = $threads - 1;
my $t0 = Time::HiRes::time();
my @s = map {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or die "connect: $!";
    print $s "GET /slow/$_ HTTP/1.1\r\nHost: localhost\r\nX-Echo-Delay: 2000\r\nConnection: close\r\n\r\n";
    $s
} 1 .. $slow;
my @codes = map {
    my $s = $_;
    local $/;
    my $got = <$s> // '';
    $got =~ m{^HTTP/1\.1 (\d{3})} ? $1 : 0
} @s;
my $took = Time::HiRes::time() - $t0;
is join(' ', @codes), join(' ', ('200') x $slow), "$slow slow requests beside the idle tunnels: 200";
# (two rounds would take 4 s; the bound leaves room for a loaded machine)
ok $took < 3.6, sprintf('served side by side (%.2f s for 2 s each)', $took);

# every tunnel still works: woken by its client...
is scalar(grep { $ws->cmd(op => 'echo', name => $_, size => 70_000, binary => 1)->{match} } @names),
    $tunnels, 'every tunnel echoes again';
is scalar(grep { $ws->cmd(op => 'ping', name => $_)->{ok} } @names), $tunnels, 'and answers a ping';
# ... and by its origin, after a silence in which all are parked; a
# request right after all of them woke at once is served at once (a woken
# tunnel gives its thread back a few ms after the bytes moved)
my $tp = Time::HiRes::time();
$ws->cmd(op => 'send', name => $_, text => "__push 1500 woken $_") for @names;
my $acks = grep { ($ws->cmd(op => 'recv', name => $_)->{text} // '') eq 'pushed' } @names;
my $left = $tp + 1.7 - Time::HiRes::time();
Time::HiRes::sleep($left) if $left > 0;
my $t1 = Time::HiRes::time();
($busy, $idle) = workers();
my $lat = Time::HiRes::time() - $t1;
my $woken = grep { ($ws->cmd(op => 'recv', name => $_, timeout => 10)->{text} // '') eq "woken $_" }
    @names;
is "$acks $woken", "$tunnels $tunnels", 'the origins\' messages after 1.5 s of silence all arrive';
ok $busy >= 0 && $lat < 0.4, sprintf('a request right after they all woke: served in %.3f s '
    . '(%d busy thread(s))', $lat, $busy);

# and every tunnel closes cleanly
is scalar(grep { ($ws->cmd(op => 'close', name => $_, code => 1000, reason => 'done')->{code} // 0)
    == 1000 } @names), $tunnels, 'every close handshake is answered';
Time::HiRes::sleep(0.5);
is scalar(grep { ($_->{kind} // '') eq 'close' && ($_->{code} // 0) == 1000 } $wse->requests),
    $tunnels, 'and seen by the origin';
$ws->quit;

PrxTest::errorlog_ok();
$httpd->stop;
