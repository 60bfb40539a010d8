# Tests for Upgrade / WebSocket tunnelling through mod_proxy_http (spec
# http.md §7.1-§7.4, §3.8 step 5; core.md §5 `upgrade`): when a request is
# sent as an upgrade (upgrade=websocket on an http:// worker, a ws://
# target, upgrade=ANY, a list) and when not (no upgrade=, a protocol not
# allowed, force-proxy-request-1.0, an HTTP/1.0 client); the 101 checked
# against what was asked (502 otherwise) and relayed with Connection and
# Upgrade; origins refusing the upgrade; Upgrade in a 426; the tunnel
# itself with a real WebSocket client and server (python3-websockets):
# echo, ping/pong, messages of several MiB, fragmented messages, close
# handshakes from either side, an origin speaking after a long silence,
# and origin bytes that arrived together with the 101 (also past 16 KiB).
# Config: t/conf/ws_http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Digest::SHA ();
use MIME::Base64 ();
use PrxTest;
use PrxStatus;
use PrxWs;
use PrxBackend ();

plan tests => 16 + 4 + 2 + 3 + 9 + 14 + 4 + 1,
    need(need_module('mod_proxy.c', 'mod_proxy_http.c'), PrxWs::need());

my $wse = PrxTest::backend('ws_echo', name => 'ws_echo');
my $echo = PrxTest::backend('echo', name => 'ws_httpecho');
my $raw = PrxTest::backend('http_raw', name => 'ws_raw');
my $port = PrxWs::port('ws_http');
my $base = "ws://127.0.0.1:$port";
my $ws = PrxWs->new;
Apache::TestRequest::module('ws_http');

sub hs_of { my $t = shift; (grep { ($_->{kind} // '') eq 'handshake' && $_->{target} eq $t } $wse->requests)[-1] || {} }
sub msgs_of { my $c = shift; grep { ($_->{kind} // '') eq 'message' && $_->{conn} == $c } $wse->requests }
sub close_of { my $c = shift; (grep { ($_->{kind} // '') eq 'close' && $_->{conn} == $c } $wse->requests)[-1] || {} }
sub hdr { PrxTest::header_of($_[0], $_[1]) // 'none' }
sub upgrade_req {
    my ($path, %o) = @_;
    my $extra = join '', map { "$_->[0]: $_->[1]\r\n" } @{ $o{headers} || [] };
    return "GET $path HTTP/" . ($o{version} // '1.1') . "\r\nHost: 127.0.0.1:$port\r\n"
        . "Upgrade: " . ($o{upgrade} // 'websocket') . "\r\nConnection: Upgrade\r\n$extra\r\n";
}
sub b64 { MIME::Base64::encode_base64($_[0], '') }

# upgrade=websocket on an http:// worker: the handshake goes through with
# Connection/Upgrade on both sides, and the tunnel carries every kind of
# message in both directions
my $r = $ws->open('a', "$base/up/a");
is $r->{status} // $r->{error}, 101, 'upgrade=websocket: the client gets 101';
is join(' ', map { PrxWs::header_of($r, $_) // 'none' } qw(Upgrade Connection)),
    'websocket Upgrade', 'with Upgrade: websocket and Connection: Upgrade';
my $hs = hs_of('/up/a');
is join(' ', hdr($hs, 'Connection'), hdr($hs, 'Upgrade')), 'Upgrade websocket',
    'the origin got Connection: Upgrade and the client\'s Upgrade';
ok hdr($hs, 'Sec-WebSocket-Key') ne 'none' && hdr($hs, 'X-Forwarded-For') eq '127.0.0.1',
    'and the client\'s Sec-WebSocket-Key, plus X-Forwarded-For';
is $ws->cmd(op => 'echo', name => 'a', text => 'hello through the proxy')->{match}, 1,
    'a text message comes back';
$r = $ws->cmd(op => 'echo', name => 'a', size => 6 << 20, binary => 1, wait => 60);
is "$r->{match}/$r->{len}", '1/' . (6 << 20), 'a 6 MiB binary message comes back intact';
$r = $ws->cmd(op => 'echo', name => 'a', size => 1 << 20, fragments => 16, wait => 60);
is $r->{match}, 1, 'a 1 MiB text message sent in 16 fragments comes back intact';
my @m = msgs_of($hs->{conn});
is join(' ', map { $_->{len} } @m[1, 2]), (6 << 20) . ' ' . (1 << 20),
    'the origin got each as one message of the full size';
ok $ws->cmd(op => 'ping', name => 'a')->{ok}, 'a ping gets its pong';
$ws->cmd(op => 'send', name => 'a', text => '__frag 40 3000000');
$r = $ws->cmd(op => 'recv', name => 'a', timeout => 20);
is "$r->{len} $r->{sha1}", '3000000 ' . Digest::SHA::sha1_hex(PrxBackend::filler(3_000_000)),
    'a 3 MB message the origin sends in 40 fragments arrives intact';
# the origin speaks first after a second of silence (parked under event)
$r = $ws->cmd(op => 'send', name => 'a', text => '__push 1500 after a silence');
is $ws->cmd(op => 'recv', name => 'a')->{text} // 'none', 'pushed', 'the origin acknowledges';
is $ws->cmd(op => 'recv', name => 'a', timeout => 10)->{text} // 'none', 'after a silence',
    'and its message after 1.5 s of silence arrives';
$r = $ws->cmd(op => 'close', name => 'a', code => 1000, reason => 'bye');
is "$r->{code} $r->{reason}", '1000 bye', 'the client\'s close handshake is answered';
Time::HiRes::sleep(0.3);
is join(' ', map { close_of($hs->{conn})->{$_} // 'none' } qw(code reason)), '1000 bye',
    'and the origin saw code 1000 and the reason';
SKIP: {
    skip 'mod_status not loaded', 1 unless Apache::Test::have_module('mod_status.c');
    my $st = PrxStatus::parse_auto(GET('/server-status?auto')->content)
        ->{"http://127.0.0.1:" . PrxTest::vars('backend_ws_echo_port') . "/up/"} || {};
    my ($sent, $rcvd) = map { ($st->{$_} // '0K') =~ /^(\d+)K$/ ? $1 : 0 } qw(Sent Rcvd);
    # client to origin: 6 MiB + 1 MiB (+ frame heads); back: those and 3 MB
    ok $sent >= 7 << 10 && $rcvd >= (7 << 10) + 2929,
        "the worker counts the tunnel's bytes (Sent ${sent}K, Rcvd ${rcvd}K)";
}
$ws->open('a2', "$base/up/a2");
$ws->cmd(op => 'send', name => 'a2', text => '__close 4001 origin done');
$r = $ws->cmd(op => 'wait_closed', name => 'a2');
is "$r->{code} $r->{reason}", '4001 origin done', 'a close started by the origin reaches the client';

# a ws:// target is sent as http:// with the Upgrade; upgrade=ANY and a
# list that names websocket work too
$r = $ws->open('b', "$base/ws/b");
is $r->{status} // $r->{error}, 101, 'ws:// target: 101';
is $ws->cmd(op => 'echo', name => 'b', size => 100_000, binary => 1)->{match}, 1, 'echo';
is hdr(hs_of('/ws/b'), 'Upgrade'), 'websocket', 'the origin got the Upgrade';
is join(' ', map { ($ws->open("c$_", "$base/$_/c")->{status} // 0) } qw(any list)), '101 101',
    'upgrade=ANY and upgrade=h2c,websocket: 101';
# (closed when done: under prefork each open tunnel holds a process)
$ws->cmd(op => 'close', name => $_) for qw(b cany clist);

# RewriteRule [P] to a ws:// URL (the generic worker) when the client
# asks for WebSocket
$r = $ws->open('g', "$base/rw/g");
is $r->{status} // $r->{error}, 101, 'RewriteRule [P] to ws:// (generic worker): 101';
is $ws->cmd(op => 'echo', name => 'g', size => 1 << 20, binary => 1, wait => 30)->{match}, 1,
    'and a 1 MiB echo';
$ws->cmd(op => 'close', name => 'g');

# not sent as an upgrade: an http:// worker without upgrade= (the
# WebSocket origin then refuses with 426, whose Upgrade is dropped), an
# Upgrade not allowed, force-proxy-request-1.0, an HTTP/1.0 client
$r = $ws->open('d', "$base/noup/d");
is "$r->{ok} " . ($r->{status} // 0), '0 426', 'no upgrade=: the origin answers 426';
ok !PrxWs::header_of($r, 'Upgrade'), 'its Upgrade is not passed on (not allowed for the worker)';
is hdr(hs_of('/noup/d'), 'Upgrade') . ' ' . hdr(hs_of('/noup/d'), 'Connection'),
    'none Keep-Alive', 'the origin got neither Upgrade nor Connection: Upgrade';

my @cases = (
    [ '/e-plain/x', {}, 'HTTP/1.1 none Keep-Alive', 'http:// worker without upgrade=' ],
    [ '/e-ws/h2c', { upgrade => 'h2c' }, 'HTTP/1.1 none Keep-Alive', 'ws:// and Upgrade: h2c' ],
    [ '/e-10/x', {}, 'HTTP/1.0 none none', 'force-proxy-request-1.0' ],
    [ '/e-ws/v10', { version => '1.0' }, 'HTTP/1.1 none Keep-Alive', 'an HTTP/1.0 client' ],
);
for my $c (@cases) {
    my ($path, $o, $want, $what) = @$c;
    my ($res) = PrxTest::parse_responses(PrxTest::raw_request($port, upgrade_req($path, %$o)) // '');
    my $rec = PrxTest::echo_of($res->{body} // '') || {};
    is join(' ', $rec->{version} // 'none', hdr($rec, 'Upgrade'), hdr($rec, 'Connection')),
        $want, "$what: sent as plain HTTP ($res->{status})";
}
# refusals: a plain answer to an upgrade request is relayed as it is,
# and the client connection goes on
my $res = GET '/e-up/ok', Upgrade => 'websocket', Connection => 'Upgrade';
my $rec = PrxTest::echo_of($res) || {};
is $res->code . ' ' . hdr($rec, 'Connection'), '200 Upgrade',
    'the origin answers 200 to an upgrade request: the client gets the 200';
is join(' ', map { my $x = $ws->open("r$_", "$base/refuse/$_"); ($x->{status} // 0) . ':'
    . (PrxWs::header_of($x, 'X-Refused') // '-') } 200, 400), '200:200 400:400',
    'the WebSocket origin refusing with 200 or 400: relayed';
# spec §7.4: Upgrade in a final response only when allowed
$res = GET '/e-ws/426', 'X-Echo-Status' => 426, 'X-Echo-Header' => 'Upgrade: WebSocket';
# (httpd adds "close" to Connection: LWP asked for it)
like join(' ', $res->code, $res->header('Upgrade') // 'none', $res->header('Connection') // 'none'),
    qr/^426 WebSocket Upgrade\b/, 'a 426 with Upgrade: WebSocket from a ws:// origin: passed on';
$res = GET '/e-plain/426', 'X-Echo-Status' => 426, 'X-Echo-Header' => 'Upgrade: WebSocket';
is join(' ', $res->code, $res->header('Upgrade') // 'none'), '426 none',
    'the same from an http:// worker without upgrade=: dropped';
$r = $ws->open('e', "$base/up/after");
is $ws->cmd(op => 'echo', name => 'e', text => 'still fine')->{match}, 1,
    'the next upgrade works';
$ws->cmd(op => 'close', name => 'e');

# a 101 is checked against what was asked for: 502 otherwise
my $h101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n";
for my $c ([ 'h2c', 'websocket', 'h2c \\(expecting websocket\\)', '101 with Upgrade: h2c' ],
           [ undef, 'websocket', 'none \\(expecting websocket\\)', '101 without Upgrade' ],
           [ 'websocket', undef, 'websocket \\(expecting none\\)', '101 to a request without Upgrade' ]) {
    my ($answer, $asked, $why, $what) = @$c;
    my $resp = defined $answer ? sprintf($h101, $answer)
             : "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n";
    my $req = defined $asked ? upgrade_req('/raw/x', headers => [ [ 'X-Raw-B64', b64($resp) ] ])
            : "GET /raw/x HTTP/1.1\r\nHost: x\r\nX-Raw-B64: " . b64($resp) . "\r\n\r\n";
    my ($res) = PrxTest::parse_responses(PrxTest::raw_request($port, $req) // '');
    like(($res->{status} // 0) . ' ' . ($res->{body} // ''), qr/^502 .*Unexpected Upgrade: $why/s,
        "$what: 502 Unexpected Upgrade");
}
# origin bytes sent together with the 101 reach the client right after
# it, then the tunnel carries raw bytes both ways (another HTTP exchange
# here, answered by the origin through the tunnel)
my $conns_before = scalar $raw->requests;
my $c = PrxTest::Raw->new($port);
$c->send(upgrade_req('/raw/t', headers => [ [ 'X-Raw-B64', b64(sprintf($h101, 'websocket')
    . "X-Origin: raw\r\n\r\nbytes after the 101\n") ] ]));
my $got = PrxWs::read_until($c, qr/bytes after the 101\n/);
my ($head) = $got =~ /\A(.*?\r\n\r\n)/s;
$head //= '';
like $head, qr{\AHTTP/1\.1 101 Switching Protocols\r\n}, 'the client gets the 101';
like $head, qr/\r\nUpgrade: websocket\r\n/i, 'with Upgrade: websocket';
ok $head =~ /\r\nConnection: Upgrade\r\n/ && $head !~ /close|Transfer-Encoding|Content-Length/i,
    'and Connection: Upgrade only (no close, no body framing)';
like $got, qr/\r\n\r\nX-Origin: raw\r\n\r\nbytes after the 101\n\z/,
    'the origin bytes read with the 101 follow it';
$c->send("GET /through HTTP/1.1\r\nHost: x\r\n\r\n");
like PrxWs::read_until($c, qr/raw ok\n/), qr{^HTTP/1\.1 200 OK\r\n.*raw ok\n\z}s,
    'the tunnel carries bytes both ways';
$c->close;
my @rr = $raw->requests;
is $rr[-1]{target} // '', '/through', 'the origin read them from the same connection';
is $rr[-1]{conn}, $rr[-2]{conn}, 'as its next request';
# more than the tunnel's 16 KiB buffer read together with the 101
$c = PrxTest::Raw->new($port);
my $big = PrxBackend::filler(40000);
$c->send(upgrade_req('/rawbig/t', headers => [ [ 'X-Raw-B64', b64(sprintf($h101, 'websocket')) ],
                                               [ 'X-Raw-Pad', 40000 ] ]));
$got = PrxWs::read_until($c, qr/\Q${\ substr($big, -16)}\E\z/, 10);
$got =~ s/\A.*?\r\n\r\n//s;
is length($got) . ' ' . Digest::SHA::sha1_hex($got), length($big) . ' ' . Digest::SHA::sha1_hex($big),
    '40000 bytes sent with the 101 (iobuffersize=65536) arrive intact';
$c->close;
# spec §7.2: a body held back by 100-continue goes to the origin after
# the 101, before the tunnel's bytes; the client gets no 100 around it
$c = PrxTest::Raw->new($port);
$c->send(upgrade_req('/raw/held', headers => [ [ 'X-Raw-B64', b64(sprintf($h101, 'websocket')) ],
    [ 'X-Raw-No-Body-Read', 1 ], [ 'Expect', '100-continue' ], [ 'Content-Length', 5 ] ])
    . 'hello');
$got = PrxWs::read_until($c, qr/\r\n\r\n/);
like $got, qr{\AHTTP/1\.1 101 [^\r]*\r\n(?:(?!\r\n\r\n).)*\r\n\r\n\z}s,
    'Expect: 100-continue with a body: the client gets the 101 and nothing else';
$c->send("GET /after-held HTTP/1.1\r\nHost: x\r\n\r\n");
$got = PrxWs::read_until($c, qr/raw ok\n/);
is +($raw->requests)[-1]{request_line} // 'none', 'helloGET /after-held HTTP/1.1',
    'the origin got the held body right after its 101, then the tunnel\'s bytes';
$c->close;
# the same with a client that waits: the body is read only after the 101
$c = PrxTest::Raw->new($port);
$c->send(upgrade_req('/raw/held2', headers => [ [ 'X-Raw-B64', b64(sprintf($h101, 'websocket')) ],
    [ 'X-Raw-No-Body-Read', 1 ], [ 'Expect', '100-continue' ], [ 'Content-Length', 5 ] ]));
$got = PrxWs::read_until($c, qr/\r\n\r\n/);
$c->send('hello');
$got .= PrxWs::read_until($c, qr/100 Continue/, 1);
unlike $got, qr/100 Continue/, 'a client that waits for the 101 to send its body: no 100 after the 101';
$c->send("GET /after-held2 HTTP/1.1\r\nHost: x\r\n\r\n");
PrxWs::read_until($c, qr/raw ok\n/);
is +($raw->requests)[-1]{request_line} // 'none', 'helloGET /after-held2 HTTP/1.1',
    'and the origin gets it before the tunnel\'s bytes';
$c->close;
# a tunnelled backend connection is never reused
$res = GET '/raw/next';
is $res->code, 200, 'the next request to the scripted origin works';
isnt +($raw->requests)[-1]{conn}, $rr[-1]{conn}, 'on a new backend connection';
is +($ws->open('f', "$base/hello/f")->{status} // 0) . ' ' . ($ws->cmd(op => 'recv', name => 'f')->{text} // 'none'),
    '101 hello', 'an origin that speaks first: its message arrives';

$ws->quit;
PrxTest::errorlog_ok(expect => ['PRX00324']);
