# Tests that bodies stream in constant memory (spec http.md §4.4, §4.5,
# §6.4): 256 MiB up (Content-Length and chunked), 64 MiB spooled
# (proxy-sendcl), 256 MiB down (Content-Length and chunked) through the
# proxy, each arriving intact, while the resident memory of the httpd
# children (VmRSS from /proc, summed) grows by less than a few MiB.
# Memory is measured, not inferred from timing.
# Config: <VirtualHost http_resp> and <VirtualHost http_body> in
# t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA ();
use PrxTest;

my $MiB = 1024 * 1024;
# growth allowed over a whole transfer, all children together
my $LIMIT = 8 * $MiB;
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default),
# so RSS says nothing about our memory use in a sanitizer run
my $SAN = $ENV{PRX_SANITIZER_LOG};

plan tests => 16, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
Apache::TestRequest::module('http_resp');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;
Apache::TestRequest::module('http_body');
my $bport = Apache::TestRequest::hostport() =~ s/.*://r;

my $unit = join '', map { sprintf "%07d\n", $_ } 0 .. 1023;    # 8 KiB
my $block = $unit x 8;                                         # 64 KiB

# { pid => VmRSS in bytes } of the test httpd's children.
sub children_rss {
    my $ppid = do {
        open my $fh, '<', PrxTest::vars('t_logs') . '/httpd.pid' or return {};
        my $p = <$fh>;
        chomp $p;
        $p;
    };
    my %rss;
    for my $st (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $st or next;
        my $line = <$fh> // next;
        my ($pid, $pp) = $line =~ /^(\d+) .*\) \S+ (\d+)/ or next;
        next unless $pp == $ppid;
        (my $status = $st) =~ s/stat\z/status/;
        open my $sf, '<', $status or next;
        while (<$sf>) {
            $rss{$pid} = $1 * 1024 if /^VmRSS:\s+(\d+) kB/;
        }
    }
    return \%rss;
}

# How much the children that were there before (the one that streamed
# among them) grew since `before`: a child the MPM starts meanwhile (spare
# threads) is no growth.
sub rss_growth {
    my ($before) = @_;
    my $after = children_rss();
    my $sum = 0;
    $sum += $after->{$_} - $before->{$_} for grep { exists $after->{$_} } keys %$before;
    return $sum;
}

# Streams `n` bytes of $block-based content up; returns (response, sha1).
sub upload {
    my ($p, $path, $n, $chunked) = @_;
    my $c = PrxTest::Raw->new($p, timeout => 60);
    my $sha = Digest::SHA->new(1);
    $c->send("POST $path HTTP/1.1\r\nHost: x\r\n"
        . ($chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: $n\r\n")
        . "\r\n");
    for (my $left = $n; $left > 0; $left -= length $block) {
        my $piece = $left >= length $block ? $block : substr $block, 0, $left;
        $sha->add($piece);
        $c->send($chunked ? sprintf("%x\r\n", length $piece) . "$piece\r\n" : $piece)
            or last;
    }
    $c->send("0\r\n\r\n") if $chunked;
    my ($r) = PrxTest::parse_responses($c->read(timeout => 120));
    $c->close;
    return ($r // {}, $sha->hexdigest);
}

# GETs a body of `n` bytes, hashing it as it comes; returns (bytes, sha1).
sub download {
    my ($path) = @_;
    my $c = PrxTest::Raw->new($port, timeout => 60);
    $c->send("GET $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my $fh = $c->{sock};
    my ($buf, $head, $got, $chunked) = ('', undef, 0, 0);
    my $sha = Digest::SHA->new(1);
    my $pending = '';
    while (1) {
        my $n = sysread $fh, $buf, 262144;
        last unless $n;
        if (!defined $head) {
            $pending .= $buf;
            my $i = index $pending, "\r\n\r\n";
            next if $i < 0;
            $head = substr $pending, 0, $i;
            $chunked = $head =~ /\r\nTransfer-Encoding: chunked/i;
            $buf = substr $pending, $i + 4;
            $pending = '';
        }
        if ($chunked) {
            $pending .= $buf;
            while ($pending =~ /\A([0-9a-fA-F]+)\r\n/) {
                my ($len, $hl) = (hex $1, length $&);
                last if length($pending) < $hl + $len + 2;
                $sha->add(substr $pending, $hl, $len);
                $got += $len;
                substr($pending, 0, $hl + $len + 2) = '';
                return ($got, $sha->hexdigest) if $len == 0;
            }
        }
        else {
            $sha->add($buf);
            $got += length $buf;
        }
    }
    $c->close;
    return ($got, $sha->hexdigest);
}

sub expected_sha {
    my $n = shift;
    my $sha = Digest::SHA->new(1);
    my $u = $unit x 32;    # 256 KiB
    for (my $left = $n; $left > 0; $left -= length $u) {
        $sha->add($left >= length $u ? $u : substr $u, 0, $left);
    }
    return $sha->hexdigest;
}

# warm up: every child has its buffers, pools and a backend connection
Apache::TestRequest::module('http_resp');
for (1 .. 6) {
    upload($port, '/r/warm', 4 * $MiB, $_ % 2);
    download('/r/warm?echo.body=' . 4 * $MiB);
}

my @cases = (
    [ 'upload 256 MiB, Content-Length', sub { upload($port, '/r/up', 256 * $MiB, 0) }, 256 * $MiB ],
    [ 'upload 256 MiB, chunked', sub { upload($port, '/r/up', 256 * $MiB, 1) }, 256 * $MiB ],
    [ 'upload 64 MiB, spooled (proxy-sendcl)', sub { upload($bport, '/sendcl/up', 64 * $MiB, 1) }, 64 * $MiB ],
);
for my $case (@cases) {
    my ($name, $run, $n) = @$case;
    my $before = children_rss();
    my ($r, $sha) = $run->();
    my $grew = rss_growth($before);
    my $rec = PrxTest::echo_of($r->{body} // '') || {};
    is $rec->{body_length}, $n, "$name: the backend got every byte";
    is $rec->{body_sha1}, $sha, "$name: intact";
    SKIP: {
        skip 'RSS is meaningless under AddressSanitizer', 1 if $SAN;
        ok $grew < $LIMIT, sprintf "$name: children RSS grew by %.2f MiB", $grew / $MiB;
    }
}

for my $framing (qw(cl chunked)) {
    my $n = 256 * $MiB;
    my $before = children_rss();
    my ($got, $sha) = download("/r/down?echo.body=$n&echo.framing=$framing&echo.chunk=65536");
    my $grew = rss_growth($before);
    is $got, $n, "download 256 MiB, $framing: every byte";
    is $sha, expected_sha($n), "download 256 MiB, $framing: intact";
    SKIP: {
        skip 'RSS is meaningless under AddressSanitizer', 1 if $SAN;
        ok $grew < $LIMIT, sprintf "download 256 MiB, $framing: children RSS grew by %.2f MiB",
            $grew / $MiB;
    }
}

PrxTest::errorlog_ok();
