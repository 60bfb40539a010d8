# Tests for worker sharing at configuration time (spec core.md §8.2): a
# later ProxyPass whose URL starts with an earlier worker's URL (pure
# string prefix) uses that worker -- its own parameters are ignored, each
# with a PRX00002 warning naming both URLs, and it shares the connection
# pool; declaring the longer URL first gives two workers, two pools, each
# with its own parameters. Pools are told apart by the origin's
# per-connection id on one client connection; the workers by ProxyStatus.
# Config: t/conf/workers_sharing.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;
use PrxStatus;
use PrxHttpd;

plan tests => 3 + 4 + 2 + 5 + 2 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_sharing');
my $b = 'http://127.0.0.1:' . $echo->port;
Apache::TestRequest::module('workers_sharing');
sub conn { $_[0]->header('X-Echo-Conn') // 'none' }

# the warnings, printed when the configuration is read: "httpd -t" of
# this file
my ($valid, $out) = PrxHttpd::check_config('workers_sharing.conf');
my @startup = grep { /PRX00002/ } split /\n/, $out;
my $api_w = grep { /timeout=1 for \Q$b\E\/shop\/api\/ ignored.*worker \Q$b\E\/shop\/ / } @startup;
my $api_d = grep { /disablereuse=On for \Q$b\E\/shop\/api\/ ignored.*worker \Q$b\E\/shop\/ / } @startup;
ok $api_w && $api_d, 'PRX00002 for timeout=1 and disablereuse=On of .../shop/api/, naming .../shop/';
ok scalar(grep { /timeout=1 for \Q$b\E\/application\/ ignored.*worker \Q$b\E\/app / } @startup),
    'PRX00002: .../application/ shares .../app (string prefix)';
ok !grep({ m{\Q$b\E/f/} } @startup), 'no warning for the longer URL declared first';

# shared: /api/ uses the /shop/ worker -- same pool, its parameters
PrxTest::ua(keep_alive => 1);
my $s1 = GET '/shop/x';
my $a1 = GET '/api/y', 'X-Echo-Delay' => 1500;
is $a1->code, 200, 'the shared worker\'s timeout (ProxyTimeout 10), not timeout=1: 200 after 1.5 s';
is conn($a1), conn($s1), '/shop/ and /api/ requests share one backend connection';
my $a2 = GET '/api/z';
is conn($a2), conn($s1), 'disablereuse=On was ignored: still that connection';
is PrxTest::header_of(PrxTest::echo_of($a2) || {}, 'Connection'), 'Keep-Alive',
    'and it was asked to stay open';
my $ap = GET '/application/x', 'X-Echo-Delay' => 1500;
is $ap->code, 200, '.../application/ uses the .../app worker\'s timeout: 200 after 1.5 s';
is conn(GET '/app/y'), conn($ap), 'and its pool';

# the longer URL first: two workers, two pools, each its own timeout
my $d1 = GET '/deeper/x';
my $f1 = GET '/first/x';
my $d2 = GET '/deeper/y';
is $d1->code . ' ' . $f1->code, '200 200', 'both rules work';
isnt conn($f1), conn($d1), '/first/ gets a connection of its own pool';
is conn($d2), conn($d1), '/deeper/ keeps using its pool';
is((GET '/deeper/slow', 'X-Echo-Delay' => 1500)->code, 502, '/deeper/ has its own timeout=1: 502');
is((GET '/first/slow', 'X-Echo-Delay' => 1500)->code, 200, '/first/ has ProxyTimeout 10: 200');
PrxTest::ua();

# ProxyStatus lists the workers that exist, and only those
my $st = PrxStatus::parse_auto((GET '/server-status?auto')->content);
my @mine = sort grep { index($_, $b) == 0 } keys %$st;
is "@mine", join(' ', map { "$b$_" } qw(/app /f/ /f/deeper/ /shop/)),
    'four workers: /app, /f/, /f/deeper/, /shop/ (no /shop/api/, no /application/)';
is $st->{"$b/shop/"}{Elected}, 3, 'the /shop/ worker counted the /shop/ and /api/ requests (3)';

PrxTest::errorlog_ok(expect => ['PRX00314']);
