# Tests for forward proxying of absolute-URI requests (spec
# connect-wstunnel-express.md §1.1-§1.3; core.md §1 step 1, §3.9): with
# ProxyRequests On a request for another server reaches it in origin form
# (Host = the target, no X-Forwarded-*, path and query byte for byte, no
# ProxyPassReverse on the answer); a URL naming this server is served
# locally; control characters are refused; with ProxyRequests Off nothing
# is ever forwarded and CONNECT is refused; <Proxy> sections decide who
# may use the proxy (403, 407 with Proxy-Authenticate); the open-proxy
# warning PRX00080. Config: t/conf/forward_requests.conf.in,
# t/conf/forward_open.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use URI::Escape qw(uri_escape);
use PrxTest;
use PrxHttpd;
use PrxForward;

# request-targets forwarded as they are: path and query byte for byte
my @verbatim = (
    '/plain',
    '/a/../b/./c//d',
    '/%7euser/%2F%2f/x%20y',
    '/q?a=1&b=%41%2f&c=%zz&d=a+b',
    '/q?',
    '/semi;p=1/x?y=;',
    "/utf8/\xc3\xa9",
);

plan tests => 8 + @verbatim + 1 + 4 + 6 + 6 + 4 + 7 + 7 + 6 + 5 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'forward_req');
my $eport = $echo->port;
my $origin = "http://127.0.0.1:$eport";
my $hello = "hello from the origin\n";

my %port = map { $_ => PrxForward::port($_) }
    qw(forward_req forward_unsafe forward_off forward_deny forward_narrow
       forward_auth forward_auth_chain forward_mixed);

sub seen { my @r = $echo->requests; scalar @r }
sub hdr { PrxTest::header_of(@_) }

# --- an absolute URI for another server reaches it in origin form --------
my $res = PrxForward::request($port{forward_req}, 'GET', "$origin/some/path?x=1",
    headers => ["Host: 127.0.0.1:$eport", 'X-Client: c1', 'Proxy-Connection: keep-alive']);
is $res->{status}, 200, 'ProxyRequests On: an absolute URI for the echo origin: 200';
my $rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{request_line}, 'GET /some/path?x=1 HTTP/1.1',
    'the origin got the request line in origin form';
is hdr($rec, 'Host'), "127.0.0.1:$eport", 'Host is the target';
is hdr($rec, 'X-Client'), 'c1', 'end-to-end headers arrive';
is join(',', grep { /^X-Forwarded-/i } map { $_->[0] } @{ $rec->{headers} || [] }), '',
    'no X-Forwarded-* header on a forward request';
ok !defined hdr($rec, 'Proxy-Connection'), 'Proxy-Connection is not forwarded';

# a Host the client got wrong does not matter: the URL names the target
$res = PrxForward::request($port{forward_req}, 'GET', "$origin/host",
    headers => ['Host: elsewhere.example']);
$rec = PrxTest::echo_of($res->{body}) || {};
is hdr($rec, 'Host'), "127.0.0.1:$eport", 'Host follows the URL, not the client\'s Host';
is $rec->{target}, '/host', 'and the path is the URL\'s';

# path and query byte for byte
for my $t (@verbatim) {
    $res = PrxForward::request($port{forward_req}, 'GET', "$origin$t");
    $rec = PrxTest::echo_of($res->{body}) || {};
    is $rec->{target} // "($res->{status})", $t, "forwarded verbatim: $t";
}

# an IPv6 literal target: Host in brackets
SKIP: {
    my ($v6, $v6pid) = PrxForward::v6_origin();
    skip 'no IPv6 loopback', 1 unless $v6;
    $res = PrxForward::request($port{forward_req}, 'GET', "http://[::1]:$v6/v6?q=1");
    like $res->{body}, qr{\AGET /v6\?q=1 HTTP/1\.1\r\nHost: \[::1\]:$v6\r\n},
        "http://[::1]:$v6/: origin form, Host [::1]:$v6 ($res->{status})";
    kill 'TERM', $v6pid;
    waitpid $v6pid, 0;
}

# --- the answer is the origin's: no reverse rewriting ------------------------
my $q = 'echo.status=302&echo.header=' . uri_escape("Location: $origin/next")
    . '&echo.header=' . uri_escape('Set-Cookie: id=1; Path=/');
$res = PrxForward::request($port{forward_req}, 'GET', "$origin/loc?$q");
is $res->{status}, 302, 'the origin\'s 302 reaches the client';
is hdr($res, 'Location'), "$origin/next", 'Location untouched (no ProxyPassReverse)';
is hdr($res, 'Set-Cookie'), 'id=1; Path=/', 'Set-Cookie path untouched';
# mod_proxy_http's parser and framing still apply: a body arrives whole
$res = PrxForward::request($port{forward_req}, 'GET', "$origin/big?echo.body=300000");
is length($res->{body}), 300000, 'a 300000-byte body arrives whole';

# --- a URL naming this server is served locally ------------------------------
my $before = seen();
$res = PrxForward::request($port{forward_req}, 'GET',
    "http://localhost:$port{forward_req}/hello.txt");
is $res->{status}, 200, 'absolute URI of this very server: 200';
is $res->{body}, $hello, 'the local file';
$res = PrxForward::request($port{forward_req}, 'GET',
    "HTTP://LOCALHOST:$port{forward_req}/hello.txt");
is $res->{body}, $hello, 'scheme and host compare case-insensitively';
is seen(), $before, 'the origin saw none of them';
# the same host on another port is another server
$res = PrxForward::request($port{forward_req}, 'GET', "http://localhost:$eport/other");
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{target}, '/other', 'localhost on another port is proxied';
# https:// on a plain connection is another server too (no TLS to
# ourselves here: an error, but not our local file)
$res = PrxForward::request($port{forward_req}, 'GET',
    "https://localhost:$port{forward_req}/hello.txt");
ok $res->{status} >= 400 && $res->{body} ne $hello,
    "https:// for our own port on a plain connection is not served locally ($res->{status})";

# --- control characters in the path or query: refused, nothing sent --------
# (httpd's request-line parser refuses them, 400, before any module sees
# the request, even under HttpProtocolOptions Unsafe; our canonicaliser's
# 403 is the second line of defence for URLs made by other modules)
$before = seen();
for my $v (qw(forward_req forward_unsafe)) {
    for my $t ("/ctl\x01x", "/q?a=\x7f") {
        $res = PrxForward::request($port{$v}, 'GET', "$origin$t");
        ok $res->{status} == 400 || $res->{status} == 403,
            sprintf('%s: a raw control character (%s) is refused (%s)', $v,
                    $t =~ s/([^ -~])/sprintf '\\x%02x', ord $1/ger, $res->{status});
    }
}
$res = PrxForward::request($port{forward_unsafe}, 'GET', "$origin/a%01b");
is $res->{status}, 200, 'an encoded one (%01) is no control character';
is seen(), $before + 1, 'only the encoded one reached the origin';

# --- ProxyPass in the same vhost applies to local requests only ------------------
my $mixed = PrxForward::port('forward_mixed');
$res = PrxForward::request($mixed, 'GET', "$origin/rev/x%2Fy");
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{target}, '/rev/x%2Fy', 'an absolute URI is forwarded as it is, no ProxyPass';
$res = PrxForward::request($mixed, 'GET', "$origin/enc/x%2Fy");
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{target}, '/enc/x%2Fy', '... not even one with mapping=encoded';
$res = PrxForward::request($mixed, 'GET', '/rev/z', headers => ["Host: localhost:$mixed"]);
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{target}, '/reverse/z', 'while a local request is reverse-proxied by ProxyPass';
$res = PrxForward::request($mixed, 'GET', "http://localhost:$mixed/rev/w");
$rec = PrxTest::echo_of($res->{body}) || {};
is $rec->{target}, '/reverse/w', '... also when it names this server in absolute form';

# --- ProxyRequests Off: never forwarded -------------------------------------
$before = seen();
$res = PrxForward::request($port{forward_off}, 'GET', "$origin/hello.txt");
is $res->{status}, 200, 'ProxyRequests Off: an absolute URI is a local request';
is $res->{body}, $hello, '... for the local file of its path';
$res = PrxForward::request($port{forward_off}, 'GET', "$origin/nothing-here");
is $res->{status}, 404, '... and a path that is not there is a local 404';
$res = PrxForward::request($port{forward_off}, 'POST', "$origin/x", body => 'data');
isnt $res->{status}, 200, "... a POST too ($res->{status})";
$res = PrxForward::request($port{forward_off}, 'CONNECT', "127.0.0.1:$eport");
ok $res->{status} >= 400 && $res->{status} < 500 && $res->{status} != 407,
    "ProxyRequests Off: CONNECT is refused ($res->{status})";
$res = PrxForward::request($port{forward_off}, 'GET', "ftp://127.0.0.1:$eport/x");
isnt $res->{status}, 200, "... an ftp:// URL is not fetched ($res->{status})";
for my $shape ([ 'GET', "HTTP://127.0.0.1:$eport/hello.txt" ], [ 'HEAD', "$origin/hello.txt" ],
               [ 'OPTIONS', "$origin/x" ], [ 'TRACE', "$origin/x", 'Max-Forwards: 1' ],
               [ 'PUT', "$origin/x" ], [ 'GET', "//127.0.0.1:$eport/x" ]) {
    my ($m, $u, @h) = @$shape;
    PrxForward::request($port{forward_off}, $m, $u, headers => [ "Host: 127.0.0.1:$eport", @h ]);
}
is seen(), $before, 'ProxyRequests Off: the origin saw nothing at all';

# --- who may use the proxy: <Proxy> sections ---------------------------------
$before = seen();
$res = PrxForward::request($port{forward_deny}, 'GET', "$origin/denied");
is $res->{status}, 403, '<Proxy "*"> Require ip (another address): 403';
$res = PrxForward::request($port{forward_deny}, 'GET',
    "http://localhost:$port{forward_deny}/hello.txt");
is $res->{status}, 200, 'the same vhost still serves its own files';
$res = PrxForward::request($port{forward_narrow}, 'GET', "$origin/private/x");
is $res->{status}, 403, 'a narrower <Proxy http://origin/private/> denies its URLs';
$res = PrxForward::request($port{forward_narrow}, 'GET', "$origin/secret-42");
is $res->{status}, 403, '<ProxyMatch> denies its URLs';
is seen(), $before, 'none of the denied requests reached the origin';
$res = PrxForward::request($port{forward_narrow}, 'GET', "$origin/public/x");
is $res->{status}, 200, 'other URLs are allowed (<Proxy "*">)';
$res = PrxForward::request($port{forward_narrow}, 'GET', "$origin/secret-x");
is $res->{status}, 200, 'a URL <ProxyMatch> does not match is allowed';

# --- authentication: Proxy-Authorization in, 407 out ---------------------------
SKIP: {
    skip 'mod_auth_basic / mod_authn_file not loaded', 6
        unless $port{forward_auth} && Apache::Test::have_module('mod_auth_basic.c');
    my $good = 'Basic ' . MIME::Base64::encode_base64('alice:wonder', '');
    my $bad = 'Basic ' . MIME::Base64::encode_base64('alice:nope', '');
    $res = PrxForward::request($port{forward_auth}, 'GET', "$origin/auth");
    ok $res->{status} == 407 && (hdr($res, 'Proxy-Authenticate') // '') =~ /^Basic realm="forward test"/,
        'no credentials: 407 with Proxy-Authenticate (' . $res->{status} . ')';
    $res = PrxForward::request($port{forward_auth}, 'GET', "$origin/auth",
        headers => ["Proxy-Authorization: $bad"]);
    is $res->{status}, 407, 'wrong credentials: 407';
    my $c = PrxForward::curl('-x', "http://127.0.0.1:$port{forward_auth}",
        '--proxy-user', 'alice:wonder', "$origin/auth");
    $res = PrxForward::curl_final($c);
    $rec = PrxTest::echo_of($res->{body}) || {};
    ok $res->{status} == 200 && !defined hdr($rec, 'Proxy-Authorization'),
        "curl --proxy-user: 200, and the credentials we consumed are not forwarded ($res->{status})";
    $res = PrxForward::request($port{forward_auth_chain}, 'GET', "$origin/auth",
        headers => ["Proxy-Authorization: $good"]);
    $rec = PrxTest::echo_of($res->{body}) || {};
    is hdr($rec, 'Proxy-Authorization'), $good,
        'with Proxy-Chain-Auth they are forwarded';
    # CONNECT is authenticated the same way
    SKIP: {
        skip 'mod_proxy_connect not loaded', 2 unless Apache::Test::have_module('mod_proxy_connect.c');
        $res = PrxForward::request($port{forward_auth}, 'CONNECT', '127.0.0.1:443');
        ok $res->{status} == 407 && defined hdr($res, 'Proxy-Authenticate'),
            "CONNECT without credentials: 407 ($res->{status})";
        $res = PrxForward::request($port{forward_auth}, 'CONNECT', '127.0.0.1:8443',
            headers => ["Proxy-Authorization: $good", 'Host: 127.0.0.1:8443']);
        is $res->{status}, 403, 'with them, the CONNECT gets as far as AllowCONNECT (8443: 403)';
    }
}

# --- TLS: an https:// URL fetched over TLS by the proxy; the proxy over TLS -----
SKIP: {
    my ($tlso, $https, $tlsp) = map { PrxForward::port($_) }
        qw(forward_req_tls_origin forward_req_https forward_req_tls_proxy);
    skip 'no TLS vhosts (mod_ssl, test PKI)', 5 unless $tlso && $https && $tlsp;
    require IO::Socket::SSL;
    my $ca = PrxTest::vars('t_conf') . '/certs/ca.crt';
    $res = PrxForward::request($https, 'GET', "https://localhost:$tlso/hello.txt");
    ok $res->{status} == 200 && $res->{body} eq $hello
        && (hdr($res, 'X-Origin') // '') eq 'tls-origin',
        "an absolute https:// URL: the proxy fetches it over TLS ($res->{status})";
    my $over_tls = sub {
        my $url = shift;
        my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$tlsp", SSL_ca_file => $ca,
            SSL_hostname => 'localhost', Timeout => 5) or return { status => 0 };
        my ($h) = $url =~ m{//([^/]+)};
        print $s "GET $url HTTP/1.1\r\nHost: $h\r\nConnection: close\r\n\r\n";
        my $buf = '';
        while (defined(my $l = <$s>)) { $buf .= $l }
        my ($r) = PrxTest::parse_responses($buf, eof => 1);
        return $r || { status => 0 };
    };
    my $r = $over_tls->("https://localhost:$tlsp/hello.txt");
    ok $r->{status} == 200 && $r->{body} eq $hello,
        'over TLS, https:// naming this server: served locally';
    $r = $over_tls->("http://localhost:$tlsp/hello.txt");
    ok $r->{status} != 200 && defined hdr($r, 'Via'),
        "over TLS, http:// for our own port is another server: proxied ($r->{status}, Via added)";
    $r = $over_tls->("$origin/over-tls");
    $rec = PrxTest::echo_of($r->{body}) || {};
    is $rec->{request_line}, 'GET /over-tls HTTP/1.1', 'over TLS, a plain http:// origin: forwarded';
    is hdr($rec, 'Via'), "1.1 localhost:$tlsp", '... Via names this TLS port (not 443)';
}

# --- the open-proxy warning ------------------------------------------------------
my ($ok, $out) = PrxHttpd::check_config('forward_open.conf', 'PRX_FORWARD_OPEN');
ok $ok, 'ProxyRequests On without <Proxy>: the config is valid';
like $out, qr/PRX00080.*open forward proxy/, 'and gets the open-proxy warning PRX00080';
(undef, $out) = PrxHttpd::check_config('forward_open.conf', 'PRX_FORWARD_SECURED');
unlike $out, qr/PRX00080/, 'a forward proxy with a <Proxy "*"> section: no warning';
# a real start logs it in the error log, once
my $mark = scalar(() = grep { /PRX00080/ } PrxTest::errorlog_lines(settle => 0));
my $open = PrxHttpd->start(conf => 'forward_open.conf', define => 'PRX_FORWARD_OPEN',
    port => PrxTest::vars('backend_forward_open_port'));
$open->stop;
my @w = grep { /PRX00080/ } PrxTest::errorlog_lines(settle => 0.5);
is scalar(@w) - $mark, 1, 'starting it logs PRX00080 once, to the error log';

# PRX00071: the https:// URL above, with no TLS to origins in that vhost
PrxTest::errorlog_ok(expect => ['PRX00071']);
