package PrxHttpd;

# A second httpd, started by a test that needs settings the shared test
# server cannot have: MPM limits (one child process, so that concurrent
# requests share one connection pool), or a server that must start after
# a backend. It loads the same modules as the test server (the LoadModule
# lines of t/conf/httpd.conf) and includes one generated file of t/conf,
# whose body sits in <IfDefine NAME> so that the shared server, which
# includes every t/conf/*.conf too, skips it:
#
#   t/conf/workers_pool.conf.in:
#       <IfDefine PRX_WORKERS_POOL>
#       Listen 127.0.0.1:@BACKEND_WORKERS_POOL_HTTPD_PORT@
#       ...
#       </IfDefine>
#   my $h = PrxHttpd->start(conf => 'workers_pool.conf',
#                           define => 'PRX_WORKERS_POOL',
#                           port => PrxTest::vars('backend_workers_pool_httpd_port'));
#   $h->port; $h->url('/x'); $h->stop;     # stop is also done at exit
#   $h->pid;                               # the parent (kill 'USR1': graceful)
#   PrxHttpd->start(..., env => { LD_PRELOAD => $so, NAME => $value });
#       # extra environment of that httpd (LD_PRELOAD: under the sanitizer
#       # build the httpd wrapper of t/run-suite still puts libasan first)
#   my ($ok, $out) = PrxHttpd::check_config('workers_sharing.conf');
#       # "httpd -t" of the modules plus that file: what it printed
#       # (startup warnings of the shared server go to its stderr, which
#       # a test cannot read; this is how it sees them)
#
# It logs to the test server's error_log, so PrxTest::errorlog_ok() sees
# its lines too. Its scratch files are in t/logs/<define>/.

use strict;
use warnings;
use File::Path ();
use IO::Socket::INET ();
use POSIX qw(WNOHANG);
use Time::HiRes ();
use PrxTest ();

my @running;

# The LoadModule lines of the test server's config, each module once.
sub load_lines {
    my $conf = PrxTest::vars('t_conf_file');
    open my $fh, '<', $conf or die "PrxHttpd: $conf: $!\n";
    my (%seen, @lines);
    while (<$fh>) {
        next unless /^\s*LoadModule\s+(\S+)\s+(.+?)\s*$/;
        next if $seen{$1}++;
        push @lines, "LoadModule $1 $2";
    }
    return @lines;
}

# The config of the modules plus `Include` of t/conf/`conf`, written into
# `dir`/httpd.conf; returns the file name.
sub write_conf {
    my (%o) = @_;
    my $include = PrxTest::vars('t_conf') . "/$o{conf}";
    die "PrxHttpd: no $include\n" unless -f $include;
    my $level = $ENV{PRX_LOGLEVEL} || 'debug';
    my $conf = join "\n", load_lines(), '',
        'ServerRoot "' . PrxTest::vars('serverroot') . '"',
        "ServerName localhost:$o{port}",
        'DocumentRoot "' . PrxTest::vars('documentroot') . '"',
        "PidFile \"$o{dir}/httpd.pid\"",
        "DefaultRuntimeDir \"$o{dir}\"",
        'ErrorLog "' . ($o{error_log} // PrxTest::error_log()) . '"',
        "LogLevel $level",
        'TypesConfig /dev/null',
        'Timeout 20',
        "Include \"$include\"", '';
    my $file = "$o{dir}/httpd.conf";
    open my $out, '>', $file or die "$file: $!\n";
    print $out $conf;
    close $out;
    return $file;
}

sub check_config {
    my ($conf, @defines) = @_;
    my $dir = PrxTest::vars('t_logs') . '/check-' . ($conf =~ s/\W/_/gr);
    File::Path::make_path($dir);
    my $file = write_conf(conf => $conf, dir => $dir, port => 1,
                          error_log => "$dir/error_log");
    my @cmd = (PrxTest::vars('httpd'), '-t', '-d', PrxTest::vars('serverroot'),
               '-f', $file, map { ('-D', $_) } @defines);
    my $pid = open my $fh, '-|' // die "fork: $!\n";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($? == 0, $out);
}

sub start {
    my ($class, %o) = @_;
    my $t = PrxTest::vars('serverroot');
    my $define = $o{define} or die "PrxHttpd: define => NAME needed\n";
    my $port = $o{port} or die "PrxHttpd: port => N needed\n";
    my $dir = PrxTest::vars('t_logs') . "/$define";
    File::Path::make_path($dir);
    my $file = write_conf(conf => $o{conf}, dir => $dir, port => $port);

    my $self = bless { port => $port, dir => $dir, define => $define }, $class;
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        # a session of its own: prefork's parent signals its whole process
        # group when it stops, which must not include the test
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/stdout";
        open STDERR, '>&', \*STDOUT;
        @ENV{ keys %{ $o{env} } } = values %{ $o{env} } if $o{env};
        exec(PrxTest::vars('httpd'), '-d', $t, '-f', $file, '-D', $define,
            '-D', 'FOREGROUND') or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    push @running, $self;
    my $deadline = Time::HiRes::time() + 20;
    while (Time::HiRes::time() < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            my $why = do { local (@ARGV, $/) = "$dir/stdout"; <> } // '';
            die "PrxHttpd: httpd -D $define exited at startup: $why\n";
        }
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        if ($s) {
            close $s;
            return $self;
        }
        Time::HiRes::sleep(0.1);
    }
    $self->stop;
    die "PrxHttpd: httpd -D $define did not listen on $port within 20 s\n";
}

sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }
sub url  { "http://127.0.0.1:$_[0]{port}" . ($_[1] // '/') }

# Stops httpd (SIGTERM to the parent, which stops its children) and waits.
sub stop {
    my $self = shift;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    my $deadline = Time::HiRes::time() + 10;
    while (waitpid($pid, WNOHANG) == 0) {
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        Time::HiRes::sleep(0.05);
    }
}

END { $_->stop for @running }

1;
