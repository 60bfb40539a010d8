# Tests for mod_proxy_connect and the core's tunnel (spec
# connect-wstunnel-express.md §2; http.md §7.3): CONNECT host:port answered
# with "HTTP/1.0 200 Connection Established" and a tunnel that relays both
# ways (bytes sent with the CONNECT head, a peer that speaks first, large
# transfers in both directions at once), passes a half-close on while the
# other direction keeps flowing (proxy-nohalfclose ends it at once), and
# ends when idle; AllowCONNECT lists and ranges (default 443 563; a vhost's
# list adds to the main server's) with 403 for other ports; DNS failure
# 502, refused target 503; CONNECT through an upstream proxy (its own
# answer reaches the client inside the tunnel); TLS through the tunnel
# (curl -p); idle tunnels not holding worker threads under the event MPM.
# The far end is t/backends/tunnel.pl. Config:
# t/conf/forward_connect.conf.in, forward_connect_inherit.conf.in,
# forward_connect_park.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha1_hex);
use IO::Socket::INET ();
use Time::HiRes ();
use PrxTest;
use PrxHttpd;
use PrxBackend ();
use PrxForward;

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $certs = -s PrxTest::vars('t_conf') . '/certs/ca.crt';

plan tests => 7 + 9 + 7 + 6 + 2 + 5 + 7 + 13 + 3 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_connect.c');

my $tun = PrxTest::backend('tunnel', name => 'forward_tunnel');
my $tport = $tun->port;
my $up = PrxTest::backend('echo', name => 'forward_connect_up');
my $closer = PrxTest::backend('bad', name => 'forward_connect_bad', args => [qw(--mode close)]);
# a second peer that speaks first, on a free port of the range 61000-61009
my ($rport) = grep { IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $_,
                                            ReuseAddr => 1, Listen => 1) } 61000 .. 61009;
my $banner = PrxTest::backend('tunnel', port => $rport, args => ['--banner', '220 peer speaks first']);
my %p = map { $_ => PrxForward::port($_) }
    qw(forward_connect forward_connect_default forward_connect_any forward_connect_deny
       forward_connect_nohalf forward_connect_idle forward_connect_chain
       forward_connect_upecho forward_connect_deadup forward_connect_dnsup
       forward_connect_tlsport forward_connect_tls forward_connect_silentup
       forward_connect_closeup forward_connect_idle_pt forward_connect_source
       forward_connect_noproxy);

# the record tunnel.pl wrote for the last connection whose command was `cmd`
sub record_of {
    my ($peer, $cmd, $wait) = @_;
    my $deadline = Time::HiRes::time() + ($wait // 5);
    while (Time::HiRes::time() < $deadline) {
        my ($r) = grep { ($_->{command} // '') eq $cmd } reverse $peer->requests;
        return $r if $r;
        Time::HiRes::sleep(0.05);
    }
    return {};
}
sub tunnel { PrxForward::tunnel($p{ $_[0] } // $_[0], $_[1], %{ $_[2] || {} }) }
sub status_of { my $t = tunnel(@_); my $s = $t->{status}; $t->close; return $s }

# --- the tunnel opens with a raw 200 and relays ------------------------------------------
my $t = tunnel('forward_connect', "127.0.0.1:$tport");
is $t->{status_line}, 'HTTP/1.0 200 Connection Established', 'CONNECT: "HTTP/1.0 200 Connection Established"';
like PrxTest::header_of($t, 'Proxy-agent') // '', qr/^Apache/, 'with Proxy-agent: the server banner';
is scalar(@{ $t->{headers} }), 1, 'and no other header line';
$t->send("ECHO\nhello through the tunnel\n");
is $t->read_line, "hello through the tunnel\n", 'bytes go to the target and come back';
$t->close;
# bytes sent right behind the CONNECT head (already read by httpd) are not lost
$t = PrxForward::Tunnel->new($p{forward_connect});
$t->send("CONNECT 127.0.0.1:$tport HTTP/1.1\r\nHost: 127.0.0.1:$tport\r\n\r\nECHO\nearly bytes\n");
$t->read_head;
is $t->read_line, "early bytes\n", 'bytes pipelined behind the CONNECT head reach the target';
$t->close;
# a target that speaks first
$t = tunnel('forward_connect', "127.0.0.1:$rport");
is $t->{status}, 200, "a port of the range 61000-61009 ($rport): 200";
is $t->read_line, "220 peer speaks first\n", 'the target speaks first: its greeting arrives';
$t->close;

# --- AllowCONNECT ------------------------------------------------------------------------------
for my $c (
    [ 'forward_connect', 61010, 403, 'just past the range' ],
    [ 'forward_connect', 80, 403, 'a port not listed' ],
    [ 'forward_connect_default', $tport, 403, 'no AllowCONNECT: the peer\'s port' ],
    [ 'forward_connect_default', 8443, 403, 'no AllowCONNECT: 8443' ],
) {
    my ($v, $port, $want, $why) = @$c;
    $t = tunnel($v, "127.0.0.1:$port");
    my $body = $t->read_body;
    ok $t->{status} == $want && $body =~ /Connect to remote machine blocked/,
        "$why: $want ($t->{status})";
    $t->close;
}
for my $c ([ 'forward_connect', 443 ], [ 'forward_connect_default', 443 ],
           [ 'forward_connect_default', 563 ]) {
    my $s = status_of($c->[0], "127.0.0.1:$c->[1]");
    ok $s == 200 || $s == 503, "$c->[0]: port $c->[1] is allowed (" . $s . ', not 403)';
}
# a vhost's list adds to the main server's
my $inh = PrxHttpd->start(conf => 'forward_connect_inherit.conf', define => 'PRX_FORWARD_CONNECT_INHERIT',
    port => PrxForward::port('forward_connect_inherit_add'));
my %ip = map { $_ => PrxForward::port("forward_connect_inherit_$_") } qw(add main);
my $got = join ' ', map { status_of($ip{add}, "127.0.0.1:$_") } 61020, 61021, 61022, 61023, 443;
is $got, '503 503 503 403 403',
    'vhost AllowCONNECT 61021-61022 under main 61020: 61020-61022 allowed (refused: 503), 61023 and 443 not';
$got = join ' ', map { status_of($ip{main}, "127.0.0.1:$_") } 61020, 61021, 443;
is $got, '503 403 403', 'a vhost without a list of its own: the main server\'s only';
$inh->stop;

# --- half-close ----------------------------------------------------------------------------------
# the client finishes sending: the target sees EOF, and its answer still
# comes back through the tunnel
my $data = PrxBackend::filler(100000);
$t = tunnel('forward_connect', "127.0.0.1:$tport");
my $back = $t->pump("COUNT 300\n$data", shut => 1);
is $back, 'COUNT 100000 ' . sha1_hex($data) . "\n",
    'client half-close: the target read all 100000 bytes, its later answer arrived';
ok $t->eof, '... and then the tunnel ended';
$t->close;
# the target finishes sending: the client sees EOF and can still send
$t = tunnel('forward_connect', "127.0.0.1:$tport");
$back = $t->pump("SEND 50000\n", want => 50000);
$t->read_all(3);
ok length($back) == 50000 && $back eq PrxBackend::filler(50000),
    'target half-close: 50000 bytes arrived whole (' . length($back) . ')';
ok $t->eof, '... then EOF';
$t->send('sent after the target closed');
$t->shutdown_write;
my $rec = record_of($tun, 'SEND 50000');
is "$rec->{got} $rec->{eof}", '28 1', 'the target got what the client sent after its half-close, then EOF';
$t->close;
# proxy-nohalfclose: the first side that closes ends the tunnel
$t = tunnel('forward_connect_nohalf', "127.0.0.1:$tport");
my $t0 = Time::HiRes::time();
$back = $t->pump("COUNT 3000\n$data", shut => 1, timeout => 6);
ok $back eq '' && $t->eof, 'proxy-nohalfclose: the client\'s half-close ends the tunnel, no answer';
ok Time::HiRes::time() - $t0 < 2.5, sprintf 'at once (%.2f s)', Time::HiRes::time() - $t0;
$t->close;

# --- large transfers, both ways at once ------------------------------------------------------------
my $n = 16 * 1024 * 1024;
my $up_data = join '', map { chr(($_ * 7 + 3) % 256) x 1024 } 0 .. ($n / 1024 - 1);
$t = tunnel('forward_connect', "127.0.0.1:$tport", { timeout => 60 });
$t0 = Time::HiRes::time();
$back = $t->pump("BOTH $n\n$up_data", shut => 1, timeout => 60);
is length($back), $n, "16 MiB from the target arrived (" . length($back) . ")";
ok $back eq PrxBackend::filler($n), '... intact';
$rec = record_of($tun, "BOTH $n");
is $rec->{got}, $n, '16 MiB from the client arrived at the target, at the same time';
is $rec->{got_sha1}, sha1_hex($up_data), '... intact';
ok $t->eof, sprintf 'and the tunnel ended after both half-closes (%.1f s)', Time::HiRes::time() - $t0;
$t->close;
# one way, more than any buffer: 40 MiB down
$t = tunnel('forward_connect', "127.0.0.1:$tport", { timeout => 60 });
$back = $t->pump("SEND 41943040\n", want => 41943040, timeout => 60);
ok length($back) == 41943040 && sha1_hex($back) eq sha1_hex(PrxBackend::filler(41943040)),
    '40 MiB down a tunnel, intact (' . length($back) . ')';
$t->close;

# the tunnel's backend socket is bound to ProxySourceAddress
$t = tunnel('forward_connect_source', "127.0.0.1:$tport");
$t->send("ECHO\nsource\n");
$t->read_line;
$t->shutdown_write;
$t->read_all(3);
$t->close;
$rec = record_of($tun, 'ECHO', 5);
like $rec->{peer} // '', qr/^127\.0\.0\.2:/, "ProxySourceAddress 127.0.0.2: the target saw $rec->{peer}";

# an IPv6 target, in brackets
SKIP: {
    my ($v6, $v6pid) = PrxForward::v6_origin();
    skip 'no IPv6 loopback', 1 unless $v6;
    $t = tunnel('forward_connect_any', "[::1]:$v6");
    $t->send("over v6\n");
    ok $t->{status} == 200 && ($t->read_line // '') eq "over v6\n",
        "CONNECT [::1]:$v6: the tunnel reaches the IPv6 target ($t->{status})";
    $t->close;
    kill 'TERM', $v6pid;
    waitpid $v6pid, 0;
}

# --- failures -------------------------------------------------------------------------------------------
is status_of('forward_connect', 'no-such-host.invalid:443'), 502, 'the target does not resolve: 502';
is status_of('forward_connect', 'no-such-host.invalid:25'), 403,
    '... but a port not allowed is refused first (403, no DNS lookup; stock: 502)';
my $free = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1);
my $fport = $free->sockport;
close $free;
is status_of('forward_connect_any', "127.0.0.1:$fport"), 503, 'nobody listens on the target port: 503';
is status_of('forward_connect_deny', "127.0.0.1:$tport"), 403, '<Proxy "*"> denies: 403';
my $s = status_of('forward_connect', '127.0.0.1');
ok $s >= 400 && $s < 500, "CONNECT without a port: not claimed, refused ($s)";

# --- idle timeout ----------------------------------------------------------------------------------------
$t = tunnel('forward_connect_idle', "127.0.0.1:$tport");
$t->send("ECHO\nonce\n");
is $t->read_line, "once\n", 'Timeout 2, ProxyTimeout 1: the tunnel relays';
$t0 = Time::HiRes::time();
$t->read_all(10);
my $idle = Time::HiRes::time() - $t0;
ok $t->eof, 'then, idle, it is ended';
ok $idle > 1.5 && $idle < 5, sprintf 'after the larger timeout, 2 s (%.1f s)', $idle;
$t->close;
$t = tunnel('forward_connect_idle_pt', "127.0.0.1:$tport");
$t->send("ECHO\nonce\n");
$t->read_line;
$t0 = Time::HiRes::time();
$t->read_all(10);
$idle = Time::HiRes::time() - $t0;
ok $t->eof && $idle > 2.5 && $idle < 6,
    sprintf 'Timeout 1, ProxyTimeout 3: the larger, 3 s (%.1f s)', $idle;
$t->close;
# a client that stops reading while the target sends: no progress is
# idleness too, the tunnel ends and the target's side is closed
$t = tunnel('forward_connect_idle', "127.0.0.1:$tport");
$t->send("SEND 200000000\n");
$rec = record_of($tun, 'SEND 200000000', 10);
ok $rec->{eof}, 'a client that never reads: the tunnel ends by the timeout, the target sees it close';
$t->close;
$t = tunnel('forward_connect_idle', "127.0.0.1:$tport");
$t->send("ECHO\n");
Time::HiRes::sleep(0.6);
$t->send("a\n");
Time::HiRes::sleep(1.2);
$t->send("b\n");
Time::HiRes::sleep(1.2);
$t->send("c\n");
is join('', map { $t->read_line // '-' } 1 .. 3), "a\nb\nc\n",
    'activity more often than the timeout keeps it open (2.4 s in all)';
$t->close;
ok grep({ /PRX0009[13]: .*timed out/ } PrxTest::errorlog_lines(settle => 0.2)),
    'the timeout was logged ("tunnel ... timed out")';

# --- through an upstream proxy ----------------------------------------------------------------------------
$t = tunnel('forward_connect_chain', "127.0.0.1:$tport");
is $t->{status_line}, 'HTTP/1.0 200 Connection Established', 'through B: B\'s own 200 reaches the client';
$t->send("ECHO\nthrough two proxies\n");
is $t->read_line, "through two proxies\n", '... and the tunnel goes through both';
$back = $t->read_all(0.3);
is $back, '', '... with nothing else in it (A sent no answer of its own)';
$t->close;
$t = tunnel('forward_connect_chain', '127.0.0.1:1025');
my $body = $t->read_body;
ok $t->{status} == 403 && $body =~ /blocked/, "a port A allows and B refuses: B's 403 ($t->{status})";
$t->close;
is status_of('forward_connect_chain', '127.0.0.1:61015'), 403,
    'a port A refuses: A\'s 403, checked on the target port, not the upstream\'s';
$t = tunnel('forward_connect_upecho', "127.0.0.1:$tport");
$body = $t->read_body;
$rec = PrxTest::echo_of($body) || {};
ok $t->{status} == 200 && $t->{status_line} =~ /^HTTP\/1\.1 200 OK/,
    "an upstream answering like an origin: its own status line reaches the client ($t->{status_line})";
is $rec->{request_line}, "CONNECT 127.0.0.1:$tport HTTP/1.0", 'A sent it "CONNECT host:port HTTP/1.0"';
ok PrxTest::header_of($rec, 'Proxy-agent') && !PrxTest::header_of($rec, 'Proxy-Authorization'),
    '... with Proxy-agent and without the entry\'s credentials';
$t->close;
my $up_before = () = $up->requests;
$t = tunnel('forward_connect_noproxy', "127.0.0.1:$tport");
$t->send("ECHO\nno proxy\n");
ok $t->{status_line} eq 'HTTP/1.0 200 Connection Established' && ($t->read_line // '') eq "no proxy\n"
    && (() = $up->requests) == $up_before,
    'NoProxy 127.0.0.1: the CONNECT goes direct, the upstream sees nothing';
$t->close;
$t = tunnel('forward_connect_deadup', "127.0.0.1:$tport");
$t->send("ECHO\ndirect after all\n");
ok $t->{status} == 200 && ($t->read_line // '') eq "direct after all\n",
    'a dead upstream (a bare scheme entry never matches CONNECT): direct';
$t->close;
# an upstream that never answers: once the tunnel times out, a real 504
# response (status line and all), not an error page inside the tunnel
$t0 = Time::HiRes::time();
$t = tunnel('forward_connect_silentup', "127.0.0.1:$tport", { timeout => 10 });
ok $t->{status_line} =~ m{^HTTP/1\.1 504 } && PrxTest::header_of($t, 'Content-Type'),
    sprintf 'an upstream that never answers: a 504 response after the timeout (%s, %.1f s)',
        $t->{status_line} // 'none', Time::HiRes::time() - $t0;
$t->close;
# an upstream that closes without answering: 502, so the next route (direct)
$t = tunnel('forward_connect_closeup', "127.0.0.1:$tport");
$t->send("ECHO\nafter the upstream closed\n");
ok $t->{status} == 200 && ($t->read_line // '') eq "after the upstream closed\n",
    "an upstream that closes without answering: 502, so the next route, direct ($t->{status})";
$t->close;
# (the upstream's DNS failure is a 502, which moves on, here to direct:
# spec core.md §10.4, a CONNECT has no body)
$t = tunnel('forward_connect_dnsup', "127.0.0.1:$tport");
$t->send("ECHO\ndirect again\n");
ok $t->{status} == 200 && ($t->read_line // '') eq "direct again\n",
    "an upstream that does not resolve: 502, so the next route, direct ($t->{status})";
$t->close;

# --- TLS through the tunnel: curl -p ----------------------------------------------------------------------
SKIP: {
    skip 'no TLS origin (mod_ssl, test PKI)', 3 unless $certs && $p{forward_connect_tls};
    my $c = PrxForward::curl('-p', '-x', "http://127.0.0.1:$p{forward_connect_tlsport}",
        '--cacert', PrxTest::vars('t_conf') . '/certs/ca.crt',
        "https://localhost:$p{forward_connect_tls}/hello.txt");
    my @r = @{ $c->{responses} };
    is(($r[0]{status_line} // '') . " / exit $c->{exit}", 'HTTP/1.0 200 Connection Established / exit 0',
        'curl -p to an https origin: the tunnel opens, TLS verifies');
    my $res = PrxForward::curl_final($c);
    is $res->{body}, "hello from the origin\n", 'the origin\'s answer, over TLS inside the tunnel';
    is PrxTest::header_of($res, 'X-Origin'), 'tls-through-connect', 'from the TLS vhost';
}

# --- idle tunnels give their threads back (event MPM) --------------------------------------------------------
SKIP: {
    skip 'idle tunnels are parked by the event MPM only', 3 unless $mpm eq 'event';
    my $pport = PrxTest::vars('backend_forward_connect_park_port');
    my $park = PrxHttpd->start(conf => 'forward_connect_park.conf',
        define => 'PRX_FORWARD_CONNECT_PARK', port => $pport);
    my @t = map { my $x = tunnel($pport, "127.0.0.1:$tport"); $x->send("ECHO\n"); $x } 1 .. 10;
    is join('', map { $_->{status} } @t), '200' x 10, '10 tunnels open on a child with 4 threads';
    Time::HiRes::sleep(1);
    my $res = PrxForward::request($pport, 'GET', "http://localhost:$pport/hello.txt", timeout => 5);
    is $res->{status}, 200, 'while they idle, the child still answers a request';
    $t[$_]->send("still here $_\n") for 0 .. $#t;
    my @echo = map { $t[$_]->read_line // '-' } 0 .. $#t;
    is_deeply \@echo, [ map { "still here $_\n" } 0 .. $#t ], 'and every tunnel still relays';
    $_->close for @t;
    $park->stop;
}

# PRX00015: the target or upstream that does not resolve; PRX00016: refused
# PRX00912: the upstreams that did not answer
PrxTest::errorlog_ok(expect => [qw(PRX00015 PRX00016 PRX00912)]);
