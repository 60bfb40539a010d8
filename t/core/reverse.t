# Tests for the ProxyPassReverse family (spec core.md §3.3, §3.4; http.md
# §9): Location, Content-Location, URI and Destination mapped by the
# first matching rule (case-insensitive prefix), absolute and path forms,
# no match -> unchanged; Set-Cookie path= and domain= values replaced as a
# whole by the first matching ProxyPassReverseCookiePath/-Domain entry
# (path case-sensitive, domain case-insensitive), the rest of the cookie
# byte for byte; interpolated cookie rules.
# Config: t/conf/core_reverse.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

my $echo = PrxTest::backend('echo', name => 'core_reverse');
my $b = '127.0.0.1:' . $echo->port;
Apache::TestRequest::module('core_reverse');
my $hp = Apache::TestRequest::hostport();

# [ header, value the backend sends, value the client must get, why ]
my @url = (
    (map { [ $_, "http://$b/rv/x?a=1", "http://$hp/rv/x?a=1", "$_ is mapped" ] }
        qw(Location Content-Location URI Destination)),
    [ 'Location', "HTTP://$b/RV/up", "http://$hp/rv/up", 'the prefix compares case-insensitively' ],
    [ 'Location', "http://$b/rvx", "http://$b/rvx", 'a value the rule does not prefix is unchanged' ],
    [ 'Location', "http://$b/multi/y", "http://$hp/first/y", 'the first matching rule wins' ],
    [ 'Location', 'http://elsewhere.example:8080/internal/p', "http://$hp/pf/p",
      'path form: only the path part of an absolute value is compared' ],
    [ 'Location', '/internal/q?z', "http://$hp/pf/q?z", 'path form: a path value, made absolute' ],
    [ 'Location', "http://$b/ab/z", 'http://public.example/ab/z', 'an absolute first argument is kept as is' ],
    [ 'Location', 'http://other.example/x', 'http://other.example/x', 'no rule matches: unchanged' ],
    [ 'Refresh', "0; url=http://$b/rv/x", "0; url=http://$b/rv/x", 'other headers are not mapped' ],
);

# [ Set-Cookie the backend sends, what the client must get, headers, why ]
my $date = 'expires=Wed, 09 Jun 2021 10:18:14 GMT';
my @cookie = (
    [ 'a=1; path=/app/cart; Secure', 'a=1; path=/shop/; Secure', [],
      'the whole path value is replaced' ],
    [ 'b=2; Path=/app', 'b=2; Path=/shop/', [], 'the attribute name is case-insensitive' ],
    [ 'c=3;path=/application;  HttpOnly', 'c=3;path=/shop/;  HttpOnly', [],
      'a prefix match; spacing of the other attributes kept' ],
    [ 'd=4; path=/App/x', 'd=4; path=/App/x', [], 'the path compares case-sensitively' ],
    [ "e=5; $date; domain=internal.example; path=/other",
      "e=5; $date; domain=public.example; path=/other", [],
      'the domain is mapped; a comma in expires is harmless' ],
    [ 'f=6; Domain=INTERNAL.EXAMPLE.com', 'f=6; Domain=public.example', [],
      'the domain is a case-insensitive prefix, replaced as a whole' ],
    [ 'g=7; domain=.internal.example', 'g=7; domain=.internal.example', [],
      'a domain the entry does not prefix is unchanged' ],
    [ 'h=path=/app; x=domain=internal.example', 'h=path=/app; x=domain=internal.example', [],
      'path= and domain= inside cookie values are not attributes' ],
    [ join('; ', 'l=1', (map { "x$_" } 1 .. 40), 'path=/app/z'),
      join('; ', 'l=1', (map { "x$_" } 1 .. 40), 'path=/shop/'), [],
      'a cookie with forty attributes is mapped too' ],
    [ 'i=9; path=/acme/x', 'i=9; path=/t/', [ 'X-Tenant' => 'acme' ],
      'an interpolated entry maps with its variable set' ],
    [ 'i=9; path=/acme/x', 'i=9; path=/acme/x', [ 'X-Tenant' => 'other' ],
      'and does not map for another value' ],
);

plan tests => 2 * @url + 2 * @cookie + 5 + 3 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

sub esc { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $s }

for my $c (@url) {
    my ($h, $v, $want, $what) = @$c;
    my $status = $h eq 'Location' ? 302 : 200;
    my $res = GET '/rv/h', redirect_ok => 0,
        'X-Echo-Status' => $status, 'X-Echo-Header' => "$h: $v";
    is $res->code . ' ' . ((PrxTest::echo_of($res) || {})->{target} // ''),
        "$status /rv/h", "$what: the backend answered $status";
    is $res->header($h), $want, "$what: $h: $want";
}

for my $c (@cookie) {
    my ($v, $want, $hdrs, $what) = @$c;
    my $res = GET '/rv/c', @$hdrs, 'X-Echo-Header' => "Set-Cookie: $v";
    is $res->code, 200, "$what: 200";
    my @got = $res->header('Set-Cookie');
    is "@got", $want, "$what: Set-Cookie: $want";
}

# server-level entries first, then those of the <Location>
{
    my $res = GET '/rv/loc/h', redirect_ok => 0, 'X-Echo-Status' => 302,
        'X-Echo-Header' => "Location: http://$b/rv/x";
    is $res->header('Location'), "http://$hp/rv/x",
        'ProxyPassReverse: the server rule comes before the <Location> one';
    $res = GET '/rv/loc/h', redirect_ok => 0, 'X-Echo-Status' => 302,
        'X-Echo-Header' => "Location: http://$b/lronly/y";
    is $res->header('Location'), "http://$hp/rv/loc/y",
        'ProxyPassReverse in <Location> applies, mapping to the section path';
    $res = GET '/rv/h', redirect_ok => 0, 'X-Echo-Status' => 302,
        'X-Echo-Header' => "Location: http://$b/lronly/y";
    is $res->header('Location'), "http://$b/lronly/y", '... only inside that <Location>';
    $res = GET '/rv/loc/c', 'X-Echo-Header' => 'Set-Cookie: p=1; path=/app/x';
    is $res->header('Set-Cookie'), 'p=1; path=/shop/',
        'ProxyPassReverseCookiePath: the server entry comes before the <Location> one';
    $res = GET '/rv/loc/c', 'X-Echo-Header' => 'Set-Cookie: q=1; path=/only-loc/x';
    is $res->header('Set-Cookie'), 'q=1; path=/ol/', 'ProxyPassReverseCookiePath in <Location> applies';
}

# several Set-Cookie fields in one response are each mapped
# (as query parameters: httpd merges repeated request header fields)
my $res = GET '/rv/c2?' . join '&', map { 'echo.header=' . esc($_) }
    'Set-Cookie: m=1; path=/app/1', 'Set-Cookie: n=2; domain=internal.example';
my @got = $res->header('Set-Cookie');
is scalar(@got), 2, 'two Set-Cookie fields stay two';
is join('|', sort @got), 'm=1; path=/shop/|n=2; domain=public.example',
    'each Set-Cookie field is mapped';
# http.md §9.3: only Set-Cookie, not Set-Cookie2
$res = GET '/rv/c3', 'X-Echo-Header' => 'Set-Cookie2: o=1; path=/app/1';
is $res->header('Set-Cookie2'), 'o=1; path=/app/1', 'Set-Cookie2 is not mapped';

PrxTest::errorlog_ok();
