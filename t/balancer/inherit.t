# Tests for balancer inheritance (spec balancer.md §12.3): a virtual host
# sees the main server's balancers unless both BalancerInherit and
# ProxyPassInherit are Off (stock's code; its documentation says either
# suffices); a vhost that defines a balancer of the same name gets the
# main server's members with its own shared settings (here
# stickysession), the main server keeping its own. A second httpd with its
# own main server (t/lib/PrxHttpd.pm); config t/conf/balancer_inherit.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use PrxTest;
use PrxHttpd;

plan tests => 2 + 3 + 2 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_headers.c');

my $a = PrxTest::backend('echo', name => 'balancer_inh_a', args => ['--set', 'header=X-Origin: a']);
my $b = PrxTest::backend('echo', name => 'balancer_inh_b', args => ['--set', 'header=X-Origin: b']);
my $httpd = PrxHttpd->start(conf => 'balancer_inherit.conf', define => 'PRX_BALANCER_INHERIT',
                            port => PrxTest::vars('backend_balancer_inh_httpd_port'));
my %port = map { $_ => Apache::Test::config()->{vhosts}{"balancer_inh_$_"}{port} } qw(v1 v2 v3 v4 v5);
my $ua = LWP::UserAgent->new(timeout => 15);

sub get {
    my ($port, $path, @h) = @_;
    return $ua->get("http://127.0.0.1:$port$path", @h);
}
sub origin { my $r = shift; $r->code == 200 ? $r->header('X-Origin') // '?' : 'E' . $r->code }

is origin(get($httpd->port, '/main/x')), 'a', 'the main server uses its balancer';
is origin(get($port{v1}, '/own/x')), 'a', 'a vhost inherits it by default';
is origin(get($port{v2}, '/own/x')), 'a', 'BalancerInherit Off alone: still inherited';
is origin(get($port{v3}, '/own/x')), 'a', 'ProxyPassInherit Off alone: still inherited';
is origin(get($port{v4}, '/own/x')), 'E503', "both Off: the vhost's ProxyPass made its own balancer, without members: 503";
my @l = grep { /PRX00608/ && m{balancer://inh} } PrxTest::errorlog_lines(settle => 0.3);
ok scalar(@l) >= 1, 'logged: no workers in balancer (PRX00608)';
is origin(get($port{v1}, '/main/x')), 'a', "the main server's ProxyPass applies in vhosts";

# merged: the main server's members, the vhost's stickysession
my @o = map { origin(get($port{v5}, '/own/x')) } 1 .. 4;
is "@o", 'a a a a', "a vhost's balancer of the same name has the main server's members";
my $res = get($port{v5}, '/own/x', Cookie => 'S=abc.ra');
is $res->header('X-Session-Route'), 'ra', "and its own stickysession (route ra found)";
$res = get($httpd->port, '/main/x', Cookie => 'S=abc.ra');
ok !defined $res->header('X-Session-Route'), 'the main server\'s balancer has no stickysession';
is scalar($b->requests), 0, "the vhost's own member is not used";

$httpd->stop;
PrxTest::errorlog_ok(expect => [qw(PRX00608)]);
