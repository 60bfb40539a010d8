# Tests for mod_proxy_wstunnel's legacy mode (spec connect-wstunnel-
# express.md §3.2-§3.5; core.md §7.1 step 5): with
# ProxyWebsocketFallbackToProxyHttp Off a ws:// rule is skipped for
# requests without Upgrade (the next rule gets them); a request with an
# Upgrade it cannot honour, or one routed by RewriteRule [P] without
# Upgrade, gets 426 with Connection/Upgrade; otherwise the module sends the
# head itself (Upgrade: the worker's protocol, default WebSocket) and
# relays raw bytes, the origin's 101 included: echo, several MiB,
# fragments, ping/pong, close handshakes; upgrade=NONE and ANY; an origin
# that closes without answering is a 502, one that is down a 503; an inner
# <Location> with the directive On hands its requests to mod_proxy_http.
# Config: t/conf/ws_legacy.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;
use PrxWs;
use PrxBackend ();
use Digest::SHA ();

plan tests => 11 + 5 + 3 + 4 + 3 + 1,
    need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_wstunnel.c'),
         PrxWs::need());

my $wse = PrxTest::backend('ws_echo', name => 'ws_legacy');
my $echo = PrxTest::backend('echo', name => 'ws_legacy_http');
my $bad = PrxTest::backend('bad', name => 'ws_legacy_bad');
my $port = PrxWs::port('ws_legacy');
my $base = "ws://127.0.0.1:$port";
my $ws = PrxWs->new;
Apache::TestRequest::module('ws_legacy');

sub hs_of { my $t = shift; (grep { ($_->{kind} // '') eq 'handshake' && $_->{target} eq $t } $wse->requests)[-1] || {} }
sub close_of { my $c = shift; (grep { ($_->{kind} // '') eq 'close' && $_->{conn} == $c } $wse->requests)[-1] || {} }
sub hdr { PrxTest::header_of($_[0], $_[1]) // 'none' }
sub upgrade_req {
    my ($path, $up) = @_;
    return "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
        . (defined $up ? "Upgrade: $up\r\nConnection: Upgrade\r\n" : '') . "\r\n";
}

# the legacy tunnel: the module's own head to the origin, raw bytes after
my $r = $ws->open('a', "$base/chat/a");
is $r->{status} // $r->{error}, 101, 'legacy mode: 101';
like PrxWs::header_of($r, 'Server') // '', qr/websockets/, 'the origin\'s own 101, relayed raw';
my $hs = hs_of('/chat/a');
is join(' ', hdr($hs, 'Upgrade'), hdr($hs, 'Connection')), 'WebSocket Upgrade',
    'the origin got Upgrade: WebSocket (the worker\'s protocol) and Connection: Upgrade';
ok hdr($hs, 'Sec-WebSocket-Key') ne 'none' && hdr($hs, 'X-Forwarded-For') eq '127.0.0.1',
    'plus the client\'s Sec-WebSocket-Key and X-Forwarded-For';
is $ws->cmd(op => 'echo', name => 'a', text => 'legacy hello')->{match}, 1, 'a text message';
$r = $ws->cmd(op => 'echo', name => 'a', size => 5 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (5 << 20), 'a 5 MiB binary message';
is $ws->cmd(op => 'echo', name => 'a', size => 300_000, fragments => 30)->{match}, 1,
    'a message in 30 fragments';
ok $ws->cmd(op => 'ping', name => 'a')->{ok}, 'ping/pong';
$ws->cmd(op => 'send', name => 'a', text => '__frag 25 2000000');
$r = $ws->cmd(op => 'recv', name => 'a', timeout => 20);
is "$r->{len} $r->{sha1}", '2000000 ' . Digest::SHA::sha1_hex(PrxBackend::filler(2_000_000)),
    'a 2 MB message from the origin in 25 fragments';
$r = $ws->cmd(op => 'close', name => 'a', code => 1001, reason => 'going away');
is "$r->{code} $r->{reason}", '1001 going away', 'the close handshake is answered';
$ws->open('a2', "$base/chat/a2");
$ws->cmd(op => 'send', name => 'a2', text => '__close 4002 from the origin');
$r = $ws->cmd(op => 'wait_closed', name => 'a2');
is "$r->{code} $r->{reason}", '4002 from the origin', 'a close from the origin';

# spec §3.3: without Upgrade the ws:// rule does not match; with an
# Upgrade it cannot honour, or through RewriteRule [P], 426
my $res = GET '/chat/plain';
is $res->code . ' ' . ((PrxTest::echo_of($res) || {})->{target} // 'none'), '200 /chat/plain',
    'no Upgrade: the next rule (http://) answers';
($res) = PrxTest::parse_responses(PrxTest::raw_request($port, upgrade_req('/chat/x', 'h2c')) // '');
is $res->{status} // 0, 426, 'Upgrade: h2c: 426';
is hdr($res, 'Upgrade'), 'WebSocket', 'naming Upgrade: WebSocket';
like hdr($res, 'Connection'), qr/^Upgrade\b/, 'with Connection: Upgrade';
($res) = PrxTest::parse_responses(PrxTest::raw_request($port, upgrade_req('/rw/x')) // '');
is(($res->{status} // 0) . ' ' . hdr($res, 'Upgrade'), '426 WebSocket',
    'RewriteRule [P] to ws:// without Upgrade: 426');

# upgrade=NONE: no check, WebSocket asked for; ANY: the client's value
PrxTest::raw_request($port, upgrade_req('/none/x', 'foo'));
is hdr(hs_of('/none/x'), 'Upgrade'), 'WebSocket', 'upgrade=NONE, Upgrade: foo: WebSocket asked for';
$r = $ws->open('n', "$base/any/n");
is $r->{status} // $r->{error}, 101, 'upgrade=ANY: 101';
is hdr(hs_of('/any/n'), 'Upgrade'), 'websocket', 'the client\'s own value asked for';

# failures: an origin that closes without answering, one that is down
($res) = PrxTest::parse_responses(PrxTest::raw_request($port,
    upgrade_req('/bad/close-after-read', 'websocket')) // '');
is $res->{status} // 0, 502, 'the origin closes without answering: 502';
($res) = PrxTest::parse_responses(PrxTest::raw_request($port, upgrade_req('/down/x', 'websocket')) // '');
is $res->{status} // 0, 503, 'the origin is down: 503';
$r = $ws->open('b', "$base/chat/b");
is $ws->cmd(op => 'echo', name => 'b', text => 'after the failures')->{match}, 1,
    'the next tunnel works';
is((GET '/next')->code, 200, 'and the next plain request');

# an inner <Location> with the directive On: mod_proxy_http takes it (no
# veto: the plain request reaches the WebSocket origin, whose 426 comes
# back), and asks for the client's own Upgrade value
$res = GET '/inner/plain';
is $res->code . ' ' . ($res->header('Upgrade') // 'none'), '426 websocket',
    'inner On, no Upgrade: sent to the ws:// origin as plain HTTP (its 426)';
$r = $ws->open('i', "$base/inner/i");
is $r->{status} // $r->{error}, 101, 'inner On, a WebSocket client: 101';
is hdr(hs_of('/inner/i'), 'Upgrade'), 'websocket', 'through mod_proxy_http (the client\'s value)';

$ws->quit;
PrxTest::errorlog_ok(expect => [qw(PRX00910 PRX00016)]);
