package PrxStatus;

# Helpers of the worker tests (t/workers/): the ProxyStatus lines of
# mod_status's ?auto page, and which child process served a request.
#
#   my $w = PrxStatus::parse_auto($text);     # { name => { Status => ..,
#                                             #   Elected => .., ... } }
#   my $conn = PrxStatus::Conn->new($port);   # one kept-alive client
#   my $res = $conn->get('/path?tag=1');      # parsed response (PrxTest)
#   my $pid = PrxStatus::served_by($log, 'tag=1');   # from "%P %U%q %>s"

use strict;
use warnings;
use Time::HiRes ();
use PrxTest ();

# ProxyWorker[n]<Field>: value lines, by worker name.
sub parse_auto {
    my $text = shift // '';
    my (%by_index, %out);
    while ($text =~ /^ProxyWorker\[(\d+)\](\w+): (.*?)\r?$/mg) {
        $by_index{$1}{$2} = $3;
    }
    for my $w (values %by_index) {
        $out{ $w->{Name} } = $w if defined $w->{Name};
    }
    return \%out;
}

# The pid that logged the request whose URL ends with `tag` in `log`
# (lines "%P %U%q %>s"); waits up to 2 s for the line, which is written
# after the response.
sub served_by {
    my ($log, $tag) = @_;
    my $deadline = Time::HiRes::time() + 2;
    while (1) {
        if (open my $fh, '<', $log) {
            while (<$fh>) {
                my ($pid, $url) = split ' ';
                return $pid if defined $url && $url =~ /\Q$tag\E\z/;
            }
        }
        return undef if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
}

package PrxStatus::Conn;

# A client connection kept open between requests (HTTP/1.1 keep-alive):
# under prefork it keeps its child busy, so the next connection is served
# by another child.

sub new {
    my ($class, $port) = @_;
    my $raw = PrxTest::Raw->new($port, timeout => 10) or die "connect to $port: $!";
    return bless { raw => $raw }, $class;
}

sub get {
    my ($self, $path, @headers) = @_;
    my $h = join '', map { "$_\r\n" } @headers;
    $self->{raw}->send("GET $path HTTP/1.1\r\nHost: localhost\r\n$h\r\n");
    my ($res) = PrxTest::parse_responses($self->{raw}->read(timeout => 10));
    return $res || { status => 0, body => '' };
}

sub close { $_[0]{raw}->close }

1;
