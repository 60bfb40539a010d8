# Tests for TLS to origins (spec http.md §2.4, core.md §3.5 "section
# config", docs/http.md): https:// workers through mod_ssl with the
# SSLProxy* settings of the server or of the worker's <Proxy> section;
# verification of the origin's certificate and name; the server name sent
# (SNI), also under ProxyPreserveHost; connection reuse over TLS; client
# certificates. The origins are TLS vhosts of this httpd that report the SNI
# they got, the client's port (one TCP connection, one port) and the client
# certificate's CN. Config: t/conf/workers_tls.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my $certs = PrxTest::vars('t_conf') . '/certs/client.pem';
plan tests => 34, need(need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_ssl.c'),
    -s $certs ? 1 : { 'the test PKI (openssl at configure time)' => 0 });

my $hello = "hello from the origin\n";

sub peer { $_[0]->header('X-Peer') // 'none' }

# a verified origin: 200, the body intact, SNI = the worker's host, and
# requests of one client connection share one TLS connection
Apache::TestRequest::module('workers_tls');
PrxTest::ua(keep_alive => 1);
my @r = map { GET '/ok/hello.txt' } 1 .. 3;
is join(' ', map { $_->code } @r), '200 200 200',
    'https origin, SSLProxyVerify require + CheckPeerName: 200';
is $r[0]->content, $hello, 'the body arrives intact';
is $r[0]->header('X-Origin'), 'tls', 'from the TLS origin';
is $r[0]->header('X-SNI'), 'localhost', 'SNI is the backend host name';
like peer($r[0]), qr/^127\.0\.0\.1:\d+\z/, 'the origin reports its peer (' . peer($r[0]) . ')';
is join(' ', map { peer($_) } @r[1, 2]), join(' ', (peer($r[0])) x 2),
    'three requests, one TLS connection to the origin';

# a certificate for another name: 502 (PRX00332), then the good one works
my $res = GET '/wrong/hello.txt';
is $res->code, 502, 'origin certificate for wrong.test: 502';
is $res->message, 'Proxy Error', 'the proxy\'s own error';
$res = GET '/ok/hello.txt';
is $res->code, 200, 'the next good request: 200';
is peer($res), peer($r[0]), 'still on the pooled TLS connection';

# a certificate from a CA the proxy does not trust: 502
$res = GET '/untrusted/hello.txt';
is $res->code, 502, 'origin certificate from an untrusted CA: 502';
is((GET '/ok/hello.txt')->code, 200, 'the next good request: 200');
my @l = grep { /PRX00332/ } PrxTest::errorlog_lines();
is scalar(@l), 2, 'each failed handshake logged PRX00332 (' . scalar(@l) . ')';
ok !grep({ !/localhost:\d+\/(wrong|untrusted)\// } @l),
    'naming the worker of the failed origin';

# an IP address as host: no SNI sent (the chain is still verified)
$res = GET '/ip/hello.txt';
is $res->code, 200, 'https://127.0.0.1 (peer name check off in its <Proxy>): 200';
like $res->header('X-SNI') // '', qr/^(?:\(null\))?\z/,
    'no SNI for an IP address (the origin has none: "' . ($res->header('X-SNI') // '') . '")';

# the generic worker ([P], no worker): TLS too, a connection per request
my @g = map { GET '/gen/hello.txt' } 1 .. 2;
is join(' ', map { $_->code } @g), '200 200', 'RewriteRule [P] to https, no worker: 200';
is $g[0]->header('X-SNI'), 'localhost', 'with SNI';
isnt peer($g[1]), peer($g[0]), 'and a new TLS connection each time';

# client certificates: the origin requires one; only the /with/ worker's
# <Proxy> section gives one
$res = GET '/with/hello.txt';
is $res->code, 200, 'SSLProxyMachineCertificateFile in <Proxy>: 200 from a '
    . 'client-auth origin';
is $res->header('X-Client-CN'), 'prx proxy client', 'the origin saw our certificate';
# (under TLS 1.3 the origin refuses the missing certificate after our
# side of the handshake is done: the failure shows when the response head
# is read, PRX00316, not as a handshake failure)
$res = GET '/without/hello.txt';
is $res->code, 502, 'the same origin without a client certificate: 502';
is((GET '/with/hello.txt')->code, 200, 'and /with/ still works afterwards');

# SSLProxyMachineCertificateFile at server level
Apache::TestRequest::module('workers_tls_client');
PrxTest::ua(keep_alive => 1);
$res = GET '/cert/hello.txt';
is $res->code, 200, 'SSLProxyMachineCertificateFile in the vhost: 200';
is $res->header('X-Client-CN'), 'prx proxy client', 'with our certificate';

# SSLProxyCACertificateFile in a <Proxy> section overrides the server's
Apache::TestRequest::module('workers_tls_section');
PrxTest::ua(keep_alive => 1);
is((GET '/sect/hello.txt')->code, 200,
    'the worker\'s <Proxy> section trusts the CA: 200');
is((GET '/nosect/hello.txt')->code, 502,
    'a worker without the section uses the server\'s CA (the wrong one): 502');
is((GET '/before/hello.txt')->code, 200,
    'a <Proxy> section before the ProxyPass of its worker applies too: 200');

# ProxyPreserveHost: the client's Host is the server name; a pooled
# connection made for another name is not reused
Apache::TestRequest::module('workers_tls_pp');
PrxTest::ua(keep_alive => 1);
my $a1 = GET '/pp/hello.txt', Host => 'alias.test';
is $a1->code, 200, 'ProxyPreserveHost, Host alias.test: 200 (alias.test is in the certificate)';
is $a1->header('X-SNI'), 'alias.test', 'SNI is the client\'s Host';
my $l1 = GET '/pp/hello.txt', Host => 'localhost';
is $l1->header('X-SNI'), 'localhost', 'Host localhost: SNI localhost';
isnt peer($l1), peer($a1), 'on a new connection (the pooled one was for alias.test)';
my $l2 = GET '/pp/hello.txt', Host => 'localhost';
is peer($l2), peer($l1), 'the same name again reuses the connection';

PrxTest::errorlog_ok(expect => [qw(PRX00332 PRX00316)]);
