# Tests for ProxyStatus (spec core.md §3.25, docs/directives.md): with
# ProxyStatus On mod_status's page lists every worker of the server, in
# the HTML table "Proxy workers" and as ProxyWorker[n]... lines of ?auto,
# with live counters (Elected, Busy, Sent, Rcvd) that every child shares:
# a child that served none of the requests reports them all. A held
# keep-alive connection keeps, under prefork, the child that reads the
# status busy, so the requests are served by others; the access log's %P
# says which child served what. ProxyStatus Off shows nothing of its
# server. Config: t/conf/workers_status.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST);
use PrxTest;
use PrxStatus;

plan tests => 8 + 5 + 6 + 2 + 1, need_module('mod_proxy.c', 'mod_proxy_http.c', 'mod_status.c');

my $mpm = Apache::Test::config()->{server}{mpm} // '';
my $echo = PrxTest::backend('echo', name => 'workers_status');
my $bp = $echo->port;
my %name = (a => "http://127.0.0.1:$bp/status-a/", b => "http://127.0.0.1:$bp/status-b/",
            off => "http://127.0.0.1:$bp/status-off/");
my $port = Apache::Test::config()->{vhosts}{workers_status}{port} or die 'no port';
my $log = PrxTest::vars('t_logs') . '/workers_status_access.log';
my $tag = 0;
Apache::TestRequest::module('workers_status');

sub auto {
    my $conn = shift;
    my $t = 'tag=' . ++$tag;
    my $res = $conn->get("/server-status?auto&$t");
    return (PrxStatus::parse_auto($res->{body}), PrxStatus::served_by($log, $t) // '?', $res->{body});
}
sub kib { my ($v) = ($_[0] // '') =~ /^(\d+)K\z/; $v // -1 }

# both workers listed, each field present; the Off server's worker absent
my $holder = PrxStatus::Conn->new($port);
my ($st, $viewer, $body) = auto($holder);
ok $st->{ $name{a} } && $st->{ $name{b} }, '?auto lists both workers of the server';
is join(',', sort keys %{ $st->{ $name{a} } || {} }), 'Busy,Elected,Errors,Name,Rcvd,Sent,Status',
    'with Name, Status, Elected, Busy, Errors, Sent, Rcvd';
like $st->{ $name{a} }{Status} // '', qr/^Init Ign Ok\z/, 'status string: Init Ign Ok';
ok $st->{"http://127.0.0.1:$bp/status-full/"}, 'ProxyStatus Full lists its server\'s worker too';
ok !$st->{ $name{off} }, 'the worker of the ProxyStatus Off server is not listed';
my %auto_names = map { $_ => 1 } $body =~ /^ProxyWorker\[\d+\]Name: (.*?)\r?$/mg;
ok !grep({ m{/status-off/} } keys %auto_names), 'nowhere on the page';
my $html = GET '/server-status';
like $html->content, qr{<h2>Proxy workers</h2>}, 'the HTML page has the Proxy workers table';
ok index($html->content, "<td>$name{a}</td>") >= 0 && index($html->content, "<td>$name{off}</td>") < 0,
    'with a row for the worker, none for the Off server\'s';

# Elected counts requests from every child; the viewer served none of them
my $e0 = $st->{ $name{a} }{Elected} // 0;
my $n = 6;
my %servers;
for my $i (1 .. $n) {
    my $c = PrxStatus::Conn->new($port);
    my $res = $c->get("/a/x?req=$i");
    $c->close;
    $servers{ PrxStatus::served_by($log, "req=$i") // '?' } = 1;
    die "request $i: $res->{status}" unless $res->{status} == 200;
}
my ($st2, $viewer2) = auto($holder);
is $viewer2, $viewer, "the status is read by the same child ($viewer)";
is $st2->{ $name{a} }{Elected}, $e0 + $n, "Elected went from $e0 to " . ($e0 + $n) . " ($n requests)";
SKIP: {
    skip "which child serves a connection is up to $mpm", 1 unless $mpm eq 'prefork';
    ok !$servers{$viewer}, "prefork: the requests were served by other children ("
        . join(' ', sort keys %servers) . ')';
}
diag "requests served by: " . join(' ', sort keys %servers) . "; status read by $viewer";
is $st2->{ $name{b} }{Elected}, $st->{ $name{b} }{Elected}, 'the other worker\'s Elected did not move';
is $st2->{ $name{a} }{Busy}, 0, 'Busy is 0 when idle';

# Rcvd and Sent: a 300 KB response and a 200 KB upload
my ($r0, $s0) = (kib($st2->{ $name{b} }{Rcvd}), kib($st2->{ $name{b} }{Sent}));
my $c = PrxStatus::Conn->new($port);
my $res = $c->get('/b/big', 'X-Echo-Body: 300000');
$c->close;
is length($res->{body}), 300000, 'a 300 KB response';
is((PrxTest::echo_of(POST '/b/up', content => 'u' x 200_000) || {})->{body_length}, 200_000,
    'a 200 KB upload');
my ($st3) = auto($holder);
my ($r1, $s1) = (kib($st3->{ $name{b} }{Rcvd}), kib($st3->{ $name{b} }{Sent}));
ok $r1 - $r0 >= 292 && $r1 - $r0 < 320, "Rcvd grew by about 300 KB (${r0}K -> ${r1}K)";
ok $s1 - $s0 >= 195 && $s1 - $s0 < 215, "Sent grew by about 200 KB (${s0}K -> ${s1}K)";
like $html->content, qr{<td>\Q$name{b}\E</td>(?:<td>[^<]*</td>){6}</tr>},
    'the HTML row has the six columns after the name';
$html = GET '/server-status';
my ($cells) = $html->content =~ m{<tr><td>\Q$name{a}\E</td>((?:<td>[^<]*</td>)+)</tr>};
my @cells = ($cells // '') =~ m{<td>([^<]*)</td>}g;
is $cells[1], $st3->{ $name{a} }{Elected}, "the HTML row shows the same Elected ($st3->{ $name{a} }{Elected})";

# Busy while a request is in flight, seen from the viewer: the request is
# held at the origin until a gate file exists; busy is taken back just
# after the client had the response, so both states are waited for (up
# to 5 s) rather than expected at a fixed time
sub busy_becomes {
    my $want = shift;
    return PrxTest::settle(sub { (auto($holder))[0]{ $name{b} }{Busy} // -1 },
                           sub { $_[0] == $want }, 5);
}
my $gate = PrxTest::vars('t_logs') . '/workers_status_gate';
unlink $gate;
my $slow = PrxTest::Raw->new($port);
$slow->send("GET /b/slow HTTP/1.1\r\nHost: localhost\r\nX-Echo-Gate: $gate\r\n\r\n");
is busy_becomes(1), 1, 'Busy: 1 while a slow request is in flight';
{ open my $fh, '>', $gate or die "$gate: $!" }
$slow->read(timeout => 10);
$slow->close;
is busy_becomes(0), 0, 'back to 0 once it is done';
$holder->close;

PrxTest::errorlog_ok();
