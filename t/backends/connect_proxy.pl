#!/usr/bin/perl
# connect_proxy.pl -- an upstream HTTP proxy that only does CONNECT, for
# the tests of https:// targets reached through ProxyRemote (spec http.md
# §2.3): it records each CONNECT request (request line and header lines,
# PrxBackend's record), answers it, and on a 200 relays raw bytes between
# the client and the target until either side closes. Anything but CONNECT
# gets a 405.
#
# Command line (besides PrxBackend's common options):
#   --status N     answer N instead of "200 Connection established"; the
#                  connection is closed after a non-200 answer
#   --pad N        add a header of N filler bytes to the answer (an
#                  oversized head the proxy must read to its end)
#   --trailing S   send S right after the answer's empty line (bytes no
#                  proxy should get before it speaks TLS)

use strict;
use warnings;
use FindBin ();
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET ();
use PrxBackend ();

my ($status, $pad, $trailing) = (200, 0, '');
my $srv = PrxBackend->new(
    name    => 'connect_proxy',
    argv    => \@ARGV,
    options => { 'status=i' => \$status, 'pad=i' => \$pad,
                 'trailing=s' => \$trailing },
);
$srv->serve(\&on_conn);

sub on_conn {
    my $c = shift;
    my $req = $c->read_head or return;
    $c->record($req);
    if ($req->{method} ne 'CONNECT') {
        $c->write("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
            . "Connection: close\r\n\r\n");
        return;
    }
    my ($host, $port) = $req->{target} =~ /^\[?([^\]]+?)\]?:(\d+)\z/;
    my $extra = $pad ? 'X-Pad: ' . PrxBackend::filler($pad) =~ tr/\n/ /r . "\r\n" : '';
    if ($status != 200) {
        $c->write("HTTP/1.0 $status " . PrxBackend::reason($status) . "\r\n"
            . "Content-Length: 0\r\n$extra\r\n");
        return;
    }
    my $t = $host && IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                           Timeout => 5);
    if (!$t) {
        $c->write("HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    $c->write("HTTP/1.0 200 Connection established\r\n$extra\r\n$trailing") or return;
    relay($c, $t);
}

# Both ways until either side closes; bytes already buffered go first.
sub relay {
    my ($c, $t) = @_;
    my $s = $c->{sock};
    syswrite $t, substr($c->{buf}, 0, length $c->{buf}, '') if length $c->{buf};
    while (1) {
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        vec($rin, fileno($t), 1) = 1;
        my $n = select(my $rout = $rin, undef, undef, 30);
        return if $n <= 0;
        for ([ $s, $t ], [ $t, $s ]) {
            my ($from, $to) = @$_;
            next unless vec($rout, fileno($from), 1);
            my $got = sysread $from, my $buf, 65536;
            return unless $got;
            my $off = 0;
            while ($off < $got) {
                my $w = syswrite $to, $buf, $got - $off, $off;
                return unless defined $w;
                $off += $w;
            }
        }
    }
}
