# Tests for interim (1xx) responses from the backend (spec http.md §6.5):
# relayed by default (100 only when the client expected it), `RFC` relays
# a 100 anyway, `Suppress` and unknown values relay nothing (the latter
# with a warning), HTTP/1.0 clients never see one, and the 10th
# consecutive interim response ends the exchange with 502.
# Config: <VirtualHost http_interim> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PrxTest;

plan tests => 16, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'http_echo');
Apache::TestRequest::module('http_interim');
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub get {
    my ($path, $proto) = @_;
    $proto //= 'HTTP/1.1';
    my $raw = PrxTest::raw_request($port, "GET $path $proto\r\nHost: x\r\n\r\n",
        timeout => 10);
    return PrxTest::parse_responses($raw // '', eof => $proto eq 'HTTP/1.0');
}

sub codes { join ',', map { $_->{status} // '?' } @_ }

# default policy: a 103 is relayed with its headers
my @r = get('/i/x?echo.interim=103');
is codes(@r), '103,200', 'a 103 from the backend reaches the client first';
like PrxTest::header_of($r[0], 'Link') // '', qr/preload/, 'with its Link header';

# default policy: an unrequested 100 is not relayed, a 102 is
@r = get('/i/x?echo.interim=100,102');
is codes(@r), '102,200', 'an unrequested 100 is dropped, 102 relayed';

# RFC: the 100 is relayed even though the client did not ask
@r = get('/rfc/x?echo.interim=100,103');
is codes(@r), '100,103,200', 'proxy-interim-response=RFC relays the 100 too';

# Suppress: nothing relayed
@r = get('/suppress/x?echo.interim=102,103');
is codes(@r), '200', 'proxy-interim-response=Suppress relays no interim';
is $r[0]{complete}, 1, 'and the final response is complete';

# an unknown policy value relays nothing (and warns)
@r = get('/junk/x?echo.interim=103');
is codes(@r), '200', 'an unknown policy relays no interim';

# HTTP/1.0 clients never get interim responses
@r = get('/i/x?echo.interim=103', 'HTTP/1.0');
is codes(@r), '200', 'no interim response for an HTTP/1.0 client';

# nine interim responses are fine, the tenth ends it with 502
my $nine = join ',', (102) x 9;
@r = get("/i/x?echo.interim=$nine");
is codes(@r), "$nine,200", 'nine interim responses, then the final one';
my $ten = join ',', (102) x 10;
@r = get("/i/x?echo.interim=$ten");
is scalar(grep { $_->{interim} } @r), 10, 'the tenth interim is still relayed';
is $r[-1]{status}, 502, 'then the proxy answers 502';

# the backend is still usable afterwards
@r = get('/i/after');
is codes(@r), '200', 'the next request answers 200';

# interim responses do not break backend connection reuse
my $raw = PrxTest::raw_request($port, "GET /i/a?echo.interim=103 HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /i/b?echo.interim=103 HTTP/1.1\r\nHost: x\r\n\r\n", responses => 2);
@r = grep { !$_->{interim} } PrxTest::parse_responses($raw // '');
is codes(@r), '200,200', 'interim + final, twice on one client connection';
is PrxTest::header_of($r[1], 'X-Echo-Conn'), PrxTest::header_of($r[0], 'X-Echo-Conn'),
    'the backend connection was reused after interim responses';

my @warn = grep { /PRX00319/ } PrxTest::errorlog_lines();
ok scalar(@warn), 'the unknown policy was logged (PRX00319)';

PrxTest::errorlog_ok(expect => ['PRX00320']);
