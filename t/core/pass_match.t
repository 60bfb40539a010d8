# Tests for ProxyPassMatch (spec core.md §3.2, §7.3): $0-$9 substitution,
# the whole path appended when the target has no $n, "!" exclusions,
# anchors, the 64 KiB substitution limit, and pattern workers (§8.3):
# their parameters apply and their reuse default is off unless
# enablereuse=on. Config: t/conf/core_pass_match.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;

# [ request path, target the backend must get (undef: not proxied), why ]
my @cases = (
    [ '/m/abc/42',      '/M/42/abc',  '$1 and $2 are substituted' ],
    [ '/m/abc/42?q=1',  '/M/42/abc?q=1', 'the query string is appended' ],
    [ '/m/secret',      undef,        '"!" before the rule excludes' ],
    [ '/m/abc/x',       undef,        'no match: not proxied' ],
    [ '/zero/a/b',      '/Z/zero/a/b', '$0 is the whole match' ],
    [ '/opt/b',         '/O/-b',      'an unmatched group is empty' ],
    [ '/opt/ab',        '/O/a-b',     'a matched optional group' ],
    [ '/esc/foo',       '/E/$1/foo',  '\$1 is a literal $1' ],
    [ '/x/a.gif',       '/G/x/a.gif', 'no $n: the whole path is appended' ],
    [ '/x/a.gif?v=2',   '/G/x/a.gif?v=2', 'no $n: the query still follows' ],
    [ '/deep/anywhere/x', '/A/deep/anywhere/x', 'an unanchored regex matches anywhere' ],
    [ '/start/x',       '/S/start/x', 'an anchored regex at the start' ],
    [ '/x/start/y',     undef,        'the anchor keeps it from matching later' ],
);

plan tests => 2 * @cases + 4 + 3 + 6 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_match');
Apache::TestRequest::module('core_pass_match');

sub count { my @r = $echo->requests; scalar @r }

for my $c (@cases) {
    my ($path, $want, $what) = @$c;
    my $before = count();
    my $res = GET $path;
    if (!defined $want) {
        is $res->code, 404, "$what: local 404 for $path";
        is count(), $before, "$what: the backend saw nothing";
        next;
    }
    my $rec = PrxTest::echo_of($res) || {};
    is $res->code, 200, "$what: 200 for $path";
    is $rec->{target}, $want, "$what: backend got $want";
}

# the substitution of 9 copies of a 7500-byte path exceeds 64 KiB: 500,
# nothing sent; 9 copies of a short one are fine
{
    my $before = count();
    my $res = GET '/long/' . ('a' x 7500);
    is $res->code, 500, 'a substituted URL longer than 64 KiB gives 500';
    is count(), $before, 'and reaches no backend';
    $res = GET '/long/ab';
    is $res->code, 200, 'a short substitution through the same rule works';
    is((PrxTest::echo_of($res) || {})->{target}, '/' . ('ab' x 9),
        'all nine copies are substituted');
}

# pattern worker parameters apply: timeout=1 against a 4 s delay -> 502
# after about a second, not after ProxyTimeout (10)
{
    my $t0 = Time::HiRes::time();
    my $res = GET '/pwt/slow', 'X-Echo-Delay' => 4000;
    my $took = Time::HiRes::time() - $t0;
    is $res->code, 502, 'a pattern worker honours its timeout= parameter';
    ok $took >= 0.9 && $took < 3.5, "after about 1 s (took ${\ sprintf '%.1f', $took} s)";
    $res = GET '/pwt/fast';
    is $res->code, 200, 'the next request through it works';
}

# connection reuse: two requests on one keep-alive client connection
sub conns {
    my $prefix = shift;
    PrxTest::ua(keep_alive => 1);
    # remainders long enough for the URL to be at least as long as the
    # pattern worker's name ($n counted), as the lookup requires (§8.3)
    my @c = map { (GET "$prefix$_")->header('X-Echo-Conn') // 'none' }
        qw(one two);
    PrxTest::ua();
    return @c;
}
my @c = conns('/pw/');
ok $c[0] ne 'none', 'pattern worker requests reach the backend';
isnt $c[1], $c[0], 'a pattern worker opens a new connection per request';
@c = conns('/pwr/');
ok $c[0] ne 'none', 'enablereuse=on pattern worker requests reach the backend';
is $c[1], $c[0], 'enablereuse=on lets a pattern worker reuse its connection';
{
    my $port = $echo->port;
    my $res = GET "/hp/$port/x?q=1";
    is((PrxTest::echo_of($res) || {})->{target}, '/hp/x?q=1',
        'a port substituted from the path reaches that port');
    @c = conns("/hp/$port/");
    ok $c[0] ne 'none', 'requests through a worker with $n in the port work';
    isnt $c[1], $c[0], 'with $n in the port, enablereuse=on is ignored: no reuse';
    # logged at startup, after the configuration was read
    my @log = do { open my $fh, '<', PrxTest::error_log() or die $!; <$fh> };
    ok((grep { m{PRX00003: worker http://127\.0\.0\.1:\$1/hp/\$2: enablereuse/disablereuse ignored} } @log),
        'and a startup warning says so');
}
@c = conns('/plain/');
ok $c[0] ne 'none', 'plain worker requests reach the backend';
is $c[1], $c[0], 'a plain worker reuses by default';

PrxTest::errorlog_ok(expect => [qw(PRX00041 PRX00314)]);
