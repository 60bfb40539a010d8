#!/usr/bin/perl
# tunnel.pl -- a raw TCP peer for the tests of tunnels (CONNECT, Upgrade):
# no HTTP, a one-line command per connection chosen by the client, and a
# record per connection of what it received and when it saw the client's
# EOF, so a test can prove each direction of a tunnel separately.
#
# The client's first line (LF-terminated) is the command:
#   ECHO              send back every byte that follows, until EOF; close
#   COUNT [MS]        read until EOF, then (after MS milliseconds) answer
#                     "COUNT <bytes> <sha1-hex>\n" and close: the answer
#                     can only arrive when the tunnel passes the client's
#                     half-close on and keeps the other direction open
#   SEND N [MS]       (after MS milliseconds) send N bytes of filler
#                     (PrxBackend::filler), shut the write side down, then
#                     read until EOF: what the client sends after our
#                     half-close is recorded
#   BOTH N            send N bytes while reading until EOF, at once (both
#                     directions busy: back-pressure must not deadlock)
#   SILENT            send nothing; wait for EOF (idle timeouts)
# With --banner TEXT the peer first sends TEXT and a LF as soon as it
# accepts, before reading the command (protocols where the server speaks
# first).
#
# Record (one JSON line per connection, written when it ends): conn, peer,
# command, got (bytes after the command line), got_sha1, sent, eof (the
# client's EOF was seen), eof_after_ms (since the command line).

use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/../lib";
use Digest::SHA ();
use Time::HiRes ();
use PrxBackend ();

my $banner;
my $srv = PrxBackend->new(
    name    => 'tunnel',
    argv    => \@ARGV,
    options => { 'banner=s' => \$banner },
);
$srv->serve(\&on_conn);

sub on_conn {
    my $c = shift;
    my $rec = { conn => $c->id, peer => $c->{peer}, got => 0, sent => 0, eof => 0 };
    my $sha = Digest::SHA->new(1);
    if (defined $banner) {
        $c->write("$banner\n") or return done($c, $rec, $sha);
        $rec->{sent} += length($banner) + 1;
    }
    my $line = $c->read_line(4096);
    return done($c, $rec, $sha) unless defined $line;
    $line =~ s/\r?\n\z//;
    $rec->{command} = $line;
    my $t0 = Time::HiRes::time();
    my ($cmd, $arg) = split ' ', $line, 2;
    $cmd //= '';

    # bytes that came with the command line
    my $take = sub {
        my $d = $c->{buf};
        $c->{buf} = '';
        $rec->{got} += length $d;
        $sha->add($d);
        return $d;
    };
    my $until_eof = sub {
        my $each = shift;
        while (1) {
            my $d = $take->();
            $each->($d) if $each && length $d;
            my $n = $c->fill;
            if (!defined $n) {
                last;
            }
            if ($n == 0) {
                $take->();
                $rec->{eof} = 1;
                $rec->{eof_after_ms} = int((Time::HiRes::time() - $t0) * 1000);
                last;
            }
        }
    };

    if ($cmd eq 'ECHO') {
        $until_eof->(sub { $rec->{sent} += length $_[0] if $c->write($_[0]) });
    }
    elsif ($cmd eq 'COUNT') {
        $until_eof->();
        PrxBackend::msleep($arg // 0);
        my $answer = "COUNT $rec->{got} " . $sha->clone->hexdigest . "\n";
        $rec->{sent} += length $answer if $c->write($answer);
    }
    elsif ($cmd eq 'SEND') {
        my ($n, $ms) = split ' ', $arg // '0';
        PrxBackend::msleep($ms // 0);
        my $data = PrxBackend::filler($n);
        $rec->{sent} += length $data if $c->write($data);
        $c->shutdown_write;
        $until_eof->();
    }
    elsif ($cmd eq 'BOTH') {
        both($c, $rec, $sha, $arg // 0, $t0);
    }
    else {
        $until_eof->();
    }
    return done($c, $rec, $sha);
}

# Writes `n` filler bytes and reads until EOF, whichever can move.
sub both {
    my ($c, $rec, $sha, $n, $t0) = @_;
    my $data = PrxBackend::filler($n);
    my $off = 0;
    my $fd = fileno $c->{sock};
    $sha->add($c->{buf});
    $rec->{got} += length $c->{buf};
    $c->{buf} = '';
    my $deadline = Time::HiRes::time() + $c->{srv}{idle_timeout};
    while (!$rec->{eof} || $off < length $data) {
        last if Time::HiRes::time() > $deadline;
        my ($rin, $win) = ('', '');
        vec($rin, $fd, 1) = 1 unless $rec->{eof};
        vec($win, $fd, 1) = 1 if $off < length $data;
        my $k = select(my $rout = $rin, my $wout = $win, undef, 1);
        next if $k <= 0;
        if (vec($rout, $fd, 1)) {
            my $got = sysread $c->{sock}, my $buf, 65536;
            if (!$got) {
                $rec->{eof} = 1;
                $rec->{eof_after_ms} = int((Time::HiRes::time() - $t0) * 1000);
            }
            else {
                $rec->{got} += $got;
                $sha->add($buf);
            }
            $deadline = Time::HiRes::time() + $c->{srv}{idle_timeout};
        }
        if (vec($wout, $fd, 1)) {
            my $w = syswrite $c->{sock}, $data, 65536, $off;
            last unless defined $w || $!{EAGAIN} || $!{EINTR};
            $off += $w // 0;
            $deadline = Time::HiRes::time() + $c->{srv}{idle_timeout};
        }
    }
    $rec->{sent} += $off;
}

sub done {
    my ($c, $rec, $sha) = @_;
    $rec->{got_sha1} = $sha->hexdigest;
    $c->record($rec);
    $c->close;
    return;
}
