# Tests for backend connection reuse per worker (spec core.md §5
# disablereuse, enablereuse, addressttl; §8.3 generic worker; §8.5 reuse
# rule; §3.5/§3.6 workers defined by <Proxy url> and ProxySet): N requests
# on one client connection (so one child, one pool) are counted as
# connections the origin accepted, from its per-connection id.
# Config: t/conf/workers_reuse.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my $n = 4;
my @cases = (
    # prefix, what, connections expected for $n requests, Connection: sent
    [ '/default/',   'the default',                    1,  'Keep-Alive' ],
    [ '/disable/',   'disablereuse=On',                $n, 'close' ],
    [ '/enableoff/', 'enablereuse=Off',                $n, 'close' ],
    [ '/enableon/',  'enablereuse=On',                 1,  'Keep-Alive' ],
    [ '/noaddr/',    'addressttl=0',                   $n, 'close' ],
    [ '/addr/',      'addressttl=30',                  1,  'Keep-Alive' ],
    [ '/generic/',   'RewriteRule [P], no worker (generic)', $n, 'close' ],
    [ '/section/',   '[P] to a worker of <Proxy> + ProxySet', 1, 'Keep-Alive' ],
    [ '/inline/',    '[P] to a worker of <Proxy url key=value>', 1, 'Keep-Alive' ],
    [ '/viapass/',   '[P] into a ProxyPass worker\'s URL space', 1, 'Keep-Alive' ],
    [ '/set/',       'ProxySet url disablereuse=On after ProxyPass', $n, 'close' ],
);
plan tests => 3 * @cases + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_reuse');
Apache::TestRequest::module('workers_reuse');

my %observed;
for my $c (@cases) {
    my ($prefix, $what, $want, $conn_hdr) = @$c;
    PrxTest::ua(keep_alive => 1);
    my @r = map { GET "$prefix$_" } 1 .. $n;
    is join(' ', map { $_->code } @r), join(' ', (200) x $n), "$what: $n requests answer 200";
    # the origin's own record of the connections it accepted
    my $target = $prefix eq '/viapass/' ? '/default/' : $prefix;
    my @recs = grep { $_->{target} =~ m{^\Q$target\E\d+\z} } $echo->requests;
    my %conns = map { $_->{conn} => 1 } @recs;
    $echo->clear;
    $observed{$what} = scalar keys %conns;
    is scalar(keys %conns), $want,
        "$what: $want backend connection" . ($want == 1 ? '' : 's')
        . " for $n requests (saw " . scalar(@recs) . ' requests on '
        . scalar(keys %conns) . ')';
    is PrxTest::header_of($recs[0] || {}, 'Connection'), $conn_hdr,
        "$what: sent Connection: $conn_hdr";
}
PrxTest::ua();
diag join ', ', map { "$_: $observed{$_}" } map { $_->[1] } @cases;

PrxTest::errorlog_ok();
