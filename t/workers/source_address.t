# Tests for ProxySourceAddress (spec core.md §3.24, http.md §10.3): backend
# sockets are bound to the address before connecting, so the origin sees
# connections from it; an address that cannot be bound is logged
# (PRX00013, a warning) and the connection is made unbound. The echo
# origin records each connection's peer address.
# Config: t/conf/workers_source.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 3 + 3 + 2 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'workers_source');
sub peer_of { ((PrxTest::echo_of($_[0]) || {})->{peer} // 'none') =~ s/:\d+\z//r }

# bound to 127.0.0.2
Apache::TestRequest::module('workers_source');
PrxTest::ua(keep_alive => 1);
my $r1 = GET '/src/one';
is $r1->code, 200, 'ProxySourceAddress 127.0.0.2: 200';
is peer_of($r1), '127.0.0.2', 'the origin saw the connection come from 127.0.0.2';
my $r2 = GET '/src/two';
is peer_of($r2) . ' ' . ($r2->header('X-Echo-Conn') // ''), '127.0.0.2 ' . ($r1->header('X-Echo-Conn') // ''),
    'a reused connection keeps it';

# an address no interface has: warning, unbound connection
Apache::TestRequest::module('workers_source_bad');
PrxTest::ua();
my $bad = GET '/bad/x';
is $bad->code, 200, 'ProxySourceAddress 192.0.2.1 (not local): the request still works';
is peer_of($bad), '127.0.0.1', 'over an unbound connection (from 127.0.0.1)';
ok grep({ /PRX00013/ && /192\.0\.2\.1/ && /:warn\]/ } PrxTest::errorlog_lines(settle => 0.3)),
    'the failed bind was logged as a warning (PRX00013)';

# without the directive: the system's choice
Apache::TestRequest::module('workers_source_none');
my $none = GET '/none/x';
is $none->code, 200, 'no ProxySourceAddress: 200';
is peer_of($none), '127.0.0.1', 'from 127.0.0.1';

PrxTest::errorlog_ok();
