# Tests for ProxyPassReverse with a balancer:// URL (spec balancer.md
# §11): a Location pointing at any member is mapped back to the proxy's
# path -- each member's URL stands in for the balancer's; with a URL part
# after the balancer name, member URL + that part is replaced; a Location
# elsewhere is left alone; with "/" as the proxy path no "//" appears.
# Config: t/conf/balancer_reverse.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

plan tests => 3 + 2 + 2 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c',
                'mod_lbmethod_byrequests.c', 'mod_alias.c');

my $port = Apache::Test::config()->{vhosts}{balancer_reverse}{port} or die 'no port';
my $rport = Apache::Test::config()->{vhosts}{balancer_reverse_root}{port} or die 'no port';
my $host = Apache::Test::config()->{vars}{servername};
Apache::TestRequest::module('balancer_reverse');

# Location of each of two GETs (one per member), and who answered
sub locations {
    my $path = shift;
    my (%loc, @who);
    for (1 .. 2) {
        my $res = GET $path, redirect_ok => 0;
        push @who, $res->header('X-Origin') // '?';
        $loc{ $res->header('Location') // '' } = 1;
    }
    return (join(' ', sort keys %loc), join(' ', sort @who));
}

my ($loc, $who) = locations('/app/redirect/x');
is $who, 'o1 o2', 'both members answered';
like $loc, qr{\Ahttp://[^/]+:$port/app/landed/x\z}, "each member's Location becomes /app/landed/x ($loc)";
($loc) = locations('/app/other-redirect/x');
is $loc, 'http://other.example/landed/x', 'a Location elsewhere is left alone';

# URL part: member URL + /inner/ is replaced by /sub/
($loc, $who) = locations('/sub/inner-redirect/x');
is $who, 'o1 o2', 'both members answered';
like $loc, qr{\Ahttp://[^/]+:$port/sub/landed/x\z}, "member URL + /inner/ -> /sub/ for each ($loc)";

# <Location> form: the location's path is the proxy side
Apache::TestRequest::module('balancer_reverse_loc');
my $lport = Apache::Test::config()->{vhosts}{balancer_reverse_loc}{port} or die 'no port';
($loc) = locations('/rooted/redirect/x');
like $loc, qr{\Ahttp://[^/]+:$lport/rooted/landed/x\z}, "in a <Location>: /rooted/landed/x ($loc)";
($loc) = locations('/plain/redirect/x');
like $loc, qr{\Ahttp://127\.0\.0\.1:\d+/landed/x http://127\.0\.0\.1:\d+/landed/x\z},
    "not mapped by a rule: each member's URL shows ($loc)";

# "/" as the proxy path: no double slash
Apache::TestRequest::module('balancer_reverse_root');
($loc, $who) = locations('/redirect/x');
is $who, 'o1 o2', 'both members answered';
like $loc, qr{\Ahttp://[^/]+:$rport/landed/x\z}, "ProxyPassReverse / ...: /landed/x, no '//' ($loc)";

PrxTest::errorlog_ok();
