#!/usr/bin/perl
# http_raw.pl -- a scripted origin for the mod_proxy_http tests: it answers
# each request with exactly the bytes the request asks for, so a test can
# put any response on the wire (HTTP/1.0 and 0.9 answers, odd headers,
# Warning/Date forms, bad header lines, interim bursts...).
#
# Per request (headers travel through the proxy unchanged):
#   X-Raw-B64: <base64>   the response bytes (default: a small 200)
#   X-Raw-Close: 1        close the connection after answering
#   X-Raw-Delay: MS       wait before answering
#   X-Raw-Pad: N          append N filler bytes to the response bytes
#   X-Raw-No-Body-Read: 1 answer without reading the request body
# Command line (besides PrxBackend's common options):
#   --drop-after N        on each connection, answer N requests, then read
#                         the next one and close without a byte of answer
#                         (the keep-alive race a pooled connection meets)
# Every answered request is recorded (PrxBackend record) with the
# connection id and its number on the connection; a dropped one is
# recorded with "dropped": 1.

use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/../lib";
use MIME::Base64 ();
use PrxBackend ();

my $drop_after = 0;
my $srv = PrxBackend->new(
    name    => 'http_raw',
    argv    => \@ARGV,
    options => { 'drop-after=i' => \$drop_after },
);
$srv->serve(\&on_conn);

sub default_response {
    my ($c) = @_;
    my $body = "raw ok\n";
    return "HTTP/1.1 200 OK\r\nX-Raw-Conn: " . $c->id . "\r\nX-Raw-Seq: "
        . $c->seq . "\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
}

sub on_conn {
    my $c = shift;
    my $answered = 0;
    while (my $req = $c->read_head) {
        $c->read_body($req)
            unless $req->{error} || PrxBackend::header($req, 'X-Raw-No-Body-Read');
        if ($drop_after && $answered >= $drop_after) {
            $req->{dropped} = 1;
            $c->record($req);
            return;
        }
        $c->record($req);
        PrxBackend::msleep(PrxBackend::header($req, 'X-Raw-Delay') // 0);
        my $b64 = PrxBackend::header($req, 'X-Raw-B64');
        my $resp = defined $b64 ? MIME::Base64::decode_base64($b64)
                                : default_response($c);
        $resp =~ s/\{conn\}/$c->id/ge;
        $resp =~ s/\{seq\}/$c->seq/ge;
        my $pad = PrxBackend::header($req, 'X-Raw-Pad');
        $resp .= PrxBackend::filler($pad) if $pad;
        $c->write($resp) or return;
        $answered++;
        return if PrxBackend::header($req, 'X-Raw-Close');
    }
}
