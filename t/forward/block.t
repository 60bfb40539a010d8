# Tests for ProxyBlock (spec core.md §3.12; connect-wstunnel-express.md
# §1.4, §2.2 step 4): a target whose name contains a listed word, host or
# domain gets 403 "Connect to remote machine blocked"; when the proxy
# connects directly, so does a target whose address one of the entries
# resolved to at startup (localhost blocks 127.0.0.1); through an upstream
# proxy only names count; "*" blocks everything; forward, reverse and
# CONNECT requests alike. Nothing blocked ever reaches the origin or the
# upstream. Config: t/conf/forward_block.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use PrxTest;
use PrxForward;

# target hosts of forward_block_names: blocked (1) or sent upstream (0)
my @names = (
    [ 'games.example.invalid',     1, 'the host itself' ],
    [ 'www.games.example.invalid', 1, 'a name containing the host' ],
    [ 'GAMES.Example.invalid',     1, 'upper case (the host is lower-cased first)' ],
    [ 'chat.other.invalid',        1, 'the word "chat"' ],
    [ 'webchatter.invalid',        1, 'the word inside a label' ],
    [ 'x.corp.invalid',            1, 'a name in the domain .corp.invalid' ],
    [ 'corp.invalid',              0, 'the domain\'s own name (".corp.invalid" is not in it)' ],
    [ 'example.invalid',           0, 'an unlisted name' ],
    [ 'games.example.invalid.org', 1, 'substring match, anywhere' ],
);

my $have_connect = Apache::Test::have_module('mod_proxy_connect.c');
plan tests => 2 * @names + 1 + 6 + 3 + 4 + 5 + 2 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'forward_block');
my $up = PrxTest::backend('echo', name => 'forward_block_up');
my $eport = $echo->port;
my %p = map { $_ => PrxForward::port($_) }
    qw(forward_block_names forward_block_addr forward_block_ip forward_block_remote
       forward_block_remote_np forward_block_all forward_block_none);

sub n { my @r = $_[0]->requests; scalar @r }
sub get { PrxForward::request($p{ $_[0] }, $_[2] // 'GET', $_[1]) }
sub blocked {
    my $res = shift;
    return $res->{status} == 403 && $res->{body} =~ /Connect to remote machine blocked/;
}

# --- names: words, hosts, domains ------------------------------------------------
for my $n (@names) {
    my ($host, $want, $why) = @$n;
    my $before = n($up);
    my $res = get('forward_block_names', "http://$host/x");
    if ($want) {
        ok blocked($res), "blocked: $host ($why): 403 ($res->{status})";
        is n($up), $before, "... and the upstream saw nothing";
    }
    else {
        is $res->{status}, 200, "not blocked: $host ($why): through the upstream";
        like(($up->last_request || {})->{request_line} // '', qr{^GET http://\Q$host\E/x HTTP/1\.1\z},
            '... which got it in absolute form');
    }
}
# reverse proxying is checked the same way
my $before = n($up);
my $res = get('forward_block_names', "http://localhost:$p{forward_block_names}/rev-blocked/x");
ok blocked($res) && n($up) == $before,
    "ProxyPass to a blocked host: 403 too ($res->{status})";

# --- a name that resolves blocks its address when connecting directly ---------------
$before = n($echo);
$res = get('forward_block_addr', "http://127.0.0.1:$eport/by-address");
ok blocked($res), "ProxyBlock localhost: a request for 127.0.0.1 is blocked ($res->{status})";
$res = get('forward_block_addr', "http://localhost:$eport/by-name");
ok blocked($res), "... and one for localhost by its name ($res->{status})";
$res = get('forward_block_addr', "http://localhost:$p{forward_block_addr}/rev/x");
ok blocked($res) && n($echo) == $before,
    "... and reverse proxying to 127.0.0.1 ($res->{status}); the origin saw nothing";
# an address entry: names resolving to it are blocked
$res = get('forward_block_ip', "http://localhost:$eport/ip-entry");
ok blocked($res), "ProxyBlock 127.0.0.1 blocks localhost (its address) ($res->{status})";
$res = get('forward_block_ip', "http://127.0.0.1:$eport/ip-entry");
ok blocked($res) && n($echo) == $before, "... and 127.0.0.1 ($res->{status})";
# the control: the same requests without ProxyBlock
$res = get('forward_block_none', "http://127.0.0.1:$eport/control");
is $res->{status}, 200, 'without ProxyBlock the same request reaches the origin';

# --- through an upstream proxy only names count ---------------------------------
$before = n($up);
$res = get('forward_block_remote', "http://127.0.0.1:$eport/via-upstream");
is $res->{status}, 200, 'ProxyBlock localhost through an upstream: 127.0.0.1 is not blocked';
is n($up), $before + 1, '... it went to the upstream';
$res = get('forward_block_remote', "http://localhost:$eport/via-upstream");
ok blocked($res) && n($up) == $before + 1, "... while localhost by name still is ($res->{status})";

# --- NoProxy makes it direct: the address counts again --------------------------------
my ($b_up, $b_echo) = (n($up), n($echo));
$res = get('forward_block_remote_np', "http://127.0.0.1:$eport/noproxy");
ok blocked($res), "NoProxy 127.0.0.1 (direct): 127.0.0.1 is blocked again ($res->{status})";
is n($up) . '/' . n($echo), "$b_up/$b_echo", 'neither the upstream nor the origin saw it';
$res = get('forward_block_remote_np', "http://127.0.0.2:$eport/noproxy");
is $res->{status}, 200, 'another address still goes through the upstream';
is n($up), $b_up + 1, '... which got it';

# --- "*" blocks everything ----------------------------------------------------------------
$before = n($echo);
$res = get('forward_block_all', "http://127.0.0.1:$eport/all");
ok blocked($res), "ProxyBlock *: forward request blocked ($res->{status})";
$res = get('forward_block_all', "http://anything.invalid/all");
ok blocked($res), "... whatever the name ($res->{status})";
$res = get('forward_block_all', "http://localhost:$p{forward_block_all}/rev/all");
ok blocked($res), "... reverse proxying too ($res->{status})";
$res = get('forward_block_all', "http://localhost:$p{forward_block_all}/hello.txt");
isnt $res->{status}, 403, 'the vhost\'s own pages are no proxy requests';
is n($echo), $before, 'the origin saw none of the blocked requests';

# --- CONNECT ----------------------------------------------------------------------------------
SKIP: {
    skip 'mod_proxy_connect not loaded', 2 unless $have_connect;
    my $t = PrxForward::tunnel($p{forward_block_names}, 'games.example.invalid:443');
    ok $t->{status} == 403, "CONNECT to a blocked name: 403 ($t->{status})";
    $t->close;
    $t = PrxForward::tunnel($p{forward_block_addr}, "127.0.0.1:$eport");
    ok $t->{status} == 403 && n($echo) == $before,
        "CONNECT to a blocked address: 403 ($t->{status}), nothing connected";
    $t->close;
}

PrxTest::errorlog_ok();
