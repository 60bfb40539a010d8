# Tests for the core's Max-Forwards handling (spec core.md §3.22, §10.2;
# http.md §3.6): TRACE and OPTIONS with Max-Forwards: 0 are answered by
# the proxy itself, any other method with 0 gets 400, an unparsable value
# 400, n is forwarded as n-1; ProxyMaxForwards adds the header when the
# client sent none; TraceEnable Off -> 405, TRACE with a body -> 413.
# Config: t/conf/core_maxfwd.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PrxTest;

my @bad = ('abc', '-1', '1x', '', '+3', '0x10', '9223372036854775807',
           '99999999999999999999');

plan tests => 3 + 3 + 2 + 2 * @bad + 5 + 4 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_maxfwd');

sub count { my @r = $echo->requests; scalar @r }

# One raw request to the current vhost: returns the parsed response and
# whether the backend got anything.
sub req {
    my ($method, $path, $mf, %o) = @_;
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my $body = $o{body} // '';
    my $head = "$method $path HTTP/1.1\r\nHost: $host:$port\r\nConnection: close\r\n";
    $head .= "Max-Forwards: $mf\r\n" if defined $mf;
    $head .= 'Content-Length: ' . length($body) . "\r\n" if length $body;
    my $before = count();
    my $raw = PrxTest::raw_request($port, "$head\r\n$body") // '';
    my ($res) = PrxTest::parse_responses($raw, eof => 1);
    $res ||= { status => 0 };
    return ($res, count() > $before);
}
sub sent_mf {
    my $rec = PrxTest::echo_of($_[0]{body}) || {};
    return PrxTest::header_of($rec, 'Max-Forwards') // 'none';
}

Apache::TestRequest::module('core_maxfwd');

# Max-Forwards: 0 on TRACE / OPTIONS: the proxy answers itself
my ($res, $sent) = req('TRACE', '/mf/t', 0);
is $res->{status}, 200, 'TRACE with Max-Forwards: 0 is answered by the proxy';
like $res->{body}, qr{\ATRACE /mf/t HTTP/1\.1\r?\n}, 'with the TRACE echo of the request';
ok !$sent, 'TRACE with Max-Forwards: 0 reaches no backend';
($res, $sent) = req('OPTIONS', '/mf/o', 0);
is $res->{status}, 200, 'OPTIONS with Max-Forwards: 0 is answered by the proxy';
ok defined PrxTest::header_of($res, 'Allow'), 'with an Allow header';
ok !$sent, 'OPTIONS with Max-Forwards: 0 reaches no backend';
# ... on anything else: 400
($res, $sent) = req('GET', '/mf/g', 0);
ok $res->{status} == 400 && !$sent, "GET with Max-Forwards: 0 gives 400, nothing sent ($res->{status})";
($res, $sent) = req('POST', '/mf/p', 0, body => 'data');
ok $res->{status} == 400 && !$sent, "POST with Max-Forwards: 0 gives 400, nothing sent ($res->{status})";

# unparsable values
for my $v (@bad) {
    ($res, $sent) = req('GET', '/mf/bad', $v);
    is $res->{status}, 400, "Max-Forwards: '$v' gives 400";
    ok !$sent, "Max-Forwards: '$v' reaches no backend";
}

# n is forwarded as n-1; no header: none added by default
($res) = req('GET', '/mf/n', 5);
is sent_mf($res), '4', 'Max-Forwards: 5 is forwarded as 4';
($res) = req('GET', '/mf/n', 1);
is sent_mf($res), '0', 'Max-Forwards: 1 is forwarded as 0';
($res) = req('TRACE', '/mf/t', 3);
is sent_mf($res), '2', 'TRACE with Max-Forwards: 3 is forwarded, as 2';
($res) = req('OPTIONS', '/mf/o', 1);
is sent_mf($res), '0', 'OPTIONS with Max-Forwards: 1 is forwarded, as 0';
($res) = req('GET', '/mf/none', undef);
is sent_mf($res), 'none', 'no Max-Forwards and ProxyMaxForwards -1: none added';

# ProxyMaxForwards 7
Apache::TestRequest::module('core_maxfwd_add');
($res) = req('GET', '/mf/none', undef);
is sent_mf($res), '7', 'ProxyMaxForwards 7 adds Max-Forwards: 7';
($res) = req('GET', '/mf/n', 3);
is sent_mf($res), '2', "the client's value still wins (3 -> 2)";
($res, $sent) = req('GET', '/mf/z', 0);
ok $res->{status} == 400 && !$sent, 'and 0 still gives 400';
($res, $sent) = req('TRACE', '/mf/t', 0);
ok $res->{status} == 200 && !$sent, 'and TRACE with 0 is still answered locally';

# TraceEnable
Apache::TestRequest::module('core_maxfwd_notrace');
($res, $sent) = req('TRACE', '/mf/t', 5);
ok $res->{status} == 405 && !$sent, "TraceEnable Off: TRACE gives 405, nothing sent ($res->{status})";
($res, $sent) = req('TRACE', '/mf/t', undef);
ok $res->{status} == 405 && !$sent, "TraceEnable Off: also without Max-Forwards ($res->{status})";
Apache::TestRequest::module('core_maxfwd');
($res, $sent) = req('TRACE', '/mf/t', 5, body => 'payload');
ok $res->{status} == 413 && !$sent, "TRACE with a body gives 413, nothing sent ($res->{status})";

PrxTest::errorlog_ok();
