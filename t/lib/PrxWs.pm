package PrxWs;

# A WebSocket client for the t/ws tests: t/backends/ws_client.py (Debian's
# python3-websockets) run as a child process, one JSON command per call.
# A real client library on one end and a real server library on the other
# (t/backends/ws_echo.py) keep our tests honest about RFC 6455.
#
#   plan ..., need(PrxWs::need());          # skips without python3-websockets
#   my $ws = PrxWs->new;
#   my $r = $ws->open('a', "ws://127.0.0.1:$port/ws/x", headers => [...]);
#   $r->{ok}; $r->{status}; PrxWs::header_of($r, 'Upgrade');
#   $ws->cmd(op => 'echo', name => 'a', size => 4 << 20, binary => 1);
#   $ws->cmd(op => 'ping', name => 'a');
#   $ws->cmd(op => 'close', name => 'a', code => 1000, reason => 'bye');
# Every command returns the decoded answer (see ws_client.py for the
# fields); a command that gets no answer in `timeout` (default 30 s)
# returns { ok => 0, error => 'no answer' }.

use strict;
use warnings;
use IPC::Open2 ();
use POSIX ();
use JSON::PP ();
use Time::HiRes ();
use Cwd ();
use Apache::Test ();

my $json = JSON::PP->new->canonical;
my $t_dir = Cwd::abs_path(__FILE__) =~ s{/lib/PrxWs\.pm\z}{}r;

# The python that has the websockets module (Debian's, not a user's).
sub python {
    for my $p ('/usr/bin/python3', 'python3') {
        return $p if system("$p -c 'import websockets' >/dev/null 2>&1") == 0;
    }
    return undef;
}

# For plan(): a true value, or the reason the tests cannot run.
sub need {
    return python() ? 1 : { 'python3-websockets (scripts/deps)' => 0 };
}

sub new {
    my ($class) = @_;
    my $py = python() or die "PrxWs: no python3 with websockets\n";
    my ($out, $in);
    my $pid = IPC::Open2::open2($out, $in, $py, "$t_dir/backends/ws_client.py");
    binmode $in;
    binmode $out;
    my $self = bless { pid => $pid, in => $in, out => $out, buf => '' }, $class;
    return $self;
}

sub cmd {
    my ($self, %c) = @_;
    my $timeout = delete $c{wait} // 30;
    local $SIG{PIPE} = 'IGNORE';
    print { $self->{in} } $json->encode(\%c), "\n";
    $self->{in}->flush;
    my $deadline = Time::HiRes::time() + $timeout;
    while ((my $i = index $self->{buf}, "\n") < 0) {
        my $left = $deadline - Time::HiRes::time();
        return { ok => 0, error => 'no answer' } if $left <= 0;
        my $rin = '';
        vec($rin, fileno($self->{out}), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, $left) > 0;
        my $n = sysread $self->{out}, $self->{buf}, 65536, length $self->{buf};
        return { ok => 0, error => 'client exited' } unless $n;
    }
    my $line = substr $self->{buf}, 0, index($self->{buf}, "\n") + 1, '';
    return $json->decode($line);
}

sub open {
    my ($self, $name, $url, %o) = @_;
    return $self->cmd(op => 'open', name => $name, url => $url, %o);
}

# Value of header `name` in an answer of open (any case).
sub header_of {
    my ($r, $name) = @_;
    my ($h) = grep { lc $_->[0] eq lc $name } @{ $r->{headers} || [] };
    return $h ? $h->[1] : undef;
}

# The port of the named <VirtualHost> of the test server.
sub port {
    my $name = shift;
    my $hp = Apache::Test::config()->{vhosts}{$name}{hostport} or return undef;
    return (split /:/, $hp)[-1];
}

# Reads from raw connection `c` (PrxTest::Raw) until `re` matches what
# came (or `timeout` seconds, default 5, passed, or EOF); returns it all.
sub read_until {
    my ($c, $re, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout // 5);
    my $buf = '';
    while ($buf !~ $re) {
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0;
        my $rin = '';
        vec($rin, fileno($c->{sock}), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, $left) > 0;
        my $n = sysread $c->{sock}, $buf, 65536, length $buf;
        last unless $n;
    }
    return $buf;
}

sub quit {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    local $?;
    local $SIG{PIPE} = 'IGNORE';
    print { $self->{in} } qq({"op":"quit"}\n);
    close $self->{in};
    my $deadline = Time::HiRes::time() + 5;
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        Time::HiRes::sleep(0.05);
    }
}

sub DESTROY { $_[0]->quit }

1;
