# Tests for the ways into the proxy other than ProxyPass (spec core.md
# §11-§14): SetHandler "proxy:..." (backend URL = handler + mapped file
# name), RewriteRule [P] in server context (with <Proxy> sections and a
# <Proxy>-defined worker for pooling) and per-directory context, [NE]
# (raw URL: a space is refused), unix:/path|http://localhost/ targets from
# ProxyPass, SetHandler and RewriteRule, and the no-proxy variable.
# Config: t/conf/core_handlers.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my $docroot = PrxTest::vars('documentroot');
my $sock = PrxTest::vars('t_logs') . '/core_ux.sock';

# [ request path, which origin (tcp/unix), target it must get (undef: not
#   proxied, 404; a number: that status and nothing sent), why ]
my @cases = (
    [ '/hello.txt?a=1', 'tcp', "$docroot/hello.txt?a=1",
      'SetHandler proxy: the backend URL is handler + file name (+ query)' ],
    [ '/x.php', 'tcp', "/php$docroot/x.php",
      'SetHandler proxy: in <FilesMatch>, for a file that does not exist' ],
    [ '/noscheme.txt', 'tcp', 400, 'SetHandler "proxy:" without a scheme: 400' ],
    [ '/nomod/x', 'tcp', 500, 'a URL no scheme module accepts: 500' ],
    [ '/uxh.txt', 'unix', "$docroot/uxh.txt",
      'SetHandler proxy:unix:...|http://localhost reaches the socket' ],
    [ '/uxh2.txt', 'unix', "$docroot/uxh2.txt",
      'SetHandler proxy:unix:...|http: (no //host): localhost inserted' ],
    [ '/uxbad', 'unix', 400, 'a request-level unix://host/... is refused' ],
    [ '/rw/a%20b?q=1', 'tcp', '/RW/a%20b?q=1',
      'RewriteRule [P]: server context, re-encoded, query appended' ],
    [ '/rw/deny', 'tcp', 403, 'RewriteRule [P]: <Proxy> sections apply in server context' ],
    [ '/rwne/a%20b', 'tcp', 403, 'RewriteRule [P,NE]: a raw space is refused' ],
    [ '/rwne/ab?q=1', 'tcp', '/RWNE/ab?q=1', 'RewriteRule [P,NE]: a clean raw URL passes' ],
    [ '/rwd/x?q=2', 'tcp', '/RWD/x?q=2', 'RewriteRule [P]: per-directory context' ],
    [ '/uxr/y?q=3', 'unix', '/UXR/y?q=3', 'RewriteRule [P] to a unix: URL reaches the socket' ],
    [ '/ux/z?q=4', 'unix', '/UX/z?q=4', 'ProxyPass to unix:...|http://localhost/UX/' ],
    [ '/ux/deny', 'unix', 403, 'ProxyPass to unix:: <Proxy http://localhost/...> applies' ],
    [ '/ux/sockdeny', 'unix', 403, 'ProxyPass to unix:: <Proxy unix:...|http://localhost/...> applies' ],
    [ '/np/local', 'tcp', undef, 'no-proxy: the ProxyPass rule is skipped' ],
    [ '/np/remote', 'tcp', '/np/remote', 'no-proxy unset: the rule applies' ],
    [ '/nploc/local', 'tcp', undef, 'no-proxy: the <Location> rule is skipped too' ],
    [ '/nploc/remote', 'tcp', '/nploc/remote', 'no-proxy unset: the <Location> rule applies' ],
);

plan tests => 2 * @cases + 4 + 1 + 1 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_rewrite.c');

my %b = (
    tcp  => PrxTest::backend('echo', name => 'core_handlers'),
    unix => PrxTest::backend('echo', args => [ '--unix', $sock ]),
);
Apache::TestRequest::module('core_handlers');

sub count { my @r = $_[0]->requests; scalar @r }

for my $c (@cases) {
    my ($path, $which, $want, $what) = @$c;
    my $echo = $b{$which};
    my $before = count($echo);
    my $res = GET $path;
    if (!defined $want || $want =~ /^\d+\z/) {
        my $status = $want // 404;
        is $res->code, $status, "$what: $status for $path";
        is count($echo), $before, "$what: the backend saw nothing";
        next;
    }
    my $rec = PrxTest::echo_of($res) || {};
    is $res->code, 200, "$what: 200 for $path";
    is $rec->{target}, $want, "$what: backend got $want";
}

# a unix socket origin is addressed as the host after the bar
my $res = GET '/ux/host';
is PrxTest::header_of(PrxTest::echo_of($res) || {}, 'Host'), 'localhost',
    'the unix socket backend gets Host: localhost';

# ProxyPassReverse applies to RewriteRule [P] responses too
{
    my $port = $b{tcp}->port;
    my $hostport = Apache::TestRequest::hostport();
    my $res = GET '/rw/r', redirect_ok => 0, 'X-Echo-Status' => 302,
        'X-Echo-Header' => "Location: http://127.0.0.1:$port/RW/moved";
    is $res->header('Location'), "http://$hostport/rw/moved",
        'ProxyPassReverse maps the Location of a RewriteRule [P] response';
}

# RewriteRule [P] without a worker of its own uses the generic worker (a
# new connection per request); a <Proxy>-defined worker pools them
sub conns {
    my $prefix = shift;
    PrxTest::ua(keep_alive => 1);
    my @c = map { (GET "$prefix$_")->header('X-Echo-Conn') // 'none' } 1, 2;
    PrxTest::ua();
    return @c;
}
my @c = conns('/rw/c');
ok $c[0] ne 'none' && $c[1] ne $c[0],
    "RewriteRule [P] without a worker: a new connection per request (@c)";
@c = conns('/shp.txt?');
ok $c[0] ne 'none' && $c[1] eq $c[0],
    "SetHandler proxy: with a <Proxy>-defined worker: the connection is reused (@c)";
@c = conns('/rwp/c');
ok $c[0] ne 'none' && $c[1] eq $c[0],
    "RewriteRule [P] with a <Proxy>-defined worker: the connection is reused (@c)";

ok((grep { /PRX00031: / } PrxTest::errorlog_lines()),
    'the refused raw URL is logged');
PrxTest::errorlog_ok(expect => [qw(PRX00031 PRX00043 PRX00051 PRX00052)]);
