# Tests for vhost inheritance (spec core.md §3.7, §4.1): the main server's
# ProxyPass rules are inherited by every vhost and tried before the
# vhost's own, even with ProxyPassInherit Off (stock 2.4 behaviour); the
# main server's ProxyPassReverse, <Proxy> sections and workers (with their
# parameters) apply in the vhosts too.
# Config: t/conf/core_inherit.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my %cases = (
    core_inherit => [
        [ '/core-inherit/x?q=1',  '/main/x?q=1',  'the main server rule applies in the vhost' ],
        [ '/core-inherit/own/y',  '/main/own/y',  'it is tried before the vhost rule for a longer prefix' ],
        [ '/own/z',               '/vhost/own/z', 'the vhost rules apply where the main server has none' ],
    ],
    core_inherit_off => [
        [ '/core-inherit/x',      '/main/x',      'ProxyPassInherit Off: the main server rule still applies' ],
        [ '/own/z',               '/off/own/z',   'ProxyPassInherit Off: the vhost rule too' ],
    ],
);
my $n = 0;
$n += 2 * @$_ for values %cases;

plan tests => $n + 2 * 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_inherit');
my $port = $echo->port;

for my $vhost (sort keys %cases) {
    Apache::TestRequest::module($vhost);
    for my $c (@{ $cases{$vhost} }) {
        my ($path, $want, $what) = @$c;
        my $res = GET $path;
        is $res->code, 200, "$vhost: $what: 200 for $path";
        is((PrxTest::echo_of($res) || {})->{target}, $want,
            "$vhost: $what: backend got $want");
    }
}

for my $vhost (qw(core_inherit core_inherit_off)) {
    Apache::TestRequest::module($vhost);
    my $hostport = Apache::TestRequest::hostport();

    # the main server's ProxyPassReverse
    my $res = GET '/core-inherit/r', redirect_ok => 0,
        'X-Echo-Status' => 302,
        'X-Echo-Header' => "Location: http://127.0.0.1:$port/main/moved";
    is $res->header('Location'), "http://$hostport/core-inherit/moved",
        "$vhost: the main server's ProxyPassReverse applies";

    # the main server's <Proxy> section
    my @before = $echo->requests;
    $res = GET '/core-inherit/deny';
    my @after = $echo->requests;
    ok $res->code == 403 && @after == @before,
        "$vhost: the main server's <Proxy> section denies (got " . $res->code . ')';

    # the main server's worker, with its disablereuse=On
    PrxTest::ua(keep_alive => 1);
    my @c = map { (GET "/core-inherit/c$_")->header('X-Echo-Conn') // 'none' } 1, 2;
    PrxTest::ua();
    ok $c[0] ne 'none' && $c[1] ne $c[0],
        "$vhost: the main server's worker keeps its disablereuse=On (@c)";
}

PrxTest::errorlog_ok();
