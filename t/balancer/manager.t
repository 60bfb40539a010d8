# Tests for the balancer-manager (spec balancer.md §13): the HTML page and
# the XML view; every member and balancer field changed through a POST
# with the nonce and a same-host Referer, seen through the XML view by
# other connections (under prefork: other children) and by request
# routing; without the nonce, with a wrong one, with a foreign Referer or
# on a balancer with nonce=None nothing changes; adding members through
# the form (growth), refused twice and when no slot is left (400);
# markup in routes and sticky names is escaped. Config:
# t/conf/manager_basic.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);
use PrxTest;
use PrxStatus;

plan tests => 9 + 4 + 6 + 5 + 9 + 8 + 9 + 5 + 6 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_proxy_balancer.c');

Apache::TestRequest::module('manager');
my $port = Apache::Test::config()->{vhosts}{manager}{port} or die 'no manager port';
my $ref = "http://localhost:$port/balancer-manager";
my $nonce = 'mgr-test-nonce-0123';
my @b = map { PrxTest::backend('echo', name => "mgr_b$_") } 1 .. 2;
my %url = map { ("b$_" => 'http://127.0.0.1:' . PrxTest::vars("backend_mgr_b${_}_port")) } 1 .. 4;

# { balancer name => { field => value, workers => { name => {field => value} } } }
sub parse_xml {
    my $x = shift // '';
    my %out;
    while ($x =~ m{<httpd:balancer>(.*?)</httpd:balancer>}sg) {
        my $bx = $1;
        my ($head, $workers) = $bx =~ m{^(.*?)<httpd:workers>(.*)</httpd:workers>}s;
        my %bal;
        $bal{$1} = $2 while ($head // '') =~ m{<httpd:(\w+)>([^<]*)</httpd:\1>}g;
        while (($workers // '') =~ m{<httpd:worker>(.*?)</httpd:worker>}sg) {
            my $wx = $1;
            my %w;
            $w{$1} //= $2 while $wx =~ m{<httpd:(\w+)>([^<]*)</httpd:\1>}g;
            $bal{workers}{ $w{name} } = \%w;
        }
        $out{ $bal{name} } = \%bal;
    }
    return \%out;
}
sub xml { parse_xml(GET('/balancer-manager?xml=1', Referer => $ref)->content) }
sub member { xml()->{'balancer://mgr'}{workers}{ $url{ $_[0] } } || {} }
sub post {
    my ($params, %o) = @_;
    my @h = exists $o{referer} ? (defined $o{referer} ? (Referer => $o{referer}) : ()) : (Referer => $ref);
    return POST '/balancer-manager', content => $params, @h;
}
sub change {    # member params for balancer://mgr with the nonce
    my ($m, @kv) = @_;
    return post([ b => 'mgr', w => $url{$m}, nonce => $nonce, @kv ]);
}
# Which origins (by port) served `n` requests to /mgr/.
sub served {
    my $n = shift;
    my %c;
    for (1 .. $n) {
        my $rec = PrxTest::echo_of(GET '/mgr/x') || {};
        $c{ $rec->{port} // 'none' }++;
    }
    return \%c;
}
sub port_of { PrxTest::vars("backend_mgr_$_[0]_port") }

# --- the page -----------------------------------------------------------------------
my $res = GET '/balancer-manager';
is $res->code, 200, 'GET: 200';
like $res->header('Content-Type'), qr{^text/html; charset=ISO-8859-1}, 'HTML, ISO-8859-1';
my $html = $res->content;
like $html, qr{<title>Balancer Manager</title>}, 'title';
like $html, qr{<a href="/balancer-manager\?b=mgr&amp;nonce=$nonce">balancer://mgr</a>},
    'balancer heading links to ?b=..&nonce=..';
like $html, qr{MaxMembers.*StickySession.*DisableFailover.*Timeout.*FailoverAttempts.*Method}s,
    'balancer table columns';
like $html, qr{<td>4 \[2 Used\]</td>}, 'MaxMembers: members + growth [used]';
like $html, qr{\?b=mgr&amp;w=http%253a%252f%252f127\.0\.0\.1%253a\d+&amp;nonce=$nonce">\Q$url{b1}\E</a>},
    'member link, the URL escaped for the double decoding';
like $html, qr{Init Ok }, 'member status string';
SKIP: {
    skip 'mod_proxy_hcheck not loaded', 1 unless Apache::Test::have_module('mod_proxy_hcheck.c');
    like $html, qr{<th>HC Method</th>.*<td>NONE</td><td>30000ms</td><td>1 \(0\)</td><td>1 \(0\)</td>}s,
        'health check columns with the defaults';
}

# --- XML needs a same-host Referer ------------------------------------------------------
my $x = xml();
is $x->{'balancer://mgr'}{lbmethod}, 'byrequests', 'XML: lbmethod';
is $x->{'balancer://mgr'}{workers}{ $url{b1} }{status}, 'Init Ok ', 'XML: member status';
$res = GET '/balancer-manager?xml=1';
like $res->content, qr{<html}, 'xml=1 without a Referer: parameters discarded, HTML';
$res = GET '/balancer-manager?xml=1', Referer => 'http://evil.example/balancer-manager';
like $res->content, qr{<html}, 'with a foreign Referer: HTML too';

# --- disabling a member: every connection sees it, requests avoid it ---------------------
my $held = PrxStatus::Conn->new($port);
my $before = $held->get('/balancer-manager?xml=1', "Referer: $ref");
is parse_xml($before->{body})->{'balancer://mgr'}{workers}{ $url{b1} }{status}, 'Init Ok ',
    'held connection: b1 Ok';
$res = change(b1 => w_status_D => 1);
is $res->code, 200, 'POST w_status_D=1 with the nonce: 200';
is member('b1')->{status}, 'Init Dis ', 'XML: Init Dis';
my $after = $held->get('/balancer-manager?xml=1', "Referer: $ref");
is parse_xml($after->{body})->{'balancer://mgr'}{workers}{ $url{b1} }{status}, 'Init Dis ',
    'the held connection (its child) sees it too';
$held->close;
my $s = served(6);
is $s->{ port_of('b1') } // 0, 0, 'no request reaches the disabled member';
is $s->{ port_of('b2') } // 0, 6, 'all go to b2';

# --- refused: no nonce, a wrong one, a foreign Referer, no Referer, nonce=None -------------
post([ b => 'mgr', w => $url{b1}, w_status_D => 0 ]);
is member('b1')->{status}, 'Init Dis ', 'without the nonce: unchanged';
post([ b => 'mgr', w => $url{b1}, nonce => 'wrong', w_status_D => 0 ]);
is member('b1')->{status}, 'Init Dis ', 'with a wrong nonce: unchanged';
post([ b => 'mgr', w => $url{b1}, nonce => $nonce, w_status_D => 0 ],
    referer => 'http://evil.example/x');
is member('b1')->{status}, 'Init Dis ', 'with a foreign Referer: unchanged';
post([ b => 'mgr', w => $url{b1}, nonce => $nonce, w_status_D => 0 ], referer => undef);
is member('b1')->{status}, 'Init Dis ', 'without a Referer: unchanged';
post([ b => 'nononce', w => "$url{b1}/n", nonce => '', w_status_D => 1 ]);
is xml()->{'balancer://nononce'}{workers}{"$url{b1}/n"}{status}, 'Init Ok ',
    'nonce=None: never changed (stock behaviour)';

# --- every member field -----------------------------------------------------------------------
change(b1 => w_status_D => 0);
$s = served(6);
ok(($s->{ port_of('b1') } // 0) >= 2, 're-enabled: b1 serves again (' . ($s->{ port_of('b1') } // 0) . ' of 6)');
change(b1 => w_lf => '2.5', w_ls => 1, w_wr => 'newroute', w_rr => 'r2');
my $m = member('b1');
is $m->{loadfactor}, '2.50', 'w_lf: loadfactor 2.50';
is $m->{lbset}, 1, 'w_ls: lbset 1';
is "$m->{route} $m->{redirect}", 'newroute r2', 'w_wr, w_rr: route and redirect';
$s = served(4);
is $s->{ port_of('b1') } // 0, 0, 'lbset 1: b1 only when lbset 0 has nobody';
change(b1 => w_ls => 0, w_wr => '', w_status_I => 1, w_status_H => 1);
$m = member('b1');
is "$m->{status}|$m->{route}|$m->{lbset}", 'Init Ign Stby Ok ||0',
    'w_status_I/H set, empty w_wr clears the route';
change(b1 => w_status_I => 0, w_status_H => 0, w_status_N => 1, w_status_R => 1, w_status_S => 1);
is member('b1')->{status}, 'Init Drn Stop Spar ', 'w_status_N/R/S';
change(b1 => w_status_N => 0, w_status_R => 0, w_status_S => 0, w_status_C => 1);
is member('b1')->{status}, 'Init HcFl ', 'w_status_C sets HcFl';
$s = served(4);
is $s->{ port_of('b1') } // 0, 0, 'a member in HcFl gets no request';
change(b1 => w_status_C => 0, w_lf => 1);

# --- balancer fields ------------------------------------------------------------------------------
post([ b => 'mgr', nonce => $nonce, b_lbm => 'bytraffic', b_tmo => 5, b_max => 3,
       b_sforce => 1, b_ss => 'JSESSIONID|jsid' ]);
$x = xml()->{'balancer://mgr'};
is $x->{lbmethod}, 'bytraffic', 'b_lbm';
is $x->{timeout}, 5, 'b_tmo';
is $x->{maxattempts}, 3, 'b_max';
is $x->{stickysession}, 'JSESSIONID', 'b_ss: cookie name';
is $x->{nofailover}, 'On', 'b_sforce';
like GET('/balancer-manager')->content, qr{<td>JSESSIONID \| jsid</td>}, 'page: cookie | path';
post([ b => 'mgr', nonce => $nonce, b_ss => '-', b_lbm => 'nosuchmethod', b_tmo => 99999 ]);
$x = xml()->{'balancer://mgr'};
ok !exists $x->{stickysession}, 'b_ss=- clears stickiness';
is "$x->{lbmethod} $x->{timeout}", 'bytraffic 5', 'an unknown lbmethod and b_tmo > 7200 are ignored';

# --- adding members (growth=2) ------------------------------------------------------------------------
my $b3 = PrxTest::backend('echo', name => 'mgr_b3');
# a connection held from before the addition (under prefork: a child that
# never served the form) lists the new member on the ProxyStatus page
my $have_status = Apache::Test::have_module('mod_status.c');
my $old = $have_status ? PrxStatus::Conn->new($port) : undef;
my $listed = sub {
    my $body = $old->get('/server-status?auto')->{body} // '';
    return scalar grep { /^ProxyBalancer\[\d+\]Worker\[\d+\]Name: \Q$_[0]\E$/ } split /\n/, $body;
};
my $listed_before = $old ? $listed->($url{b3}) : 0;
$res = post([ b => 'mgr', nonce => $nonce, b_nwrkr => $url{b3}, b_wyes => 1 ]);
is $res->code, 200, 'b_nwrkr + b_wyes=1: 200';
is member('b3')->{status}, 'Init Dis ', 'the new member starts disabled, seen in XML';
SKIP: {
    skip 'mod_status not loaded', 1 unless $old;
    is "$listed_before " . $listed->($url{b3}), '0 1',
        'ProxyStatus on a connection held from before lists the new member (once)';
    $old->close;
}
change(b3 => w_status_D => 0);
$s = served(9);
ok(($s->{ port_of('b3') } // 0) >= 1, 'enabled, it serves (' . ($s->{ port_of('b3') } // 0) . ' of 9)');

$res = post([ b => 'mgr', nonce => $nonce, b_nwrkr => $url{b3}, b_wyes => 1 ]);
is $res->code, 400, 'the same member again: 400';
post([ b => 'mgr', nonce => $nonce, b_nwrkr => $url{b4} ]);
ok !member('b4')->{name}, 'without b_wyes: not added';
is post([ b => 'mgr', nonce => $nonce, b_nwrkr => $url{b4}, b_wyes => 1 ])->code, 200,
    'the second growth slot';
is post([ b => 'mgr', nonce => $nonce, b_nwrkr => 'http://127.0.0.1:1', b_wyes => 1 ])->code, 400,
    'no slot left: 400';
unlike GET('/balancer-manager?b=mgr&nonce=' . $nonce, Referer => $ref)->content, qr{b_nwrkr},
    'the balancer form offers no "Add New Worker" any more';

# --- escaping ---------------------------------------------------------------------------------------------
$html = GET('/balancer-manager')->content;
like $html, qr{&lt;script&gt;alert\(1\)&lt;/script&gt;}, 'a route with <script> is shown escaped';
unlike $html, qr{<script>}, 'no raw <script> anywhere';
like $html, qr{&lt;b&gt;S&lt;/b&gt;}, 'the sticky name is escaped';
like GET('/balancer-manager?xml=1', Referer => $ref)->content,
    qr{<httpd:route>&lt;script&gt;alert\(1\)&lt;/script&gt;</httpd:route>}, 'XML escapes it too';
$html = GET("/balancer-manager?b=xss&w=$url{b1}/x&nonce=xss-nonce", Referer => $ref)->content;
like $html, qr{name="w_wr" id="w_wr" type="text" value="&lt;script&gt;}, 'and in the edit form';

# --- health check fields (mod_proxy_hcheck) -----------------------------------------------------------
SKIP: {
    skip 'mod_proxy_hcheck not loaded', 6 unless Apache::Test::have_module('mod_proxy_hcheck.c');
    my $row = sub {
        my ($u) = @_;
        my ($tr) = GET('/balancer-manager')->content =~ m{(<tr>\n<td><a [^>]*>\Q$u\E</a>.*?</tr>)}s;
        my @td = ($tr // '') =~ m{<td>(.*?)</td>}g;
        return join '|', @td[-6 .. -1];
    };
    change(b2 => w_hm => 'get', w_hi => 500, w_hp => 2, w_hf => 3, w_hu => '/health', w_he => 'mgrok');
    is $row->($url{b2}), 'GET|500ms|2 (0)|3 (0)|/health|mgrok',
        'w_hm, w_hi (ms), w_hp, w_hf, w_hu, w_he';
    change(b2 => w_hi => 50, w_hp => 0, w_hm => 'PROVIDER', w_he => 'nosuch');
    is $row->($url{b2}), 'GET|500ms|2 (0)|3 (0)|/health|',
        'w_hi < 100 ms, w_hp 0 and an unimplemented method ignored; an unknown w_he clears';
    change(b2 => w_he => 'mgrok', w_hm => 'TCP', w_hu => '');
    is $row->($url{b2}), 'TCP|500ms|2 (0)|3 (0)||', 'TCP clears the expression; empty w_hu clears';
    change(b2 => w_hm => 'NONE');
    $html = GET('/balancer-manager')->content;
    like $html, qr{<tr><td>mgrok</td><td>%\{REQUEST_STATUS\} &lt; 400</td></tr>},
        'the expressions table, escaped';
    like $html, qr{<td>m&lt;x&gt;</td>}, 'an expression name with markup is escaped';
    $html = GET("/balancer-manager?b=mgr&w=$url{b2}&nonce=$nonce", Referer => $ref)->content;
    like $html, qr{<select name="w_hm">.*<option value="GET11">.*<option value="mgrok">}s,
        'the edit form offers methods and expressions';
}

PrxTest::errorlog_ok(expect => [qw(PRX00633 PRX00634 PRX00635 PRX00701 PRX00702)]);
