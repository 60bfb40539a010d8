package PrxCerts;

# Test PKI for the TLS-to-origin tests, made with openssl when the suite
# is configured (t/TEST calls generate() before httpd is started), in the
# scratch tree: nothing secret is ever committed. The config refers to the
# files inside <IfFile>, so a machine without openssl runs the suite
# without the TLS origins (their tests skip).
#
#   ca.crt            the CA every origin certificate is signed by
#   origin.crt/.key   localhost, alias.test, 127.0.0.1
#   wrongname.crt/.key  for wrong.test only (same CA)
#   untrusted.crt/.key  localhost, signed by another CA (other-ca.crt)
#   client.pem        client certificate + key (same CA), the file
#                     SSLProxyMachineCertificateFile wants
#
#   PrxCerts::generate($dir)   makes what is missing; returns true when
#                              every file is there

use strict;
use warnings;
use File::Path ();
use POSIX ();

my @FILES = qw(ca.crt origin.crt origin.key wrongname.crt wrongname.key
               untrusted.crt untrusted.key client.pem);

sub have_openssl {
    for my $d (split /:/, $ENV{PATH} // '/usr/bin:/bin') {
        return "$d/openssl" if -x "$d/openssl";
    }
    return undef;
}

sub complete {
    my $dir = shift;
    return !grep { !-s "$dir/$_" } @FILES;
}

sub run {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDOUT, '>>', $log;
        open STDERR, '>>', $log;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    die "PrxCerts: '@cmd' failed (see $log)\n" if $?;
}

sub spew {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!\n";
    print $fh $text;
    close $fh;
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $!\n";
    local $/;
    return <$fh>;
}

# A self-signed CA: $dir/$name.crt and .key.
sub make_ca {
    my ($ssl, $dir, $log, $name, $cn) = @_;
    run($log, $ssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', "$dir/$name.key", '-out', "$dir/$name.crt", '-days', 30,
        '-subj', "/CN=$cn", '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

# A leaf certificate signed by CA $ca: $dir/$name.crt and .key.
sub make_leaf {
    my ($ssl, $dir, $log, $ca, $name, $cn, $san, $usage) = @_;
    my $ext = "$dir/$name.ext";
    spew($ext, "basicConstraints=CA:FALSE\n"
        . "keyUsage=digitalSignature,keyEncipherment\n"
        . "extendedKeyUsage=$usage\n" . ($san ? "subjectAltName=$san\n" : ''));
    run($log, $ssl, 'req', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr",
        '-subj', "/CN=$cn");
    run($log, $ssl, 'x509', '-req', '-in', "$dir/$name.csr",
        '-CA', "$dir/$ca.crt", '-CAkey', "$dir/$ca.key", '-CAcreateserial',
        '-out', "$dir/$name.crt", '-days', 30, '-extfile', $ext);
    unlink $ext, "$dir/$name.csr";
}

sub generate {
    my $dir = shift;
    return 1 if complete($dir);
    my $ssl = have_openssl() or return 0;
    File::Path::make_path($dir);
    my $log = "$dir/openssl.log";
    make_ca($ssl, $dir, $log, 'ca', 'prx test CA');
    make_ca($ssl, $dir, $log, 'other-ca', 'prx untrusted CA');
    make_leaf($ssl, $dir, $log, 'ca', 'origin', 'localhost',
        'DNS:localhost,DNS:alias.test,IP:127.0.0.1', 'serverAuth');
    make_leaf($ssl, $dir, $log, 'ca', 'wrongname', 'wrong.test',
        'DNS:wrong.test', 'serverAuth');
    make_leaf($ssl, $dir, $log, 'other-ca', 'untrusted', 'localhost',
        'DNS:localhost,IP:127.0.0.1', 'serverAuth');
    make_leaf($ssl, $dir, $log, 'ca', 'client', 'prx proxy client', '',
        'clientAuth');
    spew("$dir/client.pem", slurp("$dir/client.crt") . slurp("$dir/client.key"));
    chmod 0600, glob("$dir/*.key"), "$dir/client.pem";
    return complete($dir);
}

1;
