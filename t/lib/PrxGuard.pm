package PrxGuard;

# Loaded into every perl that t/run-suite starts (PERL5OPT=-MPrxGuard with its -I): in
# a .t file it arms the per-test timeout, so a test hangs for at most
# PRX_TEST_TIMEOUT seconds (default 120) even if it never loads PrxTest
# (which re-arms it and also stops the test's backends on expiry). The
# driver (t/TEST) and the backends (*.pl) are left alone.

use strict;
use warnings;

if ($0 =~ /\.t\z/) {
    my $timeout = $ENV{PRX_TEST_TIMEOUT} || 120;
    $SIG{ALRM} = sub {
        print STDERR "# PrxGuard: $0 timed out after $timeout s\n";
        require POSIX;
        POSIX::_exit(124);
    };
    alarm $timeout;
}

1;
