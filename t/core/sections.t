# Tests for <Proxy>, <ProxyMatch> and ProxySet (spec core.md §3.5, §3.6):
# prefix / wildcard / regex matching against the backend URL with Require
# (403, nothing sent, vs 200), named groups exported as MATCH_<NAME>,
# every matching section merged in order with <Location> on top, <Proxy *>,
# and worker parameters from ProxySet inside and outside a section and
# from <Proxy url key=value>. Config: t/conf/core_sections.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;

# [ request path, 403 (denied, nothing sent) or 200, why ]
my @access = (
    [ '/sec/deny',       403, '<Proxy url>: the URL itself' ],
    [ '/sec/deny/x',     403, '<Proxy url>: below it' ],
    [ '/sec/denyx',      403, '<Proxy url>: a plain prefix, not a segment match' ],
    [ '/sec/DENY',       200, '<Proxy url>: case-sensitive' ],
    [ '/sec/pfx/a',      403, '<Proxy proxy:url>: the proxy: prefix is stripped' ],
    [ '/sec/a.secret',   403, '<Proxy wildcard>: matches' ],
    [ '/sec/a/b.secret', 403, '<Proxy wildcard>: * crosses /' ],
    [ '/sec/a.public',   200, '<Proxy wildcard>: no match' ],
    [ '/sec/pm/bob/admin',  403, '<ProxyMatch>: matches' ],
    [ '/sec/pm/bob/public', 200, '<ProxyMatch>: no match' ],
    [ '/sec/pm/BOB/admin',  200, '<ProxyMatch>: case-sensitive' ],
    [ '/sec/tilde/42',      403, '<Proxy ~ regex>: matches' ],
    [ '/sec/tilde/42x',     200, '<Proxy ~ regex>: no match' ],
);

plan tests => 2 * @access + 6 + 1 + 3 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_headers.c');

my $echo = PrxTest::backend('echo', name => 'core_sections');
Apache::TestRequest::module('core_sections');

sub count { my @r = $echo->requests; scalar @r }

for my $c (@access) {
    my ($path, $want, $what) = @$c;
    my $before = count();
    my $res = GET $path;
    is $res->code, $want, "$what: $want for $path";
    if ($want == 403) {
        is count(), $before, "$what: the backend saw nothing";
    }
    else {
        is((PrxTest::echo_of($res) || {})->{target}, $path, "$what: backend got $path");
    }
}

sub hdr {
    my ($path, $name) = @_;
    my $rec = PrxTest::echo_of(GET $path) || {};
    return PrxTest::header_of($rec, $name) // 'none';
}

# named groups of a matching <ProxyMatch> reach the environment
is hdr('/sec/who/alice/x', 'X-M'), 'alice',
    '<ProxyMatch> named group (?<user>) is exported as MATCH_USER';
# every matching section applies, the later one last
is hdr('/sec/merge/deeper/x', 'X-One'), '1', 'the first matching <Proxy> applies';
is hdr('/sec/merge/deeper/x', 'X-Two'), '2', 'the second matching <Proxy> applies';
is hdr('/sec/merge/deeper/x', 'X-Both'), 'proxy-2', 'the later section is merged last';
is hdr('/sec/merge/other', 'X-Two'), 'none', 'a section that does not match does not apply';
# <Location> is merged on top of <Proxy>
is hdr('/sec/ord/x', 'X-Order'), 'location', '<Location> overrides <Proxy>';

# <Proxy *> matches every proxied request
Apache::TestRequest::module('core_sections_star');
is hdr('/anything', 'X-Star'), 'yes', '<Proxy *> applies to every proxied request';
Apache::TestRequest::module('core_sections');

# worker parameters from sections and ProxySet
sub conns {
    my $prefix = shift;
    PrxTest::ua(keep_alive => 1);
    my @c = map { (GET "$prefix$_")->header('X-Echo-Conn') // 'none' } 1, 2;
    PrxTest::ua();
    return @c;
}
sub slow {
    my $path = shift;
    my $t0 = Time::HiRes::time();
    my $res = GET $path, 'X-Echo-Delay' => 4000;
    return ($res->code, Time::HiRes::time() - $t0);
}

my @c = conns('/ps1/');
ok $c[0] ne 'none' && $c[1] ne $c[0],
    "ProxySet disablereuse=On in <Proxy> before ProxyPass (@c)";
@c = conns('/ps3/');
ok $c[0] ne 'none' && $c[1] ne $c[0],
    "ProxySet url disablereuse=On outside a section (@c)";
@c = conns('/sec/');
ok $c[0] ne 'none' && $c[1] eq $c[0], "a worker without it reuses (@c)";

my ($code, $took) = slow('/ps2/slow');
ok $code == 502 && $took < 3.5,
    "ProxySet timeout=1 in <Proxy> after ProxyPass: $code after ${\ sprintf '%.1f', $took} s";
($code, $took) = slow('/ps4/slow');
ok $code == 502 && $took < 3.5,
    "<Proxy url timeout=1>: $code after ${\ sprintf '%.1f', $took} s";
is((GET '/ps4/fast')->code, 200, 'the next request through it works');

PrxTest::errorlog_ok(expect => [qw(PRX00314)]);
