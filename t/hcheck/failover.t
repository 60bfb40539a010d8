# Tests for health checks in front of request routing (spec hcheck.md §6,
# balancer.md §3 flag C): with both origins up both members serve; once
# one origin dies its member is HcFl before the next client request and
# every request goes to the other member with no error (maxattempts=0, so
# a request sent to the dead member would fail); after the origin is back
# the member serves again once hcpasses (3) checks passed, not before.
# Checks run in the watchdog thread (ProxyHCTPsize 0). Second httpd:
# t/conf/hcheck_failover.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Time::HiRes ();
use PrxTest;
use PrxHttpd;

plan tests => 2 + 4 + 4 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_hcheck.c',
                'mod_proxy_balancer.c', 'mod_status.c');

my $httpd = PrxHttpd->start(conf => 'hcheck_failover.conf',
    define => 'PRX_HCHECK_FAILOVER',
    port => PrxTest::vars('backend_hcheck_failover_httpd_port'));
my @p = map { PrxTest::vars("backend_hcf_b${_}_port") } 1 .. 2;
my @b = map { PrxTest::backend('echo', name => "hcf_b$_") } 1 .. 2;

sub get {
    my $path = shift;
    my $raw = PrxTest::raw_request($httpd->port,
        "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n") // '';
    my ($r) = PrxTest::parse_responses($raw, eof => 1);
    return $r || { status => 0, body => '' };
}
sub status_of {
    my $port = shift;
    my $raw = get('/server-status?auto')->{body};
    my (%n, %s);
    while ($raw =~ /^ProxyBalancer\[(\d+)\]Worker\[(\d+)\](Name|Status): (.*?)\r?$/mg) {
        ($3 eq 'Name' ? $n{"$1.$2"} : $s{"$1.$2"}) = $4;
    }
    my ($k) = grep { $n{$_} eq "http://127.0.0.1:$port" } keys %n;
    return $k ? $s{$k} : '';
}
sub wait_for {
    my ($cond, $max) = @_;
    my $t0 = Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < $max) {
        return Time::HiRes::time() - $t0 if $cond->();
        Time::HiRes::sleep(0.02);
    }
    return undef;
}
# status codes and serving origins of `n` requests
sub burst {
    my $n = shift;
    my (%codes, %by);
    for (1 .. $n) {
        my $r = get('/f/x');
        $codes{ $r->{status} }++;
        my $rec = PrxTest::echo_of($r->{body}) || {};
        $by{ $rec->{port} // 'none' }++;
    }
    return (\%codes, \%by);
}

# --- both up: both serve --------------------------------------------------------------
Time::HiRes::sleep(0.5);
my ($codes, $by) = burst(6);
is_deeply $codes, { 200 => 6 }, 'both origins up: 200 x 6';
ok $by->{ $p[0] } && $by->{ $p[1] }, 'both members serve';

# --- b1 dies: HcFl before a client request, no error -----------------------------------
$b[0]->stop;
my $t = wait_for(sub { status_of($p[0]) =~ /\bHcFl\b/ }, 3);
ok defined $t, sprintf('b1 HcFl %.2f s after its origin died', $t // -1);
($codes, $by) = burst(10);
is_deeply $codes, { 200 => 10 }, 'ten requests, no error';
is $by->{ $p[1] } // 0, 10, 'all served by b2';
unlike status_of($p[0]), qr/\bErr\b/, 'no request reached b1 (it never got Err)';

# --- b1 back: in service after 3 passes, not before ----------------------------------------
$b[0] = PrxTest::backend('echo', name => 'hcf_b1');
my $t0 = Time::HiRes::time();
$t = wait_for(sub { status_of($p[0]) !~ /\bHcFl\b/ }, 4);
ok defined $t, sprintf('b1 back %.2f s after its origin', $t // -1);
my @heads = grep { ($_->{request_line} // '') eq 'HEAD /ping HTTP/1.0' } $b[0]->requests;
ok @heads >= 3, 'after at least hcpasses (3) checks (' . scalar(@heads) . ')';
($codes, $by) = burst(6);
is_deeply $codes, { 200 => 6 }, '200 x 6';
ok $by->{ $p[0] }, 'b1 serves again';

$httpd->stop;
PrxTest::errorlog_ok(expect => []);
