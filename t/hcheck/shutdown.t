# mod_proxy_hcheck while httpd goes away: the health checks run in a
# watchdog thread of one child (and on a pool of check threads); stopping
# or gracefully restarting httpd right after it started, while checks are
# in flight (one origin answers slowly), must end every child cleanly: no
# "exit signal" in the error log, no sanitizer report. A child of the
# sanitizer build once died with SIGSEGV at such a stop; the checks now
# stop first thing at child exit (a pre-cleanup of the child's pool).
# Config: t/conf/hcheck_shutdown.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Time::HiRes ();
use PrxTest;
use PrxHttpd;

plan tests => 5,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_proxy_hcheck.c', 'mod_watchdog.c', 'mod_lbmethod_byrequests.c');

my $fast = PrxTest::backend('echo', name => 'hcs_fast');
my $slow = PrxTest::backend('echo', name => 'hcs_slow', args => ['--set', 'delay=300']);
my $port = PrxTest::vars('backend_hcheck_shutdown_httpd_port');
my $out = PrxTest::vars('t_logs') . '/PRX_HCHECK_SHUTDOWN/stdout';

sub start {
    return PrxHttpd->start(conf => 'hcheck_shutdown.conf', define => 'PRX_HCHECK_SHUTDOWN',
        port => $port);
}
# requests the origins got so far (the health checks among them)
sub probes { scalar($fast->requests) + scalar($slow->requests) }

# stopped at once, and after 50 .. 400 ms: checks starting, in flight,
# done
my $stops = 0;
for my $ms (0, 50, 120, 200, 300, 400, 0, 150, 250, 350, 30, 80, 170, 230, 280, 450) {
    my $h = start();
    Time::HiRes::sleep($ms / 1000);
    $h->stop;
    $stops++;
}
is $stops, 16, 'started and stopped 16 times';
ok probes() > 0, 'health checks ran meanwhile (' . probes() . ' probes)';

# graceful restarts with checks in flight: the old children exit while
# the new generation starts its watchdog
my $h = start();
for (1 .. 3) {
    Time::HiRes::sleep(0.25);
    kill 'USR1', $h->pid;
}
Time::HiRes::sleep(0.5);
ok kill(0, $h->pid), 'httpd still runs after 3 graceful restarts';
$h->stop;

my $report = do { local (@ARGV, $/) = $out; <> } // '';
ok $report !~ /AddressSanitizer|runtime error:|Segmentation/,
    'no sanitizer report or crash on its stderr';

# the error log: no child ended by a signal
PrxTest::errorlog_ok();
