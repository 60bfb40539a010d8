# Tests for configuration errors of the core's directives (spec core.md
# §2-§6, §11; STYLE.md §6): a bad value stops startup ("httpd -t" fails)
# with a message that names the directive and what is wrong. Each case is
# a small config of its own, loading the modules of the test server by
# absolute path; a few valid configs check that the cases fail for the
# reason given and not for a broken skeleton.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Path ();
use PrxTest;

my $h = 'http://127.0.0.1:1';    # a backend URL; -t never connects

# [ config lines, expected message (regex; undef: the config is valid;
#   { warn => regex }: valid, with that warning), why ]
my @cases = (
    # valid controls
    [ "ProxyPass /x $h/", undef, 'a plain ProxyPass is valid' ],
    [ "ProxyPass /x $h/ timeout=5 connectiontimeout=500ms retry=0 keepalive=On "
      . "disablereuse=off iobuffersize=0 receivebuffersize=512 responsefieldsize=0 "
      . "ping=1 TIMEOUT=6 nocanon NoQuery", undef, 'every honoured parameter, any case' ],
    [ "ProxyMaxForwards abc", undef, 'ProxyMaxForwards takes any value' ],
    [ "ProxyErrorOverride On 404 500 503", undef, 'ProxyErrorOverride with codes' ],
    [ "<Location /l>\nProxyPass $h/\nProxyPassReverse $h/ interpolate\n</Location>", undef,
      'ProxyPass/ProxyPassReverse inside <Location>' ],
    [ "ProxyPass /u unix:/tmp/s|http://localhost/", undef, 'a unix: target' ],
    [ "ProxyPass /x http://user:pw\@127.0.0.1:1/", undef, 'a target with user info' ],
    [ "ProxyPass /x $h/\nProxySet $h/ timeout=3", undef, 'ProxySet on a defined worker' ],
    [ "<Proxy $h/ timeout=3>\n</Proxy>", undef, '<Proxy url key=value>' ],
    [ "ProxyPassReverseCookiePath /a /b anything", undef, 'any third cookie argument means interpolate' ],
    [ "ProxyPass /a $h/app/ timeout=6\nProxyPass /b $h/app/b/ timeout=1 ping=2",
      { warn => qr/PRX00002: ProxyPass: parameter timeout=1 .*ignored.*PRX00002: ProxyPass: parameter ping=2 .*ignored/ },
      'a shared worker: each ignored parameter is a warning (spec core.md §8.2)' ],

    # worker parameters
    [ "ProxyPass /x $h/ bogus=1", qr/ProxyPass.*unknown Worker parameter 'bogus'/i,
      'unknown worker parameter' ],
    [ "ProxyPass /x $h/ timeout=0", qr/ProxyPass.*timeout.*at least one second/,
      'timeout=0' ],
    [ "ProxyPass /x $h/ timeout=abc", qr/ProxyPass.*timeout.*at least one second/,
      'timeout not a number' ],
    [ "ProxyPass /x $h/ connectiontimeout=0", qr/ProxyPass.*connectiontimeout.*at least one millisecond/,
      'connectiontimeout=0' ],
    [ "ProxyPass /x $h/ connectiontimeout=abc", qr/ProxyPass.*connectiontimeout.*wrong format/,
      'connectiontimeout not a time' ],
    [ "ProxyPass /x $h/ ping=-5", qr/ProxyPass.*ping.*wrong format/, 'ping negative' ],
    [ "ProxyPass /x $h/ retry=-1", qr/ProxyPass.*retry.*positive/, 'retry negative' ],
    [ "ProxyPass /x $h/ iobuffersize=100", qr/ProxyPass.*iobuffersize.*512/, 'iobuffersize=100' ],
    [ "ProxyPass /x $h/ receivebuffersize=100", qr/ProxyPass.*receivebuffersize.*512/,
      'receivebuffersize=100' ],
    [ "ProxyPass /x $h/ responsefieldsize=-1", qr/ProxyPass.*responsefieldsize.*positive/,
      'responsefieldsize negative' ],
    [ "ProxyPass /x $h/ keepalive=yes", qr/ProxyPass.*keepalive.*On\|Off/, 'keepalive=yes' ],
    [ "ProxyPass /x $h/ disablereuse=maybe", qr/ProxyPass.*disablereuse.*On\|Off/,
      'disablereuse=maybe' ],
    [ "ProxyPass /x $h/ enablereuse=1", qr/ProxyPass.*enablereuse.*On\|Off/, 'enablereuse=1' ],
    [ "ProxyPass /x $h/ upgrade=" . ('u' x 16), qr/ProxyPass.*upgrade.*shorter than 16/, 'upgrade of 16 characters' ],
    [ "ProxyPass /x $h/ loadfactor=0", qr/ProxyPass.*loadfactor.*1\.\.100/, 'loadfactor=0' ],
    [ "ProxyPass /x $h/ loadfactor=101", qr/ProxyPass.*loadfactor.*1\.\.100/, 'loadfactor=101' ],
    [ "ProxyPass /x $h/ lbset=100", qr/ProxyPass.*lbset.*0 and 99/, 'lbset=100' ],
    [ "ProxyPass /x $h/ route=" . ('r' x 64), qr/ProxyPass.*route.*shorter than 64/, 'route of 64 characters' ],
    [ "ProxyPass /x $h/ redirect=" . ('r' x 64), qr/ProxyPass.*redirect.*shorter than 64/, 'redirect of 64 characters' ],
    [ "ProxyPass /x $h/ secret=" . ('s' x 64), qr/ProxyPass.*secret.*shorter than 64/, 'secret of 64 characters' ],
    [ "ProxyPass /x $h/ flusher=" . ('f' x 16), qr/ProxyPass.*flusher.*shorter than 16/, 'flusher of 16 characters' ],
    [ "ProxyPass /x $h/ status=+X", qr/ProxyPass.*status.*Unknown status parameter option/, 'status letter X' ],
    [ "ProxyPass /x $h/ min=-1", qr/ProxyPass.*min.*positive/, 'min negative' ],
    [ "ProxyPass /x $h/ max=-1", qr/ProxyPass.*max.*positive/, 'max negative' ],
    [ "ProxyPass /x $h/ smax=-2", qr/ProxyPass.*smax.*positive/, 'smax negative' ],
    [ "ProxyPass /x $h/ ttl=0", qr/ProxyPass.*ttl.*at least one second/, 'ttl=0' ],
    [ "ProxyPass /x $h/ acquire=0", qr/ProxyPass.*acquire.*at least one millisecond/, 'acquire=0' ],
    [ "ProxyPass /x $h/ acquire=abc", qr/ProxyPass.*acquire.*wrong format/, 'acquire=abc' ],
    [ "ProxyPass /x $h/ addressttl=-5", qr/ProxyPass.*addressttl.*-1 or a number of seconds/, 'addressttl=-5' ],
    [ "ProxyPass /x $h/ addressttl=1500ms", qr/ProxyPass.*addressttl.*-1 or a number of seconds/, 'addressttl not whole seconds' ],
    [ "ProxyPass /x $h/ flushpackets=maybe", qr/ProxyPass.*flushpackets.*on\|off\|auto/, 'flushpackets=maybe' ],
    [ "ProxyPass /x $h/ flushwait=2000", qr/ProxyPass.*flushwait.*1000/, 'flushwait=2000' ],
    # the hc* keys belong to mod_proxy_hcheck, which the suite loads
    [ "ProxyPass /x $h/ hcmethod=GET", undef, 'hcmethod=GET with mod_proxy_hcheck loaded' ],
    [ "ProxyPass /x $h/ hcmethod=BOGUS", qr/ProxyPass.*hcmethod/, 'hcmethod=BOGUS is refused' ],
    [ "ProxyPass /x $h/ timeout", qr/ProxyPass.*'timeout'.*key=value/, 'a bare word that is no flag' ],
    [ "ProxyPass /a $h/\nProxyPass /b $h/ timeout=0", qr/ProxyPass.*timeout.*at least one second/,
      'parameters of a shared worker are still validated' ],
    [ "ProxyPass /x ! timeout=5", qr/ProxyPass.*'!' takes no parameters/, '"!" with parameters' ],

    # ProxyPass / ProxyPassMatch syntax and context
    [ "ProxyPass $h/", qr/ProxyPass.*needs a path when not defined in a location/,
      'ProxyPass without a path at server level' ],
    [ "ProxyPass", qr/ProxyPass.*needs a path/, 'ProxyPass without arguments' ],
    [ "<Location /l>\nProxyPass /l $h/\n</Location>",
      qr/ProxyPass.*can not have a path when defined in a location/,
      'ProxyPass with a path inside <Location>' ],
    [ "<Location /l>\nProxyPass $h/ bogus\n</Location>", qr/ProxyPass.*'bogus'.*key=value/,
      'a bare word after the URL inside <Location>' ],
    (map { my ($open, $close) = @$_;
           [ "$open\nProxyPass /x $h/\n$close", qr/ProxyPass cannot occur within/,
             "ProxyPass inside $open" ] }
        [ '<Directory />', '</Directory>' ], [ '<DirectoryMatch ^/x>', '</DirectoryMatch>' ],
        [ '<Files x>', '</Files>' ], [ '<FilesMatch x>', '</FilesMatch>' ],
        [ '<If "true">', '</If>' ]),
    [ "<Directory />\nProxyPassMatch ^/x $h/\n</Directory>", qr/ProxyPassMatch cannot occur within/,
      'ProxyPassMatch inside <Directory>' ],
    [ "<If \"true\">\nProxyPassReverse /x $h/\n</If>", qr/ProxyPassReverse cannot occur within/,
      'ProxyPassReverse inside <If>' ],
    [ "<Files x>\nProxyPassReverse /x $h/\n</Files>", qr/ProxyPassReverse cannot occur within/,
      'ProxyPassReverse inside <Files>' ],
    [ "ProxyPassMatch ^/(x $h/", qr/ProxyPassMatch.*regular expression.*could not be compiled/,
      'ProxyPassMatch with a bad regex' ],
    [ "ProxyPass ~ ^/(x $h/", qr/ProxyPass.*regular expression.*could not be compiled/,
      'ProxyPass ~ with a bad regex' ],
    [ "ProxyPassMatch ~ ^/x $h/", qr/ProxyPassMatch.*'~' is not allowed/, 'ProxyPassMatch ~' ],
    [ "ProxyPass /x $h/ mapping=bogus", qr/ProxyPass.*unknown mapping 'bogus'/, 'bad mapping' ],
    [ "ProxyPass /x relative/path", qr/ProxyPass.*'relative\/path' is not an absolute URL/,
      'a target that is no URL' ],
    [ "ProxyPass /x http://", qr/ProxyPass.*has no host/, 'a URL without host' ],
    [ "ProxyPass /x ^http://h/", qr/ProxyPass.*has no valid scheme/, 'a URL with an invalid scheme' ],
    [ "ProxyPass /x http://[::1]:8080/", undef, 'an IPv6 literal target' ],
    [ "ProxyPass /x http://[::1:8080/", qr/ProxyPass.*unterminated IPv6/, 'an unterminated IPv6 literal' ],
    [ "<ProxyMatch ^http://h/app/>\nProxySet timeout=5\n</ProxyMatch>",
      qr/ProxySet.*has no valid scheme/, 'ProxySet inside <ProxyMatch> whose regex is no URL' ],
    [ "<ProxyMatch ^http://h/(.*)\$>\nProxySet timeout=5\n</ProxyMatch>",
      qr/ProxySet.*wildcard/, 'ProxySet inside <ProxyMatch> with regex characters' ],
    [ "ProxyPass /x http://h/" . ('p' x 400), qr/ProxyPass.*too long for a worker name/,
      'a worker name of 384+ characters (stock truncates it)' ],
    [ "ProxyPass /x http:/path", qr/ProxyPass.*has no host/, 'a URL without //host' ],
    [ "ProxyPass /x http://h:99999/", qr/ProxyPass.*bad port/, 'a port out of range' ],
    [ "ProxyPass /x http://h:8x/", qr/ProxyPass.*bad port/, 'a port that is no number' ],
    [ "ProxyPass /x http://" . ('h' x 300) . "/", qr/ProxyPass.*host name is too long/,
      'a host name of 256+ characters' ],
    [ "ProxyPass /x unix:/tmp/s|nocolon", qr/ProxyPass.*invalid unix: URL/, 'unix: without a scheme after |' ],
    [ "ProxyPass /x unix:/tmp/s", qr/ProxyPass.*invalid unix: URL/, 'unix: without |' ],
    [ "ProxyPass /x unix:|http://localhost/", qr/ProxyPass.*invalid unix: URL/, 'unix: without a path' ],
    [ "ProxyPass /x unix:/" . ('s' x 100) . "|http://localhost/", qr/ProxyPass.*too long/,
      'a socket path of 96+ characters' ],
    # balancers (spec core.md §3.26, §6)
    [ "ProxyPass /x balancer://c/", undef, 'a balancer target loads' ],
    [ "ProxyPass /x balancer:///", qr/ProxyPass.*bad balancer name/, 'balancer without a name' ],
    [ "ProxyPass /x balancer://" . ('n' x 90) . "/", qr/ProxyPass.*bad balancer name/, 'balancer name too long' ],
    [ "ProxyPass /x balancer://c/ lbmethod=nosuch", qr/ProxyPass.*unknown lbmethod/, 'unknown lbmethod' ],
    [ "ProxyPass /x balancer://c/ maxattempts=-1", qr/ProxyPass.*maximum number of attempts/, 'maxattempts negative' ],
    [ "ProxyPass /x balancer://c/ nofailover=maybe", qr/ProxyPass.*nofailover must be On\|Off/, 'nofailover keyword' ],
    [ "ProxyPass /x balancer://c/ stickysessionsep=ab", qr/ProxyPass.*single character or Off/, 'stickysessionsep two chars' ],
    [ "ProxyPass /x balancer://c/ timeout=0", qr/ProxyPass.*timeout must be at least one second/, 'balancer timeout=0' ],
    [ "ProxyPass /x balancer://c/ failonstatus=99", qr/ProxyPass.*failonstatus/, 'failonstatus out of range' ],
    [ "ProxyPass /x balancer://c/ failonstatus=500,503", undef, 'failonstatus list' ],
    [ "ProxyPass /x balancer://c/ nonce=" . ('x' x 37), qr/ProxyPass.*nonce is too large/, 'nonce too long' ],
    [ "ProxyPass /x balancer://c/ growth=101", qr/ProxyPass.*growth must be between 1 and 100/, 'growth=101' ],
    [ "ProxyPass /x balancer://c/ forcerecovery=x", qr/ProxyPass.*forcerecovery must be On\|Off/, 'forcerecovery keyword' ],
    [ "ProxyPass /x balancer://c/ bogus=1", qr/ProxyPass.*unknown Balancer parameter/, 'unknown balancer parameter' ],
    [ "BalancerMember $h/", qr/BalancerMember.*must define remote proxy server/, 'BalancerMember with one URL outside <Proxy>' ],
    [ "BalancerMember balancer://c $h/ loadfactor=0", qr/BalancerMember.*loadfactor/, 'BalancerMember bad loadfactor' ],
    [ "BalancerMember balancer://c $h/ extra", qr/BalancerMember.*key=value/, 'BalancerMember third bare word' ],
    [ "<Proxy balancer://c>\nBalancerMember balancer://c $h/\n</Proxy>", qr/BalancerMember.*can not have a balancer name/,
      'BalancerMember repeating the section balancer' ],
    [ "<Proxy balancer://c timeout=5>\nBalancerMember $h/ route=r1\nProxySet stickysession=S\n</Proxy>", undef,
      'a balancer section with members and ProxySet' ],
    [ "ProxySet balancer://nope timeout=5", qr/ProxySet.*can not find/, 'ProxySet on an unknown balancer' ],
    [ "BalancerGrowth 1001", qr/BalancerGrowth must be between 0 and 1000/, 'BalancerGrowth too large' ],
    [ "BalancerGrowth 5", undef, 'BalancerGrowth 5' ],
    [ "BalancerPersist On", undef, 'BalancerPersist On' ],
    [ "BalancerInherit Off", undef, 'BalancerInherit Off' ],

    # ProxyPassReverse family
    [ "ProxyPassReverse $h/", qr/ProxyPassReverse.*needs a path/, 'ProxyPassReverse without a path' ],
    [ "ProxyPassReverse /x interpolate", qr/ProxyPassReverse.*needs a path/,
      'ProxyPassReverse path interpolate' ],
    [ "<Location /l>\nProxyPassReverse /l $h/\n</Location>",
      qr/ProxyPassReverse.*can not have a path when defined in a location/,
      'ProxyPassReverse with a path inside <Location>' ],
    [ "ProxyPassReverse /x $h/ sometimes", qr/ProxyPassReverse.*'sometimes'/,
      'ProxyPassReverse with an unknown flag' ],
    [ "ProxyPassReverseCookiePath /a", qr/ProxyPassReverseCookiePath.*two or three arguments/,
      'ProxyPassReverseCookiePath with one argument' ],
    [ "ProxyPassReverseCookieDomain a b c d", qr/ProxyPassReverseCookieDomain.*two or three arguments/,
      'ProxyPassReverseCookieDomain with four arguments' ],

    # sections and ProxySet
    [ "ProxySet http://unknown.example/ timeout=5",
      qr/ProxySet.*can not find 'http:\/\/unknown\.example\/' Balancer\/Worker/, 'ProxySet on an unknown worker' ],
    [ "ProxySet timeout=5", qr/ProxySet.*needs a URL/, 'ProxySet without a URL outside <Proxy>' ],
    [ "ProxyPass /x $h/\nProxySet $h/ timeout=0", qr/ProxySet.*timeout.*at least one second/,
      'ProxySet with a bad value' ],
    [ "ProxyPass /x $h/\nProxySet $h/ bogus", qr/ProxySet.*'bogus'.*key=value/, 'ProxySet with a bare word' ],
    [ "<Proxy *>\nProxySet timeout=5\n</Proxy>", qr/ProxySet.*wildcard/, 'ProxySet inside <Proxy *>' ],
    [ "<Proxy $h/>\nProxySet bogus=1\n</Proxy>", qr/ProxySet.*unknown Worker parameter 'bogus'/i,
      'ProxySet with an unknown parameter inside <Proxy>' ],
    [ "<Proxy * timeout=5>\n</Proxy>", qr/<Proxy.*parameters need a plain URL/, '<Proxy * key=value>' ],
    [ "<Proxy $h/ bogus>\n</Proxy>", qr/<Proxy>.*'bogus'.*key=value/, '<Proxy url word>' ],
    [ "<Proxy $h/ timeout=0>\n</Proxy>", qr/<Proxy>.*timeout.*at least one second/, '<Proxy url bad=value>' ],
    [ "<ProxyMatch ^x timeout=5>\n</ProxyMatch>", qr/<ProxyMatch>.*multiple arguments not supported/,
      '<ProxyMatch regex key=value>' ],
    [ "<ProxyMatch ^(x>\n</ProxyMatch>", qr/<ProxyMatch>.*regular expression.*could not be compiled/,
      '<ProxyMatch> with a bad regex' ],
    [ "<Location /l>\n<Proxy *>\n</Proxy>\n</Location>", qr/<Proxy not allowed in <Location> context/,
      '<Proxy> inside <Location>' ],
    [ "<Proxy *>\n<Proxy *>\n</Proxy>\n</Proxy>", qr/<Proxy not allowed in <Proxy> context/,
      '<Proxy> inside <Proxy>' ],

    # keywords and numbers
    [ "ProxyVia sometimes", qr/ProxyVia.*'sometimes'.*Off.*On.*Full.*Block/, 'ProxyVia with a bad keyword' ],
    [ "ProxyBadHeader maybe", qr/ProxyBadHeader.*'maybe'.*IsError.*Ignore.*StartBody/,
      'ProxyBadHeader with a bad keyword' ],
    [ "ProxyErrorOverride maybe", qr/ProxyErrorOverride.*first parameter must be one of/,
      'ProxyErrorOverride with a bad first word' ],
    [ "ProxyErrorOverride 500", qr/ProxyErrorOverride.*first parameter must be one of/,
      'ProxyErrorOverride starting with a code' ],
    [ "ProxyErrorOverride On foo", qr/ProxyErrorOverride.*must be numeric/,
      'ProxyErrorOverride with a code that is no number' ],
    [ "ProxyErrorOverride Off 500", qr/ProxyErrorOverride.*must follow a value of .?on/i,
      'ProxyErrorOverride codes after Off' ],
    [ "ProxyErrorOverride On 200", qr/ProxyErrorOverride.*>=400 && <600/, 'ProxyErrorOverride On 200' ],
    [ "ProxyErrorOverride On 600", qr/ProxyErrorOverride.*>=400 && <600/, 'ProxyErrorOverride On 600' ],
    [ "ProxyTimeout 0", qr/ProxyTimeout.*at least 1 second/, 'ProxyTimeout 0' ],
    [ "ProxyTimeout abc", qr/ProxyTimeout.*at least 1 second/, 'ProxyTimeout abc' ],
    [ "ProxyIOBufferSize 100", qr/ProxyIOBufferSize.*512/, 'ProxyIOBufferSize 100' ],
    [ "ProxyReceiveBufferSize 100", qr/ProxyReceiveBufferSize.*512/, 'ProxyReceiveBufferSize 100' ],
    [ "ProxyPreserveHost maybe", qr/ProxyPreserveHost.*must be On or Off/, 'an On|Off flag with another word' ],
    [ "ProxyPassInterpolateEnv", qr/ProxyPassInterpolateEnv.*(one argument|On or Off)/,
      'an On|Off flag without argument' ],
    [ "ProxyRequests On\n<Proxy \"*\">\nRequire all denied\n</Proxy>", undef, 'ProxyRequests On loads' ],
    [ "ProxyRemote * ftp//x", qr/ProxyRemote.*bad syntax for a remote proxy server/, 'ProxyRemote without scheme://' ],
    [ "ProxyRemote * http://up:99999", qr/ProxyRemote.*bad port number/, 'ProxyRemote bad port' ],
    [ "ProxyRemote * http://up:3128 nocolon", { warn => qr/PRX00096: ProxyRemote \* http:\/\/up:3128: the credentials have no ':'/ },
      'ProxyRemote credentials without a colon: accepted as stock does, with a warning' ],
    [ "ProxyRemoteMatch ( http://up:3128", qr/ProxyRemoteMatch.*could not be compiled/, 'ProxyRemoteMatch bad regex' ],
    [ "ProxyDomain example.com", qr/ProxyDomain.*start with a dot/, 'ProxyDomain without a dot' ],
    [ "NoProxy .example.com 10.0.0.0/8 192.168 somehost-word", undef, 'NoProxy takes all four kinds' ],
    [ "ProxyBlock * blocked.example", undef, 'ProxyBlock words' ],
    [ "ProxyRequests Off", undef, 'ProxyRequests Off is fine' ],
    [ "<Proxy $h/>\nProxyPass /x $h/\n</Proxy>", qr/ProxyPass.*<Proxy/,
      'ProxyPass inside <Proxy> is refused (it could never be evaluated)' ],
    [ "ProxyStatus sometimes", qr/ProxyStatus.*'sometimes'.*Off.*On.*Full/, 'ProxyStatus with a bad keyword' ],
    [ "ProxyStatus full", undef, 'ProxyStatus Full, any case' ],
    [ "ProxySourceAddress no-such-host.invalid", qr/ProxySourceAddress.*invalid value/,
      'ProxySourceAddress that does not resolve' ],
    [ "ProxySourceAddress 127.0.0.1", undef, 'ProxySourceAddress with an address' ],

    # directives the core does not register (yet, or ever in 2.4)
    (map { [ $_, qr/Invalid command '\Q${\ (split ' ', $_)[0]}\E'/, "unregistered: $_" ] }
        "ProxyWebsocketIdleTimeout 5", "ProxyAsyncDelay 5"),
);

plan tests => 2 * @cases + 1;

my $work = PrxTest::vars('t_logs') . '/core_config';
File::Path::make_path($work);
my $httpd = PrxTest::vars('httpd');

# the LoadModule lines of the test server: ours by absolute path
my %seen;
my @load = grep { !$seen{$_}++ }
    map { s/^\s+//r } grep { /^\s*LoadModule\s/ }
    do { open my $fh, '<', PrxTest::vars('t_conf_file') or die $!; <$fh> };
die "no LoadModule proxy_module in the test config\n"
    unless grep { /^LoadModule proxy_module / } @load;

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
        like $msg, $want ? $want->{warn} : qr/Syntax OK/,
            $want ? "$what: with the warning" : "$what: Syntax OK" or diag $msg;
        next;
    }
    isnt $rc, 0, "$what: httpd -t fails";
    like $msg, $want, "$what: the message says why" or diag "got: $msg";
}

PrxTest::errorlog_ok();
