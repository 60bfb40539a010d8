# Tests for the per-child DNS cache of a worker (spec core.md §5
# addressttl and disablereuse, §8.6 DNS): addressttl -1 (default) resolves
# once per child and keeps the address until a restart; addressttl=N
# re-resolves when the expiry passes, a multiple of N, in every child at
# the same moment; addressttl=0 never caches (and never reuses); a failed
# re-resolution keeps the old address (warning PRX00011); when every
# cached address refuses, one fresh lookup is made and new addresses are
# tried; disablereuse=On caches only with addressttl.
#
# The proxy is a second httpd (t/lib/PrxHttpd.pm, config
# t/conf/workers_dns.conf.in) with two child processes and the resolver
# shim t/shim/prx_fakedns.c preloaded: names under prx-test.invalid resolve
# from a mapping file this test rewrites, and every lookup is logged with
# the pid that made it. Origins "a" (127.0.0.1) and "b" (127.0.0.2) listen
# on the same port, so the origin that answers is the address the proxy
# used; 127.0.0.3 is a dead address. The test holds one client connection
# per child (the access log's %P says which child a connection is on), so
# it knows which cache each request went through. Requests that must make
# a new backend connection ask the origin to close (X-Echo-Close): only a
# new connection consults the cache.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Path ();
use Time::HiRes qw(time);
use PrxTest;
use PrxHttpd;

my $dir = PrxTest::vars('t_logs') . '/PRX_WORKERS_DNS';
File::Path::make_path($dir);

# The shim: as built by make check (t/run-suite copies it to PRX_SHIMDIR),
# else compiled here (t/run-suite run without make check).
sub shim {
    my $built = ($ENV{PRX_SHIMDIR} // '') . '/prx_fakedns.so';
    return $built if $ENV{PRX_SHIMDIR} && -f $built;
    my $src = PrxTest::vars('serverroot') . '/shim/prx_fakedns.c';
    my $so = "$dir/prx_fakedns.so";
    my $cc = $ENV{CC} || 'cc';
    system("$cc -O2 -fPIC -shared -o '$so' '$src' -ldl -lpthread >'$dir/cc.log' 2>&1") == 0
        or return undef;
    return $so;
}
my $shim = shim();

my $N = 4;                      # addressttl of /ttl/
my $six_tests = 2;
my $remote_tests = 5;
# children, once, nocache, noreuse, stale, multi, gone, six, ttl (four
# periods), restart, error log
plan tests => 1 + 5 + 4 + 3 + 6 + 2 + 2 + $six_tests + (3 + 4 + 4 + 1) + $remote_tests + 4 + 1,
    need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_log_config.c'),
         { 'the resolver shim t/shim/prx_fakedns.c (not built, no cc)' => $shim ? 1 : 0 });

my ($A, $B, $DEAD) = ('127.0.0.1', '127.0.0.2', '127.0.0.3');
my $map = "$dir/map";
my $lookup_log = "$dir/lookups";
my $access_log = "$dir/access_log";
unlink $lookup_log, $access_log;

my $bport = PrxTest::vars('backend_workers_dns_port');
my %origin = map {
    my ($name, $addr) = @$_;
    ($name => PrxTest::backend('echo', port => $bport,
        args => [ '--bind', $addr, '--set', "header=X-Origin: $name" ]))
} [ a => $A ], [ b => $B ];
my $six = eval {
    PrxTest::backend('echo', port => $bport,
        args => [ '--bind', '::1', '--set', 'header=X-Origin: c' ]);
};

# --- the resolver ---------------------------------------------------------------

my %answer;
# Sets the answers for some names (short names; the domain is appended)
# and replaces the mapping file at once.
sub resolve_to {
    my %set = @_;
    @answer{ keys %set } = values %set;
    open my $fh, '>', "$map.tmp" or die "$map.tmp: $!\n";
    print $fh "$_.prx-test.invalid $answer{$_}\n" for sort keys %answer;
    close $fh;
    rename "$map.tmp", $map or die "rename $map: $!\n";
}
resolve_to(once => $A);

# The lookups of `name` so far: { pid, t, answer } each, oldest first.
sub lookups {
    my $name = shift;
    open my $fh, '<', $lookup_log or return ();
    return map { { pid => $_->[1], t => $_->[2], answer => $_->[3] } }
        grep { $_->[0] eq "$name.prx-test.invalid" } map { [ split ' ' ] } <$fh>;
}
sub nlookups { scalar(my @l = lookups($_[0])) }

my $httpd = PrxHttpd->start(conf => 'workers_dns.conf', define => 'PRX_WORKERS_DNS',
    port => PrxTest::vars('backend_workers_dns_httpd_port'),
    env => { LD_PRELOAD => $shim, PRX_FAKEDNS_MAP => $map,
             PRX_FAKEDNS_LOG => $lookup_log });
my $port = $httpd->port;

# --- client connections, one per child ------------------------------------------

my $tags = 0;
sub connection {
    my $raw = PrxTest::Raw->new($port, timeout => 15) or die "connect to $port: $!\n";
    return { raw => $raw, tag => 'conn' . ++$tags };
}

# One GET on connection `c`: { status, origin (X-Origin or '-'), conn
# (the origin's connection id) }. A connection httpd closed (after a 500
# or 503) is first replaced by one to the same child.
sub get {
    my ($c, $path, @h) = @_;
    same_child($c) if $c->{closed};
    my $head = "GET $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nX-Prx-Tag: $c->{tag}\r\n";
    while (my ($k, $v) = splice @h, 0, 2) {
        $head .= "$k: $v\r\n";
    }
    $c->{raw}->send("$head\r\n");
    my ($r) = PrxTest::parse_responses($c->{raw}->read(timeout => 15));
    $r ||= {};
    $c->{closed} = 1 if (PrxTest::header_of($r, 'Connection') // '') =~ /close/i
                        || $c->{raw}->eof;
    return { status => $r->{status} // 0,
             origin => PrxTest::header_of($r, 'X-Origin') // '-',
             conn => PrxTest::header_of($r, 'X-Echo-Conn') // '-' };
}
# A GET that needs a new backend connection (the origin closes this one).
sub get_new { get(@_, 'X-Echo-Close' => 1) }

# The child that served connection `c` (from the access log, written once
# the response is out).
sub pid_of {
    my $c = shift;
    my $deadline = time + 5;
    while (time < $deadline) {
        if (open my $fh, '<', $access_log) {
            for (<$fh>) {
                my ($pid, $tag) = split ' ';
                return $pid if $tag eq $c->{tag};
            }
        }
        Time::HiRes::sleep(0.05);
    }
    die "PrxTest: $c->{tag} is not in $access_log\n";
}

# New connections until `want` children not in `old` have one each.
sub one_per_child {
    my ($want, %old) = @_;
    my %child;
    for (1 .. 80) {
        last if keys %child >= $want;
        my $c = connection();
        get($c, '/whoami');
        my $pid = pid_of($c);
        if ($child{$pid} || $old{$pid}) {
            $c->{raw}->close;
            Time::HiRes::sleep(0.05);
            next;
        }
        $c->{pid} = $pid;
        $child{$pid} = $c;
    }
    return map { $child{$_} } sort keys %child;
}

# Replaces the closed connection `c` by a new one to the same child.
sub same_child {
    my $c = shift;
    $c->{raw}->close;
    for (1 .. 80) {
        my $n = connection();
        get($n, '/whoami');
        if (pid_of($n) eq $c->{pid}) {
            @$c{qw(raw tag closed)} = @$n{qw(raw tag closed)};
            return;
        }
        $n->{raw}->close;
        Time::HiRes::sleep(0.05);
    }
    die "PrxTest: no new connection to child $c->{pid}\n";
}

sub origins { join ' ', map { $_->{origin} } @_ }
sub statuses { join ' ', map { $_->{status} } @_ }
sub pids_of { join ' ', sort map { $_->{pid} } @_ }

my @kids = one_per_child(2);
is scalar(@kids), 2, 'two child processes, one client connection held on each';
@kids = (@kids, @kids) if @kids == 1;   # (the checks below then fail)
my ($k0, $k1) = @kids;
my $kid_pids = pids_of(@kids[0, 1]);

# --- addressttl -1: once per child, until the restart ---------------------------

# every new backend connection of a child takes the address it resolved
# first: one lookup per child, and a changed answer is not seen
my @r = map { my $k = $_; map { get_new($k, "/once/$_") } 1 .. 3 } $k0, $k1;
is origins(@r), 'a a a a a a', 'addressttl -1: six requests from two children reach a';
my %conns = map { $_->{conn} => 1 } @r;
is scalar(keys %conns), 6, 'addressttl -1: on six backend connections (each consulted the cache)';
my @l = lookups('once');
is scalar(@l), 2, 'addressttl -1: two lookups, one per child';
is pids_of(@l), $kid_pids, 'addressttl -1: made by the two children';
resolve_to(once => $B);
@r = map { my $k = $_; map { get_new($k, "/once/again$_") } 1 .. 3 } $k0, $k1;
is origins(@r) . ' / ' . nlookups('once'), 'a a a a a a / 2',
    'addressttl -1: once the name moves to b, both children still use a; no new lookup';

# --- addressttl=0: no cache, no reuse ------------------------------------------

resolve_to(nocache => $A);
@r = map { get($k0, "/nocache/$_") } 1 .. 3;
is origins(@r), 'a a a', 'addressttl=0: three requests reach a';
%conns = map { $_->{conn} => 1 } @r;
is scalar(keys %conns), 3, 'addressttl=0: on three backend connections (no reuse)';
is nlookups('nocache'), 3, 'addressttl=0: three lookups, one per connection';
resolve_to(nocache => $B);
@r = (get($k0, '/nocache/moved'));
is origins(@r) . ' / ' . nlookups('nocache'), 'b / 4',
    'addressttl=0: the next request follows the name to b at once';

# --- disablereuse=On: no cache unless addressttl is set ------------------------

resolve_to(noreuse => $A, noreusettl => $A);
@r = map { get($k0, "/noreuse/$_") } 1 .. 3;
%conns = map { $_->{conn} => 1 } @r;
is origins(@r) . ' / ' . scalar(keys %conns), 'a a a / 3',
    'disablereuse=On: three requests on three connections to a';
is nlookups('noreuse'), 3, 'disablereuse=On: three lookups (no cache)';
# (addressttl=3600: not across an hour boundary)
Time::HiRes::sleep(3600 - time % 3600 + 0.2) if 3600 - time % 3600 < 10;
@r = map { get($k0, "/noreusettl/$_") } 1 .. 3;
%conns = map { $_->{conn} => 1 } @r;
resolve_to(noreusettl => $B);
push @r, get($k0, '/noreusettl/moved');
is origins(@r) . ' / ' . scalar(keys %conns) . ' / ' . nlookups('noreusettl'), 'a a a a / 3 / 1',
    'disablereuse=On addressttl=3600: new connections, one lookup, the cached a kept';

# --- every cached address refuses: one fresh lookup ----------------------------

# the first resolution gives a dead address: the one fresh lookup gives it
# again, so nothing else is tried: 503
resolve_to(stale => $DEAD);
@r = (get_new($k0, '/stale/1'));
@l = lookups('stale');
is statuses(@r), '503', 'stale: the only address refuses: 503';
is join(' ', map { $_->{answer} } @l), "$DEAD $DEAD",
    'stale: the first lookup and one fresh lookup after the failed connect';
# the name moves to b: the cached dead address fails, the fresh lookup
# differs, and b is tried
resolve_to(stale => $B);
@r = (get_new($k0, '/stale/2'));
is origins(@r) . ' ' . statuses(@r) . ' / ' . nlookups('stale'), 'b 200 / 3',
    'stale: after the name moved, the failed connect looks again and reaches b';
# and the fresh answer is the cache now
@r = map { get_new($k0, "/stale/after$_") } 1 .. 2;
is origins(@r) . ' / ' . nlookups('stale'), 'b b / 3', 'stale: the next connections use b without a lookup';
# without a cache (disablereuse=On) a refused connect is not retried
resolve_to(noreuse => $DEAD);
my $before = nlookups('noreuse');
@r = (get($k0, '/noreuse/dead'));
is statuses(@r) . ' / ' . (nlookups('noreuse') - $before), '503 / 1',
    'disablereuse=On: a refused connect is not followed by a fresh lookup';
resolve_to(noreuse => $A);
@r = (get($k0, '/noreuse/alive'));
is origins(@r), 'a', 'disablereuse=On: the next request reaches a';

# --- several addresses: in order --------------------------------------------------

resolve_to(multi => "$DEAD $B $A");
@r = map { get_new($k0, "/multi/$_") } 1 .. 2;
is origins(@r), 'b b', 'several addresses: the dead first one is skipped, the next (b) used';
is nlookups('multi'), 1, 'several addresses: one lookup (one address answered)';

# --- no answer at all ---------------------------------------------------------------

resolve_to(gone => 'fail');
@r = map { get($k0, "/gone/$_") } 1 .. 2;
is statuses(@r), '500 500', 'a name that does not resolve: 500';
is join(' ', map { $_->{answer} } lookups('gone')), 'fail fail',
    'a failed resolution is not cached: looked up for each request';

# --- an IPv6 answer -----------------------------------------------------------------

SKIP: {
    skip 'no ::1 on this machine', $six_tests unless $six;
    resolve_to(six => '::1');
    @r = map { get_new($k0, "/six/$_") } 1 .. 2;
    is origins(@r), 'c c', 'a name resolving to ::1: the origin on [::1] answers';
    is nlookups('six'), 1, 'looked up once';
}

# --- addressttl=N: every child re-resolves at the same multiple of N -----------

sub boundary_after { (int($_[0] / $N) + 1) * $N }
sub sleep_until { my $d = $_[0] - time; Time::HiRes::sleep($d) if $d > 0 }

my $b0 = boundary_after(time);
sleep_until($b0 + 0.3);
resolve_to(ttl => $A);
# child 0 resolves early in a period, child 1 late in it
@r = (get_new($k0, '/ttl/early'));
sleep_until($b0 + $N - 1.5);
push @r, get_new($k1, '/ttl/late');
resolve_to(ttl => $B);
push @r, get_new($k0, '/ttl/cached0'), get_new($k1, '/ttl/cached1');
my $late_done = time;
@l = lookups('ttl');
is origins(@r), 'a a a a', "addressttl=$N: both children reach a, also after the name moved to b";
is scalar(@l) . ' ' . pids_of(@l), "2 $kid_pids", "addressttl=$N: one lookup in each child";
ok $late_done < $b0 + $N - 0.1,
    sprintf('(the requests were done %.2f s before the expiry)', $b0 + $N - $late_done);
my %first = map { $_->{pid} => $_->{t} } @l;

# just after the expiry both children look again, together: child 1 too,
# although it resolved less than N seconds ago
my $b1 = $b0 + $N;
sleep_until($b1 + 0.3);
@r = (get_new($k0, '/ttl/next0'), get_new($k1, '/ttl/next1'));
@l = lookups('ttl');
my @new = @l[2 .. $#l];
is origins(@r), 'b b', "addressttl=$N: after the expiry both children follow the name to b";
is scalar(@new) . ' ' . pids_of(@new), "2 $kid_pids", "addressttl=$N: one new lookup in each child";
ok !grep({ $_->{t} < $b1 } @new), "addressttl=$N: both made after the expiry (a multiple of $N s)";
my ($late_pid) = grep { $_ ne $l[0]{pid} } map { $_->{pid} } @l[0, 1];
my ($again) = grep { $_->{pid} eq ($late_pid // '') } @new;
my $age = $again && $first{$late_pid} ? $again->{t} - $first{$late_pid} : 99;
ok $age < $N, sprintf('addressttl=%d: the late child looked again %.2f s after its first lookup, '
    . 'not %d s', $N, $age, $N);

# a failed re-resolution: the old address stays (and a warning says so),
# for this period
resolve_to(ttl => 'again');
my $b2 = $b1 + $N;
sleep_until($b2 + 0.3);
@r = map { get_new($_, '/ttl/failed') } $k0, $k1;
push @r, map { get_new($_, '/ttl/failed2') } $k0, $k1;
@l = lookups('ttl');
@new = @l[4 .. $#l];
is statuses(@r) . ' / ' . origins(@r), '200 200 200 200 / b b b b',
    "addressttl=$N: when the re-resolution fails, both children keep b";
is join(' ', map { $_->{answer} } @new) . ' / ' . pids_of(@new), "again again / $kid_pids",
    "addressttl=$N: one failed lookup in each child (none per request)";
my @warn = grep { /PRX00011/ && /ttl\.prx-test\.invalid/ }
    PrxTest::errorlog_lines(settle => 0.5);
is scalar(@warn), 2, "addressttl=$N: PRX00011 warned once in each child";
like $warn[0] // '', qr/:warn\]/, "addressttl=$N: at level warn";

# the name answers again: the next period uses the new answer
resolve_to(ttl => $A);
my $b3 = $b2 + $N;
sleep_until($b3 + 0.3);
@r = map { get_new($_, '/ttl/back') } $k0, $k1;
@l = lookups('ttl');
@new = @l[6 .. $#l];
is origins(@r) . ' / ' . scalar(@new), 'a a / 2',
    "addressttl=$N: the next period's lookups (one per child) give a again";

# the held client connections go (under prefork each holds a child)
$_->{raw}->close for $k0, $k1;

# --- through an upstream with several addresses: one that refuses CONNECT --------

SKIP: {
    my $rport = Apache::Test::config()->{vhosts}{workers_dns_remote}{port};
    my $certs = PrxTest::vars('t_conf') . '/certs/client.pem';
    skip 'no mod_ssl or no test PKI', $remote_tests
        unless Apache::Test::have_module('mod_ssl.c') && -s $certs && $rport;
    my $uport = PrxTest::vars('backend_workers_dns_up_port');
    my %up = map {
        my ($addr, @args) = @$_;
        ($addr => PrxTest::backend('connect_proxy', port => $uport,
            args => [ '--bind', $addr, @args ]))
    } [ $A ], [ $B, '--status', 403 ], [ $DEAD, '--status', 403 ];
    resolve_to(up => "$B $A", up2 => "$B $DEAD");
    my $conn = sub { [ map { $_->{request_line} // '' } $_[0]->requests ] };
    $_->clear for values %up;
    my $c = PrxTest::Raw->new($rport, timeout => 15) or die "connect to $rport: $!\n";
    $c->send("GET /rtls/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    my ($res) = PrxTest::parse_responses($c->read(timeout => 15) // '');
    is(($res->{status} // 0) . ' ' . (PrxTest::header_of($res, 'X-Origin') // '-'), '200 tls',
        'upstream name with two addresses, the first refuses CONNECT: 200 from the TLS origin');
    is join(' / ', map { scalar @{ $conn->($up{$_}) } } $B, $A), '1 / 1',
        '... one CONNECT at the refusing address, then one at the next';
    like $conn->($up{$A})[0] // '', qr{^CONNECT localhost:\d+ HTTP/1\.[01]$},
        '... asking for the origin';
    $_->clear for values %up;
    $c = PrxTest::Raw->new($rport, timeout => 15) or die "connect to $rport: $!\n";
    $c->send("GET /rtls2/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    ($res) = PrxTest::parse_responses($c->read(timeout => 15) // '');
    is(($res->{status} // 0) . ' ' . join(' / ', map { scalar @{ $conn->($up{$_}) } } $B, $DEAD, $A),
        '503 1 / 1 / 0', 'every address refuses: 503 after one CONNECT at each');
    my @refused = grep { /PRX00336/ } PrxTest::errorlog_lines(settle => 0.5);
    is scalar(@refused), 3, 'PRX00336 for each refusal (with the address)';
}

# --- addressttl -1 after a graceful restart: new children resolve anew ----------

my $n_resume = () = grep { /resuming normal operations/ } PrxTest::errorlog_lines(settle => 0);
my $once_before = nlookups('once');
kill 'USR1', $httpd->pid;
my $deadline = time + 20;
while (time < $deadline) {
    my $n = () = grep { /resuming normal operations/ } PrxTest::errorlog_lines(settle => 0);
    last if $n > $n_resume;
    Time::HiRes::sleep(0.1);
}
Time::HiRes::sleep(1);
my @fresh = one_per_child(1, map { $_->{pid} => 1 } $k0, $k1);
is scalar(@fresh), 1, 'restart: a new child serves';
my $f = $fresh[0] || $k0;
@r = map { get_new($f, "/once/restarted$_") } 1 .. 2;
is origins(@r), 'b b', 'restart: the new child resolves the name again: b';
@l = lookups('once');
@new = @l[$once_before .. $#l];
is scalar(grep { $_->{pid} eq ($f->{pid} // '') } @new), 1, 'restart: one lookup by the new child';
ok !grep({ $_->{pid} eq $k0->{pid} || $_->{pid} eq $k1->{pid} } @new),
    'restart: none by the old children';
diag sprintf 'lookups: %s', join ', ', map { "$_ " . nlookups($_) }
    qw(once nocache noreuse noreusettl stale multi gone six ttl);

PrxTest::errorlog_ok(expect => [ 'PRX00015', 'PRX00016', 'PRX00336' ]);
