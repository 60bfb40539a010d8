# Tests for a pooled backend connection that the backend dropped (the
# keep-alive race; spec http.md §6.1 and the rule that it must not cost
# the client an error): the backend (t/backends/http_raw.pl --drop-after 1)
# answers one request per connection, then reads the next and closes
# without a byte. A replayable request (idempotent, body fully
# prefetched) is retried once on a fresh connection and succeeds; a POST
# whose body may have been consumed is not replayed and gets 502.
# Config: <VirtualHost http_stale> in t/conf/http.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT POST);
use PrxTest;

plan tests => 12, need_module('mod_proxy.c', 'mod_proxy_http.c');

my $drop = PrxTest::backend('http_raw', name => 'http_drop',
    args => [ '--drop-after', 1 ]);
Apache::TestRequest::module('http_stale');
PrxTest::ua(keep_alive => 1);

my $r1 = GET '/s/one';
is $r1->code, 200, 'first request: 200 (its connection is now pooled)';
my $r2 = GET '/s/two';
is $r2->code, 200, 'second request on the dropped pooled connection: still 200';
isnt $r2->header('X-Raw-Conn'), $r1->header('X-Raw-Conn'),
    'it was answered on a new backend connection';
my @reqs = $drop->requests;
is scalar(@reqs), 3, 'the backend saw three requests';
ok $reqs[1]{dropped} && $reqs[1]{conn} == $reqs[0]{conn},
    'the second one arrived on the pooled connection and was dropped';
is $reqs[2]{target}, '/two', 'then it was replayed';

# an idempotent PUT with a small body is replayed with its body
$drop->clear;
my $put = PUT '/s/put', content => 'put-body';
is $put->code, 200, 'a PUT on a dropped pooled connection: 200';
@reqs = $drop->requests;
is $reqs[-1]{body}, 'put-body', 'replayed with its body';

# a POST is not replayed: 502, and the next request works
$drop->clear;
my $post = POST '/s/post', content => 'post-body';
is $post->code, 502, 'a POST on a dropped pooled connection is not replayed: 502';
is scalar(grep { $_->{target} eq '/post' } $drop->requests), 1,
    'the backend saw it once';
my $after = GET '/s/after';
is $after->code, 200, 'the next request answers 200';

PrxTest::errorlog_ok(expect => ['PRX00316']);
