# Tests for targets reached through a ProxyRemote upstream proxy (spec
# http.md §2.2, §2.3, §3.7, §10.2; connect-wstunnel-express.md §1.5):
# https:// goes as "CONNECT host:port HTTP/1.0" with Proxy-Authorization
# (the entry's credentials, else the client's) and Proxy-agent, needs a
# 200, then TLS inside the tunnel (SNI = the target) and an origin-form
# request with Connection: close -- such connections are never pooled; a
# refusal, or bytes after the upstream's answer, is a 503; an oversized
# answer head is read to its end. http:// and ws:// targets go to the
# upstream in absolute form (ws:// as http://) with the credentials. A
# wss:// WebSocket origin works through the same CONNECT tunnel.
# Upstreams: t/backends/connect_proxy.pl (records the CONNECT) and the
# echo origin. Config: t/conf/http_remote.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use MIME::Base64 ();
use PrxTest;
use PrxWs;

my $certs = PrxTest::vars('t_conf') . '/certs/client.pem';
plan tests => 12 + 3 + 3 + 5 + 6 + 1, need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_ssl.c'),
    -s $certs ? 1 : { 'the test PKI (openssl at configure time)' => 0 }, PrxWs::need());

my $up = PrxTest::backend('connect_proxy', name => 'http_remote_up');
my $up407 = PrxTest::backend('connect_proxy', name => 'http_remote_up407', args => [qw(--status 407)]);
my $uppad = PrxTest::backend('connect_proxy', name => 'http_remote_uppad', args => [qw(--pad 20000)]);
my $uptrail = PrxTest::backend('connect_proxy', name => 'http_remote_uptrail',
                               args => [ '--trailing', 'junk' ]);
my $echo = PrxTest::backend('echo', name => 'http_remote_echo');
my $tdir = PrxTest::vars('t_conf') . '/certs';
my $wss = PrxTest::backend('ws_echo', name => 'http_remote_wss',
    args => [ '--tls-cert', "$tdir/origin.crt", '--tls-key', "$tdir/origin.key" ]);
my $oport = PrxTest::vars('http_remote_origin_port')
    // (split /:/, Apache::Test::config()->{vhosts}{http_remote_origin}{hostport})[-1];
my $creds = 'Basic ' . MIME::Base64::encode_base64('prx:secret', '');
my $hello = "hello from the origin\n";

sub hdr { PrxTest::header_of($_[0], $_[1]) // 'none' }

# https:// through the upstream: one CONNECT per request, TLS inside
Apache::TestRequest::module('http_remote');
PrxTest::ua(keep_alive => 1);
my @r = map { GET '/tls/hello.txt' } 1 .. 2;
is join(' ', map { $_->code } @r), '200 200', 'https:// through the upstream: 200';
is $r[0]->content, $hello, 'the body from the TLS origin';
is $r[0]->header('X-SNI'), 'localhost', 'TLS inside the tunnel, SNI = the target host';
is $r[0]->header('X-Request-Line'), 'GET /tls/hello.txt HTTP/1.1', 'an origin-form request';
is $r[0]->header('X-Connection'), 'close', 'with Connection: close (never pooled)';
is $r[0]->header('X-Proxy-Auth') // '', '', 'the upstream\'s credentials are not sent inside';
isnt $r[1]->header('X-Peer'), $r[0]->header('X-Peer'), 'the second request: another connection';
my @c = $up->requests;
is scalar(@c), 2, 'the upstream got one CONNECT per request';
is $c[0]{request_line}, "CONNECT localhost:$oport HTTP/1.0", 'CONNECT host:port HTTP/1.0';
is hdr($c[0], 'Proxy-Authorization'), $creds, 'with the ProxyRemote credentials';
like hdr($c[0], 'Proxy-agent'), qr/^Apache/, 'and Proxy-agent: the server banner';
is scalar(@{ $c[0]{headers} }), 2, 'and nothing else';

# no entry credentials: the client's Proxy-Authorization (this proxy did
# not authenticate anybody), none when the client sent none or an empty one
Apache::TestRequest::module('http_remote_nocreds');
$up->clear;
my $res = GET '/tlsnc/hello.txt', 'Proxy-Authorization' => 'Basic Y2xpZW50OnB3';
is $res->code, 200, 'without entry credentials: 200';
is hdr(($up->requests)[0], 'Proxy-Authorization'), 'Basic Y2xpZW50OnB3',
    'the CONNECT carries the client\'s Proxy-Authorization';
GET '/tlsnc/hello.txt';
GET '/tlsnc/hello.txt', 'Proxy-Authorization' => '';
is join(' ', map { hdr($_, 'Proxy-Authorization') } ($up->requests)[1, 2]), 'none none',
    'and none without one, or with an empty one';

# wss:// through the upstream: CONNECT, TLS inside, the Upgrade, the tunnel
$up->clear;
my $ws = PrxWs->new;
my $wr = $ws->open('w', 'ws://127.0.0.1:' . PrxWs::port('http_remote') . '/wss/w');
is $wr->{status} // $wr->{error}, 101, 'wss:// through the upstream: 101';
$wr = $ws->cmd(op => 'echo', name => 'w', size => 1 << 20, binary => 1, wait => 30);
is "$wr->{match}/$wr->{len}", '1/' . (1 << 20), 'a 1 MiB message through TLS inside the CONNECT tunnel';
is +($up->requests)[0]{request_line} // 'none', 'CONNECT localhost:' . $wss->port . ' HTTP/1.0',
    'the upstream got the CONNECT for the WebSocket origin';
$ws->quit;

# an upstream that refuses, sends bytes after its answer, or answers with
# an oversized head
Apache::TestRequest::module('http_remote_refuse');
$res = GET '/tls407/hello.txt';
is $res->code, 503, 'the upstream answers 407 to CONNECT: 503';
is scalar($up407->requests), 1, 'after one CONNECT';
Apache::TestRequest::module('http_remote_trail');
is((GET '/tlstrail/hello.txt')->code, 503, 'bytes after the upstream\'s 200: 503');
Apache::TestRequest::module('http_remote_pad');
$res = GET '/tlspad/hello.txt';
is $res->code, 200, 'a 200 with a head of 20 KB: read to its end, then TLS: 200';
is $res->content, $hello, 'and the body';

# http:// and ws:// through an upstream: absolute form, Host = the target,
# the credentials
Apache::TestRequest::module('http_remote_plain');
$res = GET '/p/x?q=1';
my $rec = PrxTest::echo_of($res) || {};
is $res->code, 200, 'http:// through the upstream: 200';
is $rec->{target}, 'http://origin.invalid:8080/p/x?q=1', 'the absolute-form target';
is hdr($rec, 'Host'), 'origin.invalid:8080', 'Host names the target';
is hdr($rec, 'Proxy-Authorization'), $creds, 'with the ProxyRemote credentials';
$res = GET '/w/y', Upgrade => 'websocket', Connection => 'Upgrade';
$rec = PrxTest::echo_of($res) || {};
is $rec->{target}, 'http://origin.invalid/w/y', 'ws:// through the upstream: as http://';
is hdr($rec, 'Upgrade') . ' ' . hdr($rec, 'Connection'), 'websocket Upgrade',
    'asking for the upgrade';

PrxTest::errorlog_ok(expect => ['PRX00336', 'PRX00016']);
