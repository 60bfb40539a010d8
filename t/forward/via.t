# Tests for what a chain of two forward proxies does to Via, Max-Forwards
# and Proxy-Authorization (spec core.md §3.14, §3.22, §10.2; http.md
# §3.2 step 5, §3.5, §3.6; connect-wstunnel-express.md §1.2, §1.8): the
# client talks to proxy A, A's ProxyRemote is proxy B, B reaches the echo
# origin. ProxyVia Off/On/Full/Block as the origin sees the request and the
# client sees the response; TRACE/OPTIONS answered by the hop where
# Max-Forwards reaches 0; a loop A -> B -> A ... ended by Max-Forwards;
# Proxy-Authorization consumed by A's own authentication unless
# Proxy-Chain-Auth is set. Config: t/conf/forward_via.conf.in,
# t/conf/forward_loop.conf.in (a second httpd, for the loop).

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use MIME::Base64 ();
use Digest::SHA ();
use Time::HiRes ();
use PrxTest;
use PrxHttpd;
use PrxForward;

plan tests => 7 + 3 + 3 + 3 + 5 + 8 + 6 + 12 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'forward_via');
my $origin = 'http://127.0.0.1:' . $echo->port;
my %p = map { $_ => PrxForward::port($_) }
    qw(forward_via_b forward_via_b_block forward_via_on forward_via_full
       forward_via_off forward_via_block forward_via_to_block
       forward_via_b_auth forward_via_auth forward_via_auth_chain);
my ($A, $B) = ("localhost:$p{forward_via_on}", "localhost:$p{forward_via_b}");

sub seen { my @r = $echo->requests; scalar @r }
sub hdr { PrxTest::header_of(@_) }
# the Via lines of a response, in order, each as sent
sub via_lines { join ' | ', PrxTest::headers_of($_[0], 'Via') }
sub get {
    my ($vhost, $path, @h) = @_;
    my $res = PrxForward::request($p{$vhost}, 'GET', "$origin$path", headers => \@h);
    return ($res, PrxTest::echo_of($res->{body}) || {});
}

# --- ProxyVia On at both hops -------------------------------------------------
my ($res, $rec) = get('forward_via_on', '/on');
is $res->{status}, 200, 'A (On) -> B (On) -> origin: 200';
is $rec->{request_line}, 'GET /on HTTP/1.1', 'B sent the origin form to the origin';
is hdr($rec, 'Via'), "1.1 $A, 1.1 $B", 'the origin got one Via entry per hop, A first';
is via_lines($res), "1.1 $B | 1.1 $A", 'the client got a Via line per hop, B first';
($res, $rec) = get('forward_via_on', '/on?echo.header=Via:%201.0%20far-origin',
    'Via: 1.0 client-cache');
is hdr($rec, 'Via'), "1.0 client-cache, 1.1 $A, 1.1 $B",
    "the client's Via is kept and comma-merged";
is via_lines($res), "1.0 far-origin | 1.1 $B | 1.1 $A",
    "the origin's Via line is kept, ours are added as lines of their own";
$res = PrxTest::raw_request($p{forward_via_on},
    "GET $origin/on10 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") // '';
($res) = PrxTest::parse_responses($res, eof => 1);
$rec = PrxTest::echo_of($res->{body}) || {};
is hdr($rec, 'Via'), "1.0 $A, 1.1 $B", 'an HTTP/1.0 client: A says 1.0, B (talking 1.1 to A\'s request) 1.1';

# bodies both ways through both hops
my $body = join '', map { chr(32 + $_ % 90) } 1 .. 200000;
$res = PrxForward::request($p{forward_via_on}, 'POST', "$origin/post", body => $body);
$rec = PrxTest::echo_of($res->{body}) || {};
ok $res->{status} == 200 && ($rec->{body_length} // 0) == length($body)
    && $rec->{body_sha1} eq Digest::SHA::sha1_hex($body),
    'a 200000-byte POST body reaches the origin through A and B intact';
$res = PrxForward::request($p{forward_via_on}, 'POST', "$origin/chunked",
    headers => ['Transfer-Encoding: chunked'], body => "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{body}, 'hello world', 'a chunked request body too';
$res = PrxForward::request($p{forward_via_on}, 'GET', "$origin/big?echo.body=5000000&echo.framing=chunked");
is length($res->{body}), 5000000, 'a 5 MB chunked response comes back whole';

# --- Full: the server version as a comment -----------------------------------------
($res, $rec) = get('forward_via_full', '/full');
my $Af = "localhost:$p{forward_via_full}";
like hdr($rec, 'Via') // '', qr{\A1\.1 \Q$Af\E \(Apache/2\.4\.\d+[^)]*\), 1\.1 \Q$B\E\z},
    'ProxyVia Full: "1.1 name:port (Apache/2.4.x)"';
like via_lines($res), qr{\A1\.1 \Q$B\E \| 1\.1 \Q$Af\E \(Apache/2\.4\.\d+[^)]*\)\z},
    '... on the response too';
is $res->{status}, 200, 'ProxyVia Full: 200';

# --- Off (the default): Via passes through untouched, none added ---------------------
($res, $rec) = get('forward_via_off', '/off', 'Via: 1.0 client-cache');
is hdr($rec, 'Via'), "1.0 client-cache, 1.1 $B", 'ProxyVia Off at A: only B added an entry';
is via_lines($res), "1.1 $B", '... and only B\'s line is on the response';
is $res->{status}, 200, 'ProxyVia Off: 200';

# --- Block: Via removed from the forwarded request, nothing added ---------------------
($res, $rec) = get('forward_via_block', '/block?echo.header=Via:%201.0%20far-origin',
    'Via: 1.0 client-cache');
is hdr($rec, 'Via'), "1.1 $B", 'ProxyVia Block at A: the client\'s Via never left A';
is via_lines($res), "1.0 far-origin | 1.1 $B",
    '... the response\'s Via lines are left alone, none added';
is $res->{status}, 200, 'ProxyVia Block: 200';
($res, $rec) = get('forward_via_to_block', '/b-block', 'Via: 1.0 client-cache');
my $At = "localhost:$p{forward_via_to_block}";
ok !defined hdr($rec, 'Via'), 'ProxyVia Block at B: the origin got no Via at all';
is via_lines($res), "1.1 $At", '... and the client only A\'s line';

# --- Max-Forwards: the hop where it reaches 0 answers TRACE and OPTIONS ---------------
my $before = seen();
$res = PrxForward::request($p{forward_via_on}, 'TRACE', "$origin/tr",
    headers => ['Max-Forwards: 0']);
ok $res->{status} == 200 && $res->{body} =~ m{\ATRACE \Q$origin\E/tr HTTP/1\.1\r?\n}
    && $res->{body} !~ /^Via:/mi,
    "TRACE, Max-Forwards: 0: A answers itself ($res->{status})";
$res = PrxForward::request($p{forward_via_on}, 'TRACE', "$origin/tr",
    headers => ['Max-Forwards: 1']);
ok $res->{status} == 200 && $res->{body} =~ /^Max-Forwards: 0\r?$/mi
    && $res->{body} =~ /^Via: 1\.1 \Q$A\E\r?$/mi,
    "TRACE, Max-Forwards: 1: B answers, with what A sent it (Max-Forwards: 0, A's Via)";
$res = PrxForward::request($p{forward_via_on}, 'OPTIONS', "$origin/op",
    headers => ['Max-Forwards: 1']);
ok $res->{status} == 200 && defined hdr($res, 'Allow'), "OPTIONS, Max-Forwards: 1: B answers";
is seen(), $before, 'none of them reached the origin';
$res = PrxForward::request($p{forward_via_on}, 'TRACE', "$origin/tr",
    headers => ['Max-Forwards: 2']);
$rec = PrxTest::echo_of($res->{body}) || {};
is hdr($rec, 'Max-Forwards'), '0', 'Max-Forwards: 2 reaches the origin as 0';
$res = PrxForward::request($p{forward_via_on}, 'GET', "$origin/g", headers => ['Max-Forwards: 1']);
is $res->{status}, 400, 'GET, Max-Forwards: 1: B refuses it (0 left, proxy loop?): 400';
like $res->{body}, qr/Max-Forwards has reached zero/, "with B's reason";
is seen(), $before + 1, 'only the TRACE with 2 reached the origin';

# --- a loop: A -> B -> A -> ... ended by Max-Forwards ----------------------------------
my ($pa, $pb) = map { PrxTest::vars("backend_forward_loop_${_}_port") } qw(a b);
my @loop = (PrxHttpd->start(conf => 'forward_loop.conf', define => 'PRX_FORWARD_LOOP_A', port => $pa),
            PrxHttpd->start(conf => 'forward_loop.conf', define => 'PRX_FORWARD_LOOP_B', port => $pb));
my $t0 = Time::HiRes::time();
$res = PrxForward::request($pa, 'GET', "$origin/loop", headers => ['Max-Forwards: 6'],
    timeout => 30);
my $took = Time::HiRes::time() - $t0;
is $res->{status}, 400, 'a loop between two proxies, Max-Forwards: 6: 400';
like $res->{body}, qr/Max-Forwards has reached zero - proxy loop\?/, '"proxy loop?"';
is scalar(PrxTest::headers_of($res, 'Via')), 6, 'after six hops (one Via line each)';
ok $took < 10, sprintf 'at once, no hanging (%.1f s)', $took;
$res = PrxForward::request($pa, 'GET', "$origin/loop", timeout => 30);
ok $res->{status} == 400 && scalar(PrxTest::headers_of($res, 'Via')) == 6,
    'no Max-Forwards from the client: ProxyMaxForwards 5 ends the loop (5 added, not'
    . ' decremented, by the first hop)';
is seen(), $before + 1, 'the loops never reached the origin';
$_->stop for @loop;

# --- Proxy-Authorization: consumed by A unless Proxy-Chain-Auth -------------------------
SKIP: {
    skip 'mod_auth_basic / mod_authn_file not loaded', 12
        unless $p{forward_via_auth} && Apache::Test::have_module('mod_auth_basic.c');
    my $bob = 'Basic ' . MIME::Base64::encode_base64('bob:builder', '');
    ($res, $rec) = get('forward_via_auth', '/auth', "Proxy-Authorization: $bob");
    is $res->{status}, 200, 'A authenticates bob: 200';
    ok !defined hdr($rec, 'Proxy-Authorization'), 'A consumed the credentials: the origin got none';
    ($res) = get('forward_via_auth', '/to-b/x', "Proxy-Authorization: $bob");
    is $res->{status}, 407, 'B (asking for bob too) gets none from A: 407 reaches the client';
    ok !defined hdr($res, 'Proxy-Authenticate'),
        '... without B\'s challenge (hop-by-hop, removed by A)';
    ($res) = get('forward_via_auth', '/auth');
    is $res->{status}, 407, 'no credentials for A: A\'s own 407';
    like hdr($res, 'Proxy-Authenticate') // '', qr/realm="first hop"/, 'with A\'s challenge';

    ($res, $rec) = get('forward_via_auth_chain', '/auth', "Proxy-Authorization: $bob");
    is hdr($rec, 'Proxy-Authorization'), $bob,
        'proxy-chain-auth (lower case): the credentials go on to B and the origin';
    ($res) = get('forward_via_auth_chain', '/to-b/x', "Proxy-Authorization: $bob");
    is $res->{status}, 200, '... so B accepts bob: 200';
    # a proxy without authentication of its own passes them on
    ($res, $rec) = get('forward_via_on', '/no-auth', "Proxy-Authorization: $bob");
    is hdr($rec, 'Proxy-Authorization'), $bob,
        'a proxy that does not authenticate passes Proxy-Authorization on';
    my $c = PrxForward::curl('-x', "http://127.0.0.1:$p{forward_via_auth_chain}",
        '--proxy-user', 'bob:builder', "$origin/to-b/curl");
    $res = PrxForward::curl_final($c);
    is $res->{status}, 200, 'curl --proxy-user through A and B (chain auth): 200';
    $rec = PrxTest::echo_of($res->{body}) || {};
    ok !defined hdr($rec, 'Proxy-Authorization'), 'B consumed them in turn';
    ($res) = get('forward_via_b_auth', '/direct-b', "Proxy-Authorization: $bob");
    is $res->{status}, 200, 'B itself accepts bob';
}

PrxTest::errorlog_ok();
