# Tests for BalancerPersist (spec balancer.md §12.2) across a graceful
# restart: with it On, the balancer's and its members' shared state
# survives -- a member put in error state by a failure stays in error, a
# loadfactor changed and a member added through the balancer-manager
# (prx_balancer_manage_add) are still there, the counters go on; with it
# Off (a vhost: it is not inherited) everything starts again from the
# configuration. A second httpd (t/lib/PrxHttpd.pm) restarted with
# SIGUSR1; config t/conf/balancer_persist.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use Time::HiRes ();
use PrxTest;
use PrxHttpd;

plan tests => 5 + 1 + 7 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_headers.c');

my $a = PrxTest::backend('echo', name => 'balancer_per_a', args => ['--set', 'header=X-Origin: a']);
my $c = PrxTest::backend('echo', name => 'balancer_per_c', args => ['--set', 'header=X-Origin: c']);
my $httpd = PrxHttpd->start(conf => 'balancer_persist.conf', define => 'PRX_BALANCER_PERSIST',
                            port => PrxTest::vars('backend_balancer_per_httpd_port'));
my %port = (per => $httpd->port,
            nop => Apache::Test::config()->{vhosts}{balancer_per_off}{port});
my %nonce = (per => 'per-nonce', nop => 'nop-nonce');
my $aurl = 'http://127.0.0.1:' . $a->port;
my $curl = 'http://127.0.0.1:' . $c->port;
my $ua = LWP::UserAgent->new(timeout => 15);

sub req {
    my ($b, $method, $path, @rest) = @_;
    my $url = "http://127.0.0.1:$port{$b}$path";
    my @h = (Host => "localhost:$port{$b}", Referer => "http://localhost:$port{$b}/balancer-manager");
    return $method eq 'POST' ? $ua->post($url, @h, Content => $rest[0]) : $ua->get($url, @h);
}
sub manage { my ($b, @kv) = @_; req($b, 'POST', '/balancer-manager', [ b => $b, nonce => $nonce{$b}, @kv ]) }
# { member name => { field => value } } from the manager's XML
sub members {
    my $b = shift;
    my $all = req($b, 'GET', '/balancer-manager?xml=1')->content;
    my ($x) = $all =~ m{<httpd:balancer>\s*<httpd:name>balancer://$b</httpd:name>(.*?)</httpd:balancer>}s;
    my %m;
    while (($x // '') =~ m{<httpd:worker>(.*?)</httpd:worker>}sg) {
        my $wx = $1;
        my %w;
        $w{$1} //= $2 while $wx =~ m{<httpd:(\w+)>([^<]*)</httpd:\1>}g;
        $m{ $w{name} } = \%w;
    }
    return \%m;
}
sub dead_of { my $m = shift; (grep { $_ ne $aurl && $_ ne $curl } keys %$m)[0] // '' }
my %path = (per => '/p/x', nop => '/q/x');
sub served { my $b = shift; join ' ', map { req($b, 'GET', $path{$b})->header('X-Origin') // '?' } 1 .. shift }

# before: the dead member fails once (error state), a loadfactor changed,
# a member added and enabled, for both balancers
my %before;
for my $b (qw(per nop)) {
    served($b, 4);
    manage($b, w => $aurl, w_lf => 3);
    manage($b, b_nwrkr => $curl, b_wyes => 1);
    manage($b, w => $curl, w_status_D => 0);
    $before{$b} = members($b);
}
my $m = $before{per};
like $m->{ dead_of($m) }{status} // '', qr/\bErr\b/, 'before: the dead member is in error state';
is $m->{$aurl}{loadfactor}, '3.00', 'a has loadfactor 3 (manager)';
ok $m->{$curl}, 'c was added (manager)';
like $m->{$curl}{status} // '', qr/^Init Ok/, 'and enabled';
my $s = served('per', 12);
ok $s =~ /c/ && $s =~ /a/, "a and c serve ($s)";
my $elected = members('per')->{$aurl}{elected} // 0;
ok $elected > 0, "a elected $elected times";

# graceful restart
my @gen = grep { /resuming normal operations/ } PrxTest::errorlog_lines(settle => 0);
kill 'USR1', $httpd->{pid};
my $deadline = Time::HiRes::time() + 15;
while (Time::HiRes::time() < $deadline) {
    last if grep({ /resuming normal operations/ } PrxTest::errorlog_lines(settle => 0)) > @gen;
    Time::HiRes::sleep(0.2);
}
Time::HiRes::sleep(0.5);

# BalancerPersist On: everything kept
$m = members('per');
like $m->{ dead_of($m) }{status} // '', qr/\bErr\b/, 'after: the dead member is still in error state';
is $m->{$aurl}{loadfactor}, '3.00', "a's loadfactor 3 is kept (not the configuration's 1)";
ok $m->{$curl}, 'the member added at run time is back';
like $m->{$curl}{status} // '', qr/^Init Ok/, 'with its state (enabled)';
ok(($m->{$aurl}{elected} // 0) >= $elected, 'the counters go on (a elected ' . ($m->{$aurl}{elected} // 0) . ')');
$s = served('per', 12);
ok $s =~ /c/, "c serves after the restart ($s)";
is scalar(grep { /PRX00004/ } PrxTest::errorlog_lines(settle => 0.3)), 2,
    'the dead member was not tried again (PRX00004 only from before, once per balancer)';

# BalancerPersist Off (the vhost): from the configuration again
$m = members('nop');
unlike $m->{ dead_of($m) }{status} // 'none', qr/\bErr\b/, 'Off: the dead member starts without error state';
is $m->{$aurl}{loadfactor}, '1.00', "Off: a's loadfactor is the configuration's again";
ok !$m->{$curl}, 'Off: the added member is gone';
is $m->{$aurl}{elected}, 0, 'Off: the counters start at 0';

$httpd->stop;
PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016)]);
