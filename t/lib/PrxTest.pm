package PrxTest;

# Helpers every .t of the prx suite uses (see t/README for the
# conventions). Loading this module also:
#   - arms a per-test timeout (PRX_TEST_TIMEOUT seconds, default 120): a
#     hung test fails instead of hanging the suite;
#   - gives Apache::TestRequest's user agent a short timeout
#     (PRX_UA_TIMEOUT, default 15 s; LWP's own default is 600);
#   - marks the end of the error_log, so errorlog_ok() looks only at the
#     lines this test produced.
#
#   my $echo = PrxTest::backend('echo', name => 'echo');   # config port
#   my $bad  = PrxTest::backend('bad', args => [qw(--mode silent)]);
#   $echo->port; $echo->last_request; $echo->requests; $echo->stop;
#   my $rec  = PrxTest::echo_of($res);           # JSON an echo answered
#   PrxTest::header_of($rec, 'Host');            # first value, any case
#   my $raw  = PrxTest::raw_request($port, "GET / HTTP/1.1\r\n...");
#   my @resp = PrxTest::parse_responses($raw);
#   PrxTest::errorlog_ok(expect => ['PRX00042']); # counts as one test
#   my $v = PrxTest::settle(sub { busy() }, sub { $_[0] == 0 }, 3);
#       # samples until the condition holds (or 3 s passed): the last sample

use strict;
use warnings;

use Apache::Test ();
use Apache::TestRequest ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes ();
use File::Path ();
use Cwd ();

our $TEST_TIMEOUT = $ENV{PRX_TEST_TIMEOUT} || 120;
our $UA_TIMEOUT   = $ENV{PRX_UA_TIMEOUT}   || 15;
our $RAW_TIMEOUT  = 5;

my $json = JSON::PP->new->ascii->canonical;
my $t_dir = Cwd::abs_path(__FILE__) =~ s{/lib/PrxTest\.pm\z}{}r;
my ($log_start, $test_start);
my @backends;

# Runs once, when the test loads this module.
{
    $test_start = Time::HiRes::time();
    $log_start = -s error_log() // 0;
    $SIG{ALRM} = sub {
        print STDERR "# PrxTest: $0 timed out after $TEST_TIMEOUT s\n";
        stop_backends();
        POSIX::_exit(124);
    };
    alarm $TEST_TIMEOUT;
    ua();
}

# Resets Apache::TestRequest's user agent with our timeout and any LWP /
# Apache::TestRequest options (keep_alive => 1, requests_redirectable => 0).
sub ua {
    my %o = @_;
    Apache::TestRequest::user_agent(reset => 1, timeout => $UA_TIMEOUT, %o);
    return Apache::TestRequest::user_agent();
}

sub vars { Apache::Test::vars(@_) }

# Calls $sample every 50 ms until $done->(value) is true or `secs` (default
# 3) have passed; returns the last value. For state that changes just
# after a client had its answer (busy counts), or after a background tick.
sub settle {
    my ($sample, $done, $secs) = @_;
    my $until = Time::HiRes::time() + ($secs // 3);
    my $v = $sample->();
    while (!$done->($v) && Time::HiRes::time() < $until) {
        Time::HiRes::sleep(0.05);
        $v = $sample->();
    }
    return $v;
}

sub error_log { vars('t_logs') . '/error_log' }

# --- backends ---------------------------------------------------------------

# Starts t/backends/<script>.pl (or <script>.py, run by the system's
# python3) and returns once it listens.
#   name => N   listen on the port the config knows as @BACKEND_<N>_PORT@
#   port => P   listen on P (default: a free port)
#   args => [...] further command-line arguments for the script
sub backend {
    my ($script, %o) = @_;
    my $port = $o{port} // 0;
    if (my $name = $o{name}) {
        $port = vars("backend_${name}_port")
            or die "PrxTest: no port for backend '$name': use \@BACKEND_\U$name\E_PORT\@ "
                 . "in a t/conf/*.conf.in\n";
    }
    my $b = PrxTest::Backend->start($script, $port, $o{args} || []);
    push @backends, $b;
    return $b;
}

sub stop_backends { $_->stop for @backends; @backends = () }

# (waitpid sets $?, which in an END block becomes the exit status)
END { local $?; stop_backends() }

# --- what the echo origin saw -----------------------------------------------

# The request record an echo origin returned as its body; accepts an
# HTTP::Response or a string.
sub echo_of {
    my $r = shift;
    my $body = ref $r ? $r->content : $r;
    return eval { $json->decode($body) };
}

# First value of header `name` in a request record or parsed response.
sub header_of {
    my ($rec, $name) = @_;
    my @v = headers_of($rec, $name);
    return $v[0];
}

sub headers_of {
    my ($rec, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $rec->{headers} || [] };
}

# --- raw sockets --------------------------------------------------------------

# Sends `data` to 127.0.0.1:`port` and returns what came back, once
# `responses` (default 1) complete responses arrived, the peer closed, or
# `timeout` (default 5 s) passed.
sub raw_request {
    my ($port, $data, %o) = @_;
    my $c = PrxTest::Raw->new($port, %o) or return undef;
    $c->send($data);
    my $got = $c->read(%o);
    $c->close;
    return $got;
}

# Splits raw response bytes into responses (interim 1xx included, each
# with interim => 1). Each: { version, status, reason, status_line,
# headers => [[name, value]...], body, complete }. `head => 1` treats the
# exchange as a HEAD; `eof => 1` says the peer closed after `bytes`.
sub parse_responses {
    my ($bytes, %o) = @_;
    my @out;
    while (length $bytes) {
        my $end = index $bytes, "\r\n\r\n";
        my $sep = 4;
        if ($end < 0) {
            $end = index $bytes, "\n\n";
            $sep = 2;
        }
        if ($end < 0) {
            push @out, { complete => 0, partial_head => $bytes };
            last;
        }
        my $head = substr $bytes, 0, $end;
        $bytes = substr $bytes, $end + $sep;
        my ($sl, @lines) = split /\r?\n/, $head;
        my $r = { status_line => $sl, headers => [], body => '' };
        if ($sl =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?\z}) {
            @$r{qw(version status reason)} = ($1, $2, $3 // '');
        }
        for (@lines) {
            if (/^[ \t]/ && @{ $r->{headers} }) {
                $r->{headers}[-1][1] .= " " . s/^[ \t]+//r;
            }
            elsif (/^([^:]*):[ \t]*(.*?)[ \t]*\z/) {
                push @{ $r->{headers} }, [ $1, $2 ];
            }
        }
        push @out, $r;
        my $status = $r->{status} // 0;
        if ($status >= 100 && $status < 200 && $status != 101) {
            $r->{interim} = $r->{complete} = 1;
            next;
        }
        if ($o{head} || $status == 204 || $status == 304 || $status == 101) {
            $r->{complete} = 1;
            next;
        }
        my $te = header_of($r, 'Transfer-Encoding');
        my $cl = header_of($r, 'Content-Length');
        if (defined $te && $te =~ /chunked/i) {
            my $body = '';
            while ($bytes =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
                my ($n, $hl) = (hex $1, length $&);
                if ($n == 0) {
                    my $rest = substr $bytes, $hl;
                    last unless $rest =~ /\A((?:[^\r\n]+\r\n)*)\r\n/;
                    $r->{trailers} = $1;
                    $bytes = substr $rest, length $&;
                    $r->{complete} = 1;
                    last;
                }
                last if length($bytes) < $hl + $n + 2;
                $body .= substr $bytes, $hl, $n;
                $bytes = substr $bytes, $hl + $n + 2;
            }
            $r->{body} = $body;
            last unless $r->{complete};
        }
        elsif (defined $cl && $cl =~ /^\d+\z/) {
            $r->{body} = substr $bytes, 0, $cl;
            $bytes = length $bytes >= $cl ? substr($bytes, $cl) : '';
            $r->{complete} = length $r->{body} == $cl ? 1 : 0;
            last unless $r->{complete};
        }
        else {
            $r->{body} = $bytes;
            $bytes = '';
            $r->{complete} = $o{eof} ? 1 : 0;
        }
    }
    return @out;
}

# --- the error log --------------------------------------------------------------

# Lines the server logged since this test started (after letting the log
# settle: a child's exit is logged by the parent up to a second later).
sub errorlog_lines {
    my %o = @_;
    my $file = error_log();
    my $deadline = Time::HiRes::time() + ($o{settle} // 1.5);
    my $size = -s $file // 0;
    while (Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.2);
        my $now = -s $file // 0;
        last if $now == $size;
        $size = $now;
    }
    open my $fh, '<', $file or return ();
    seek $fh, $log_start, 0;
    my @lines = <$fh>;
    chomp @lines;
    return @lines;
}

# The check every .t ends with (STYLE.md §7): since the test started, no
# crit/alert/emerg line, no child killed by a signal, no sanitizer report,
# and no PRX-tagged line at level error or worse unless its tag is in
# `expect`. Reports one test result (ok / not ok) and returns it.
sub errorlog_ok {
    my @bad = errorlog_problems(@_);
    print STDERR "# unexpected error_log line: $_\n" for @bad;
    return _ok(!@bad, 'error_log has no unexpected errors');
}

# The lines errorlog_ok() objects to (same options).
sub errorlog_problems {
    my %o = @_;
    my %expect = map { $_ => 1 } @{ $o{expect} || [] };
    my @bad;
    for my $l (errorlog_lines(%o)) {
        my ($level) = $l =~ /^\[[^\]]*\] \[[^:\]]*:(\w+)\]/;
        $level //= '';
        if ($level =~ /^(crit|alert|emerg)\z/
            || $l =~ /exit signal|AddressSanitizer|LeakSanitizer|runtime error:/) {
            push @bad, $l;
        }
        elsif ($level eq 'error' && $l =~ /\b(PRX\d{5})\b/ && !$expect{$1}) {
            push @bad, $l;
        }
    }
    return (@bad, sanitizer_reports());
}

# Sanitizer report files (t/run-suite sets PRX_SANITIZER_LOG to their
# path prefix) written since this test started.
sub sanitizer_reports {
    my $prefix = $ENV{PRX_SANITIZER_LOG} or return ();
    return map { "sanitizer report: $_" }
        grep { (stat $_)[9] >= int $test_start } glob "$prefix*";
}

# ok() through whichever of Test::More / Test.pm the test planned with.
sub _ok {
    my ($ok, $name) = @_;
    if ($INC{'Test/More.pm'} && Test::More->builder->has_plan) {
        local $Test::Builder::Level = $Test::Builder::Level + 2;
        return Test::More::ok($ok, $name);
    }
    return Test::ok($ok);
}

package PrxTest::Backend;

use strict;
use warnings;
use POSIX qw(WNOHANG);
use Time::HiRes ();

my $seq = 0;

sub start {
    my ($class, $script, $port, $args) = @_;
    my $path = $script =~ m{/} ? $script : "$t_dir/backends/$script.pl";
    $path = "$t_dir/backends/$script.py" if !-f $path && -f "$t_dir/backends/$script.py";
    die "PrxTest: no backend $path\n" unless -f $path;
    my @interp = $path =~ /\.py\z/
        ? (-x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3') : $^X;
    my $dir = PrxTest::vars('t_logs') . '/backends';
    File::Path::make_path($dir);
    my $tag = sprintf '%s-%d-%d', ($script =~ s{.*/|\.p[ly]\z}{}gr), $$, ++$seq;
    my $self = bless {
        script => $script,
        record => "$dir/$tag.jsonl",
        log    => "$dir/$tag.log",
    }, $class;
    open my $trunc, '>', $self->{record} or die "$self->{record}: $!\n";
    close $trunc;

    pipe my $r, my $w or die "pipe: $!\n";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        close $r;
        open STDOUT, '>&', $w or POSIX::_exit(127);
        open STDIN, '<', '/dev/null';
        exec(@interp, $path, '--port', $port, '--record', $self->{record},
            '--parent-pid', getppid(), '--log', $self->{log}, @$args)
            or POSIX::_exit(127);
        POSIX::_exit(127);
    }
    close $w;
    $self->{pid} = $pid;
    my $line = '';
    my $rin = '';
    vec($rin, fileno($r), 1) = 1;
    if (select(my $rout = $rin, undef, undef, 10) > 0) {
        $line = <$r> // '';
    }
    close $r;
    unless ($line =~ /^READY (\d+)/) {
        $self->stop;
        my $log = do { local (@ARGV, $/) = $self->{log}; <> } // '';
        die "PrxTest: backend $script did not start: $log\n";
    }
    $self->{port} = $1;
    return $self;
}

sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }
sub url  { "http://127.0.0.1:$_[0]{port}" . ($_[1] // '/') }

# Every request the backend recorded, oldest first (hashes, see
# PrxBackend::Conn::read_head for the fields).
sub requests {
    my $self = shift;
    open my $fh, '<', $self->{record} or return ();
    return map { $json->decode($_) } grep { /\S/ } <$fh>;
}

sub last_request { my @r = $_[0]->requests; $r[-1] }

# Forgets the requests recorded so far.
sub clear { open my $fh, '>', $_[0]{record}; close $fh if $fh }

sub stop {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', -$pid;
    kill 'TERM', $pid;
    my $deadline = Time::HiRes::time() + 5;
    while (waitpid($pid, WNOHANG) == 0) {
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        Time::HiRes::sleep(0.02);
    }
}

sub DESTROY { $_[0]->stop }

package PrxTest::Raw;

# One raw client connection: send bytes, read responses, with timeouts.

use strict;
use warnings;
use IO::Socket::INET ();
use Time::HiRes ();

sub new {
    my ($class, $port, %o) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => $o{host} // '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => $o{timeout} // $RAW_TIMEOUT,
    ) or return undef;
    return bless { sock => $s, eof => 0 }, $class;
}

sub send {
    my ($self, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $self->{sock}, $data, length($data) - $off, $off;
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

sub shutdown_write { shutdown $_[0]{sock}, 1 }

# Reads until `responses` complete final responses (default 1) are in,
# the peer closed, or `timeout` seconds passed; returns the bytes.
sub read {
    my ($self, %o) = @_;
    my $want = $o{responses} // 1;
    my $deadline = Time::HiRes::time() + ($o{timeout} // $RAW_TIMEOUT);
    my $buf = '';
    while (!$self->{eof}) {
        my $done = grep { $_->{complete} && !$_->{interim} }
            PrxTest::parse_responses($buf, head => $o{head});
        last if $want && $done >= $want;
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0;
        my $rin = '';
        vec($rin, fileno($self->{sock}), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, $left) > 0;
        my $n = sysread $self->{sock}, $buf, 65536, length $buf;
        $self->{eof} = 1 unless $n;
    }
    return $buf;
}

sub eof { $_[0]{eof} }

sub close { close $_[0]{sock} if $_[0]{sock}; delete $_[0]{sock} }

1;
