package PrxForward;

# Client helpers for the forward-proxy tests (t/forward/*.t): requests in
# absolute form over a raw socket (byte for byte, no client normalising
# the URL), curl as a real proxy client (-x, -p), and CONNECT tunnels the
# test drives one direction at a time.
#
#   my $p = PrxForward::port('forward_req');     # a vhost's port
#   my $res = PrxForward::request($proxy_port, 'GET', 'http://h:1/p?q',
#                                 headers => ['X-A: 1'], body => '...');
#       # { status, reason, headers, body, raw } of the first final
#       # response; Host is the URL's authority unless headers name one
#   my $c = PrxForward::curl('-x', "http://127.0.0.1:$p", $url);
#       # { exit, out, err, responses => [parse_responses of the output] }
#   my $t = PrxForward::tunnel($proxy_port, '127.0.0.1:443');
#   $t->{status}; $t->{head}; $t->send($bytes); $t->shutdown_write;
#   $t->read_line; $t->read_bytes($n); $t->read_all; $t->eof; $t->close

use strict;
use warnings;

use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();
use Apache::Test ();
use PrxTest ();

our $TIMEOUT = 10;

# The port of the named <VirtualHost> of the test server (undef when the
# config left it out).
sub port {
    my $name = shift;
    my $hp = Apache::Test::config()->{vhosts}{$name}{hostport} or return undef;
    return (split /:/, $hp)[-1];
}

sub request {
    my ($port, $method, $target, %o) = @_;
    my @h = @{ $o{headers} || [] };
    my $body = $o{body} // '';
    unless (grep { /^Host:/i } @h) {
        my ($auth) = $target =~ m{^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#]*)};
        $auth //= $target;
        $auth =~ s/^.*@//;
        unshift @h, "Host: $auth";
    }
    push @h, 'Connection: close' unless grep { /^Connection:/i } @h;
    push @h, 'Content-Length: ' . length($body)
        if length $body && !grep { /^(Content-Length|Transfer-Encoding):/i } @h;
    my $bytes = "$method $target HTTP/1.1\r\n" . join('', map { "$_\r\n" } @h)
        . "\r\n$body";
    my $raw = PrxTest::raw_request($port, $bytes, timeout => $o{timeout} // $TIMEOUT,
        head => $method eq 'HEAD') // '';
    my @r = grep { !$_->{interim} }
        PrxTest::parse_responses($raw, eof => 1, head => $method eq 'HEAD');
    my $res = $r[0] || { status => 0, headers => [], body => '' };
    $res->{raw} = $raw;
    return $res;
}

# Runs curl; the output is the response heads (-i) and body.
sub curl {
    my @args = @_;
    my $out_file = PrxTest::vars('t_logs') . "/curl-$$.out";
    my $err_file = PrxTest::vars('t_logs') . "/curl-$$.err";
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out_file or POSIX::_exit(127);
        open STDERR, '>', $err_file or POSIX::_exit(127);
        exec 'curl', '-sS', '-i', '--max-time', $TIMEOUT, '--noproxy', '',
            @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $exit = $? >> 8;
    my $out = do { local (@ARGV, $/) = $out_file; <> } // '';
    my $err = do { local (@ARGV, $/) = $err_file; <> } // '';
    unlink $out_file, $err_file;
    # the answer to a CONNECT (curl -p) has no framing: what follows its
    # head is the tunnel, i.e. the next response
    my @r;
    while ($out =~ s{\A(HTTP/1\.[01] 200 Connection established[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)}{}i) {
        push @r, PrxTest::parse_responses($1, head => 1);
    }
    push @r, PrxTest::parse_responses($out, eof => 1);
    return { exit => $exit, out => $out, err => $err, responses => \@r };
}

# The final response of a curl run (the last one it printed).
sub curl_final {
    my $c = shift;
    my @r = grep { !$_->{interim} } @{ $c->{responses} };
    return $r[-1] || { status => 0, headers => [], body => '' };
}

# Opens a CONNECT tunnel through the proxy at `port`: sends
# "CONNECT target HTTP/1.1" (+ `headers`) and reads the answer's head.
# The object has status, status_line, head (the whole head text), headers.
sub tunnel {
    my ($port, $target, %o) = @_;
    my $t = PrxForward::Tunnel->new($port, %o) or return undef;
    my @h = @{ $o{headers} || [ "Host: $target" ] };
    $t->send("CONNECT $target HTTP/1.1\r\n" . join('', map { "$_\r\n" } @h) . "\r\n");
    $t->read_head;
    return $t;
}

# A small origin on the IPv6 loopback ([::1]), in a child process: an
# HTTP request head is answered with a 200 whose body is that head; any
# other first line is echoed back with everything after it, until EOF.
# Returns (port, pid); stop it with kill TERM.
sub v6_origin {
    require IO::Socket::IP;
    my $l = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 16,
        ReuseAddr => 1) or return;
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        local $SIG{CHLD} = 'IGNORE';
        while (my $c = $l->accept) {
            next if fork;
            my $first = <$c> // '';
            if ($first =~ m{^\S+ \S+ HTTP/1\.\d\r?\n\z}) {
                my $head = $first;
                while (defined(my $line = <$c>)) {
                    $head .= $line;
                    last if $line =~ /^\r?\n\z/;
                }
                print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($head)
                    . "\r\nConnection: close\r\n\r\n$head";
            }
            else {
                print $c $first;
                while (sysread $c, my $buf, 65536) { syswrite $c, $buf }
            }
            POSIX::_exit(0);
        }
        POSIX::_exit(0);
    }
    my $port = $l->sockport;
    close $l;
    return ($port, $pid);
}

package PrxForward::Tunnel;

use strict;
use warnings;
use Socket qw(IPPROTO_TCP TCP_NODELAY);

sub new {
    my ($class, $port, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 5) or return undef;
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    if (my $ca = $o{tls}) {
        # TLS to the proxy itself (an https:// proxy)
        require IO::Socket::SSL;
        IO::Socket::SSL->start_SSL($s, SSL_ca_file => $ca, SSL_hostname => 'localhost',
            SSL_verifycn_name => 'localhost', SSL_verifycn_scheme => 'http')
            or die "PrxForward: TLS to the proxy: $IO::Socket::SSL::SSL_ERROR\n";
    }
    return bless { sock => $s, buf => '', eof => 0, tls => !!$o{tls},
                   timeout => $o{timeout} // $PrxForward::TIMEOUT }, $class;
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

# Reads more into the buffer; false at EOF or after `timeout` seconds.
sub fill {
    my ($self, $timeout) = @_;
    return 0 if $self->{eof};
    my $rin = '';
    vec($rin, fileno($self->{sock}), 1) = 1;
    return 0 unless ($self->{tls} && $self->{sock}->pending)
        || select(my $rout = $rin, undef, undef, $timeout) > 0;
    my $n = sysread $self->{sock}, $self->{buf}, 1 << 20, length $self->{buf};
    $self->{eof} = 1 unless $n;
    return $n;
}

sub until {
    my ($self, $cond, $timeout) = @_;
    my $deadline = Time::HiRes::time() + ($timeout // $self->{timeout});
    until ($cond->()) {
        my $left = $deadline - Time::HiRes::time();
        return 0 if $left <= 0 || $self->{eof};
        $self->fill($left);
    }
    return 1;
}

sub read_head {
    my $self = shift;
    $self->until(sub { index($self->{buf}, "\r\n\r\n") >= 0 });
    my $i = index $self->{buf}, "\r\n\r\n";
    $self->{status} = 0;
    return if $i < 0;
    my $head = substr $self->{buf}, 0, $i + 4, '';
    $self->{head} = $head;
    my ($r) = PrxTest::parse_responses($head, head => 1);
    $self->{status_line} = $r->{status_line};
    $self->{status} = $r->{status} // 0;
    $self->{headers} = $r->{headers};
    return $r;
}

# The body of a non-200 answer: by Content-Length, else until EOF.
sub read_body {
    my $self = shift;
    my $cl = PrxTest::header_of({ headers => $self->{headers} || [] }, 'Content-Length');
    return $self->read_bytes($cl) if defined $cl;
    return $self->read_all;
}

sub read_line {
    my ($self, $timeout) = @_;
    $self->until(sub { index($self->{buf}, "\n") >= 0 }, $timeout);
    my $i = index $self->{buf}, "\n";
    return undef if $i < 0;
    return substr $self->{buf}, 0, $i + 1, '';
}

sub read_bytes {
    my ($self, $n, $timeout) = @_;
    $self->until(sub { length($self->{buf}) >= $n }, $timeout);
    return substr $self->{buf}, 0, $n, '';
}

# Everything until EOF (or the timeout: then eof() is false).
sub read_all {
    my ($self, $timeout) = @_;
    $self->until(sub { 0 }, $timeout);
    return substr $self->{buf}, 0, length $self->{buf}, '';
}

# Sends `data` while reading what comes back (neither direction waits
# for the other), then with `shut => 1` shuts our write side down; reads
# until `want` bytes arrived, EOF, or `timeout`. Returns what was read.
sub pump {
    my ($self, $data, %o) = @_;
    my $fd = fileno $self->{sock};
    my $off = 0;
    my $deadline = Time::HiRes::time() + ($o{timeout} // $self->{timeout});
    $self->{sock}->blocking(0);
    while (Time::HiRes::time() < $deadline) {
        if ($off >= length $data && $o{shut} && !$self->{shut}) {
            shutdown $self->{sock}, 1;
            $self->{shut} = 1;
        }
        last if $self->{eof};
        last if defined $o{want} && length $self->{buf} >= $o{want} && $off >= length $data;
        my ($rin, $win) = ('', '');
        vec($rin, $fd, 1) = 1;
        vec($win, $fd, 1) = 1 if $off < length $data;
        my ($rout, $wout);
        my $pending = $self->{tls} && $self->{sock}->pending;
        next unless select($rout = $rin, $wout = $win, undef, $pending ? 0 : 0.5) > 0
            || $pending;
        if ($pending || vec($rout, $fd, 1)) {
            my $n = sysread $self->{sock}, $self->{buf}, 1 << 20, length $self->{buf};
            $self->{eof} = 1 if defined $n && $n == 0;
            $self->{eof} = 1 if !defined $n && !$!{EAGAIN} && !$!{EINTR};
        }
        if (vec($wout // '', $fd, 1)) {
            local $SIG{PIPE} = 'IGNORE';
            my $n = syswrite $self->{sock}, $data, 1 << 14, $off;
            $off += $n if $n;
            last if !defined $n && !$!{EAGAIN} && !$!{EINTR};
        }
    }
    $self->{sock}->blocking(1);
    $self->{sent} = $off;
    return substr $self->{buf}, 0, length $self->{buf}, '';
}

sub eof { $_[0]{eof} }

sub close { close $_[0]{sock} if $_[0]{sock}; delete $_[0]{sock} }

1;
