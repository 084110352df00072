#!/usr/bin/perl
# runc-shim.pl: runs `runc run -d` or `runc restore -d` as its child, then stays with the
# container as a very small conmon. Spawned by @cedana/plugin-runc (src/shim.ts).
#
# Why: the shim makes itself a child subreaper, so when runc exits the container's init
# becomes the shim's child: the shim reaps it (no zombie, whatever PID 1 does) and reports
# its exit status. The container's stdio are pipes, never files of the host (CRIU cannot
# dump a container whose fds point at files outside its mount namespace), and the shim
# copies the output pipe into the job's log file.
#
# Usage: perl runc-shim.pl --pidfile FILE (--log FILE | --attach) [--on-exit ARG]... -- RUNC ARG...
#
#   --pidfile FILE  the file runc writes the container's init PID into (--pid-file FILE is
#                   also among the runc args)
#   --log FILE      stdin is /dev/null; stdout and stderr share one pipe whose other end the
#                   shim appends to FILE
#   --attach        three pipes (stdin, stdout, stderr); their other ends are reported, to be
#                   opened by the daemon through /proc/SHIM_PID/fd/N, and the shim waits for a
#                   line on stdin before it runs runc
#   --on-exit ARG   one word of a command run once the container's init has exited and before
#                   that is reported (e.g. `runc delete ID`: no stopped container is left)
#
# Events, one JSON object a line on stdout:
#   {"event":"pipes","fds":{"0":N,"1":N,"2":N}}  only with --attach; then wait for "go\n"
#   {"event":"started","pid":N,"reaper":R}  runc succeeded; N is the container's init. R is 0
#                                           when the shim could not become a subreaper (then
#                                           the exit status is unknown)
#   {"event":"failed","exit":X}             runc failed (or {"signal":N}); the shim exits 1
#   {"event":"exited","code":C}             init exited (or {"signal":N}, or {"unknown":true})
#
# If the daemon goes away (stdout closed) the shim carries on silently: the container is
# never harmed because of the daemon.
use strict;
use warnings;
use POSIX qw(:sys_wait_h dup2 _exit);
use Errno qw(EINTR);

$SIG{PIPE} = 'IGNORE';
$SIG{HUP}  = 'IGNORE';

my ($pidfile, $log, $attach, @on_exit, @runc);
while (@ARGV) {
  my $arg = shift @ARGV;
  if    ($arg eq '--pidfile') { $pidfile = shift @ARGV; }
  elsif ($arg eq '--log')     { $log     = shift @ARGV; }
  elsif ($arg eq '--attach')  { $attach  = 1; }
  elsif ($arg eq '--on-exit') { push @on_exit, shift @ARGV; }
  elsif ($arg eq '--')        { @runc = @ARGV; last; }
  else                        { die "runc-shim: unknown argument '$arg'\n"; }
}
die "runc-shim: usage: runc-shim.pl --pidfile FILE (--log FILE | --attach) [--on-exit ARG]... -- RUNC ARG...\n"
  unless defined $pidfile && @runc && (defined $log xor $attach);

STDOUT->autoflush(1);
sub event { print STDOUT "$_[0]\n"; }    # EPIPE (daemon gone) is ignored

# prctl(PR_SET_CHILD_SUBREAPER, 1): perl has no prctl, so the raw syscall, by architecture.
my %SYS_PRCTL = (x86_64 => 157, aarch64 => 167, riscv64 => 167, ppc64 => 171, ppc64le => 171, s390x => 172,
                 armv7l => 172, armv6l => 172, i386 => 172, i686 => 172);
my $nr     = $SYS_PRCTL{(POSIX::uname())[4]};
my $reaper = defined $nr && syscall($nr, 36, 1, 0, 0, 0) == 0 ? 1 : 0;

# The container's ends ([fd, handle]) and ours.
my (@theirs, $out_r, $logfh, @daemon_ends);
if ($log) {
  open($logfh, '>>', $log) or die "runc-shim: cannot open $log: $!\n";
  pipe($out_r, my $out_w) or die "runc-shim: pipe: $!\n";
  open(my $null, '<', '/dev/null') or die "runc-shim: /dev/null: $!\n";
  @theirs = ([0, $null], [1, $out_w], [2, $out_w]);
} else {
  for my $fd (0, 1, 2) {
    pipe(my $r, my $w) or die "runc-shim: pipe: $!\n";
    my ($container, $daemon) = $fd == 0 ? ($r, $w) : ($w, $r);
    push @theirs, [$fd, $container];
    push @daemon_ends, [$fd, $daemon];
  }
  event('{"event":"pipes","fds":{' . join(',', map { "\"$_->[0]\":" . fileno($_->[1]) } @daemon_ends) . '}}');
  my $go = <STDIN>;
  _exit(3) unless defined $go;    # the daemon went away before the container started
  close $_->[1] for @daemon_ends;
}

unlink $pidfile;
my $runc = fork() // die "runc-shim: fork: $!\n";
if ($runc == 0) {
  $SIG{PIPE} = 'DEFAULT';
  $SIG{HUP}  = 'DEFAULT';
  # Each container end onto its fd: first out of the way (one may sit on another's target),
  # then into place; dup2 clears close-on-exec.
  my $spare = 100;
  my @high = map { my $h = $spare++; defined dup2(fileno($_->[1]), $h) or die "runc-shim: dup2: $!\n"; [$_->[0], $h] } @theirs;
  for my $p (@high) { defined dup2($p->[1], $p->[0]) or die "runc-shim: dup2: $!\n"; }
  POSIX::close($_->[1]) for @high;
  { no warnings 'exec'; exec { $runc[0] } @runc; }
  print STDERR "runc-shim: cannot run $runc[0]: $!\n";
  _exit(127);
}
close $_->[1] for @theirs;    # only the container holds its ends now

my ($root, $failed, %early, $drain_until);
sub status_json {
  my ($st) = @_;
  return WIFSIGNALED($st) ? '"signal":' . WTERMSIG($st) : '"code":' . WEXITSTATUS($st);
}

sub runc_done {
  my ($st) = @_;
  if ($st != 0) {
    event(WIFSIGNALED($st) ? '{"event":"failed","signal":' . WTERMSIG($st) . '}' : '{"event":"failed","exit":' . WEXITSTATUS($st) . '}');
    $failed = 1;
    return;
  }
  if (open(my $fh, '<', $pidfile)) { my $line = <$fh> // ''; ($root) = $line =~ /(\d+)/; close $fh; }
  unless ($root) {
    event('{"event":"failed","exit":0,"reason":"runc wrote no PID into its pid file"}');
    $failed = 1;
    return;
  }
  event('{"event":"started","pid":' . $root . ',"reaper":' . $reaper . '}');
  root_done($early{$root}) if exists $early{$root};
}

sub root_done {
  my ($st) = @_;
  if (@on_exit) {
    my $pid = fork();
    if (defined $pid && $pid == 0) {
      open(STDIN, '<', '/dev/null');
      open(STDOUT, '>', '/dev/null');
      open(STDERR, '>', '/dev/null');
      { no warnings 'exec'; exec { $on_exit[0] } @on_exit; }
      _exit(127);
    }
    if (defined $pid) { 1 while waitpid($pid, 0) < 0 && $! == EINTR; }
  }
  event('{"event":"exited",' . (defined $st ? status_json($st) : '"unknown":true') . '}');
  $drain_until = time + 1;
}

sub gone {
  my ($pid) = @_;
  return 1 unless kill(0, $pid);
  open(my $fh, '<', "/proc/$pid/stat") or return 1;
  my $stat = <$fh> // '';
  return $stat =~ /\)\s+[ZX]\s/ ? 1 : 0;
}

while (1) {
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
    my $st = $?;
    if    ($pid == $runc)                { runc_done($st); }
    elsif (defined $root && $pid == $root && !defined $drain_until) { root_done($st); }
    else                                 { $early{$pid} = $st; }
  }
  $drain_until //= time + 1 if $failed;
  root_done(undef) if !$reaper && defined $root && !defined $drain_until && gone($root);
  last if defined $drain_until && (!$out_r || time > $drain_until);
  if ($out_r) {
    my $rin = '';
    vec($rin, fileno($out_r), 1) = 1;
    my $n = select(my $rout = $rin, undef, undef, 0.2);
    next if $n <= 0;
    my $got = sysread($out_r, my $buf, 65536);
    if ($got) { syswrite($logfh, $buf); }
    elsif (defined $got || $! != EINTR) { close $out_r; $out_r = undef; }
  } else {
    select(undef, undef, undef, 0.2);
  }
}
_exit($failed ? 1 : 0);
