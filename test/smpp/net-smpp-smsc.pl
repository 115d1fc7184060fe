#!/usr/bin/perl
# An SMSC written with Debian's Net::SMPP (libnet-smpp-perl), so the SMS channel is tested against an SMPP
# implementation we did not write. Each bind is served by its own forked process, as a multi-bind SMSC would.
# Usage: net-smpp-smsc.pl ADDRESS SYSTEM_ID PASSWORD
# Prints one JSON object per line on stdout: listening (with the port), bind, submit, drop.
# Test numbers (last four digits), as the sandbox SMSC: 0499 refused (ESME_RINVDSTADR), 0498 receipt UNDELIV,
# 0497 the link is dropped without a response; anything else is accepted with a receipt DELIVRD.
use strict;
use warnings;
use Net::SMPP;
use JSON::PP;
use POSIX qw(strftime);

$| = 1;
my ($address, $system_id, $password) = @ARGV;
my $json = JSON::PP->new->canonical;
my $listener = Net::SMPP->new_listen($address, port => 0, smpp_version => 0x34)
    or die "cannot listen: $!";
print $json->encode({ event => 'listening', port => $listener->sockport }), "\n";

my $next_id = 1;
my %children;
$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { kill 'TERM', keys %children; exit 0 };
while (1) {
    my $conn = $listener->accept or next;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $SIG{TERM} = 'DEFAULT';
        close $listener;
        $conn->set_version(0x34);
        serve($conn);
        exit 0;
    }
    $children{$pid} = 1;
    close $conn;
}

sub serve {
    my ($conn) = @_;
    my $bound = 0;
    while (my $pdu = $conn->read_pdu) {
        my $cmd = $pdu->{cmd};
        if ($cmd == Net::SMPP::CMD_bind_transceiver) {
            $bound = ($pdu->{system_id} eq $system_id && $pdu->{password} eq $password) ? 1 : 0;
            print $json->encode({ event => 'bind', system_id => $pdu->{system_id}, ok => $bound ? JSON::PP::true : JSON::PP::false }), "\n";
            $conn->bind_transceiver_resp(system_id => 'net-smpp', seq => $pdu->{seq}, status => $bound ? 0 : 0x0E);
        } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
            if (!$bound) { $conn->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x04); next; }
            my $to = $pdu->{destination_addr};
            my $suffix = substr($to, -4);
            my %seen = (
                event => 'submit', to => "+$to",
                source_addr => $pdu->{source_addr}, source_ton => $pdu->{source_addr_ton}, source_npi => $pdu->{source_addr_npi},
                dest_ton => $pdu->{dest_addr_ton}, dest_npi => $pdu->{dest_addr_npi},
                data_coding => $pdu->{data_coding}, esm_class => $pdu->{esm_class},
                registered_delivery => $pdu->{registered_delivery},
                short_message_hex => unpack('H*', $pdu->{short_message}),
            );
            if ($suffix eq '0497') {
                print $json->encode({ %seen, message_id => undef }), "\n";
                print $json->encode({ event => 'drop' }), "\n";
                return;
            }
            if ($suffix eq '0499') {
                print $json->encode({ %seen, message_id => undef }), "\n";
                $conn->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x0B);
                next;
            }
            my $id = sprintf('%d%04d', $$, $next_id++);
            print $json->encode({ %seen, message_id => $id }), "\n";
            $conn->submit_sm_resp(message_id => $id, seq => $pdu->{seq});
            if ($pdu->{registered_delivery} & 0x01) {
                my $stat = $suffix eq '0498' ? 'UNDELIV' : 'DELIVRD';
                my $date = strftime('%y%m%d%H%M', gmtime);
                my $text = "id:$id sub:001 dlvrd:" . ($stat eq 'DELIVRD' ? '001' : '000')
                    . " submit date:$date done date:$date stat:$stat err:000 text:";
                # Receipt text only, as many SMSCs send it (no receipted_message_id TLV).
                $conn->deliver_sm(
                    source_addr_ton => $pdu->{dest_addr_ton}, source_addr_npi => $pdu->{dest_addr_npi},
                    source_addr => $to,
                    dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi},
                    destination_addr => $pdu->{source_addr},
                    esm_class => 0x04, short_message => $text, async => 1,
                );
            }
        } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
            $conn->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == Net::SMPP::CMD_unbind) {
            $conn->unbind_resp(seq => $pdu->{seq});
            return;
        } elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
            # receipt acknowledged
        } else {
            $conn->generic_nack(seq => $pdu->{seq}, status => 0x03) unless $cmd & 0x80000000;
        }
    }
}
