#!/usr/bin/perl
# bad.pl -- a backend that breaks HTTP on purpose, one way per "mode", so
# tests can prove the proxy's error paths (and that the next normal request
# still works: mode "ok" answers a plain 200 and keeps the connection).
#
# The mode of a request is the first that is given of: a path segment
# "/bad/<mode>" in the request-target, header "X-Bad-Mode", query
# "bad.mode=", `--mode` on the command line; else "ok". Parameters use the
# same sources ("X-Bad-Size", "bad.size=", `--set size=N`):
#   size=N      bytes for long-status/long-header (default 16384) and body
#               length for drip (default 64)
#   count=N     header count for many-headers (default 200)
#   interval=MS pause between bytes for drip (default 100)
#
# Only with `--mode` (they act before a request is read): close (accept
# and close at once), reset (accept and reset at once).
#
# Every mode except ok closes the connection after it misbehaves.

use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/../lib";
use PrxBackend ();

my $start_mode = 'ok';
my $srv = PrxBackend->new(
    name    => 'bad',
    argv    => \@ARGV,
    options => { 'mode=s' => \$start_mode },
);

my $OK_BODY = "ok\n";

# A complete, valid response with extra header lines `extra`.
sub valid {
    my ($extra, $body) = @_;
    $body //= $OK_BODY;
    return "HTTP/1.1 200 OK\r\nServer: prx-bad\r\n$extra"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
}

sub send_close { my ($c, $data) = @_; $c->write($data); return 0 }

my %modes = (
    ok => sub {
        my ($c) = @_;
        return $c->write("HTTP/1.1 200 OK\r\nServer: prx-bad\r\nX-Bad-Conn: "
            . $c->id . "\r\nContent-Length: " . length($OK_BODY)
            . "\r\n\r\n$OK_BODY");
    },
    # --- status line and head shape
    'bad-status' => sub {
        send_close($_[0], "HTTP/1.1 2x0 Broken\r\nContent-Length: 3\r\n\r\nok\n");
    },
    garbage => sub {
        send_close($_[0], "this is not an HTTP response\r\n\r\nreally not\r\n");
    },
    'truncated-head' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
    },
    'no-colon' => sub { send_close($_[0], valid("X-No-Colon-Here\r\n")) },
    'ws-before-colon' => sub { send_close($_[0], valid("X-Space : v\r\n")) },
    'bare-cr' => sub {
        send_close($_[0], valid("X-Bare-Cr: a\rSet-Cookie: injected=1\r\n"));
    },
    'bare-lf' => sub {
        send_close($_[0], valid("X-Bare-Lf: a\nSet-Cookie: injected=1\r\n"));
    },
    nul => sub { send_close($_[0], valid("X-Nul: a\0b\r\n")) },
    'obs-fold' => sub {
        send_close($_[0], valid("X-Folded: first\r\n  second\r\n"));
    },
    # --- framing
    'cl-te' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
            . "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    },
    'cl-dup' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
            . "Content-Length: 5\r\n\r\nhello");
    },
    'cl-bad' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nhello");
    },
    'te-bad' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\nhello");
    },
    'bad-chunk' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            . "zz\r\nhello\r\n0\r\n\r\n");
    },
    'truncated-cl' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
            . PrxBackend::filler(100));
    },
    'truncated-chunked' => sub {
        send_close($_[0], "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            . "5\r\nhello\r\n");
    },
    # --- sizes
    'long-status' => sub {
        my ($c, $req, $p) = @_;
        my $n = PrxBackend::param($p, 'size', 16384);
        send_close($c, "HTTP/1.1 200 " . ('x' x $n) . "\r\nContent-Length: 3\r\n\r\nok\n");
    },
    'long-header' => sub {
        my ($c, $req, $p) = @_;
        my $n = PrxBackend::param($p, 'size', 16384);
        send_close($c, valid("X-Long: " . ('x' x $n) . "\r\n"));
    },
    'many-headers' => sub {
        my ($c, $req, $p) = @_;
        my $n = PrxBackend::param($p, 'count', 200);
        send_close($c, valid(join '', map { "X-Many-$_: v\r\n" } 1 .. $n));
    },
    # --- timing and transport
    drip => sub {
        my ($c, $req, $p) = @_;
        my $body = PrxBackend::filler(PrxBackend::param($p, 'size', 64));
        $c->drip(valid('', $body), 1, PrxBackend::param($p, 'interval', 100));
        return 0;
    },
    'reset-before-head' => sub { $_[0]->reset; return 0 },
    'reset-after-head' => sub {
        my ($c) = @_;
        $c->write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
            . PrxBackend::filler(10));
        $c->reset;
        return 0;
    },
    silent => sub { $_[0]->hold; return 0 },
    'close-after-read' => sub { return 0 },
);

my %pre_read = (
    close => sub { $_[0]->close },
    reset => sub { $_[0]->reset },
);

die "bad.pl: unknown --mode $start_mode\n"
    unless $modes{$start_mode} || $pre_read{$start_mode};

$srv->serve(\&on_conn);

sub on_conn {
    my $c = shift;
    if (my $pre = $pre_read{$start_mode}) {
        return $pre->($c);
    }
    while (my $req = $c->read_head) {
        my $p = $srv->params($req, 'bad');
        my $mode = $req->{target} =~ m{/bad/([A-Za-z0-9-]+)} ? $1
            : PrxBackend::param($p, 'mode', $start_mode);
        $req->{mode} = $mode;
        $c->read_body($req) unless $req->{error};
        $c->record($req);
        my $run = $modes{$mode} or do {
            send_close($c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            return;
        };
        $run->($c, $req, $p) or return;
    }
}
