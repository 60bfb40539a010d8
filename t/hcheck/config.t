# Tests for the configuration of mod_proxy_hcheck (spec hcheck.md §2, §5,
# §7.4, §8): a valid set of ProxyHCExpr / ProxyHCTemplate / ProxyHCTPsize
# and hc* parameters passes httpd -t; each bad value stops it with a
# message naming the parameter. Config: t/conf/hcheck_errors.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use PrxTest;
use PrxHttpd;

my @bad = (
    [ HCE_METHOD       => qr/hcmethod: Unknown method 'PUT'/ ],
    [ HCE_PROVIDER     => qr/Health check method PROVIDER not \(yet\) implemented/ ],
    [ HCE_INTERVAL     => qr/hcinterval '50ms': must be at least 100 ms/ ],
    [ HCE_PASSES       => qr/hcpasses '-1': must be a number >= 0/ ],
    [ HCE_EXPR         => qr/Unknown health check condition expr 'nosuch'/ ],
    [ HCE_TEMPLATE     => qr/Unknown ProxyHCTemplate 'nosuch'/ ],
    [ HCE_UNKNOWN      => qr/unknown Worker parameter 'hcfoo'/ ],
    [ HCE_EXPR_PARSE   => qr/ProxyHCExpr bad: cannot parse expression/ ],
    [ HCE_EXPR_EXTRA   => qr/ProxyHCExpr two: extra parameter\(s\)/ ],
    [ HCE_TPL_WORD     => qr/Invalid ProxyHCTemplate parameter 'hcmethod'/ ],
    [ HCE_TPSIZE       => qr/ProxyHCTPsize: '-1' is not a number of threads/ ],
    [ HCE_TPSIZE_VHOST => qr/ProxyHCTPsize: .*cannot occur within <VirtualHost>/ ],
);

plan tests => 1 + 2 * @bad + 1, need_module('mod_proxy.c', 'mod_proxy_hcheck.c');

my ($ok, $out) = PrxHttpd::check_config('hcheck_errors.conf', 'HCE_OK');
ok $ok, 'the valid configuration passes httpd -t' or diag $out;
for my $c (@bad) {
    my ($define, $re) = @$c;
    ($ok, $out) = PrxHttpd::check_config('hcheck_errors.conf', $define);
    ok !$ok, "$define: httpd -t fails";
    like $out, $re, "$define: the message names it" or diag $out;
}

PrxTest::errorlog_ok(expect => []);
