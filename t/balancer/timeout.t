# Tests for the balancer's timeout= (spec balancer.md §8 step 8): when no
# member is usable the election is tried again for up to `timeout`
# seconds, so a member whose retry passes meanwhile takes the request;
# without timeout the answer is 503 at once; when nothing becomes usable,
# 503 once the timeout is spent. Config: t/conf/balancer_timeout.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;

plan tests => 4 + 3 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c');

Apache::TestRequest::module('balancer_timeout');

sub timed_get {
    my $t0 = Time::HiRes::time();
    my $res = GET shift;
    return ($res, Time::HiRes::time() - $t0);
}

# timeout=5: the member's retry (2 s) passes during the wait
my ($res, $t) = timed_get('/wait/hello.txt');
is $res->code, 503, 'the only member is down: 503, and it is in error state';
my $t_err = Time::HiRes::time();
my $echo = PrxTest::backend('echo', name => 'balancer_tm_wait');
($res, $t) = timed_get('/wait/x');
is $res->code, 200, 'origin back, member still in error: the request waits and gets 200';
ok $t > 1 && $t < 4, sprintf('it waited for the retry to pass (%.2f s of at most 5)', $t);
is scalar($echo->requests), 1, 'the origin got it';

# no timeout: 503 at once
($res) = timed_get('/none/x');
is $res->code, 503, 'without timeout: the member down, 503';
my $echo2 = PrxTest::backend('echo', name => 'balancer_tm_none');
($res, $t) = timed_get('/none/x');
is $res->code, 503, 'origin back within retry: 503 at once';
ok $t < 0.8, sprintf('without waiting (%.2f s)', $t);

# nothing becomes usable: 503 once the timeout is spent
timed_get('/expire/x');
($res, $t) = timed_get('/expire/x');
is $res->code, 503, 'nothing usable during timeout=1: 503';
ok $t >= 0.9 && $t < 2.5, sprintf('after the timeout (%.2f s)', $t);
ok scalar(grep { /PRX00605/ && /tm-expire/ } PrxTest::errorlog_lines(settle => 0.3)) >= 1,
    'the wait is logged (PRX00605)';

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016 PRX00607)]);
