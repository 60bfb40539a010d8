# Tests for broken backends (spec http.md §6.1, §6.2, §6.4, §12 and the
# SECURITY rules): every misbehaviour of t/backends/bad.pl gets its status
# (502 for malformed or truncated responses and read timeouts, 503 for a
# refused connect, 500 for a DNS failure), exactly one tagged error line,
# and the next normal request still works. A body cut short after the
# head went out must reach the client visibly truncated, never complete.
# Config: <VirtualHost http_bad> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 qw(encode_base64);
use PrxTest;

# mode => [ status, tag of the one error line (or '' for none) ]
my %cases = (
    'bad-status'        => [ 502, 'PRX00317' ],
    'truncated-head'    => [ 502, 'PRX00316' ],
    'no-colon'          => [ 502, 'PRX00317' ],
    'ws-before-colon'   => [ 502, 'PRX00317' ],
    'bare-cr'           => [ 502, 'PRX00317' ],
    'nul'               => [ 502, 'PRX00317' ],
    'obs-fold'          => [ 502, 'PRX00317' ],
    'cl-te'             => [ 502, 'PRX00312' ],
    'cl-dup'            => [ 502, 'PRX00312' ],
    'cl-bad'            => [ 502, 'PRX00312' ],
    'te-bad'            => [ 502, 'PRX00312' ],
    # cut bodies: a clean 502 when nothing was relayed yet, else a
    # visibly incomplete response ('cut')
    'bad-chunk'         => [ 'cut', 'PRX00321' ],
    'truncated-cl'      => [ 'cut', 'PRX00321' ],
    'truncated-chunked' => [ 'cut', 'PRX00321' ],
    'long-status'       => [ 502, 'PRX00317' ],
    'long-header'       => [ 502, 'PRX00317' ],
    'many-headers'      => [ 502, 'PRX00317' ],
    'reset-before-head' => [ 502, 'PRX00316' ],
    'reset-after-head'  => [ 'cut', 'PRX00321' ],
    'close-after-read'  => [ 502, 'PRX00316' ],
    'silent'            => [ 502, 'PRX00314' ],
    'garbage'           => [ 200, '' ],          # HTTP/0.9, as stock
    'bare-lf'           => [ 200, '' ],          # LF alone ends a line
    'drip'              => [ 200, '' ],
);
my @modes = sort keys %cases;

plan tests => 3 * @modes + 14, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $bad = PrxTest::backend('bad', name => 'http_bad',
    args => [ '--set', 'size=16384', '--set', 'interval=20' ]);
my $raw = PrxTest::backend('http_raw', name => 'http_raw');
Apache::TestRequest::module('http_bad');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub get {
    my ($path, @h) = @_;
    my $bytes = PrxTest::raw_request($port, "GET $path HTTP/1.1\r\nHost: x\r\n"
        . join('', map { "$_\r\n" } @h) . "\r\n", timeout => 10);
    my @r = grep { !$_->{interim} } PrxTest::parse_responses($bytes // '', eof => 1);
    return ($r[0] // {}, $bytes // '');
}

sub tagged_errors {
    return map { /\b(PRX\d{5})\b/ ? $1 : () }
        grep { /:error\]/ } PrxTest::errorlog_lines(settle => 0.3);
}

my $seen = () = tagged_errors();
for my $mode (@modes) {
    my ($status, $tag) = @{ $cases{$mode} };
    my $q = $mode eq 'drip' ? '?bad.size=4' : '';
    my ($r) = get("/bad/$mode$q");
    if ($status eq 'cut') {
        ok(($r->{status} // 0) == 502 || !$r->{complete},
            "$mode: 502 or an incomplete response");
    }
    else {
        is $r->{status}, $status, "$mode: $status";
    }
    my @all = tagged_errors();
    my @new = @all[$seen .. $#all];
    $seen = @all;
    is "@new", $tag, "$mode: " . ($tag ? "one error line, $tag" : 'no error line');
    ($r) = get('/bad/ok');
    is $r->{status}, 200, "$mode: the next request answers 200";
}

# the bounds are the worker's responsefieldsize and LimitRequestFields
my ($r) = get('/fields/x?bad.mode=long-header&bad.size=1500');
is $r->{status}, 200, 'a 1500-byte header fits responsefieldsize=2048';
($r) = get('/fields/x?bad.mode=long-header&bad.size=3000');
is $r->{status}, 502, 'a 3000-byte header does not';
($r) = get('/fields/x?bad.mode=many-headers&bad.count=40');
is $r->{status}, 200, '40 header fields fit LimitRequestFields 50';

# nobody listening: 503; no such host: 500
($r) = get('/refused/x');
is $r->{status}, 503, 'connection refused: 503';
($r) = get('/dns/x');
is $r->{status}, 500, 'DNS failure: 500';
my @all = tagged_errors();
is "@all[$seen .. $#all]", 'PRX00317 PRX00016 PRX00015',
    'one error line each (the 3000-byte header, refused, DNS)';
$seen = @all;

# a Content-Length body cut short after the head went out: the client gets
# fewer bytes and a closed connection, never a complete response
my $resp = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
my $bytes;
($r, $bytes) = get('/rawcut/cl', 'X-Raw-Close: 1', 'X-Raw-Pad: 200000',
    'X-Raw-B64: ' . encode_base64($resp, ''));
is $r->{status}, 200, 'cut C-L body: the head was already sent';
ok !$r->{complete}, 'cut C-L body: the client sees it incomplete';
ok length($r->{body} // '') < 1_000_000, 'cut C-L body: fewer bytes than announced';

# the same with a chunked backend body: no last chunk reaches the client
$resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n", 1_000_000);
($r, $bytes) = get('/rawcut/chunked', 'X-Raw-Close: 1', 'X-Raw-Pad: 200000',
    'X-Raw-B64: ' . encode_base64($resp, ''));
is $r->{status}, 200, 'cut chunked body: the head was already sent';
ok !$r->{complete}, 'cut chunked body: no terminating chunk';
@all = tagged_errors();
is "@all[$seen .. $#all]", 'PRX00321 PRX00321', 'each cut body logged once';

($r) = get('/bad/ok');
is $r->{status}, 200, 'the backend is still served afterwards';

PrxTest::errorlog_ok(expect => [qw(PRX00312 PRX00314 PRX00316 PRX00317
    PRX00321 PRX00015 PRX00016)]);
