# Tests for chaining to upstream proxies and the rules around it (spec
# core.md §3.10, §3.11, §3.13, §3.7, §10.4; connect-wstunnel-express.md
# §1.5-§1.7; http.md §2.2, §3.7): ProxyRemote "*", scheme and URL-prefix
# forms and ProxyRemoteMatch, tried in configuration order; the upstream
# gets the absolute-form request (with the entry's credentials); a 502
# moves on to the next entry and then direct only without a request body;
# other failures are final; vhost inheritance and ProxyPassInherit Off;
# NoProxy's four classes of entry make requests go direct; ProxyDomain's
# 301 for dotless names. The upstreams are echo backends (they record the
# request line), the direct origin another echo. Config:
# t/conf/forward_remote.conf.in, t/conf/forward_remote_inherit.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use MIME::Base64 ();
use PrxTest;
use PrxHttpd;
use PrxForward;

my %echo = map { $_ => PrxTest::backend('echo', name => "forward_$_") } qw(up1 up2 up3 remote);
my $bad = PrxTest::backend('bad', name => 'forward_upbad', args => [qw(--mode reset-before-head)]);
my $oport = $echo{remote}->port;
my $origin = "http://127.0.0.1:$oport";
my %p = map { $_ => PrxForward::port($_) }
    qw(forward_remote_star forward_remote_match forward_remote_scheme
       forward_remote_fallback forward_remote_fallback_direct forward_remote_dead
       forward_remote_pool forward_remote_reverse forward_noproxy
       forward_noproxy_subnet forward_domain);

# NoProxy targets of forward_noproxy: direct (1) or upstream (0)
my @np = (
    [ 'http://a.direct.invalid/',      1, 'domain: a name in .direct.invalid' ],
    [ 'http://A.Direct.INVALID./',     1, 'domain: any case, trailing dot' ],
    [ 'http://direct.invalid/',        0, 'domain: not the domain\'s own name' ],
    [ 'http://xdirect.invalid/',       0, 'domain: a suffix that is no label' ],
    [ "http://127.0.4.200:$oport/",    1, 'subnet 127.0.4.0/24' ],
    [ 'http://127.0.5.1/',             0, 'outside the subnet' ],
    [ "http://127.0.2.9:$oport/",      1, 'subnet without mask: 127.0.2 = /24' ],
    [ "http://127.0.3.3:$oport/",      1, 'IP address 127.0.3.3' ],
    [ 'http://127.0.3.4/',             0, 'another address' ],
    [ "http://localhost:$oport/",      1, 'hostname localhost (resolves at startup)' ],
    [ "http://LOCALHOST.:$oport/",     1, 'hostname: any case, trailing dot' ],
    [ "http://127.0.0.1:$oport/",      0, 'hostname: its address is not its name' ],
    [ 'http://my.wordy.invalid/',      1, 'word "wordy" in the name' ],
    [ 'http://word.invalid/',          0, 'no "wordy" in it' ],
    [ 'http://upper.invalid/',         0, 'word "Upper": case-sensitive' ],
);

plan tests => 7 + 3 + 9 + 3 + 6 + 3 + 2 + 4 + 2 * @np + 2 + 11 + 6 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

sub n { my @r = $_[0]->requests; scalar @r }
sub counts { join ' ', map { n($echo{$_}) } qw(up1 up2 up3 remote) }
sub get {
    my ($vhost, $url, %o) = @_;
    my $res = PrxForward::request($p{$vhost} // $vhost, $o{method} // 'GET', $url, %o);
    return ($res, PrxTest::echo_of($res->{body}) || {});
}
sub hdr { PrxTest::header_of(@_) }
# which echo answered: up1, up2, up3 or remote (direct)
sub who { my $rec = shift; my %by = map { $echo{$_}->port => $_ } keys %echo;
          return $by{ $rec->{port} // 0 } // 'nobody' }

# --- "*": the upstream gets the absolute form, Host = the target, credentials ----------
my ($res, $rec) = get('forward_remote_star', 'http://target.invalid:8080/p/a%2Fth?q=1',
    headers => ['Host: target.invalid:8080', 'Proxy-Connection: keep-alive']);
is $res->{status}, 200, 'ProxyRemote *: 200 from the upstream (the target needs no DNS)';
is $rec->{request_line}, 'GET http://target.invalid:8080/p/a%2Fth?q=1 HTTP/1.1',
    'the upstream got the request line in absolute form, path and query verbatim';
is hdr($rec, 'Host'), 'target.invalid:8080', 'Host still names the target';
is hdr($rec, 'Proxy-Authorization'),
    'Basic ' . MIME::Base64::encode_base64('alice:se:cret', ''),
    'the entry\'s credentials (user alice, password "se:cret") as Proxy-Authorization: Basic';
ok !defined hdr($rec, 'Proxy-Connection'), 'no Proxy-Connection';
# the client's own Proxy-Authorization (this proxy authenticates nobody)
# is kept, the entry's merged after it (spec http.md §3.7)
($res, $rec) = get('forward_remote_star', 'http://target.invalid/c',
    headers => ['Proxy-Authorization: Basic Y2xpZW50OnB3']);
is hdr($rec, 'Proxy-Authorization'),
    'Basic Y2xpZW50OnB3, Basic ' . MIME::Base64::encode_base64('alice:se:cret', ''),
    'the client\'s Proxy-Authorization, then the entry\'s credentials, comma-merged';
($res, $rec) = get('forward_remote_star', 'http://nocreds.invalid/x');
ok who($rec) eq 'up2' && !defined hdr($rec, 'Proxy-Authorization'),
    'an entry without credentials sends none (the first matching entry wins)';

# an ftp:// URL goes to an HTTP upstream as an absolute-URI HTTP request
($res, $rec) = get('forward_remote_match', 'ftp://files.invalid/pub/file.txt');
is who($rec), 'up3', 'ProxyRemote FTP (a scheme, any case) takes ftp:// URLs';
is $rec->{request_line}, 'GET ftp://files.invalid/pub/file.txt HTTP/1.1',
    '... sent as an HTTP request with the ftp:// URL';
is $res->{status}, 200, '... 200';

# --- match forms and order --------------------------------------------------------------
my @forms = (
    [ "$origin/Pre/x",       'up1',    'URL prefix' ],
    [ "$origin/PRE/x",       'up1',    'URL prefix, case-insensitive' ],
    [ "$origin/pre/x",       'up1',    'prefix before the regex that matches it too (order)' ],
    [ "$origin/rx/x",        'up2',    'ProxyRemoteMatch' ],
    [ "$origin/RX/x",        'remote', 'ProxyRemoteMatch is case-sensitive: direct' ],
    [ 'http://other.invalid/y', 'up3', 'prefix without a path' ],
    [ 'http://other.invalidx/y', 'up3', 'a prefix is a prefix ("other.invalidx")' ],
    [ "$origin/none",        'remote', 'no entry: direct' ],
);
for my $f (@forms) {
    ($res, $rec) = get('forward_remote_match', $f->[0]);
    is who($rec), $f->[1], "$f->[2]: $f->[0] -> $f->[1]";
}
is $rec->{request_line}, 'GET /none HTTP/1.1', 'direct: origin form';
($res, $rec) = get('forward_remote_scheme', "$origin/s");
is who($rec), 'up3', 'ProxyRemote http takes every http:// URL';
($res, $rec) = get('forward_remote_scheme', "HTTP://127.0.0.1:$oport/s");
is who($rec), 'up3', '... whatever the case of the request\'s scheme';
is $rec->{request_line}, "GET http://127.0.0.1:$oport/s HTTP/1.1",
    '... the upstream gets the canonical (lower-case) scheme';

# --- a 502 moves on: the next entry, then direct; never with a body -------------------------
my $b0 = n($bad);
my $c0 = counts();
($res, $rec) = get('forward_remote_fallback', "$origin/fb");
is $res->{status}, 200, 'the first upstream fails (reset): 200 all the same';
is who($rec), 'up1', '... from the next entry';
ok n($bad) > $b0, '... after the failing one got the request';
($res, $rec) = get('forward_remote_fallback_direct', "$origin/fbd");
ok $res->{status} == 200 && who($rec) eq 'remote' && $rec->{request_line} eq 'GET /fbd HTTP/1.1',
    'the only upstream fails: the origin directly, in origin form';
$c0 = counts();
($res) = get('forward_remote_fallback', "$origin/fb-post", method => 'POST', body => 'payload');
is $res->{status}, 502, 'with a request body the 502 is final';
is counts(), $c0, '... and no other upstream or origin saw the request';

# --- other failures are final ------------------------------------------------------------------
my %b = map { $_ => n($echo{$_}) } keys %echo;
($res) = get('forward_remote_dead', "$origin/dead/x");
is $res->{status}, 503, 'an upstream nobody listens on: 503, final';
($res, $rec) = get('forward_remote_dead', "$origin/says502/x?echo.status=502");
ok $res->{status} == 502 && who($rec) eq 'up2',
    "an upstream answering 502 itself: its response is relayed ($res->{status})";
is join(' ', map { n($echo{$_}) - $b{$_} } qw(up1 up2 up3 remote)), '0 1 0 0',
    '... and no other entry, nor the origin, was tried for either';

# --- a pooled worker reached through an upstream for some URLs only ------------------------------
# (one client connection: one child process, so one pool of the worker)
my $kc = PrxTest::Raw->new($p{forward_remote_pool});
my @who;
for my $path (qw(via via direct direct via)) {
    $kc->send("GET $origin/$path/x HTTP/1.1\r\nHost: 127.0.0.1:$oport\r\n\r\n");
    my ($r) = PrxTest::parse_responses($kc->read);
    my $e = PrxTest::echo_of($r->{body} // '') || {};
    push @who, who($e) . ':' . ($e->{request_line} // '');
}
$kc->close;
my ($v, $d) = ("up1:GET $origin/via/x HTTP/1.1", 'remote:GET /direct/x HTTP/1.1');
is_deeply \@who, [ $v, $v, $d, $d, $v ],
    'the same worker, through the upstream and direct in turn: each goes where it belongs';
my @via = grep { $_->{request_line} =~ m{/via/} } $echo{up1}->requests;
ok @via == 3 && $via[0]{conn} == $via[1]{conn},
    'the connection to the upstream was pooled (reused by the second request), so the '
    . 'direct request after it met it in the pool';

# --- ProxyRemote for reverse proxying ---------------------------------------------------------------
($res, $rec) = get('forward_remote_reverse', "http://localhost:$p{forward_remote_reverse}/rev/x?y");
is who($rec), 'up1', 'ProxyPass to a host only the upstream reaches: through it';
is $rec->{request_line}, 'GET http://app.invalid/app/x?y HTTP/1.1', '... in absolute form';
is hdr($rec, 'Host'), 'app.invalid', '... Host = the backend';
ok defined hdr($rec, 'X-Forwarded-For'), '... a reverse request: X-Forwarded-For is added';

# --- NoProxy: each class of entry ----------------------------------------------------------------------
for my $t (@np) {
    my ($url, $direct, $why) = @$t;
    my $before = n($echo{up1});
    ($res, $rec) = get('forward_noproxy', $url);
    if ($direct) {
        is n($echo{up1}), $before, "NoProxy $why: $url goes direct";
        ok $res->{status} == 200 ? who($rec) eq 'remote' : $res->{status} >= 500,
            "... to the origin or a direct failure ($res->{status})";
    }
    else {
        is who($rec), 'up1', "not NoProxy, $why: $url goes upstream";
        is $res->{status}, 200, '... 200';
    }
}
($res, $rec) = get('forward_noproxy_subnet', "http://localhost:$oport/sub");
is who($rec), 'remote', 'NoProxy 127.0.0.0/8: a name resolving into it goes direct';
($res, $rec) = get('forward_noproxy_subnet', 'http://unresolvable.invalid/sub');
is who($rec), 'up1', '... one that resolves nowhere goes upstream';

# --- ProxyDomain ---------------------------------------------------------------------------------------------
my @redirect = (
    [ 'http://intranet/path?q=1',      'http://intranet.corp.invalid/path?q=1', 'a dotless name' ],
    [ 'http://intranet:8080/x',        'http://intranet.corp.invalid:8080/x',   'with a port' ],
    [ 'http://joe:pw@intranet/x',      'http://joe:pw@intranet.corp.invalid/x', 'with user info' ],
);
for my $r (@redirect) {
    $c0 = counts();
    ($res) = get('forward_domain', $r->[0]);
    ok $res->{status} == 301 && (hdr($res, 'Location') // '') eq $r->[1],
        "ProxyDomain, $r->[2]: 301 to $r->[1] (" . ($res->{status}) . ' ' . (hdr($res, 'Location') // '-') . ')';
}
is counts(), $c0, 'the redirected requests went nowhere (ProxyDomain comes before NoProxy and routing)';
# (HEAD is a GET in httpd: redirected too; NoProxy "intranet" sends a POST
# for it direct, where the name resolves nowhere)
($res) = get('forward_domain', 'http://intranet/x', method => 'HEAD');
ok $res->{status} == 301 && (hdr($res, 'Location') // '') eq 'http://intranet.corp.invalid/x',
    "HEAD is a GET: 301 too ($res->{status})";
my @not = (
    [ 'GET',  "http://localhost:$oport/x",  'up1',  'localhost' ],
    [ 'GET',  'http://127.0.0.9/x',         'up1',  'an IP address' ],
    [ 'GET',  'http://host.other.invalid/x', 'up1', 'a dotted name' ],
    [ 'POST', 'http://intranet/x',          undef,  'POST' ],
    [ 'PUT',  'http://intranet/x',          undef,  'PUT' ],
);
for my $n (@not) {
    my ($m, $url, $want, $why) = @$n;
    my $before = $want ? n($echo{$want}) : n($echo{up1});
    ($res) = get('forward_domain', $url, method => $m, ($m ne 'GET' ? (body => 'b') : ()));
    ok $res->{status} != 301 && ($want ? n($echo{$want}) == $before + 1
                                       : n($echo{up1}) == $before && $res->{status} >= 500),
        "no redirect for $why ($m $url: $res->{status}, " . ($want // 'direct') . ')';
}
($res, $rec) = get('forward_domain', "http://localhost:$p{forward_domain}/rev/x");
ok $res->{status} != 301 && who($rec) eq 'up1', 'nor for a reverse-proxied dotless backend';

# --- inheritance of the main server's entries ------------------------------------------------------------------
my $inh = PrxHttpd->start(conf => 'forward_remote_inherit.conf', define => 'PRX_FORWARD_INHERIT',
    port => PrxForward::port('forward_inherit_on'));
my %ip = map { $_ => PrxForward::port("forward_inherit_$_") } qw(on off none);
($res, $rec) = get($ip{on}, 'http://main.invalid/x');
is who($rec), 'up1', 'a vhost uses the main server\'s entries first';
($res, $rec) = get($ip{on}, 'http://other.invalid/x');
is who($rec), 'up2', '... all of them before its own (the main "*")';
($res, $rec) = get($ip{off}, 'http://main.invalid/x');
is who($rec), 'up3', 'ProxyPassInherit Off: only its own entries';
($res, $rec) = get($ip{none}, "$origin/none");
is who($rec), 'remote', 'ProxyPassInherit Off and no entries of its own: direct';
($res, $rec) = get($ip{none}, 'http://main.invalid/x');
ok $res->{status} >= 500, "... so a name only the upstream knows fails ($res->{status})";
my $before = n($echo{remote});
($res) = get(PrxForward::port('forward_inherit_noreq'), "$origin/hello.txt");
ok $res->{status} == 200 && $res->{body} eq "hello from the origin\n" && n($echo{remote}) == $before,
    'a vhost saying ProxyRequests Off under a main server saying On: served locally';
$inh->stop;

# PRX00316: the failing upstream (reset); PRX00015: DNS failures of
# direct targets; PRX00016: refused direct connections
PrxTest::errorlog_ok(expect => [qw(PRX00015 PRX00016 PRX00316)]);
