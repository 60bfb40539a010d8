# Tests for PrxTest's error_log check (STYLE.md §7): a PRX-tagged error is
# reported unless the test expects its tag; lower levels never are.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use PrxTest;

plan tests => 4;

my $stamp = '[Tue Dec 01 00:00:00.000000 2026]';
my $tagged = "$stamp [proxy:error] [pid 1:tid 1] PRX99999: harness self-test line";
open my $fh, '>>', PrxTest::error_log() or die "error_log: $!";
print $fh "$stamp [proxy:debug] [pid 1:tid 1] PRX99998: a decision, not an error\n";
print $fh "$stamp [core:error] [pid 1:tid 1] AH00000: not one of ours\n";
print $fh "$tagged\n";
close $fh;

my @found = PrxTest::errorlog_problems(settle => 0);
is_deeply \@found, [$tagged], 'only the PRX-tagged error is reported';
is_deeply [ PrxTest::errorlog_problems(settle => 0, expect => ['PRX99999']) ], [],
    'nothing is reported once its tag is expected';
ok scalar(grep { /PRX99998/ } PrxTest::errorlog_lines(settle => 0)),
    'errorlog_lines returns the lines since the test started';

PrxTest::errorlog_ok(expect => ['PRX99999']);
