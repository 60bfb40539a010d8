# Tests for error state and retry (spec core.md §5.1 flags I and E, §8.6):
# a worker with status=-I whose origin refuses the connection enters error
# state (PRX00004) for `retry` seconds; the state is shared by every child
# (ProxyStatus shows Err from each, and each refuses requests with 503
# without contacting the origin, even once the origin is back); after
# retry the worker is used again and Err is cleared. A default worker
# (outside a balancer, I implied) never enters error state: 503 while its
# origin is dead, 200 as soon as it is back. Held client connections keep,
# under prefork, one child busy each, so that the next connection reaches
# another child; the access log names the child that served each request.
# Run it under prefork too: PRX_MPM=prefork t/run-suite t/workers/retry.t
# (scripts/test does). Config: t/conf/workers_retry.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;
use PrxStatus;

plan tests => 6 + 10 + 8 + 7 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $retry = 6;
my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $port = Apache::Test::config()->{vhosts}{workers_retry}{port}
    or die 'no port for workers_retry';
my $bport = PrxTest::vars('backend_workers_retry_port');
my $name = "http://127.0.0.1:$bport/err/";
my $log = PrxTest::vars('t_logs') . '/workers_retry_access.log';
my $tag = 0;

# GET on a held connection, with a tag naming it in the access log;
# returns the response and the pid that served it.
sub tagged_get {
    my ($conn, $path) = @_;
    my $t = 'tag=' . ++$tag;
    my $res = $conn->get($path . ($path =~ /\?/ ? '&' : '?') . $t);
    return ($res, PrxStatus::served_by($log, $t) // '?');
}
sub status_of {
    my ($conn, $worker) = @_;
    my ($res, $pid) = tagged_get($conn, '/server-status?auto');
    my $w = PrxStatus::parse_auto($res->{body})->{$worker} || {};
    return ($w, $pid);
}
# Sockets of any state with the origin port at either end, but listeners:
# what a connection from the proxy would leave behind.
sub origin_sockets {
    my $p = shift;
    my $n = 0;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        while (<$fh>) {
            my ($local, $remote, $st) = (split ' ')[1, 2, 3];
            next unless $st && $st ne '0A';
            $n++ if grep { /:([0-9A-F]{4})\z/ && hex($1) == $p } $local, $remote;
        }
    }
    return $n;
}

# GET on a new connection (a proxy error response closes it): the
# response and the pid that served it.
sub once {
    my $path = shift;
    my $c = PrxStatus::Conn->new($port);
    my @r = tagged_get($c, $path);
    $c->close;
    return @r;
}
sub err_in { ($_[0]{Status} // '') =~ /\bErr\b/ }

# --- status=-I, origin down: error state --------------------------------------
# h1 holds the child that first shows the status; under prefork the
# failing request then reaches another child
my %pids;
my $h1 = PrxStatus::Conn->new($port);
my ($w, $p1) = status_of($h1, $name);
$pids{$p1 // 'none'} = 1;
ok !err_in($w), "before: no Err ('" . ($w->{Status} // 'not listed') . "', child $p1)";
my $t_err = Time::HiRes::time();
my ($res, $pid) = once('/err/first');
# the error time lies between $t_err and $t_err_after (under prefork the
# request may wait for a child to be spawned): checks "still in the
# window" count from the first, "after the window" from the second
my $t_err_after = Time::HiRes::time();
$pids{$pid // 'none'} = 1;
is $res->{status}, 503, "status=-I, origin refusing: 503 (child $pid)";
my @l = grep { /PRX00004/ && /\Q$name\E/ } PrxTest::errorlog_lines(settle => 0.3);
is scalar(@l), 1, 'the worker was put in error state (PRX00004)';
like $l[0] // '', qr/for $retry seconds/, "for retry=$retry seconds";
($w) = status_of($h1, $name);
ok err_in($w), "ProxyStatus: Err, seen by child $p1";
ok(($w->{Errors} // 0) >= 1, 'Errors counts it (' . ($w->{Errors} // 'none') . ')');

# --- the state is shared: every child refuses, the origin is not contacted --------
my $h2 = PrxStatus::Conn->new($port);
my $p2;
($w, $p2) = status_of($h2, $name);
$pids{$p2 // 'none'} = 1;
ok err_in($w), "Err seen by the next connection's child ($p2)";
my $echo = PrxTest::backend('echo', name => 'workers_retry');
($res, $pid) = once('/err/while-back');
$pids{$pid // 'none'} = 1;
is $res->{status}, 503, "origin back within retry: still 503 (child $pid)";
my $h3 = PrxStatus::Conn->new($port);
my $p3;
($w, $p3) = status_of($h3, $name);
$pids{$p3 // 'none'} = 1;
ok err_in($w), "Err seen by child $p3";
($res, $pid) = tagged_get($h1, '/err/from-h1');
is $res->{status}, 503, "child $p1 refuses too";
$h1->close;
is scalar($echo->requests), 0, 'the origin got no request';
is origin_sockets($echo->port), 0, 'nor any connection';
my @refused = grep { /PRX00050/ && /\Q$name\E/ } PrxTest::errorlog_lines(settle => 0.3);
is scalar(@refused), 2, 'each refusal logged PRX00050 (' . scalar(@refused) . ')';
is scalar(grep { /PRX00004/ && /\Q$name\E/ } PrxTest::errorlog_lines(settle => 0.3)), 1,
    'none of them put the worker in error state again (one PRX00004 in all)';
ok Time::HiRes::time() - $t_err < $retry - 0.5,
    sprintf('all that within the retry window (%.1f s)', Time::HiRes::time() - $t_err);
SKIP: {
    skip "which child serves a connection is up to $mpm", 1 unless $mpm eq 'prefork';
    is scalar(keys %pids), 3, 'prefork: three children took part (' . join(' ', sort keys %pids) . ')';
}
diag 'children that served: ' . join(' ', sort keys %pids);

# a refusal is no new error: one late in the window does not extend it
Time::HiRes::sleep($t_err + $retry - 1.5 - Time::HiRes::time());
($res, $pid) = once('/err/late');
is $res->{status}, 503, "refused 1.5 s before the window ends (child $pid)";

# --- after retry: used again, Err cleared in every child ---------------------------
Time::HiRes::sleep($t_err_after + $retry + 0.5 - Time::HiRes::time());
($res, $pid) = tagged_get($h2, '/err/after');
is $res->{status}, 200, "after retry=$retry s the worker is used again: 200 (child $pid)";
is((PrxTest::echo_of($res->{body}) || {})->{target}, '/err/after?tag=' . $tag,
    'the origin got the request');
$h1 = PrxStatus::Conn->new($port);
for my $c ($h1, $h2, $h3) {
    my $spid;
    ($w, $spid) = status_of($c, $name);
    ok !err_in($w) && ($w->{Status} // '') =~ /\bOk\z/,
        "Err cleared, Ok (child $spid): '" . ($w->{Status} // '') . "'";
}
is $w->{Errors}, 0, 'Errors starts again from 0 after a successful connect (§8.6)';
($res, $pid) = tagged_get($h3, '/err/after-h3');
is $res->{status}, 200, "child $pid uses it again too";
$_->close for $h1, $h2, $h3;
$echo->stop;

# --- a default worker (I implied) never enters error state -------------------------------
Apache::TestRequest::module('workers_retry');
my $ign = 'http://127.0.0.1:' . PrxTest::vars('backend_workers_retry_ign_port') . '/ign/';
my @codes = map { (GET "/ign/$_")->code } 1 .. 3;
is "@codes", '503 503 503', 'default worker, origin down: 503 each time';
my $st = PrxStatus::parse_auto((GET '/server-status?auto')->content)->{$ign} || {};
like $st->{Status} // '', qr/\bIgn\b/, "ProxyStatus shows Ign ('" . ($st->{Status} // '') . "')";
unlike $st->{Status} // 'Err', qr/\bErr\b/, 'and no Err';
like $st->{Status} // '', qr/\bOk\z/, 'it stays usable (Ok)';
my $echo2 = PrxTest::backend('echo', name => 'workers_retry_ign');
$res = GET '/ign/back';
is $res->code, 200, 'origin back: 200 at once, no retry wait';
is((PrxTest::echo_of($res) || {})->{target}, '/ign/back', 'the origin got it');
ok !grep({ /PRX00004/ && /\Q$ign\E/ } PrxTest::errorlog_lines(settle => 0.3)),
    'no PRX00004 for the default worker';

PrxTest::errorlog_ok(expect => [qw(PRX00004 PRX00016 PRX00050)]);
