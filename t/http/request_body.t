# Tests for the request body strategies (spec http.md §4): prefetch (a
# small body of either framing goes out with Content-Length), streaming
# with the client's Content-Length, streaming chunked, spooling
# (proxy-sendcl, force-proxy-request-1.0), proxy-sendchunked, both set,
# proxy-sendextracrlf, and the client-side failures (body cut short,
# ambiguous framing). What the backend received is checked byte for byte.
# Config: <VirtualHost http_body> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha1_hex);
use IO::Socket::INET ();
use Time::HiRes ();
use PrxTest;

plan tests => 42, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
Apache::TestRequest::module('http_body');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub body_of { PrxBackend_filler($_[0]) }

# deterministic content that shows truncation and reordering
sub PrxBackend_filler {
    my $n = shift;
    my $unit = join '', map { sprintf "%07d\n", $_ } 0 .. 1023;
    return substr $unit x (int($n / length $unit) + 1), 0, $n;
}

sub chunked {
    my ($body, $size) = @_;
    my $out = '';
    for (my $o = 0; $o < length $body; $o += $size) {
        my $p = substr $body, $o, $size;
        $out .= sprintf("%x\r\n", length $p) . "$p\r\n";
    }
    return "${out}0\r\n\r\n";
}

sub post {
    my ($path, $body, %o) = @_;
    my $head = "POST $path HTTP/1.1\r\nHost: x\r\n";
    $head .= "$_\r\n" for @{ $o{headers} || [] };
    my $wire;
    if ($o{chunked}) {
        $head .= "Transfer-Encoding: chunked\r\n";
        $wire = chunked($body, $o{chunked});
    }
    else {
        $head .= "Content-Length: " . length($body) . "\r\n";
        $wire = $body;
    }
    $echo->clear;
    my $raw = PrxTest::raw_request($port, "$head\r\n$wire", timeout => 20);
    my ($r) = PrxTest::parse_responses($raw // '');
    return ($r // {}, $echo->last_request // {});
}

sub got_body {
    my ($rec, $body) = @_;
    return ($rec->{body_length} // -1) == length($body)
        && ($rec->{body_sha1} // '') eq sha1_hex($body);
}

my $small = body_of(100);
my $large = body_of(200_000);

# a small Content-Length body: sent as is, with its length
my ($r, $rec) = post('/b/small', $small);
is $r->{status}, 200, 'small C-L body: 200';
is PrxTest::header_of($rec, 'Content-Length'), 100, 'backend got C-L 100';
ok got_body($rec, $small), 'and the exact body';

# a large Content-Length body streams with the client's length
($r, $rec) = post('/b/large', $large);
is PrxTest::header_of($rec, 'Content-Length'), 200_000,
    'large C-L body keeps its Content-Length';
ok !defined PrxTest::header_of($rec, 'Transfer-Encoding'), 'not chunked';
ok got_body($rec, $large), 'large C-L body arrives intact';

# a small chunked body fits the prefetch: Content-Length instead
($r, $rec) = post('/b/smallchunked', $small, chunked => 30);
is PrxTest::header_of($rec, 'Content-Length'), 100,
    'small chunked body is sent with Content-Length';
ok !$rec->{chunked}, 'and without chunking';
ok got_body($rec, $small), 'intact';

# a large chunked body is streamed chunked
($r, $rec) = post('/b/largechunked', $large, chunked => 10_000);
is $r->{status}, 200, 'large chunked body: 200';
ok $rec->{chunked}, 'streamed with Transfer-Encoding: chunked';
ok !defined PrxTest::header_of($rec, 'Content-Length'), 'and no Content-Length';
ok got_body($rec, $large), 'intact';
ok $rec->{chunk_sizes} && $rec->{chunk_sizes}[0] > 16_000
    && $rec->{chunk_sizes}[0] <= 16_384,
    'the first chunk carries the prefetched 16 KiB';
ok !grep({ $_ > 65_536 } @{ $rec->{chunk_sizes} || [] }), 'no chunk over 64 KiB';

# what the client sent reaches the backend before the proxy waits for
# more: 20000 bytes (past the prefetch), a pause, then the rest
{
    my $whole = body_of(40_000);
    $echo->clear;
    my $c = PrxTest::Raw->new($port, timeout => 20) or die "connect: $!";
    $c->send("POST /b/stall HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        . sprintf("%x\r\n", 20_000) . substr($whole, 0, 20_000) . "\r\n");
    Time::HiRes::sleep(1.5);
    my $resumed = Time::HiRes::time();
    $c->send(sprintf("%x\r\n", 20_000) . substr($whole, 20_000) . "\r\n0\r\n\r\n");
    my ($sr) = PrxTest::parse_responses($c->read(timeout => 20) // '');
    $c->close;
    my $srec = $echo->last_request // {};
    my ($early, $i) = (0, 0);
    for my $t (@{ $srec->{chunk_times} || [] }) {
        $early += $srec->{chunk_sizes}[$i++] if $t < $resumed;
    }
    is(($sr->{status} // 0) . " $early", '200 20000',
        'a client that pauses: the 20000 bytes it sent reach the backend before it resumes');
    ok got_body($srec, $whole), '... and the whole body after it did';
}

# proxy-sendcl spools a large chunked body to send Content-Length
my @tmp_before = glob '/tmp/modproxy.tmp.*';
($r, $rec) = post('/sendcl/x', $large, chunked => 10_000);
is $r->{status}, 200, 'proxy-sendcl: 200';
is PrxTest::header_of($rec, 'Content-Length'), 200_000,
    'proxy-sendcl: spooled, Content-Length is the total';
ok !$rec->{chunked}, 'proxy-sendcl: not chunked';
ok got_body($rec, $large), 'proxy-sendcl: intact';
# (removed with the request pool, which may outlive the response briefly)
Time::HiRes::sleep(0.5);
my %before = map { $_ => 1 } @tmp_before;
my @left = grep { !$before{$_} && (stat $_)[4] == $> } glob '/tmp/modproxy.tmp.*';
is "@left", '', 'the spool file is gone afterwards';

# proxy-sendchunked: chunked stays chunked; a plain C-L body keeps C-L
($r, $rec) = post('/sendchunked/x', $large, chunked => 10_000);
ok $rec->{chunked} && got_body($rec, $large), 'proxy-sendchunked: chunked body';
($r, $rec) = post('/sendchunked/y', $large);
is PrxTest::header_of($rec, 'Content-Length'), 200_000,
    'proxy-sendchunked: an unfiltered C-L body keeps its length';

# both set behave like neither
($r, $rec) = post('/both/x', $large, chunked => 10_000);
ok $rec->{chunked} && got_body($rec, $large),
    'proxy-sendcl + proxy-sendchunked: streamed chunked, as with neither';

# force-proxy-request-1.0: a large chunked body is spooled for C-L
($r, $rec) = post('/v10/x', $large, chunked => 10_000);
is $r->{status}, 200, 'force-proxy-request-1.0 with a chunked body: 200';
like $rec->{request_line} // '', qr{ HTTP/1\.0\z}, 'sent as HTTP/1.0';
is PrxTest::header_of($rec, 'Content-Length'), 200_000,
    'with the spooled length';
ok got_body($rec, $large), 'intact';

# an empty Content-Length body is sent as C-L: 0
($r, $rec) = post('/b/empty', '');
is PrxTest::header_of($rec, 'Content-Length'), '0', 'empty body: C-L 0';

# a GET without body gets no framing header at all
$echo->clear;
my $raw = PrxTest::raw_request($port, "GET /b/get HTTP/1.1\r\nHost: x\r\n\r\n");
$rec = $echo->last_request // {};
ok !defined PrxTest::header_of($rec, 'Content-Length')
    && !defined PrxTest::header_of($rec, 'Transfer-Encoding'),
    'a GET without body is sent without framing headers';

# proxy-sendextracrlf: seen on the wire by a sink standing in for the origin
my $sink = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => PrxTest::vars('backend_http_sink_port'), Listen => 5,
    ReuseAddr => 1) or die "sink: $!";
my $client = PrxTest::Raw->new($port);
$client->send("POST /crlf/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
my $wire = sink_read($sink, qr/hello\r\n\z/);
like $wire, qr/\r\nContent-Length: 5\r\n.*\r\n\r\nhello\r\n\z/s,
    'proxy-sendextracrlf: CRLF after the body, not counted in C-L';
($r) = PrxTest::parse_responses($client->read);
is $r->{status}, 200, 'the sink answer reaches the client';
$client->close;

# the same sink shows the chunked wire format and the terminating chunk
$client = PrxTest::Raw->new($port);
$client->send("POST /crlf/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    . chunked($large, 50_000));
$wire = sink_read($sink, qr/\r\n0\r\n\r\n\r\n\z/);
like $wire, qr/\r\nTransfer-Encoding: chunked\r\n/, 'chunked on the wire';
my ($h, $b) = split /\r\n\r\n/, $wire, 2;
my $decoded = '';
while ($b =~ s/\A([0-9a-f]+)\r\n//) {
    my $n = hex $1;
    last unless $n;
    $decoded .= substr $b, 0, $n, '';
    $b =~ s/\A\r\n//;
}
is sha1_hex($decoded), sha1_hex($large), 'the chunks decode to the body';
is $b, "\r\n\r\n", 'last chunk, end, then the extra CRLF';
$client->read;
$client->close;
close $sink;

# a client that sends less than its Content-Length and half-closes: 400,
# and the backend never sees a complete body
$echo->clear;
$client = PrxTest::Raw->new($port);
$client->send("POST /b/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
    . body_of(40_000));
$client->shutdown_write;
($r) = PrxTest::parse_responses($client->read(timeout => 10));
$client->close;
is $r->{status}, 400, 'a client body cut short is a 400';
$rec = $echo->last_request // {};
ok(($rec->{body_length} // 0) < 100_000, 'the backend did not get a full body');

# ambiguous framing from the client is refused
$echo->clear;
$raw = PrxTest::raw_request($port, "POST /b/both HTTP/1.1\r\nHost: x\r\n"
    . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
($r) = PrxTest::parse_responses($raw // '');
is $r->{status}, 400, 'Content-Length with Transfer-Encoding: 400';
is scalar($echo->requests), 0, 'nothing reached the backend';

# a transfer coding other than chunked is refused
$raw = PrxTest::raw_request($port, "POST /b/gz HTTP/1.1\r\nHost: x\r\n"
    . "Transfer-Encoding: gzip\r\n\r\nxxxx");
($r) = PrxTest::parse_responses($raw // '', eof => 1);
ok(($r->{status} // 0) >= 400, 'Transfer-Encoding: gzip is refused');

PrxTest::errorlog_ok();

# Accepts one connection on `sink`, reads until `re` matches, answers 200.
sub sink_read {
    my ($l, $re) = @_;
    my $got = '';
    my $rin = '';
    vec($rin, fileno($l), 1) = 1;
    return '' unless select(my $rout = $rin, undef, undef, 10) > 0;
    my $c = $l->accept or return '';
    my $deadline = time + 10;
    while ($got !~ $re && time < $deadline) {
        my $cin = '';
        vec($cin, fileno($c), 1) = 1;
        next unless select(my $cout = $cin, undef, undef, 1) > 0;
        last unless sysread $c, $got, 65536, length $got;
    }
    syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    close $c;
    return $got;
}
