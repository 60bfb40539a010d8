# Tests for tunnels parked by the event MPM (spec http.md §7.3;
# connect-wstunnel-express.md §2.2 step 9; docs/architecture.md): a
# CONNECT tunnel idle for a moment gives its worker thread back and waits
# on the tunnel poller, so one child with 4 threads carries 40 idle tunnels
# and still answers requests; a parked tunnel wakes for either side,
# passes half-closes on, holds back a fast sender while the reader is
# slow, notices a client that vanished, works the same with TLS between
# client and proxy, survives a graceful restart and ends with the server.
# Runs a second httpd with one child of 4 threads
# (t/conf/forward_connect_park.conf.in); the far end is t/backends/tunnel.pl.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha1_hex);
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();
use PrxTest;
use PrxHttpd;
use PrxBackend ();
use PrxForward;

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $ca = PrxTest::vars('t_conf') . '/certs/ca.crt';
my $N = 40;

# (one condition for plan: Apache::Test ignores all of them when there
# are two, since it only takes a condition after an even-sized list)
plan tests => 3 + 1 + 4 + 3 + 1 + 4 + 3 + 2 + 1,
    need(need_module('mod_proxy.c', 'mod_proxy_connect.c'),
         { 'the event MPM (tunnels are parked by it only)' => $mpm eq 'event' });

my $tun = PrxTest::backend('tunnel', name => 'forward_tunnel');
my $tport = $tun->port;
my $pport = PrxTest::vars('backend_forward_connect_park_port');
my $httpd = PrxHttpd->start(conf => 'forward_connect_park.conf',
    define => 'PRX_FORWARD_CONNECT_PARK', port => $pport);

sub open_tunnel {
    my (%o) = @_;
    my $t = PrxForward::tunnel($o{port} // $pport, "127.0.0.1:$tport", %o);
    return $t;
}
sub record_of {
    my ($cmd) = @_;
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        my ($r) = grep { ($_->{command} // '') eq $cmd } reverse $tun->requests;
        return $r if $r;
        Time::HiRes::sleep(0.05);
    }
    return {};
}
# process ids of the children of httpd's parent process
sub children {
    my $ppid = $httpd->{pid};
    my @k;
    for my $d (glob '/proc/[0-9]*') {
        open my $fh, '<', "$d/stat" or next;
        my @f = split ' ', scalar <$fh>;
        push @k, $f[0] if $f[3] == $ppid;
    }
    return sort { $a <=> $b } @k;
}

# --- more idle tunnels than threads -----------------------------------------------------
my @t = map { my $x = open_tunnel(); $x->send("ECHO $_\n") if $x; $x } 1 .. $N;
is scalar(grep { $_ && $_->{status} == 200 } @t), $N, "$N tunnels open on one child with 4 threads";
Time::HiRes::sleep(1);
my $res = PrxForward::request($pport, 'GET', "http://localhost:$pport/hello.txt", timeout => 5);
is $res->{status}, 200, 'while they idle, the child still answers a plain request';
$t[$_] && $t[$_]->send("tunnel $_ is alive\n") for 0 .. $#t;
my @got = map { $t[$_] ? $t[$_]->read_line(5) // '-' : '-' } 0 .. $#t;
is scalar(grep { $got[$_] eq "tunnel $_ is alive\n" } 0 .. $#got), $N,
    'every one of them wakes up and relays';
$_->close for grep { $_ } @t;

# --- many tunnels waking and parking at once ----------------------------------------------
# 20 tunnels, each sending 25 lines at intervals around the park delay
# (0-500 ms, a fixed pseudo-random sequence), all in flight together: every
# line must come back, in order, on its own tunnel
{
    my $M = 20;
    my @tt = map { my $x = open_tunnel(); $x->send("ECHO\n"); $x } 1 .. $M;
    my $seed = 42;
    my $rand = sub { $seed = ($seed * 1103515245 + 12345) % 2147483648; $seed % 500 };
    my $now = Time::HiRes::time();
    my @next = map { $now + $rand->() / 1000 } 1 .. $M;
    my @sent = (0) x $M;
    my @want = ('') x $M;
    my $deadline = $now + 60;
    while (grep({ $_ < 25 } @sent) && Time::HiRes::time() < $deadline) {
        my $t0 = Time::HiRes::time();
        for my $i (0 .. $M - 1) {
            next if $sent[$i] >= 25 || $next[$i] > $t0;
            my $line = "t$i line $sent[$i]\n";
            $tt[$i]->send($line);
            $want[$i] .= $line;
            $sent[$i]++;
            $next[$i] = $t0 + $rand->() / 1000;
        }
        Time::HiRes::sleep(0.01);
    }
    my $ok = 0;
    for my $i (0 .. $M - 1) {
        my $got = $tt[$i]->read_bytes(length $want[$i], 10);
        $ok++ if $got eq $want[$i];
        $tt[$i]->close;
    }
    is $ok, $M, "$M tunnels parking and waking 25 times each, at once: every line back, in order";
}

# --- half-closes reach a parked tunnel ---------------------------------------------------
my $data = PrxBackend::filler(70000);
my $t = open_tunnel();
$t->send("COUNT 700\n$data");
Time::HiRes::sleep(0.7);                 # parked
$t->shutdown_write;                      # wakes it: EOF from the client
is $t->read_line(5), 'COUNT 70000 ' . sha1_hex($data) . "\n",
    'client half-close while parked: passed on, and the late answer comes back';
$t->read_all(3);
ok $t->eof, '... then the tunnel ends';
$t->close;
$t = open_tunnel();
$t->send("SEND 30000 700\n");            # the target answers after 0.7 s
my $back = $t->read_all(5);
ok $back eq PrxBackend::filler(30000) && $t->eof,
    'the target speaks, then half-closes, while parked: all 30000 bytes, then EOF';
$t->send('late words');
$t->shutdown_write;
my $rec = record_of('SEND 30000 700');
is "$rec->{got} $rec->{eof}", '10 1', '... and the client\'s late bytes still reach the target';
$t->close;

# --- back-pressure while parked: a slow reader ------------------------------------------
my $big = 24 * 1024 * 1024;
# { pid => VmRSS in KiB } of the children
sub rss_kb {
    my %kb;
    for my $pid (children()) {
        open my $fh, '<', "/proc/$pid/status" or next;
        /^VmRSS:\s+(\d+)/ and $kb{$pid} = $1 while <$fh>;
    }
    return \%kb;
}
my $rss0 = rss_kb();
$t = open_tunnel(timeout => 60);
$t->send("SEND $big\n");
Time::HiRes::sleep(1.5);                 # read nothing: the tunnel must wait
# growth of the children that were there before (a child the MPM starts
# meanwhile is none)
my $grew = do {
    my $now = rss_kb();
    my $kb = 0;
    $kb += $now->{$_} - $rss0->{$_} for grep { exists $now->{$_} } keys %$rss0;
    $kb;
};
$back = $t->pump('', want => $big, timeout => 60);
is length($back), $big, 'a reader that pauses 1.5 s: all 24 MiB arrive';
ok sha1_hex($back) eq sha1_hex(PrxBackend::filler($big)), '... intact, in order';
ok $grew < 8192, "... and meanwhile the proxy held the sender back instead of "
    . "buffering (child memory grew by $grew KiB)";
$t->close;

# --- a client that vanishes ----------------------------------------------------------------
$t = open_tunnel();
$t->send("ECHO vanish\nx\n");
$t->read_line;
Time::HiRes::sleep(0.6);                 # parked
setsockopt($t->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
$t->close;                               # RST
$rec = record_of('ECHO vanish');
ok $rec->{eof}, 'a client reset while parked: the target side is closed too';

# --- TLS between the client and the proxy ------------------------------------------------
SKIP: {
    my $tls = PrxForward::port('forward_park_tls');
    skip 'no TLS proxy vhost (mod_ssl, test PKI)', 4 unless $tls && -s $ca;
    $t = open_tunnel(port => $tls, tls => $ca);
    is $t->{status}, 200, 'CONNECT over TLS to the proxy: 200';
    $t->send("ECHO\nfirst\n");
    is $t->read_line(5), "first\n", '... relays';
    Time::HiRes::sleep(0.7);             # parked, with a TLS client
    $t->send("second\n");
    $t->send("third\n");
    is $t->read_line(5) . $t->read_line(5), "second\nthird\n",
        '... wakes for TLS records that arrive together';
    my $blob = PrxBackend::filler(3_000_000);
    $back = $t->pump($blob, want => length $blob, timeout => 30);
    ok $back eq $blob, '3 MB up and back through TLS, intact (' . length($back) . ')';
    $t->close;
}

# --- graceful restart: tunnels of the old child live on --------------------------------------
my @old = children();
$t = open_tunnel();
$t->send("ECHO\nbefore\n");
$t->read_line;
Time::HiRes::sleep(0.6);                 # parked
kill 'USR1', $httpd->{pid};
Time::HiRes::sleep(2);
$t->send("after the restart\n");
is $t->read_line(5), "after the restart\n", 'a parked tunnel survives a graceful restart';
$res = PrxForward::request($pport, 'GET', "http://localhost:$pport/hello.txt", timeout => 5);
is $res->{status}, 200, 'and the new generation answers';
$t->close;
my $deadline = Time::HiRes::time() + 10;
my %old = map { $_ => 1 } @old;
while (Time::HiRes::time() < $deadline && grep { $old{$_} } children()) {
    Time::HiRes::sleep(0.2);
}
ok !grep({ $old{$_} } children()), 'once its tunnel ended, the old child exited';

# --- the server stops with tunnels open --------------------------------------------------------
@t = map { my $x = open_tunnel(); $x->send("ECHO\n"); $x } 1 .. 3;
Time::HiRes::sleep(0.6);
my $t0 = Time::HiRes::time();
$httpd->stop;
my $took = Time::HiRes::time() - $t0;
ok $took < 8, sprintf 'httpd stops with 3 parked tunnels (%.1f s)', $took;
$_->read_all(3) for @t;
ok !grep({ !$_->eof } @t), 'and the tunnels are closed';
$_->close for @t;

PrxTest::errorlog_ok();
