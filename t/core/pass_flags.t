# Tests for the ProxyPass flags and mapping modes (spec core.md §3.8,
# §7.4, §9): nocanon forwards the raw request-target, the default
# re-encodes the decoded path, mapping=encoded matches and forwards the
# encoded path, mapping=servlet normalises ;params/./.. before matching,
# interpolate substitutes ${VAR} in ProxyPass and ProxyPassReverse when
# ProxyPassInterpolateEnv is On, and noquery is accepted.
# Config: t/conf/core_pass_flags.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my $allowed = q{~$+!*'(),;:@&=};    # §9: kept literally by re-encoding

# [ request path, headers, target the backend must get (undef: not
#   proxied, local 404), why ]
my @cases = (
    # nocanon vs the default re-encoding
    [ '/nc/a%3Fb%25c%41;x?q=%20x&y=%2F', [], '/nc/a%3Fb%25c%41;x?q=%20x&y=%2F',
      'nocanon: the raw path and query reach the backend unchanged' ],
    [ '/cn/a%3Fb%25c%41;x?q=%20x&y=%2F', [], '/cn/a%3Fb%25cA;x?q=%20x&y=%2F',
      'default: the decoded path is re-encoded, the query left alone' ],
    [ '/cn/%7E%24%2B%21%2A%27%28%29%2C%3B%3A%40%26%3D', [], "/cn/$allowed",
      'default: the characters of §9 come out literally' ],
    [ '/cn/%e9%22%3c%5b%5d%5e%60%7b%7c%7d%20', [], '/cn/%E9%22%3C%5B%5D%5E%60%7B%7C%7D%20',
      'default: everything else is %XX with upper-case hex' ],
    [ '/ncs?q=%41', [], '/ncs?q=%41', 'nocanon: a raw query right after a rule without slash' ],
    [ '/ncs%3Fq', [], undef, 'nocanon: a decoded ? is no segment boundary' ],
    [ '/n%63/abc', [], '/nc/abc',
      'nocanon whose raw form does not match: the decoded form is used' ],
    # ProxyPassMatch with nocanon / mapping=encoded
    [ '/rn/a%3Fb%25?q=%41', [], '/rn/a%3Fb%25?q=%41',
      'ProxyPassMatch nocanon: $1 from the raw target, query included, not appended twice' ],
    [ '/rm/a%3F?x=%41', [], '/rm/a%3F?x=%41', 'ProxyPassMatch nocanon without $n: the raw target appended' ],
    [ '/em/a%2Fb?y=1', [], '/em/a%2Fb?y=1', 'ProxyPassMatch mapping=encoded: the encoded path' ],
    # mapping=encoded
    [ '/enc/a%2Fb%3Fc?x=%41', [], '/enc/a%2Fb%3Fc?x=%41',
      'mapping=encoded: the encoded path is forwarded, %2F included' ],
    [ '/sp%3Fseg/x', [], '/spseg/x',
      'mapping=encoded: a rule with an encoded character matches' ],
    # mapping=servlet
    [ '/srv;jsessionid=abc/app;v=2/x?q=1', [], '/app;v=2/x?q=1',
      'mapping=servlet: ;params ignored for matching, kept on the last matched segment' ],
    [ '/srv/app/..;/app/z', [], '/app/z',
      'mapping=servlet: a "..;" segment is resolved before matching' ],
    [ '/srv/app', [], '/app', 'mapping=servlet: the rule path itself' ],
    [ '/srv/appx', [], undef, 'mapping=servlet: whole segments only' ],
    [ '/srv2/app/x/y?z=1', [], '/app2/x/y?z=1', 'mapping=servlet, rule ending in /: the remainder' ],
    [ '/srv2;p=1/app;q=2/x', [], '/app2/x', 'mapping=servlet, rule ending in /: with ;params' ],
    [ '/srv2/app//x', [], '/app2/x', 'mapping=servlet, rule ending in /: a slash run' ],
    [ '/srv2/app/', [], '/app2/', 'mapping=servlet, rule ending in /: the rule path itself' ],
    [ '/srv2/app', [], undef, 'mapping=servlet, rule ending in /: not without the slash' ],
    [ '/srv/app;x=1/admin', [], undef, 'mapping=servlet exclusion: ;params do not side-step it' ],
    [ '/srv/app/x/../admin/', [], undef, 'mapping=servlet exclusion: neither do dot segments' ],
    [ '/srv/app/administrator', [], '/app/administrator', 'mapping=servlet exclusion: whole segments' ],
    [ '/cn/secret%3Bx', [], undef,
      'an exclusion with mapping=encoded ends the search before the ordinary rules' ],
    [ '/cn/secret%3By', [], '/cn/secret;y', 'the ordinary rule gets what it does not exclude' ],
    # interpolate
    [ '/ip/x', [ 'X-Tenant' => 'acme' ], '/t-acme/x',
      'interpolate: ${TENANT} in the target' ],
    [ '/ip/x', [], '/t-/x', 'interpolate: an unset variable is empty' ],
    [ '/ipath-acme/y', [ 'X-Tenant' => 'acme' ], '/ipath/y',
      'interpolate: ${TENANT} in the path' ],
    [ '/ipath-acme/y', [ 'X-Tenant' => 'other' ], undef,
      'interpolate: the path follows the variable' ],
    [ '/imany/x', [ 'X-Tenant' => 'ab' ], '/' . ('ab' x 10) . '-' . ('ab' x 10) . '/x',
      'interpolate: twenty variables in one target' ],
    [ '/iopen/x', [ 'X-Tenant' => 'c' ], '/' . ('c' x 16) . '-$%7BOPEN/x',
      'interpolate: an unclosed ${ after many variables stays literal' ],
    [ '/lit/x', [ 'X-Tenant' => 'acme' ], '/lit-$%7BTENANT%7D/x',
      'without "interpolate" ${TENANT} stays literal' ],
    # noquery
    [ '/nq/x?a=1', [], '/nq/x?a=1', 'noquery: accepted, an HTTP backend still gets the query' ],
);

plan tests => 2 * @cases + 2 + 3 + 7 + 2 + 2,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_flags');
my $port = $echo->port;
Apache::TestRequest::module('core_pass_flags');
my $hostport = Apache::TestRequest::hostport();

sub count { my @r = $echo->requests; scalar @r }

for my $c (@cases) {
    my ($path, $hdrs, $want, $what) = @$c;
    my $before = count();
    my $res = GET $path, @$hdrs;
    if (!defined $want || $want =~ /^\d+\z/) {
        is $res->code, $want // 404, "$what: local " . ($want // 404) . " for $path";
        is count(), $before, "$what: the backend saw nothing";
        next;
    }
    my $rec = PrxTest::echo_of($res) || {};
    is $res->code, 200, "$what: 200 for $path";
    is $rec->{target}, $want, "$what: backend got $want";
}

# mapping=servlet replaces r->uri by the normalised path: <Location> sees it
{
    my $rec = PrxTest::echo_of(GET '/srv;s=1/app;v=2/seen/x') || {};
    is $rec->{target}, '/app;v=2/seen/x', 'mapping=servlet: the original remainder is forwarded';
    is PrxTest::header_of($rec, 'X-Location'), 'seen',
        'mapping=servlet: <Location> sections see the normalised path';
}

# ProxyPassReverse ... interpolate: the per-request copy of the table
my $res = GET '/ip/r', redirect_ok => 0, 'X-Tenant' => 'acme',
    'X-Echo-Status' => 302,
    'X-Echo-Header' => "Location: http://127.0.0.1:$port/t-acme/moved";
is $res->code, 302, 'the interpolated backend redirect reaches the client';
is $res->header('Location'), "http://$hostport/ip/moved",
    'ProxyPassReverse interpolate maps it back';
$res = GET '/ip/r', redirect_ok => 0, 'X-Tenant' => 'other',
    'X-Echo-Status' => 302,
    'X-Echo-Header' => "Location: http://127.0.0.1:$port/t-acme/moved";
is $res->header('Location'), "http://127.0.0.1:$port/t-acme/moved",
    'another tenant does not get the mapping of acme';

# AllowEncodedSlashes
for ([ '/ns/a%2Fb%3Fc', 200, '/ns/a%2Fb%3Fc', 'NoDecode: %2F kept, the decoded ? re-encoded' ],
     [ '/ns/a%2fb', 200, '/ns/a%2fb', 'NoDecode: an escape is kept as sent' ],
     [ '/ns/100%25', 400, undef, 'NoDecode: a decoded % that is no escape gives 400' ],
     [ '/on/a%2Fb', 200, '/on/a/b', 'On: %2F is decoded' ]) {
    my ($path, $code, $want, $what) = @$_;
    Apache::TestRequest::module($path =~ m{^/on/} ? 'core_pass_flags_slashes_on'
                                                  : 'core_pass_flags_slashes');
    my $res = GET $path;
    is $res->code, $code, "$what: $code";
    is((PrxTest::echo_of($res) || {})->{target}, $want, "$what: backend got " . ($want // 'nothing'))
        if defined $want;
}

# interpolate without ProxyPassInterpolateEnv On substitutes nothing
Apache::TestRequest::module('core_pass_flags_noenv');
$res = GET '/ip/x', 'X-Tenant' => 'acme';
is $res->code, 200, 'interpolate without ProxyPassInterpolateEnv: proxied';
is((PrxTest::echo_of($res) || {})->{target}, '/t-$%7BTENANT%7D/x',
    'interpolate without ProxyPassInterpolateEnv: ${TENANT} stays literal');

# the nocanon rule whose raw form did not match said so (§7.4)
ok((grep { /PRX00042: .*ignoring unsafe nocanon/ } PrxTest::errorlog_lines()),
    'the fallback from nocanon is logged');

PrxTest::errorlog_ok(expect => [qw(PRX00030)]);
