# Tests for the request head sent to the backend (spec http.md §3): request
# line, Host first (ProxyPreserveHost), hop-by-hop removal including the
# fields named in Connection, X-Forwarded-* (ProxyAddHeaders), Via (On and
# Block, also on the response), Max-Forwards, Proxy-Authorization, and
# Connection: Keep-Alive last.
# Config: <VirtualHost http_head>, <VirtualHost http_head_block> in
# t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 30, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
my $bport = $echo->port;
Apache::TestRequest::module('http_head');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub send_head {
    my ($p, $target, @lines) = @_;
    my $raw = PrxTest::raw_request($p, join("\r\n", "GET $target HTTP/1.1",
        @lines, '', ''));
    my ($r) = PrxTest::parse_responses($raw // '');
    return ($r, PrxTest::echo_of($r->{body} // '') || {});
}

my @hop = (
    'Host: front.example:8080',
    'Connection: X-Hop-A, x-hop-b',
    'X-Hop-A: 1',
    'X-Keep: first',
    'X-Hop-B: 2',
    'Keep-Alive: 300',
    'Proxy-Connection: keep-alive',
    'TE: trailers',
    'Trailer: X-T',
    'Upgrade: foo/1',
    'X-Forwarded-For: 10.9.9.9',
    'Via: 1.0 earlier',
    'Proxy-Authorization: Basic dXNlcjpwYXNz',
    'Max-Forwards: 5',
    'X-Keep: second',
);
my ($r, $rec) = send_head($port, '/h/path/x?q=1&r=%20', @hop);
is $r->{status}, 200, 'request with hop-by-hop fields answers 200';
is $rec->{request_line}, 'GET /path/x?q=1&r=%20 HTTP/1.1',
    'request line: method, mapped path with the query, HTTP/1.1';
my @lines = @{ $rec->{lines} || [] };
is $lines[0], "Host: 127.0.0.1:$bport", 'Host comes first and names the backend';
is $lines[-1], 'Connection: Keep-Alive', 'Connection: Keep-Alive comes last';
my @gone = grep { my $n = $_; grep { /^\Q$n\E:/i } @lines }
    qw(X-Hop-A X-Hop-B Keep-Alive Proxy-Connection TE Trailer Upgrade);
is "@gone", '', 'hop-by-hop fields and those named in Connection are removed';
is scalar(grep { /^Connection:/i } @lines), 1, 'only our own Connection field';
# (httpd itself merges repeated request fields into one comma list)
is join('|', PrxTest::headers_of($rec, 'X-Keep')), 'first, second',
    'end-to-end fields are kept, repeated ones in order';
is PrxTest::header_of($rec, 'X-Forwarded-For'), '10.9.9.9, 127.0.0.1',
    'X-Forwarded-For gets the client address appended';
is PrxTest::header_of($rec, 'X-Forwarded-Host'), 'front.example:8080',
    'X-Forwarded-Host is the client Host';
like PrxTest::header_of($rec, 'X-Forwarded-Server') // '', qr/\S/,
    'X-Forwarded-Server is set';
like PrxTest::header_of($rec, 'Via') // '', qr/^1\.0 earlier, 1\.1 \S+/,
    'Via gets our entry appended (ProxyVia On)';
# a Connection token longer than any buffer must still remove its field
my $long = 'X-' . ('L' x 70);
my ($lr, $lrec) = send_head($port, '/h/long', 'Host: front.example',
    "Connection: keep-alive, $long", "$long: secret", 'X-Keep: yes');
is $lr->{status}, 200, 'request with a 72-character Connection token answers 200';
ok !grep({ /^\Q$long\E:/i } @{ $lrec->{lines} || [] }),
    'the field a long Connection token names is not forwarded';
is PrxTest::header_of($lrec, 'X-Keep'), 'yes', 'the other fields still are';
is PrxTest::header_of($rec, 'Proxy-Authorization'), 'Basic dXNlcjpwYXNz',
    'Proxy-Authorization is forwarded when the proxy did not authenticate';
is PrxTest::header_of($rec, 'Max-Forwards'), '4', 'Max-Forwards is decremented';
my @order = map { /^([^:]+):/ ? lc $1 : () } @lines;
my %pos;
@pos{@order} = 0 .. $#order;
ok $pos{'x-keep'} < $pos{'x-forwarded-for'}
    && $pos{'x-forwarded-for'} < $pos{'via'}
    && $pos{'via'} < $pos{'x-forwarded-host'},
    'client order kept, modified values in place, new fields at the end';
like PrxTest::header_of($r, 'Via') // '', qr/^1\.1 \S+/,
    'the response to the client carries our Via';

# ProxyAddHeaders Off: nothing added, a client X-Forwarded-For passes as is
($r, $rec) = send_head($port, '/noadd/x', 'Host: front.example',
    'X-Forwarded-For: 10.9.9.9');
is PrxTest::header_of($rec, 'X-Forwarded-For'), '10.9.9.9',
    'ProxyAddHeaders Off leaves X-Forwarded-For alone';
ok !defined PrxTest::header_of($rec, 'X-Forwarded-Host')
    && !defined PrxTest::header_of($rec, 'X-Forwarded-Server'),
    'and adds no X-Forwarded-Host/-Server';

# ProxyPreserveHost On: the client's Host, still first
($r, $rec) = send_head($port, '/preserve/x', 'X-First: 1',
    'Host: front.example:8080');
is $rec->{lines}[0], 'Host: front.example:8080',
    'ProxyPreserveHost On forwards the client Host, first';
is scalar(grep { /^Host:/i } @{ $rec->{lines} }), 1, 'exactly once';

# an HTTP/1.0 client without Host: the backend still gets one
my $raw = PrxTest::raw_request($port, "GET /h/old HTTP/1.0\r\n\r\n");
($r) = PrxTest::parse_responses($raw // '', eof => 1);
$rec = PrxTest::echo_of($r->{body} // '') || {};
is $rec->{lines}[0], "Host: 127.0.0.1:$bport",
    'an HTTP/1.0 request without Host gets the backend Host';
is $rec->{request_line}, 'GET /old HTTP/1.1', 'and goes out as HTTP/1.1';

# ProxyVia Block strips Via; ProxyMaxForwards adds Max-Forwards
Apache::TestRequest::module('http_head_block');
my $bport2 = Apache::TestRequest::hostport() =~ s/.*://r;
($r, $rec) = send_head($bport2, '/h/x', 'Host: a', 'Via: 1.0 earlier');
is $r->{status}, 200, 'ProxyVia Block request answers 200';
ok !defined PrxTest::header_of($rec, 'Via'), 'ProxyVia Block removes Via';
is PrxTest::header_of($rec, 'Max-Forwards'), '7',
    'ProxyMaxForwards 7 adds Max-Forwards: 7';

# Max-Forwards: 0 on a GET is answered by the proxy (a loop guard)
$echo->clear;
($r) = send_head($bport2, '/h/x', 'Host: a', 'Max-Forwards: 0');
is $r->{status}, 400, 'Max-Forwards: 0 on GET is 400';
is scalar($echo->requests), 0, 'and never reaches the backend';

PrxTest::errorlog_ok();
