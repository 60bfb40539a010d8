# Tests for WebSocket tunnels over TLS (spec http.md §7, §2.4;
# connect-wstunnel-express.md §3.5 step 3): a wss:// origin and an
# https:// origin with upgrade=websocket through mod_proxy_http (the
# origin's certificate verified, its name checked), the same wss://
# origin through mod_proxy_wstunnel's legacy mode, and a client speaking
# TLS to the proxy (the tunnel then writes through mod_ssl's filters) to a
# plain and to a TLS origin: echo, several MiB, fragments, ping/pong, an
# origin speaking after a silence, close handshakes. The WebSocket origin
# is t/backends/ws_echo.py with the test PKI's certificate. Config:
# t/conf/ws_tls.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use PrxTest;
use PrxWs;

my $certs = PrxTest::vars('t_conf') . '/certs';
plan tests => 6 + 2 + 3 + 6 + 2 + 1,
    need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_wstunnel.c', 'mod_ssl.c'),
         -s "$certs/client.pem" ? 1 : { 'the test PKI (openssl at configure time)' => 0 },
         PrxWs::need());

my $tls = PrxTest::backend('ws_echo', name => 'ws_tls',
    args => [ '--tls-cert', "$certs/origin.crt", '--tls-key', "$certs/origin.key" ]);
my $plain = PrxTest::backend('ws_echo', name => 'ws_tlsplain');
my $ws = PrxWs->new;

sub hs_of {
    my ($b, $t) = @_;
    (grep { ($_->{kind} // '') eq 'handshake' && $_->{target} eq $t } $b->requests)[-1] || {};
}
sub url { my ($vh, $path, $s) = @_; ($s // 'ws') . '://localhost:' . PrxWs::port($vh) . $path }

# mod_proxy_http to a wss:// origin
my $r = $ws->open('a', url('ws_tls', '/wss/a'));
is $r->{status} // $r->{error}, 101, 'wss:// origin: 101';
is PrxTest::header_of(hs_of($tls, '/wss/a'), 'Host'), 'localhost:' . $tls->port,
    'the TLS origin got the handshake';
$r = $ws->cmd(op => 'echo', name => 'a', size => 4 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (4 << 20), 'a 4 MiB message through TLS to the origin';
is $ws->cmd(op => 'echo', name => 'a', size => 200_000, fragments => 20)->{match}, 1,
    'a message in 20 fragments';
ok $ws->cmd(op => 'ping', name => 'a')->{ok}, 'ping/pong';
$r = $ws->cmd(op => 'close', name => 'a', code => 1000, reason => 'tls bye');
is "$r->{code} $r->{reason}", '1000 tls bye', 'the close handshake';

# https:// with upgrade=websocket
$r = $ws->open('b', url('ws_tls', '/up/b'));
is $r->{status} // $r->{error}, 101, 'https:// + upgrade=websocket: 101';
is $ws->cmd(op => 'echo', name => 'b', text => 'over https')->{match}, 1, 'echo';

# the legacy tunnel to the same wss:// origin
$r = $ws->open('c', url('ws_tls_legacy', '/lwss/c'));
is $r->{status} // $r->{error}, 101, 'legacy mode, wss:// origin: 101';
$r = $ws->cmd(op => 'echo', name => 'c', size => 2 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (2 << 20), 'a 2 MiB message';
is PrxTest::header_of(hs_of($tls, '/lwss/c'), 'Upgrade'), 'WebSocket',
    'the legacy head reached the TLS origin';

# TLS toward the client, a plain origin behind
my $ca = "$certs/ca.crt";
$r = $ws->open('d', url('ws_tls_front', '/f/d', 'wss'), ca => $ca);
is $r->{status} // $r->{error}, 101, 'a wss:// client, plain origin: 101';
$r = $ws->cmd(op => 'echo', name => 'd', size => 4 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (4 << 20), 'a 4 MiB message through the client\'s TLS';
ok $ws->cmd(op => 'ping', name => 'd')->{ok}, 'ping/pong';
$ws->cmd(op => 'send', name => 'd', text => '__push 1500 after a silence');
$ws->cmd(op => 'recv', name => 'd');
is $ws->cmd(op => 'recv', name => 'd', timeout => 10)->{text} // 'none', 'after a silence',
    'the origin speaks after 1.5 s of silence: it arrives';
is $ws->cmd(op => 'echo', name => 'd', text => 'and the client speaks again')->{match}, 1,
    'and the client speaks again';
$r = $ws->cmd(op => 'close', name => 'd', code => 1000, reason => 'done');
is "$r->{code} $r->{reason}", '1000 done', 'the close handshake';

# TLS on both sides
$r = $ws->open('e', url('ws_tls_front', '/both/e', 'wss'), ca => $ca);
is $r->{status} // $r->{error}, 101, 'TLS on both sides: 101';
$r = $ws->cmd(op => 'echo', name => 'e', size => 3 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (3 << 20), 'a 3 MiB message';

$ws->quit;
PrxTest::errorlog_ok();
