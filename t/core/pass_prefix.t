# Tests for ProxyPass prefix rules: the spec's §7.2 table row by row
# (trailing-slash combinations, slash runs, segment boundary), the order
# rules of §7.1 (first match wins, so longer prefixes come first), "!"
# exclusions, the query string, and "ProxyPass ~ regex url" (§3.1).
# Config: t/conf/core_pass_prefix.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use PrxTest;

# [ request path, target the backend must get (undef: not proxied, the
#   local server answers 404), what the case shows ]
my @cases = (
    # §7.2 rows
    [ '/a',       '/x',    'rule /a -> /x: the exact path' ],
    [ '/a/',      '/x/',   'rule /a -> /x: /a/ keeps its slash' ],
    [ '/a/c',     '/x/c',  'rule /a -> /x: remainder appended verbatim' ],
    [ '/ab',      '/fallback/ab', 'rule /a does not match /ab (segment boundary)' ],
    [ '/a%3Fx',   '/fallback/a%3Fx', 'rule /a does not match /a%3Fx: a decoded ? is no boundary' ],
    [ '/b',       '/fallback/b',  'rule /b/ does not match /b' ],
    [ '/b/c',     '/y/c',  'rule /b/ -> /y/: /b/c -> /y/c' ],
    [ '/c/d',     '/zd',   'rule /c/ -> /z: the slash is lost' ],
    [ '/d/e',     '/w//e', 'rule /d -> /w/: a double slash appears' ],
    # slash runs (MergeSlashes Off in the vhost)
    [ '/e/f/g',     '/v/g', 'rule /e//f/ matches a single slash' ],
    [ '/e///f//g',  '/v/g', 'a run in the rule matches a run in the URI' ],
    [ '/a//c',      '/x//c', 'the unmatched remainder keeps its slashes' ],
    [ '/ef/g',      '/fallback/ef/g', 'a slash run needs at least one slash' ],
    # query string
    [ '/a/c?q=1&r=%20', '/x/c?q=1&r=%20', 'the query string is appended unchanged' ],
    [ '/b/?',       '/y/?', 'an empty query is kept as a bare "?"' ],
    # order
    [ '/o/deep/1',  '/first/deep/1', 'first match wins: a shorter prefix first shadows the longer' ],
    [ '/p/deep/1',  '/deep/1',       'the longer prefix placed first wins' ],
    [ '/p/other',   '/shallow/other', 'the shorter one still catches the rest' ],
    # exclusions
    [ '/q/private',   undef, '"!" before the general rule excludes the path' ],
    [ '/q/private/x', undef, '"!" excludes below the path too' ],
    [ '/q/privatex',  '/q/privatex', '"!" respects the segment boundary' ],
    [ '/q/public',    '/q/public',   'the general rule proxies the rest' ],
    [ '/r/private',   '/r/private',  '"!" after the general rule never fires' ],
    # ProxyPass ~ regex
    [ '/t/note.txt',  '/txt/note',   'ProxyPass ~ regex substitutes $1' ],
    [ '/t/sub/note.txt', '/fallback/t/sub/note.txt', 'ProxyPass ~ regex that does not match' ],
);
my @root = (
    [ '/p?q=1',     '/p?q=1', 'ProxyPass / http://b/: /p?q=1' ],
    [ '/',          '/',      'ProxyPass / http://b/: /' ],
);

plan tests => 2 * (@cases + @root) + 3 + 3 + 1 + 1,
    need_module('mod_proxy.c', 'mod_proxy_http.c');

my $echo = PrxTest::backend('echo', name => 'core_prefix');

sub check {
    my ($path, $want, $what) = @_;
    my $before = () = $echo->requests;
    my $res = GET $path;
    my $after = () = $echo->requests;
    if (!defined $want) {
        is $res->code, 404, "$what: local 404 for $path";
        is $after, $before, "$what: the backend saw nothing";
        return;
    }
    my $rec = PrxTest::echo_of($res) || {};
    is $res->code, 200, "$what: 200 for $path";
    is $rec->{target}, $want, "$what: backend got $want";
}

Apache::TestRequest::module('core_pass_prefix');
check(@$_) for @cases;
# a target with user info: the backend gets neither the user info nor
# credentials, and the rule's worker (not the generic one) is used
{
    PrxTest::ua(keep_alive => 1);
    my @res = map { GET "/ui/$_" } 1, 2;
    PrxTest::ua();
    my $rec = PrxTest::echo_of($res[0]) || {};
    is $rec->{target}, '/ui/1', 'a target with user info: the path is mapped';
    is PrxTest::header_of($rec, 'Host') . ' ' . (PrxTest::header_of($rec, 'Authorization') // 'none'),
        '127.0.0.1:' . $echo->port . ' none', 'no user info reaches the backend';
    is $res[1]->header('X-Echo-Conn'), $res[0]->header('X-Echo-Conn') // 'none',
        "its worker is found at request time (the connection is reused)";
}

# an upper-case scheme and host: normalised, and the worker still found
{
    PrxTest::ua(keep_alive => 1);
    my @res = map { GET "/uc/$_" } 1, 2;
    PrxTest::ua();
    my $rec = PrxTest::echo_of($res[0]) || {};
    is $rec->{target}, '/UC/1', 'HTTP://LocalHost/UC/: the path keeps its case';
    is PrxTest::header_of($rec, 'Host'), 'localhost:' . $echo->port, 'the host is lower-cased';
    is $res[1]->header('X-Echo-Conn'), $res[0]->header('X-Echo-Conn') // 'none',
        'the worker is found for the canonical URL (the connection is reused)';
}

Apache::TestRequest::module('core_pass_root');
check(@$_) for @root;

# "OPTIONS *" is never matched, not even by "ProxyPass /" (spec core.md §1)
{
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my $before = () = $echo->requests;
    my $raw = PrxTest::raw_request($port,
        "OPTIONS * HTTP/1.1\r\nHost: $host:$port\r\nConnection: close\r\n\r\n") // '';
    my ($res) = PrxTest::parse_responses($raw, eof => 1);
    my $after = () = $echo->requests;
    ok(($res->{status} // 0) == 200 && $after == $before,
        'OPTIONS * is answered by the server itself (' . ($res->{status} // 'none') . ')');
}

PrxTest::errorlog_ok();
