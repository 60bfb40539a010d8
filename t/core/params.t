# Tests for the worker parameters this build honours (spec core.md §5,
# §8.6) and ProxyTimeout (§3.23): timeout (502 after the worker's value,
# not ProxyTimeout), connectiontimeout, retry (a dead non-balancer worker
# never enters error state: 503 each time, and a revived backend answers
# at once), keepalive, disablereuse/enablereuse vs default reuse,
# iobuffersize, receivebuffersize, responsefieldsize and ping; ProxyTimeout
# copied into workers created after it. Config: t/conf/core_params.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);
use IO::Socket::INET ();
use Time::HiRes ();
use PrxBackend ();
use PrxTest;

plan tests => 3 + 4 + 1 + 2 + 6 + 8 + 6 + 3 + 3 + 3 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_params');

sub timed {
    my @req = @_;
    my $t0 = Time::HiRes::time();
    my $res = GET @req;
    return ($res, Time::HiRes::time() - $t0);
}
sub secs { sprintf '%.1f', $_[0] }

Apache::TestRequest::module('core_params');

# timeout=1 against a 4 s delay: 502 after about 1 s, not ProxyTimeout 10
# (bounds wide enough for a loaded machine)
{
    my ($res, $took) = timed('/to/slow', 'X-Echo-Delay' => 4000);
    is $res->code, 502, 'timeout=1: a slow backend gives 502';
    ok $took >= 0.9 && $took < 3.5, 'after about 1 s (' . secs($took) . ' s)';
    is((GET '/to/fast')->code, 200, 'timeout=1: the next request works');
}

# connectiontimeout: accepted with and without unit, requests work; a
# connect that cannot succeed is bounded by it
is((GET '/ct/x')->code, 200, 'connectiontimeout=1: requests work');
is((GET '/ctms/x')->code, 200, 'connectiontimeout=500ms: requests work');
{
    # a listener with a full accept queue drops further SYNs
    my $port = PrxTest::vars('backend_core_hang_port');
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Listen => 1, ReuseAddr => 1)
        or die "listen on $port: $!";
    my @fill;
    while (@fill < 16) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 0.5)
            or last;
        push @fill, $s;
    }
    my ($res, $took) = timed('/hang/x');
    ok $res->code == 503 && $took >= 0.9 && $took < 4,
        'connectiontimeout=1: a connect that hangs gives 503 after about 1 s ('
        . $res->code . ' after ' . secs($took) . ' s)';
    ($res, $took) = timed('/hangto/x');
    ok $res->code == 503 && $took >= 0.9 && $took < 4,
        'no connectiontimeout: timeout=1 bounds the connect (' . $res->code
        . ' after ' . secs($took) . ' s)';
    close $_ for @fill, $l;
}

# a key given twice: the last one (TIMEOUT=1) wins
{
    my ($res, $took) = timed('/dup/slow', 'X-Echo-Delay' => 4000);
    ok $res->code == 502 && $took < 3.5,
        'timeout=6 TIMEOUT=1: the last value wins (' . $res->code . ' after '
        . secs($took) . ' s)';
}

# keepalive=On: accepted, connections still pooled
{
    PrxTest::ua(keep_alive => 1);
    my @c = map { (GET "/ka/$_")->header('X-Echo-Conn') // 'none' } 1, 2;
    PrxTest::ua();
    ok $c[0] ne 'none', 'keepalive=On: requests work';
    is $c[1], $c[0], 'keepalive=On: the connection is reused';
}

# retry: a dead plain worker answers 503 each time (it never enters error
# state), and answers at once when the backend comes back
my $retry;
{
    my @codes = map { (GET "/retry/$_")->code } 1, 2, 3;
    is "@codes", '503 503 503', 'retry=30: a dead backend gives 503 every time';
    my $res = GET '/retry/page';
    is $res->message, 'Proxy Error', 'the 503 is the proxy\'s own ("503 Proxy Error")';
    $retry = PrxTest::backend('echo', name => 'core_retry');
    $res = GET '/retry/back';
    is $res->code, 200, 'a revived backend answers at once, not after retry';
    is((PrxTest::echo_of($res) || {})->{target}, '/retry/back', 'and got the request');
    is((GET '/retry/again')->code, 200, 'and keeps answering');
    $retry->stop;
    is((GET '/retry/gone')->code, 503, 'dead again: 503 again');
}

# connection reuse per worker: two requests on one client connection
sub conns {
    my $prefix = shift;
    PrxTest::ua(keep_alive => 1);
    my @c = map { (GET "$prefix$_")->header('X-Echo-Conn') // 'none' } 1, 2, 3;
    PrxTest::ua();
    return @c;
}
for ([ '/dr/', 'disablereuse=On', 0 ], [ '/er/', 'enablereuse=Off', 0 ],
     [ '/reuse/', 'the default', 1 ], [ '/to/', 'timeout=1 (reuse unaffected)', 1 ]) {
    my ($prefix, $what, $reuse) = @$_;
    my @c = conns($prefix);
    my %distinct = map { $_ => 1 } @c;
    ok !grep({ $_ eq 'none' } @c), "$what: requests work";
    is scalar(keys %distinct), $reuse ? 1 : 3,
        "$what: " . ($reuse ? 'one backend connection' : 'a new connection per request')
        . " (@c)";
}

# iobuffersize / receivebuffersize: a body much larger than the buffer
# arrives intact; an upload too
my $big = PrxBackend::filler(300_000);
for ([ '/iob/', 'iobuffersize=1024' ], [ '/rcv/', 'receivebuffersize=1024' ]) {
    my ($prefix, $what) = @$_;
    my $res = GET "${prefix}big", 'X-Echo-Body' => length $big;
    is $res->code, 200, "$what: a 300 KB response";
    ok $res->content eq $big, "$what: arrives intact (" . length($res->content) . ' bytes)';
    $res = POST "${prefix}up", content => $big;
    is((PrxTest::echo_of($res) || {})->{body_length}, length $big, "$what: a 300 KB upload arrives");
}

# responsefieldsize=100: a longer response header line gives 502
{
    my $res = GET '/rfs/long', 'X-Echo-Header' => 'X-Long: ' . ('a' x 200);
    is $res->code, 502, 'responsefieldsize=100: a 208-byte header line gives 502';
    $res = GET '/rfs/short', 'X-Echo-Header' => 'X-Short: ' . ('a' x 50);
    is $res->code, 200, 'responsefieldsize=100: a 59-byte one passes';
    is $res->header('X-Short'), 'a' x 50, 'and reaches the client';
}

# ping=1: accepted; a request with a body is sent with Expect (http.md §5)
{
    is((GET '/ping/x')->code, 200, 'ping=1: a GET works');
    my $res = POST '/ping/up', content => 'hello';
    my $rec = PrxTest::echo_of($res) || {};
    is $rec->{body}, 'hello', 'ping=1: a POST body arrives';
    like PrxTest::header_of($rec, 'Expect') // '', qr/^100-continue\z/i,
        'ping=1: it was sent with Expect: 100-continue';
}

# ProxyTimeout: copied into workers created after it, the worker's own
# timeout wins, a worker created before it falls back to the final value
Apache::TestRequest::module('core_params_pt');
{
    my ($res, $took) = timed('/copied/slow', 'X-Echo-Delay' => 4000);
    ok $res->code == 502 && $took < 3.5,
        'a worker created after "ProxyTimeout 1" keeps 1 s (' . $res->code
        . ' after ' . secs($took) . ' s)';
    ($res, $took) = timed('/own/slow', 'X-Echo-Delay' => 2500);
    is $res->code, 200, 'timeout=6 on the worker wins over ProxyTimeout 1';
    ($res, $took) = timed('/before/slow', 'X-Echo-Delay' => 2500);
    is $res->code, 200,
        'a worker created before any ProxyTimeout uses the final one (6 s)';
}

# worker sharing: /long/ shares the /s/ worker (timeout=6), so its own
# timeout=1 is ignored; /first/deeper/, declared first, keeps timeout=1
Apache::TestRequest::module('core_params_share');
{
    my ($res, $took) = timed('/long/slow', 'X-Echo-Delay' => 2500);
    is $res->code, 200, 'a rule sharing an earlier worker gets its timeout (6), not its own (1)';
    # (the warning about the ignored parameter is logged while the
    # configuration is read: t/core/config_errors.t checks it)
    ($res, $took) = timed('/first/deeper/slow', 'X-Echo-Delay' => 4000);
    ok $res->code == 502 && $took < 3.5,
        'the longer URL declared first has a worker of its own (' . $res->code
        . ' after ' . secs($took) . ' s)';
    ($res, $took) = timed('/first/slow', 'X-Echo-Delay' => 2500);
    is $res->code, 200, 'and the shorter one declared after it too';
}

PrxTest::errorlog_ok(expect => [qw(PRX00016 PRX00329 PRX00314 PRX00317)]);
