# Tests for mod_proxy_hcheck's checks (spec hcheck.md §3, §4, §5, §6):
# every method sends exactly the request of §4.2 (what the origin got is
# asserted); a member whose origin stops is marked HcFl within
# hcinterval x hcfails and cleared again after hcpasses good checks; an
# hcexpr on the status, on a response header and on the body (hc('body'),
# %{HC_BODY}) decides instead of 200..399. The state is read from
# ProxyStatus (?auto) of a second httpd (config
# t/conf/hcheck_methods.conf.in; why a second one is said there).

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Time::HiRes ();
use PrxTest;
use PrxHttpd;

plan tests => 4 + 7 + 5 + 4 + 3 + 4 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_hcheck.c', 'mod_status.c');

my $httpd = PrxHttpd->start(conf => 'hcheck_methods.conf',
    define => 'PRX_HCHECK_METHODS',
    port => PrxTest::vars('backend_hcheck_methods_httpd_port'));

sub bport { PrxTest::vars("backend_hc_$_[0]_port") }
my %name = (
    tcp  => 'http://127.0.0.1:' . bport('tcp'),
    get  => 'http://127.0.0.1:' . bport('get') . '/app',
    head => 'http://127.0.0.1:' . bport('head'),
    opt  => 'http://127.0.0.1:' . bport('opt'),
    expr => 'http://127.0.0.1:' . bport('expr'),
    body => 'http://127.0.0.1:' . bport('body'),
    hdr  => 'http://127.0.0.1:' . bport('hdr'),
);

# Status strings of the balancer members, by name, from ProxyStatus.
sub statuses {
    my $raw = PrxTest::raw_request($httpd->port,
        "GET /server-status?auto HTTP/1.0\r\nHost: localhost\r\n\r\n") // '';
    my (%n, %s);
    while ($raw =~ /^ProxyBalancer\[(\d+)\]Worker\[(\d+)\](Name|Status): (.*?)\r?$/mg) {
        ($3 eq 'Name' ? $n{"$1.$2"} : $s{"$1.$2"}) = $4;
    }
    return { map { $n{$_} => $s{$_} } keys %n };
}
sub hcfl { (statuses()->{ $name{ $_[0] } } // '') =~ /\bHcFl\b/ ? 1 : 0 }

# Seconds until hcfl(member) == want (undef after `max` seconds).
sub wait_hcfl {
    my ($m, $want, $max) = @_;
    my $t0 = Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < $max) {
        return Time::HiRes::time() - $t0 if hcfl($m) == $want;
        Time::HiRes::sleep(0.05);
    }
    return undef;
}
sub fmt { defined $_[0] ? sprintf('%.2f s', $_[0]) : 'never' }

# The requests an origin got from the checks (each one on its own
# connection: the helper never reuses one).
sub probes { grep { $_->{request_line} } $_[0]->requests }

# --- every origin is dead at start: every member gets HcFl -------------------------
my %t;
$t{$_} = wait_hcfl($_, 1, 4) for qw(tcp get head opt);
ok defined $t{tcp}, "TCP, origin dead: HcFl (after " . fmt($t{tcp}) . ')';
ok defined $t{get}, "GET, origin dead: HcFl (after " . fmt($t{get}) . ')';
ok defined $t{head}, "HEAD11, origin dead: HcFl (after " . fmt($t{head}) . ')';
ok defined $t{opt}, "OPTIONS, origin dead: HcFl (after " . fmt($t{opt}) . ')';

# --- TCP (template: 300 ms, passes 2, fails 2): back after two passes, out ---------
# again within interval x fails once the origin stops
my $tcp = PrxTest::backend('echo', name => 'hc_tcp');
my $back = wait_hcfl('tcp', 0, 3);
ok defined $back, 'TCP, origin up: HcFl cleared (after ' . fmt($back) . ')';
ok $back && $back >= 0.3, 'not before the second good check (hcpasses=2)';
is scalar(probes($tcp)), 0, 'a TCP check sends nothing';
Time::HiRes::sleep(0.5);
is hcfl('tcp'), 0, 'stays in service while the origin answers';
$tcp->stop;
my $t0 = Time::HiRes::time();
my $out = wait_hcfl('tcp', 1, 3);
ok defined $out, 'TCP, origin stopped: HcFl again (after ' . fmt($out) . ')';
ok $out && $out <= 2 * 0.3 + 0.5, 'within hcinterval x hcfails (+ one tick and a check)';
ok $out && $out >= 0.3, 'but not at the first failed check (hcfails=2)';

# --- GET: exact request, status decides, body read -------------------------------------
my $get = PrxTest::backend('echo', name => 'hc_get');
$back = wait_hcfl('get', 0, 3);
ok defined $back, 'GET, origin up: HcFl cleared (after ' . fmt($back) . ')';
my ($p) = probes($get);
is $p->{request_line}, 'GET /app/health HTTP/1.0',
    'member path + "/" + hcuri, HTTP/1.0';
is_deeply $p->{lines}, [ 'Host: 127.0.0.1:' . bport('get') ], 'only a Host with the port';
$get->stop;
$get = PrxTest::backend('echo', name => 'hc_get', args => [ '--set', 'status=503' ]);
$out = wait_hcfl('get', 1, 3);
ok defined $out, 'GET answered 503: HcFl (after ' . fmt($out) . ')';
$get->stop;
$get = PrxTest::backend('echo', name => 'hc_get', args => [ '--set', 'status=302' ]);
ok defined wait_hcfl('get', 0, 3), 'GET answered 302 (200..399): back in service';

# --- HEAD11 (fails=3) and OPTIONS ------------------------------------------------------------
my $head = PrxTest::backend('echo', name => 'hc_head');
ok defined wait_hcfl('head', 0, 3), 'HEAD11, origin up: back in service';
($p) = probes($head);
is $p->{request_line} // '', 'HEAD /h HTTP/1.1', 'HEAD11 request line';
my $opt = PrxTest::backend('echo', name => 'hc_opt');
ok defined wait_hcfl('opt', 0, 3), 'OPTIONS, origin up: back in service';
($p) = probes($opt);
is $p->{request_line} // '', 'OPTIONS * HTTP/1.0', 'OPTIONS request line';

# --- hcexpr on the status: 404 passes, 503 fails --------------------------------------------
my $expr = PrxTest::backend('echo', name => 'hc_expr', args => [ '--set', 'status=404' ]);
Time::HiRes::sleep(1.2);
is hcfl('expr'), 0, 'hcexpr {REQUEST_STATUS =~ /^[234]/}: a 404 passes';
$expr->stop;
$expr = PrxTest::backend('echo', name => 'hc_expr', args => [ '--set', 'status=503' ]);
ok defined wait_hcfl('expr', 1, 3), 'a 503 fails it: HcFl';
$expr->stop;
$expr = PrxTest::backend('echo', name => 'hc_expr', args => [ '--set', 'status=404' ]);
ok defined wait_hcfl('expr', 0, 3), 'a 404 again: back in service';

# --- hcexpr on the body (GET11): the JSON record passes, filler fails ------------------------
my $body = PrxTest::backend('echo', name => 'hc_body');
ok defined wait_hcfl('body', 0, 3), "hc('body') !~ /^0000000/: the JSON body passes";
($p) = probes($body);
is $p->{request_line} // '', 'GET /b HTTP/1.1', 'GET11 request line';
$body->stop;
$body = PrxTest::backend('echo', name => 'hc_body', args => [ '--set', 'body=100' ]);
ok defined wait_hcfl('body', 1, 3), 'a filler body fails it: HcFl';
$body->stop;
$body = PrxTest::backend('echo', name => 'hc_body',
    args => [ '--set', 'framing=chunked', '--set', 'chunk=7' ]);
ok defined wait_hcfl('body', 0, 3), 'the JSON body, chunked in 7-byte pieces: passes';

# --- hcexpr on a response header and %{HC_BODY} -------------------------------------------------
my $hdr = PrxTest::backend('echo', name => 'hc_hdr', args => [ '--set', 'header=X-Health: ok' ]);
ok defined wait_hcfl('hdr', 0, 3), "resp('X-Health') == 'ok' and HC_BODY matches: passes";
$hdr->stop;
$hdr = PrxTest::backend('echo', name => 'hc_hdr', args => [ '--set', 'header=X-Health: bad' ]);
ok defined wait_hcfl('hdr', 1, 3), 'X-Health: bad fails it';
$hdr->stop;
$hdr = PrxTest::backend('echo', name => 'hc_hdr',
    args => [ '--set', 'header=X-Health: ok', '--set', 'body=50' ]);
Time::HiRes::sleep(1.2);
is hcfl('hdr'), 1, 'the right header but a body without request_line: still failed';
$_->stop for $get, $head, $opt, $expr, $body, $hdr;

$httpd->stop;
PrxTest::errorlog_ok(expect => []);
