#!/usr/bin/perl
# Validates the JSON of `warmrun bench startup --json FILE` against the
# schema documented in docs/benchmarks.md ("warmrun-bench-startup/1").
# usage: bench-schema.pl FILE ITERATIONS NAME[,NAME...]
# Prints one "runtime NAME STATUS N" line per runtime, then "ERR: ..." for
# every violation; exits 0 when there is none, 1 otherwise.
use strict;
use warnings;
use JSON::PP;
use Scalar::Util qw(looks_like_number);

my ($file, $iterations, $names) = @ARGV;
die "usage: $0 FILE ITERATIONS NAMES\n" unless defined $names;
my @want = split /,/, $names;
my @errors;
sub err { push @errors, join('', @_) }

open my $fh, '<', $file or die "$file: $!\n";
my $doc = eval { local $/; JSON::PP->new->decode(<$fh>) };
if (!$doc) { print "ERR: not JSON: $@"; exit 1 }

sub is_int { defined $_[0] && !ref $_[0] && $_[0] =~ /^-?\d+$/ }
sub is_num { defined $_[0] && !ref $_[0] && looks_like_number($_[0]) }
sub is_str { defined $_[0] && !ref $_[0] }

err "schema is not warmrun-bench-startup/1" unless ($doc->{schema} // '') eq 'warmrun-bench-startup/1';
err "started is not an RFC 3339 UTC time" unless ($doc->{started} // '') =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
err "host.cpus is not an integer" unless ref $doc->{host} eq 'HASH' && is_int($doc->{host}{cpus});
err "image is not a string" unless is_str($doc->{image});
err "command is not a non-empty array of strings"
    unless ref $doc->{command} eq 'ARRAY' && @{$doc->{command}} && !grep { !is_str($_) } @{$doc->{command}};
err "iterations is not $iterations" unless is_int($doc->{iterations}) && $doc->{iterations} == $iterations;
err "warmup is not an integer" unless is_int($doc->{warmup});
err "fastest is neither a string nor null" if defined $doc->{fastest} && !is_str($doc->{fastest});
if (ref $doc->{runtimes} ne 'ARRAY') {
    err "runtimes is not an array";
    print "ERR: $_\n" for @errors;
    exit 1;
}
my @got = map { $_->{name} // '?' } @{$doc->{runtimes}};
err "runtimes are (@got), not (@want)" unless "@got" eq "@want";

if (defined $doc->{daemon_side}) {
    my $d = $doc->{daemon_side};
    if (ref $d ne 'HASH') { err "daemon_side is neither an object nor null" }
    else {
        for my $k (qw(samples p50_us p99_us daemon_p50_us wake_p50_us container_p50_us)) {
            err "daemon_side.$k is not a number" unless is_num($d->{$k});
        }
    }
}
err "daemon_side missing" unless exists $doc->{daemon_side};

my %known = map { $_ => 1 } qw(warm cold crun runc docker exec);
my @stat_keys = qw(mean_ms median_ms std_ms min_ms max_ms p95_ms p99_ms);
for my $r (@{$doc->{runtimes}}) {
    my $name = $r->{name} // '?';
    my $status = $r->{status} // '?';
    err "$name: unknown runtime name" unless $known{$name};
    err "$name: status '$status' is not ok, partial or skipped" unless $status =~ /^(ok|partial|skipped)$/;
    err "$name: n is not an integer" unless is_int($r->{n});
    err "$name: failures is not an integer" unless is_int($r->{failures});
    err "$name: samples_ms is not an array of n numbers"
        unless ref $r->{samples_ms} eq 'ARRAY' && @{$r->{samples_ms}} == ($r->{n} // -1)
        && !grep { !is_num($_) || $_ <= 0 } @{$r->{samples_ms}};
    err "$name: command is neither an array nor null"
        if defined $r->{command} && ref $r->{command} ne 'ARRAY';
    if ($status eq 'ok') {
        err "$name: ok but n is not $iterations" unless ($r->{n} // -1) == $iterations;
        err "$name: ok but has a reason" if defined $r->{reason};
    } else {
        err "$name: $status without a reason" unless is_str($r->{reason}) && length $r->{reason};
    }
    if ($status eq 'skipped') {
        err "$name: skipped but has stats" if defined $r->{stats};
        err "$name: skipped but has a ratio" if defined $r->{ratio_to_fastest};
    } else {
        my $s = $r->{stats};
        if (ref $s ne 'HASH') {
            err "$name: stats missing";
        } else {
            for my $k (@stat_keys) { err "$name: stats.$k is not a number" unless is_num($s->{$k}) }
            if (!grep { !is_num($s->{$_}) } @stat_keys) {
                err "$name: not min <= median <= p95 <= p99 <= max"
                    unless $s->{min_ms} <= $s->{median_ms} && $s->{median_ms} <= $s->{p95_ms}
                    && $s->{p95_ms} <= $s->{p99_ms} && $s->{p99_ms} <= $s->{max_ms};
                err "$name: min <= mean <= max fails" unless $s->{min_ms} <= $s->{mean_ms} && $s->{mean_ms} <= $s->{max_ms};
                err "$name: std < 0" if $s->{std_ms} < 0;
            }
        }
        err "$name: ratio_to_fastest is not a number >= 1"
            unless is_num($r->{ratio_to_fastest}) && $r->{ratio_to_fastest} >= 0.999;
    }
    err "$name: ratio_to_docker is neither a number nor null"
        if defined $r->{ratio_to_docker} && !is_num($r->{ratio_to_docker});
    print "runtime $name $status ", ($r->{n} // '?'), "\n";
}
print "ERR: $_\n" for @errors;
exit(@errors ? 1 : 0);
