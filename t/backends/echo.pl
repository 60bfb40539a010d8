#!/usr/bin/perl
# echo.pl -- the echo origin: answers every request with a JSON record of
# the request it received (request line, every header line verbatim and in
# order, body length/sha1/body, connection id and the request's number on
# that connection), so a test can assert on what the proxy sent.
#
# Per-request behaviour is chosen by the request: request headers
# `X-Echo-<Key>: <value>`, else query parameters `echo.<key>=<value>`,
# else a `--route PATH=QUERY` whose PATH prefixes the request path, else
# `--set key=value` server-wide defaults:
#   status=N          final status (default 200); reason=TEXT its phrase
#   header=N: V       add a response header line verbatim (repeatable;
#                     "{self}" in V becomes this backend's 127.0.0.1:port)
#   body=N            N bytes of filler instead of the JSON record
#   framing=cl|chunked|close   Content-Length (default), chunked, or
#                     neither and close the connection after the body
#   chunk=N           chunk size for chunked framing and for drip
#   trailer=N: V      trailer field for chunked framing (repeatable)
#   interim=C[,C..]   1xx responses sent before the final one (103 gets a
#                     Link header)
#   expect=100|ignore|final   on "Expect: 100-continue": send 100 and read
#                     the body (default), read the body without sending
#                     100, or send the final response without reading the
#                     body and close
#   delay=MS          wait before sending the response head
#   gate=PATH         then wait (up to 30 s) until the file PATH exists, so
#                     a test decides when a slow response ends
#   drip=MS           wait MS between body pieces of `chunk` bytes
#   close=1           answer with "Connection: close" and close
# Every response carries X-Echo-Conn and X-Echo-Seq (connection id, request
# number on it). See PrxBackend.pm for the common options (--port,
# --ready-file, --record, --parent-pid, ...).

use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/../lib";
use PrxBackend ();

my $srv = PrxBackend->new(name => 'echo', argv => \@ARGV);
$srv->serve(\&on_conn);

sub on_conn {
    my $c = shift;
    while (my $req = $c->read_head) {
        return answer_bad($c, $req) if $req->{error};
        my $p = $srv->params($req, 'echo');
        my $expect = lc(PrxBackend::header($req, 'Expect') // '');
        if ($expect eq '100-continue') {
            my $how = PrxBackend::param($p, 'expect', '100');
            if ($how eq 'final') {
                $req->{body_unread} = 1;
                respond($c, $req, $p, 1, $c->record($req));
                return;
            }
            if ($how eq '100') {
                $c->write("HTTP/1.1 100 Continue\r\n\r\n") or return;
                $req->{sent_100} = 1;
            }
        }
        my $complete = $c->read_body($req);
        my $text = $c->record($req);
        return unless $complete;
        respond($c, $req, $p, 0, $text) or return;
    }
}

sub answer_bad {
    my ($c, $req) = @_;
    $c->record($req);
    my $msg = "echo: $req->{error}\n";
    $c->write("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
        . "Content-Length: " . length($msg) . "\r\nConnection: close\r\n\r\n$msg");
    return;
}

# Sends the (interim and) final response. Returns true when the connection
# may carry another request.
sub respond {
    my ($c, $req, $p, $force_close, $text) = @_;
    my $self_addr = '127.0.0.1:' . $srv->port;

    for my $code (split /\s*,\s*/, PrxBackend::param($p, 'interim', '')) {
        my $extra = $code == 103 ? "Link: </prx.css>; rel=preload\r\n" : '';
        $c->write("HTTP/1.1 $code " . PrxBackend::reason($code) . "\r\n$extra\r\n")
            or return 0;
    }
    PrxBackend::msleep(PrxBackend::param($p, 'delay', 0));
    if (defined(my $gate = PrxBackend::param($p, 'gate', undef))) {
        my $until = time + 30;
        PrxBackend::msleep(20) while !-e $gate && time < $until;
    }

    my $status = PrxBackend::param($p, 'status', 200);
    my $reason = PrxBackend::param($p, 'reason', PrxBackend::reason($status));
    my $framing = PrxBackend::param($p, 'framing', 'cl');
    my $chunk = PrxBackend::param($p, 'chunk', 0);
    my $drip = PrxBackend::param($p, 'drip', 0);

    my ($body, $ctype);
    my $n = PrxBackend::param($p, 'body', undef);
    if (defined $n && $n =~ /^\d+\z/) {
        ($body, $ctype) = (PrxBackend::filler($n), 'text/plain');
    }
    else {
        ($body, $ctype) = ($text . "\n", 'application/json');
    }
    my $bodyless = $status < 200 || $status == 204 || $status == 304;
    $body = '' if $bodyless;

    my $keep = !$force_close && !PrxBackend::param($p, 'close', 0)
        && $framing ne 'close';
    my $conn_hdr = lc(PrxBackend::header($req, 'Connection') // '');
    if ($req->{version} eq 'HTTP/1.0') {
        $keep &&= $conn_hdr =~ /\bkeep-alive\b/;
    }
    else {
        $keep &&= $conn_hdr !~ /\bclose\b/;
    }

    my $head = "HTTP/1.1 $status $reason\r\n"
        . "Server: prx-echo\r\n"
        . "X-Echo-Conn: " . $c->id . "\r\n"
        . "X-Echo-Seq: " . $c->seq . "\r\n";
    $head .= "Content-Type: $ctype\r\n" unless $bodyless;
    for my $h (@{ $p->{header} || [] }) {
        (my $line = $h) =~ s/\{self\}/$self_addr/g;
        $head .= "$line\r\n";
    }
    if (!$bodyless) {
        if ($framing eq 'chunked') {
            $head .= "Transfer-Encoding: chunked\r\n";
        }
        elsif ($framing eq 'cl') {
            $head .= "Content-Length: " . length($body) . "\r\n";
        }
    }
    if (!$keep) {
        $head .= "Connection: close\r\n";
    }
    elsif ($req->{version} eq 'HTTP/1.0') {
        $head .= "Connection: keep-alive\r\n";
    }
    $head .= "\r\n";

    $body = '' if $req->{method} eq 'HEAD';
    my $wire = $body;
    if ($framing eq 'chunked' && !$bodyless && $req->{method} ne 'HEAD') {
        $wire = chunked($body, $chunk || 8192, $p->{trailer} || []);
    }
    $c->write($head) or return 0;
    if ($drip) {
        $c->drip($wire, $chunk || 1, $drip) or return 0;
    }
    else {
        $c->write($wire) or return 0;
    }
    return $keep;
}

sub chunked {
    my ($body, $size, $trailers) = @_;
    my $out = '';
    for (my $off = 0; $off < length $body; $off += $size) {
        my $piece = substr $body, $off, $size;
        $out .= sprintf("%x\r\n", length $piece) . "$piece\r\n";
    }
    $out .= "0\r\n";
    $out .= "$_\r\n" for @$trailers;
    return "$out\r\n";
}

