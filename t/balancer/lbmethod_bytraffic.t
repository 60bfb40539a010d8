# Tests for the bytraffic lbmethod (spec lbmethods.md §4): the member
# with the fewest bytes (sent to it plus read from it) per unit of
# loadfactor is elected. With equal weights a member whose responses are
# three times as large gets about a third of the requests; with the same
# responses and weights 2 : 1 the first carries twice the bytes, so gets
# twice the requests. Config: t/conf/balancer_lbmethods.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 3 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_bytraffic.c');

# a answers 10000 bytes under /t1/, b 30000; both 5000 under /t2/
my $a = PrxTest::backend('echo', name => 'balancer_lb_a',
    args => ['--set', 'header=X-Origin: a', '--route', '/t1/=body=10000', '--route', '/t2/=body=5000']);
my $b = PrxTest::backend('echo', name => 'balancer_lb_b',
    args => ['--set', 'header=X-Origin: b', '--route', '/t1/=body=30000', '--route', '/t2/=body=5000']);
Apache::TestRequest::module('balancer_lbmethods');

sub counts {
    my ($path, $n) = @_;
    my %c;
    for (1 .. $n) {
        my $res = GET $path;
        $c{ $res->code == 200 ? $res->header('X-Origin') // '?' : 'E' . $res->code }++;
    }
    return \%c;
}

# equal weights, responses 10000 : 30000 bytes -> requests about 3 : 1
my $c = counts('/traffic/x', 40);
ok !grep({ /^E/ } keys %$c), 'no errors';
my $ratio = ($c->{a} // 0) / (($c->{b} // 0) || 1);
ok $ratio >= 2.6 && $ratio <= 3.4, sprintf('responses 1 : 3 in size: requests %d : %d (ratio %.2f, want 3 +- 0.4)',
    $c->{a} // 0, $c->{b} // 0, $ratio);
ok abs(($c->{a} // 0) * 10000 - ($c->{b} // 0) * 30000) <= 30000,
    'the bytes carried are equal within one large response';
diag sprintf 'measured bytraffic 1:3 sizes -> %d:%d requests', $c->{a} // 0, $c->{b} // 0;

# weights 2 : 1, equal responses -> requests 2 : 1
$c = counts('/traffic21/x', 30);
ok abs(($c->{a} // 0) - 20) <= 1, 'loadfactor 2 : 1, same responses: a ' . ($c->{a} // 0) . ' of 30 (want 20 +- 1)';
ok abs(($c->{b} // 0) - 10) <= 1, 'b ' . ($c->{b} // 0) . ' of 30 (want 10 +- 1)';
diag sprintf 'measured bytraffic 2:1 weights -> %d:%d requests', $c->{a} // 0, $c->{b} // 0;

PrxTest::errorlog_ok();
