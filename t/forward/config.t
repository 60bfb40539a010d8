# Tests for the configuration of mod_proxy_connect and the startup
# messages of forward proxying (spec connect-wstunnel-express.md §2.1;
# core.md §3.11): AllowCONNECT's errors ("port numbers must be numeric",
# "cannot parse"), what stock accepts and we must too (a port past 65535,
# a reversed range: a warning, PRX00913), contexts; NoProxy's warnings for
# a guessed mask (PRX00081) and address bits outside the mask (PRX00082).
# (The core's forward-proxy directive errors are in t/core/config_errors.t.)
# Each case is a small config of its own for "httpd -t".

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Path ();
use PrxTest;

# [ config lines, expected message (regex; undef: valid, Syntax OK;
#   { warn => regex }: valid, with that warning), why ]
my @cases = (
    [ 'AllowCONNECT 443 8000-8080 563', undef, 'ports and a range' ],
    [ "AllowCONNECT 443\nAllowCONNECT 8443", undef, 'AllowCONNECT given twice (the lists add up)' ],
    [ "<VirtualHost 127.0.0.1:1>\nAllowCONNECT 8443\n</VirtualHost>", undef, 'in a virtual host' ],
    [ 'AllowCONNECT https', qr/AllowCONNECT.*'https'.*port numbers must be numeric/,
      'a name instead of a number' ],
    [ 'AllowCONNECT -1', qr/AllowCONNECT.*port numbers must be numeric/, 'a leading minus' ],
    [ 'AllowCONNECT 443x', qr/AllowCONNECT.*cannot parse '443x'/, 'trailing garbage' ],
    [ 'AllowCONNECT 8000-', qr/AllowCONNECT.*cannot parse '8000-'/, 'an open range' ],
    [ 'AllowCONNECT 8000-80x', qr/AllowCONNECT.*cannot parse '8000-80x'/, 'a range with garbage' ],
    [ 'AllowCONNECT 70000', { warn => qr/PRX00913: AllowCONNECT 70000 matches no port/ },
      'a port past 65535: stock accepts it' ],
    [ 'AllowCONNECT 9000-8000', { warn => qr/PRX00913: AllowCONNECT 9000-8000 matches no port/ },
      'a reversed range: stock accepts it' ],
    [ "<Location /x>\nAllowCONNECT 443\n</Location>", qr/AllowCONNECT.*not allowed/,
      'not in <Location>' ],
    [ 'NoProxy 10.20', { warn => qr/PRX00081: NoProxy 10\.20: no mask given; using \/16/ },
      'NoProxy without a mask: the guessed mask is logged' ],
    [ 'NoProxy 10.20.0.0/16 10.20.30.40', undef, 'a mask, and a full address (/32): no warning' ],
    [ 'NoProxy 10.20.30.40/16', { warn => qr/PRX00082: NoProxy 10\.20\.30\.40\/16: address bits outside/ },
      'address bits outside the mask' ],
);

plan tests => 2 * @cases + 1, need_module('mod_proxy.c', 'mod_proxy_connect.c');

my $work = PrxTest::vars('t_logs') . '/forward_config';
File::Path::make_path($work);
my $httpd = PrxTest::vars('httpd');
my %seen;
my @load = grep { !$seen{$_}++ }
    map { s/^\s+//r } grep { /^\s*LoadModule\s/ }
    do { open my $fh, '<', PrxTest::vars('t_conf_file') or die $!; <$fh> };

my $n = 0;
for my $c (@cases) {
    my ($lines, $want, $what) = @$c;
    my $file = sprintf '%s/case%03d.conf', $work, ++$n;
    open my $fh, '>', $file or die "$file: $!";
    print $fh join "\n", "ServerRoot $work", @load, 'ServerName localhost',
        'Listen 127.0.0.1:1', "ErrorLog $work/error_log", "PidFile $work/pid",
        "DefaultRuntimeDir $work", "# --- case: $what", $lines, '';
    close $fh;
    my $out = `'$httpd' -t -f '$file' 2>&1`;
    my $rc = $? >> 8;
    (my $msg = $out) =~ s/\s+/ /g;
    if (!defined $want || ref $want eq 'HASH') {
        is $rc, 0, "$what: httpd -t accepts it";
        if ($want) {
            like $msg, $want->{warn}, "$what: with the warning" or diag $msg;
        }
        else {
            ok $msg =~ /Syntax OK/ && $msg !~ /PRX000(81|82)|PRX00913/, "$what: Syntax OK, no warning"
                or diag $msg;
        }
        next;
    }
    isnt $rc, 0, "$what: httpd -t fails";
    like $msg, $want, "$what: the message says why" or diag "got: $msg";
}

PrxTest::errorlog_ok();
