package PrxBackend;

# The small forking HTTP/1.x server that every script in t/backends/ is
# built on: listening on 127.0.0.1 (or --bind), signalling readiness, one
# child per connection, reading request heads and bodies, and appending a
# record of each request to a file the tests read back (PrxTest::Backend).
# What to answer is the script's business; nothing here writes a response.
#
# Common command line (scripts add their own options):
#   --port N          listen on N (0, the default, picks a free port)
#   --bind ADDR       listen on the loopback address ADDR instead of
#                     127.0.0.1 (127.0.0.2, ::1: one port, several origins)
#   --unix PATH       listen on the unix socket PATH instead of TCP (an old
#                     socket file there is removed; READY reports port 0)
#   --ready-file F    once listening, write the port to F (atomically)
#   --pid-file F      write the server's pid (a process group leader) to F
#   --record F        append one JSON line per request to F
#   --parent-pid P    exit when process P is gone
#   --idle-timeout S  close a connection idle for S seconds (default 30)
#   --set K=V         default for a per-request parameter (repeatable)
#   --route P=QUERY   parameters for requests whose path starts with P,
#                     written as a query ("status=302&header=Location: /x";
#                     repeatable, the longest matching P wins)
#   --log F           stderr goes to F
# Readiness is also printed on stdout as "READY <port>", after which stdout
# is closed, so a parent reading a pipe knows exactly when to connect.

use strict;
use warnings;

use Socket qw(SOL_SOCKET SO_LINGER IPPROTO_TCP TCP_NODELAY);
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Getopt::Long qw(GetOptionsFromArray);
use Time::HiRes ();
use JSON::PP ();
use Digest::SHA ();
use Fcntl qw(:flock);

# Bodies up to this size are stored verbatim in the request record.
use constant BODY_KEEP_MAX => 64 * 1024;
# A request head larger than this is refused (the proxy under test may
# forward big heads on purpose; this only protects the backend).
use constant HEAD_MAX => 1024 * 1024;

my $json = JSON::PP->new->ascii->canonical;

sub json { $json }

# new(name => 'echo', argv => \@ARGV, options => { 'mode=s' => \$mode })
sub new {
    my ($class, %a) = @_;
    my $self = bless {
        name         => $a{name},
        port         => 0,
        bind         => '127.0.0.1',
        idle_timeout => 30,
        set          => [],
        route        => [],
    }, $class;
    my @argv = @{ $a{argv} || [] };
    GetOptionsFromArray(\@argv,
        'port=i'         => \$self->{port},
        'bind=s'         => \$self->{bind},
        'unix=s'         => \$self->{unix},
        'ready-file=s'   => \$self->{ready_file},
        'pid-file=s'     => \$self->{pid_file},
        'record=s'       => \$self->{record},
        'parent-pid=i'   => \$self->{parent_pid},
        'idle-timeout=f' => \$self->{idle_timeout},
        'set=s@'         => $self->{set},
        'route=s@'       => $self->{route},
        'log=s'          => \$self->{log},
        %{ $a{options} || {} },
    ) or die "$a{name}: bad command line\n";
    die "$a{name}: unexpected arguments: @argv\n" if @argv;
    $self->{defaults} = {};
    for my $kv (@{ $self->{set} }) {
        my ($k, $v) = split /=/, $kv, 2;
        push @{ $self->{defaults}{lc $k} }, $v // '';
    }
    $self->{routes} = [
        sort { length $b->[0] <=> length $a->[0] }
        map { [ split /=/, $_, 2 ] } @{ $self->{route} }
    ];
    return $self;
}

sub port { $_[0]{port} }

sub log_line {
    my ($self, $msg) = @_;
    my $t = sprintf '%.3f', Time::HiRes::time();
    print STDERR "[$t] $self->{name}\[$$]: $msg\n";
}

# Listens, signals readiness and runs `on_conn->($conn)` in a child per
# accepted connection. Never returns; exits on SIGTERM/SIGINT (taking the
# connection children with it) or when --parent-pid is gone.
sub serve {
    my ($self, $on_conn) = @_;

    if ($self->{log}) {
        open STDERR, '>>', $self->{log} or die "$self->{log}: $!\n";
    }
    # Own process group: stopping the group stops every connection child.
    setpgrp(0, 0);
    $SIG{PIPE} = 'IGNORE';

    my $l;
    if (my $path = $self->{unix}) {
        require IO::Socket::UNIX;
        unlink $path;
        $l = IO::Socket::UNIX->new(
            Type   => Socket::SOCK_STREAM(),
            Local  => $path,
            Listen => 128,
        ) or die "$self->{name}: listen on unix:$path: $!\n";
        # the proxy runs as the same user, but keep it usable by others
        chmod 0777, $path;
        $self->{port} = 0;
    }
    else {
        my $addr = $self->{bind};
        die "$self->{name}: --bind $addr: not a loopback address\n"
            unless $addr =~ /\A(?:127\.\d+\.\d+\.\d+|::1)\z/;
        my $class = 'IO::Socket::INET';
        if ($addr =~ /:/) {
            require IO::Socket::IP;
            $class = 'IO::Socket::IP';
        }
        $l = $class->new(
            LocalAddr => $addr,
            LocalPort => $self->{port},
            Listen    => 128,
            ReuseAddr => 1,
            Proto     => 'tcp',
        ) or die "$self->{name}: listen on $addr:$self->{port}: $!\n";
        $self->{port} = $l->sockport;
    }
    $self->{master_pid} = $$;

    my $stop = sub {
        $SIG{TERM} = $SIG{INT} = 'IGNORE';
        kill 'TERM', -$$;
        unlink $self->{ready_file} if $self->{ready_file};
        unlink $self->{pid_file} if $self->{pid_file};
        unlink $self->{unix} if $self->{unix};
        POSIX::_exit(0);
    };
    $SIG{TERM} = $SIG{INT} = $stop;
    $SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };

    write_file($self->{pid_file}, "$$\n") if $self->{pid_file};
    write_file($self->{ready_file}, "$self->{port}\n") if $self->{ready_file};
    $| = 1;
    print STDOUT "READY $self->{port}\n";
    open STDOUT, '>', '/dev/null';
    $self->log_line($self->{unix} ? "listening on unix:$self->{unix}"
                                  : "listening on $self->{bind}:$self->{port}");

    my $conn_id = 0;
    while (1) {
        $stop->() unless $self->parent_alive;
        my $rin = '';
        vec($rin, fileno($l), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, 0.5) > 0;
        my $sock = $l->accept or next;
        $conn_id++;
        my $pid = fork;
        if (!defined $pid) {
            $self->log_line("fork: $!");
            close $sock;
            next;
        }
        if ($pid == 0) {
            close $l;
            $SIG{TERM} = $SIG{INT} = 'DEFAULT';
            $SIG{CHLD} = 'DEFAULT';
            my $c = PrxBackend::Conn->new($self, $sock, $conn_id);
            eval { $on_conn->($c); 1 } or $self->log_line("conn $conn_id: $@");
            $c->close;
            POSIX::_exit(0);
        }
        close $sock;
    }
}

# Writes `text` to `file` atomically (a reader never sees it half done).
sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', "$file.tmp" or die "$file.tmp: $!\n";
    print $fh $text;
    close $fh;
    rename "$file.tmp", $file or die "rename $file: $!\n";
}

sub parent_alive {
    my $self = shift;
    my $p = $self->{parent_pid} or return 1;
    return kill(0, $p) || $!{EPERM};
}

# Per-request parameters: `--set k=v` defaults, then the longest matching
# `--route`, then query `<prefix>.k=v`, then request headers
# `X-<Prefix>-K: v`; a later source replaces an earlier one key by key.
# Values are lists (header=, trailer= repeat).
sub params {
    my ($self, $req, $prefix) = @_;
    my %p = %{ $self->{defaults} };
    my ($path, $query) = split /\?/, $req->{target}, 2;
    for my $r (@{ $self->{routes} }) {
        next unless index($path, $r->[0]) == 0;
        my $q = parse_query($r->[1] // '', '');
        @p{ keys %$q } = values %$q;
        last;
    }
    my $q = parse_query($query // '', "$prefix.");
    @p{ keys %$q } = values %$q;
    my %h;
    for my $hv (@{ $req->{headers} }) {
        my ($n, $v) = @$hv;
        next unless $n =~ /^X-\Q$prefix\E-(.+)\z/i;
        push @{ $h{lc $1} }, $v;
    }
    @p{ keys %h } = values %h;
    return \%p;
}

# { key => [values] } of the `k=v&...` pairs of `query` whose key starts
# with `prefix` (stripped).
sub parse_query {
    my ($query, $prefix) = @_;
    my %q;
    for my $pair (split /&/, $query) {
        my ($k, $v) = split /=/, $pair, 2;
        next unless defined $k && $k =~ s/^\Q$prefix\E//i;
        push @{ $q{lc $k} }, uri_unescape($v // '');
    }
    return \%q;
}

# The single value of parameter `k` (the last one given), or `default`.
sub param {
    my ($p, $k, $default) = @_;
    my $v = $p->{$k};
    return $default unless $v && @$v;
    return $v->[-1];
}

sub uri_unescape {
    my $s = shift;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

my %reasons = (
    100 => 'Continue', 101 => 'Switching Protocols', 102 => 'Processing',
    103 => 'Early Hints', 200 => 'OK', 201 => 'Created', 202 => 'Accepted',
    204 => 'No Content', 206 => 'Partial Content',
    301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other',
    304 => 'Not Modified', 307 => 'Temporary Redirect',
    308 => 'Permanent Redirect', 400 => 'Bad Request', 401 => 'Unauthorized',
    403 => 'Forbidden', 404 => 'Not Found', 405 => 'Method Not Allowed',
    408 => 'Request Timeout', 413 => 'Content Too Large',
    417 => 'Expectation Failed', 500 => 'Internal Server Error',
    502 => 'Bad Gateway', 503 => 'Service Unavailable',
    504 => 'Gateway Timeout',
);

# First value of header `name` (case-insensitive), or undef.
sub header {
    my ($req, $name) = @_;
    for (@{ $req->{headers} }) {
        return $_->[1] if lc $_->[0] eq lc $name;
    }
    return undef;
}

sub header_all {
    my ($req, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $req->{headers} };
}

sub reason { $reasons{ $_[0] } // 'Status' }

# Deterministic filler of `n` bytes; a truncated copy is easy to spot.
sub filler {
    my $n = shift;
    my $unit = join '', map { sprintf "%07d\n", $_ } 0 .. 1023;    # 8 KiB
    my $s = $unit x (int($n / length($unit)) + 1);
    return substr $s, 0, $n;
}

sub msleep { Time::HiRes::sleep($_[0] / 1000) if $_[0] && $_[0] > 0 }

package PrxBackend::Conn;

use strict;
use warnings;
use Socket qw(SOL_SOCKET SO_LINGER IPPROTO_TCP TCP_NODELAY);
use Fcntl qw(:flock);
use POSIX ();

sub new {
    my ($class, $srv, $sock, $id) = @_;
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    return bless {
        srv  => $srv,
        sock => $sock,
        id   => $id,
        seq  => 0,
        buf  => '',
        peer => $sock->can('peerhost') ? $sock->peerhost . ':' . $sock->peerport
                                       : 'unix',
    }, $class;
}

sub id  { $_[0]{id} }
sub seq { $_[0]{seq} }
sub srv { $_[0]{srv} }

# Reads more bytes into the buffer. Returns the count, 0 at EOF, undef on
# error or when the connection stayed idle past --idle-timeout (or the
# server master went away).
sub fill {
    my $self = shift;
    my $fd = fileno $self->{sock};
    return undef unless defined $fd;
    my $deadline = Time::HiRes::time() + $self->{srv}{idle_timeout};
    while (1) {
        return undef if getppid() != $self->{srv}{master_pid};
        my $left = $deadline - Time::HiRes::time();
        return undef if $left <= 0;
        my $rin = '';
        vec($rin, $fd, 1) = 1;
        my $n = select(my $rout = $rin, undef, undef, $left < 1 ? $left : 1);
        next if $n == 0 || ($n < 0 && $!{EINTR});
        return undef if $n < 0;
        my $got = sysread $self->{sock}, $self->{buf}, 65536, length $self->{buf};
        next if !defined $got && $!{EINTR};
        return $got;
    }
}

# One line including its terminator (LF, CRLF or whatever precedes LF), or
# undef at EOF/timeout. A partial last line at EOF is returned as is.
sub read_line {
    my ($self, $max) = @_;
    $max //= PrxBackend::HEAD_MAX;
    while (1) {
        my $i = index $self->{buf}, "\n";
        return substr($self->{buf}, 0, $i + 1, '') if $i >= 0;
        return undef if length $self->{buf} > $max;
        my $n = $self->fill;
        if (!$n) {
            return undef unless length $self->{buf};
            return substr $self->{buf}, 0, length $self->{buf}, '';
        }
    }
}

sub read_exact {
    my ($self, $len) = @_;
    while (length $self->{buf} < $len) {
        my $n = $self->fill;
        return undef unless $n;
    }
    return substr $self->{buf}, 0, $len, '';
}

sub chomp_crlf { my $s = shift; $s =~ s/\r?\n\z//; $s }

# Reads one request head. Returns undef when the peer closed (or idled)
# between requests; a hash with `error` for a head we could not parse.
sub read_head {
    my $self = shift;
    my $line;
    do {
        $line = $self->read_line;
        return undef unless defined $line;
    } while ($line =~ /^\r?\n\z/);
    $self->{seq}++;
    my $req = {
        conn         => $self->{id},
        seq          => $self->{seq},
        pid          => $$,
        peer         => $self->{peer},
        port         => $self->{srv}{port},
        backend      => $self->{srv}{name},
        time         => Time::HiRes::time(),
        request_line => chomp_crlf($line),
        lines        => [],
        headers      => [],
    };
    my $size = length $line;
    while (1) {
        my $h = $self->read_line;
        if (!defined $h) {
            $req->{error} = 'eof in request head';
            return $req;
        }
        $size += length $h;
        if ($size > PrxBackend::HEAD_MAX) {
            $req->{error} = 'request head too large';
            return $req;
        }
        last if $h =~ /^\r?\n\z/;
        $h = chomp_crlf($h);
        push @{ $req->{lines} }, $h;
        if ($h =~ /^[ \t]/ && @{ $req->{headers} }) {
            # obs-fold: kept verbatim in `lines`, joined in `headers`
            (my $cont = $h) =~ s/^[ \t]+//;
            $req->{headers}[-1][1] .= " $cont";
        }
        elsif ($h =~ /^([^:]*):[ \t]*(.*?)[ \t]*\z/s) {
            push @{ $req->{headers} }, [ $1, $2 ];
        }
        else {
            $req->{error} = "header line without colon: $h";
        }
    }
    if ($req->{request_line} =~ m{^(\S+) (\S+) (HTTP/\d\.\d)\z}) {
        @$req{qw(method target version)} = ($1, $2, $3);
    }
    else {
        $req->{error} //= "bad request line";
        @$req{qw(method target version)} = ('', '', 'HTTP/1.0');
    }
    return $req;
}

# Reads the request body by the request's own framing (chunked, then
# Content-Length, else none) into $req->{body}. Returns true when the whole
# body arrived; false (with $req->{body_error}) otherwise.
sub read_body {
    my ($self, $req) = @_;
    my $body = '';
    my $te = PrxBackend::header($req, 'Transfer-Encoding');
    my $cl = PrxBackend::header($req, 'Content-Length');
    my $ok = 1;
    if (defined $te && $te =~ /chunked\s*\z/i) {
        $req->{chunked} = 1;
        $req->{chunk_sizes} = [];
        $req->{chunk_times} = [];    # when each chunk's data was in (the first 64)
        $req->{trailers} = [];
        while (1) {
            my $szl = $self->read_line(8192);
            if (!defined $szl || $szl !~ /^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n\z/) {
                $req->{body_error} = defined $szl ? 'bad chunk size line' : 'eof in chunk size';
                $ok = 0;
                last;
            }
            my $n = hex $1;
            push @{ $req->{chunk_sizes} }, $n;
            if ($n == 0) {
                while (defined(my $t = $self->read_line)) {
                    last if $t =~ /^\r?\n\z/;
                    push @{ $req->{trailers} }, chomp_crlf($t);
                }
                last;
            }
            my $data = $self->read_exact($n);
            push @{ $req->{chunk_times} }, Time::HiRes::time()
                if @{ $req->{chunk_times} } < 64;
            my $crlf = defined $data ? $self->read_line(2) : undef;
            if (!defined $crlf || $crlf !~ /^\r?\n\z/) {
                $body .= $data if defined $data;
                $req->{body_error} = 'truncated chunk';
                $ok = 0;
                last;
            }
            $body .= $data;
        }
    }
    elsif (defined $cl) {
        if ($cl !~ /^\d+\z/) {
            $req->{body_error} = 'bad Content-Length';
            $ok = 0;
        }
        else {
            my $data = $self->read_exact($cl);
            if (!defined $data) {
                $body = substr $self->{buf}, 0, length $self->{buf}, '';
                $req->{body_error} = 'truncated body';
                $ok = 0;
            }
            else {
                $body = $data;
            }
        }
    }
    $req->{body_length} = length $body;
    $req->{body_sha1} = Digest::SHA::sha1_hex($body);
    $req->{body} = $body;
    return $ok;
}

# Appends the request to the --record file (body only when small) and
# returns the JSON of the record. Must run before the response is sent so
# that a test which got the response always finds the record.
sub record {
    my ($self, $req) = @_;
    my %r = %$req;
    delete $r{body} if defined $r{body} && length $r{body} > PrxBackend::BODY_KEEP_MAX;
    my $text = PrxBackend::json()->encode(\%r);
    if (my $f = $self->{srv}{record}) {
        if (open my $fh, '>>', $f) {
            flock $fh, LOCK_EX;
            syswrite $fh, "$text\n";
            close $fh;
        }
    }
    return $text;
}

# Writes all of `data`; false when the peer is gone.
sub write {
    my ($self, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $self->{sock}, $data, length($data) - $off, $off;
        if (!defined $n) {
            next if $!{EINTR};
            return 0;
        }
        $off += $n;
    }
    return 1;
}

# Writes `data` in pieces of `size` bytes with `ms` milliseconds between.
sub drip {
    my ($self, $data, $size, $ms) = @_;
    $size ||= 1;
    for (my $off = 0; $off < length $data; $off += $size) {
        PrxBackend::msleep($ms) if $off;
        $self->write(substr $data, $off, $size) or return 0;
    }
    return 1;
}

sub shutdown_write { shutdown $_[0]{sock}, 1 if $_[0]{sock} }

# Closes with an RST instead of a FIN (SO_LINGER on, zero timeout).
sub reset {
    my $self = shift;
    return unless $self->{sock};
    setsockopt($self->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $self->{sock};
    $self->{sock} = undef;
}

sub close {
    my $self = shift;
    return unless $self->{sock};
    close $self->{sock};
    $self->{sock} = undef;
}

# Keeps the connection open without answering until the peer closes it,
# the idle timeout passes or the server stops.
sub hold {
    my $self = shift;
    while ($self->{sock}) {
        my $n = $self->fill;
        last unless $n;
        $self->{buf} = '';
    }
}

1;
