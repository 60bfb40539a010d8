# Tests for the connection pool of a worker in one child process (spec
# core.md §5 min, max, smax, ttl, acquire; §8.5): min allocates slots and
# opens no connection; concurrent requests get connections of their own up
# to max; with max=1 a second request waits for the connection, and gets
# 503 after `acquire`; idle connections beyond smax are closed once idle
# for ttl. Pools are per child, so every request must reach the same
# child: the test runs a second httpd with one child process and 8 threads
# (t/lib/PrxHttpd.pm, config t/conf/workers_pool.conf.in). Connections are
# counted at the origin (its per-connection id) and, for closes, as the
# proxy's ESTABLISHED sockets to the origin in /proc/net/tcp.
# Under prefork there is one connection per worker and child whatever max
# says (§8.5) and no request ever waits for one: only min is tested there.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use IO::Socket::INET ();
use Time::HiRes ();
use PrxTest;
use PrxHttpd;

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $threaded = $mpm ne 'prefork';
plan tests => 4 + 3 + 6 + 4 + 4 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_pool');
my $bport = $echo->port;
my $httpd = PrxHttpd->start(conf => 'workers_pool.conf', define => 'PRX_WORKERS_POOL',
    port => PrxTest::vars('backend_workers_pool_httpd_port'));
my $port = $httpd->port;

# Local ports of the sockets connected to the origin (the proxy's side).
sub established {
    my %ports;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        while (<$fh>) {
            my ($local, $remote, $st) = (split ' ')[1, 2, 3];
            next unless defined $st && $st eq '01';
            my ($lp) = $local =~ /:([0-9A-F]{4})\z/;
            my ($rp) = $remote =~ /:([0-9A-F]{4})\z/;
            $ports{ hex $lp } = 1 if hex($rp) == $bport;
        }
    }
    return \%ports;
}

# Sends one GET per path at once, each on its own client connection
# (`gap` seconds apart), and collects the answers as they come:
# [ response, seconds from the start to its arrival ] per path.
sub concurrent {
    my %o = (gap => 0, delay => 0, timeout => 15, @_);
    my $t0 = Time::HiRes::time();
    my (@s, @buf, @out);
    for my $p (@{ $o{paths} }) {
        Time::HiRes::sleep($o{gap}) if @s && $o{gap};
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
            or die "connect to $port: $!";
        my $delay = ref $o{delay} ? shift @{ $o{delay} } : $o{delay};
        print $s "GET $p HTTP/1.1\r\nHost: localhost\r\nX-Echo-Delay: $delay\r\n\r\n";
        push @s, $s;
        push @buf, '';
    }
    my $left = @s;
    while ($left && Time::HiRes::time() - $t0 < $o{timeout}) {
        my $rin = '';
        vec($rin, fileno($s[$_]), 1) = 1 for grep { !$out[$_] } 0 .. $#s;
        next unless select(my $rout = $rin, undef, undef, 0.5) > 0;
        for my $i (grep { !$out[$_] && vec($rout, fileno($s[$_]), 1) } 0 .. $#s) {
            my $n = sysread $s[$i], $buf[$i], 65536, length $buf[$i];
            my ($res) = PrxTest::parse_responses($buf[$i], eof => !$n);
            next unless ($res && $res->{complete}) || !$n;
            $out[$i] = [ $res || {}, Time::HiRes::time() - $t0 ];
            $left--;
        }
    }
    close $_ for @s;
    return map { $out[$_] || [ {}, $o{timeout} ] } 0 .. $#s;
}
sub hdr { PrxTest::header_of($_[0], $_[1]) // 'none' }
sub conns_of {
    my $prefix = shift;
    my %c = map { $_->{conn} => $_->{peer} } grep { index($_->{target}, $prefix) == 0 } $echo->requests;
    return \%c;
}
sub secs { sprintf '%.2f', $_[0] }

# min=4: slots only -- the origin sees no connection before a request, one
# after it
Time::HiRes::sleep(1);
is scalar($echo->requests), 0, 'min=4: no request reached the origin at startup';
is scalar(keys %{ established() }), 0, 'min=4: and no connection was opened';
my ($m) = concurrent(paths => ['/min/one']);
is $m->[0]{status}, 200, 'min=4: a request works';
is scalar(keys %{ conns_of('/min/') }), 1, 'min=4: one connection, opened for it';

SKIP: {
skip "max, acquire and smax need a threaded MPM (this is $mpm)", 17 unless $threaded;

# default max (8 threads): three concurrent requests, three connections;
# they stay pooled and serve the next requests
my @r = concurrent(paths => [ map { "/many/$_" } 1 .. 3 ], delay => 400);
is join(' ', map { $_->[0]{status} // 0 } @r), '200 200 200', 'three concurrent requests: 200';
my $many = conns_of('/many/');
is scalar(keys %$many), 3, 'on three backend connections';
@r = concurrent(paths => ['/many/again']);
ok $many->{ hdr($r[0][0], 'X-Echo-Conn') }, 'the next request reuses one of them';

# max=1 acquire=500: while a slow request holds the only connection, a
# second one waits 500 ms and gets 503 without reaching the origin
@r = concurrent(paths => [ '/acq/slow', '/acq/second' ], delay => [ 2000, 0 ], gap => 0.3);
is $r[0][0]{status}, 200, 'max=1: the slow request gets its 200';
is $r[1][0]{status}, 503, 'acquire=500: the concurrent second one gets 503';
my $waited = $r[1][1] - 0.3;
ok $waited >= 0.4 && $waited < 1.6, 'after waiting about 500 ms (' . secs($waited) . ' s)';
ok !grep({ $_->{target} eq '/acq/second' } $echo->requests), 'it never reached the origin';
@r = concurrent(paths => ['/acq/after']);
is $r[0][0]{status}, 200, 'the next request works';
is hdr($r[0][0], 'X-Echo-Conn'), join('', keys %{ conns_of('/acq/slow') }),
    'on the one connection of the worker';

# max=1 without acquire: the second request waits as long as it takes,
# then uses the same connection; the origin never has two at once
@r = concurrent(paths => [ '/wait/slow', '/wait/second' ], delay => [ 1500, 0 ], gap => 0.3);
is join(' ', map { $_->[0]{status} // 0 } @r), '200 200', 'max=1, no acquire: both get 200';
ok $r[1][1] >= 1.3, 'the second after the first was done (' . secs($r[1][1]) . ' s)';
is hdr($r[1][0], 'X-Echo-Conn'), hdr($r[0][0], 'X-Echo-Conn'), 'on the same backend connection';
is hdr($r[1][0], 'X-Echo-Seq'), 2, 'as its second request';

# smax=1 ttl=2 vs ttl=2 alone: three connections each, made idle at T0;
# one of them used again at T0+1 and at T0+2.5, when the other two have
# been idle 2.5 s: giving it back closes those two beyond smax, while
# without smax they stay connected (never reused, closed lazily)
@r = concurrent(paths => [ (map { "/smax/$_" } 1 .. 3), (map { "/nosmax/$_" } 1 .. 3) ],
    delay => 300);
my $t0 = Time::HiRes::time();
my $smax = conns_of('/smax/');
my $nosmax = conns_of('/nosmax/');
is scalar(keys %$smax) . ' ' . scalar(keys %$nosmax), '3 3', 'three connections for each worker';
Time::HiRes::sleep(1);
concurrent(paths => [ '/smax/r1', '/nosmax/r1' ]);
Time::HiRes::sleep($t0 + 2.5 - Time::HiRes::time());
@r = concurrent(paths => [ '/smax/r2', '/nosmax/r2' ]);
is join(' ', map { $_->[0]{status} // 0 } @r), '200 200', 'the later requests work';
Time::HiRes::sleep(0.2);
my $est = established();
my @open_smax = grep { $est->{ (split /:/, $_)[-1] } } values %$smax;
my @open_nosmax = grep { $est->{ (split /:/, $_)[-1] } } values %$nosmax;
is scalar(@open_smax), 1, 'smax=1: the two idle past ttl were closed, one left';
is scalar(@open_nosmax), 3, 'without smax all three are still connected';

}

PrxTest::errorlog_ok(expect => ['PRX00328']);
$httpd->stop;
