# Tests for `ttl` and `min` (spec core.md §5, §8.5): a pooled connection
# idle for ttl seconds or more is never handed out again -- the next
# request opens a new one and the old one is closed -- while within ttl, and
# without ttl whatever the idle time, it is reused. min is accepted and
# changes nothing visible: it allocates pool slots, not connections (spec
# §5: "memory only, not live connections"; t/workers/pool.t shows that no
# connection is opened for it). Requests of one client connection stay in
# one child, so they share one pool. smax with ttl: t/workers/pool.t.
# Config: t/conf/workers_reuse.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes ();
use PrxTest;

plan tests => 8 + 2 + 3 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_reuse');
my $bport = $echo->port;
Apache::TestRequest::module('workers_reuse');

sub conn { $_[0]->header('X-Echo-Conn') // 'none' }

# Is the proxy's socket from local port `port` to the origin still open?
sub connected {
    my $port = shift;
    open my $fh, '<', '/proc/net/tcp' or return undef;
    while (<$fh>) {
        # (a local port may also appear on sockets to other peers)
        my ($local, $remote, $st) = (split ' ')[1, 2, 3];
        next unless $local && $local =~ /:([0-9A-F]{4})\z/ && hex($1) == $port;
        return 1 if $st eq '01' && $remote =~ /:([0-9A-F]{4})\z/ && hex($1) == $bport;
    }
    return 0;
}
sub peer_port {
    my $conn = shift;
    my ($rec) = grep { $_->{conn} eq $conn } $echo->requests;
    return $rec ? (split /:/, $rec->{peer})[-1] : 0;
}

# ttl=1: reused at once, not after 1.5 s idle
PrxTest::ua(keep_alive => 1);
my $r1 = GET '/ttl/1';
my $r2 = GET '/ttl/2';
is $r1->code . ' ' . $r2->code, '200 200', 'ttl=1: requests work';
is conn($r2), conn($r1), 'ttl=1: reused while idle less than ttl';
my $old = peer_port(conn($r1));
ok connected($old), "ttl=1: the connection (proxy port $old) is open and pooled";
Time::HiRes::sleep(1.5);
ok connected($old), 'after 1.5 s idle it is still open (closed lazily)';
my $r3 = GET '/ttl/3';
is $r3->code, 200, 'ttl=1: the request after 1.5 s idle works';
isnt conn($r3), conn($r1), 'on a new backend connection';
is $r3->header('X-Echo-Seq'), 1, 'as its first request';
Time::HiRes::sleep(0.2);
ok !connected($old), 'and the expired connection was closed';

# the new one is pooled in turn
is conn(GET '/ttl/4'), conn($r3), 'ttl=1: the new connection is reused at once';

# no ttl: idle time does not matter
my $d1 = GET '/default/1';
Time::HiRes::sleep(1.5);
is conn(GET '/default/2'), conn($d1), 'no ttl: reused after 1.5 s idle';

# min=3 ttl=1: accepted; requests and reuse as usual
my $m1 = GET '/min/1';
my $m2 = GET '/min/2';
is $m1->code . ' ' . $m2->code, '200 200', 'min=3: requests work';
is conn($m2), conn($m1), 'min=3: the connection is reused';
my %conns = map { $_->{conn} => 1 } grep { $_->{target} =~ m{^/min/} } $echo->requests;
is scalar(keys %conns), 1, 'min=3: the origin accepted one connection, not three';
PrxTest::ua();

PrxTest::errorlog_ok();
