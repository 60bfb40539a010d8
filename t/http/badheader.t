# Tests for ProxyBadHeader (spec http.md §6.2): a response header line
# without a colon is a 502 under IsError (the default), dropped under
# Ignore, and starts the body under StartBody (dropped when no header came
# before it); a stray second status line is ignored in every mode.
# Config: <VirtualHost http_badheader*> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 qw(encode_base64);
use PrxTest;

plan tests => 13, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $raw = PrxTest::backend('http_raw', name => 'http_raw');

my $nocolon = "HTTP/1.1 200 OK\r\nX-A: 1\r\nNo colon here\r\nX-B: 2\r\n"
    . "Content-Length: 2\r\n\r\nok";
my $first = "HTTP/1.1 200 OK\r\nNo colon first\r\nX-B: 2\r\n\r\nrest";
my $stray = "HTTP/1.1 200 OK\r\nX-A: 1\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

sub ask {
    my ($vhost, $path, $resp) = @_;
    Apache::TestRequest::module($vhost);
    my $port = Apache::TestRequest::hostport() =~ s/.*://r;
    my $bytes = PrxTest::raw_request($port, "GET $path HTTP/1.1\r\nHost: x\r\n"
        . "X-Raw-Close: 1\r\nX-Raw-B64: " . encode_base64($resp, '') . "\r\n\r\n",
        timeout => 10);
    my ($r) = PrxTest::parse_responses($bytes // '', eof => 1);
    return $r // {};
}

# IsError
my $r = ask('http_badheader', '/iserror/x', $nocolon);
is $r->{status}, 502, 'IsError: a header line without colon is a 502';
$r = ask('http_badheader', '/iserror/x', $stray);
is $r->{status}, 200, 'IsError: a stray status line is ignored';
is $r->{body}, 'ok', 'and the response is intact';

# Ignore
$r = ask('http_badheader_ignore', '/ignore/x', $nocolon);
is $r->{status}, 200, 'Ignore: 200';
is PrxTest::header_of($r, 'X-A') . PrxTest::header_of($r, 'X-B'), '12',
    'Ignore: the headers around the bad line are kept';
is $r->{body}, 'ok', 'Ignore: the body is intact';

# StartBody
$r = ask('http_badheader_startbody', '/startbody/x', $nocolon);
is $r->{status}, 200, 'StartBody: 200';
is PrxTest::header_of($r, 'X-A'), 1, 'StartBody: headers before the line kept';
ok !defined PrxTest::header_of($r, 'X-B'), 'StartBody: later lines are not headers';
like $r->{body}, qr/\ANo colon here\r\nX-B: 2\r\n/, 'StartBody: the line starts the body';
$r = ask('http_badheader_startbody', '/startbody/x', $first);
is $r->{status}, 200, 'StartBody with no header before: 200';
like $r->{body}, qr/\AX-B: 2\r\n\r\nrest\z/,
    'StartBody with no header before: the line is dropped, the rest is body';

PrxTest::errorlog_ok(expect => ['PRX00317']);
