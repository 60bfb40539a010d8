# Tests for ProxyPass and ProxyPassReverse inside <Location> (spec
# core.md §3.1, §3.3, §7.1, §7.5): the path comes from the section, a more
# specific Location's "ProxyPass !" wins by merging, one rule per section,
# wildcard Location paths act as regexes, ProxyPassMatch in
# <LocationMatch>, and the Location rule is tried before the server list
# (so a server-level "!" cannot override it).
# Config: t/conf/core_pass_location.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

# [ request path, target the backend must get (undef: not proxied), why ]
my @cases = (
    [ '/loc/x?q=1',     '/L/x?q=1',   'Location /loc/ maps its remainder' ],
    [ '/loc/',          '/L/',        'the section path itself' ],
    [ '/loc/skip/x',    undef,        'a more specific Location with "ProxyPass !" excludes' ],
    [ '/loc/skipx',     '/L/skipx',   'the exclusion is the more specific Location only' ],
    [ '/loc/other/y',   '/O/y',       'a more specific Location maps elsewhere' ],
    [ '/one/x',         '/second/x',  'the later ProxyPass in one Location replaces the earlier' ],
    [ '/wild/abc',      '/W/wild/abc', 'a wildcard Location path is a regex: the whole path is appended' ],
    [ '/plain/abc',     '/P/abc',     'a plain Location path is a prefix' ],
    [ '/lm/abc/42',     '/LM/42/abc', 'ProxyPassMatch in LocationMatch substitutes the groups' ],
    [ '/lm/abc/x',      undef,        'LocationMatch that does not match: not proxied' ],
    [ '/srvx/private',  '/S/private', 'a server-level "!" does not override a Location rule' ],
    [ '/both/z',        '/location/z', 'the Location rule is tried before the server list' ],
);

plan tests => 2 * @cases + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_location');
my $port = $echo->port;
Apache::TestRequest::module('core_pass_location');
my $hostport = Apache::TestRequest::hostport();

for my $c (@cases) {
    my ($path, $want, $what) = @$c;
    my $before = () = $echo->requests;
    my $res = GET $path;
    my $after = () = $echo->requests;
    if (!defined $want) {
        is $res->code, 404, "$what: local 404 for $path";
        is $after, $before, "$what: the backend saw nothing";
        next;
    }
    my $rec = PrxTest::echo_of($res) || {};
    is $res->code, 200, "$what: 200 for $path";
    is $rec->{target}, $want, "$what: backend got $want";
}

# ProxyPassReverse inside the Location maps the backend's redirect back
# into the section's path
my $res = GET '/loc/r', redirect_ok => 0,
    'X-Echo-Status' => 302,
    'X-Echo-Header' => "Location: http://127.0.0.1:$port/L/moved?a=b";
is $res->code, 302, 'the backend redirect reaches the client';
is $res->header('Location'), "http://$hostport/loc/moved?a=b",
    'ProxyPassReverse in <Location> rewrites it into the section path';
# the reverse rule of the Location does not apply outside it
$res = GET '/one/r', redirect_ok => 0,
    'X-Echo-Status' => 302,
    'X-Echo-Header' => "Location: http://127.0.0.1:$port/L/moved";
is $res->header('Location'), "http://127.0.0.1:$port/L/moved",
    'outside that Location the Location header is left alone';

PrxTest::errorlog_ok();
