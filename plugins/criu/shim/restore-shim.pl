#!/usr/bin/perl
# restore-shim.pl: runs `criu restore --restore-detached --restore-sibling` as its child, so
# that the restored process becomes the shim's child (not criu's, not the daemon's), then
# waits for it and reports its exit status. Spawned by @cedana/plugin-criu (src/restore-shim.ts).
#
# Usage: perl restore-shim.pl --pidfile FILE [--status-file FILE] [--pipe FD:in|FD:out]... -- CRIU ARG...
#
#   --pidfile FILE  the file criu writes the restored root's PID into (--pidfile FILE is
#                   also among the criu args)
#   --pipe FD:in    make an anonymous pipe and give its read end to criu as fd FD (for the
#                   restored process's stdin); FD:out gives the write end (stdout, stderr).
#                   The other ends are reported, to be opened by the daemon through
#                   /proc/SHIM_PID/fd/N, and the shim waits for a line on stdin before it
#                   runs criu.
#
# Events, one JSON object a line on stdout:
#   {"event":"pipes","fds":{"FD":N,...}}   only with --pipe; then wait for "go\n" on stdin
#   {"event":"restored","pid":N}           criu succeeded; N is the restored root
#   {"event":"failed","exit":X}            criu failed (or {"signal":N}); the shim exits 1
#   {"event":"exited","code":C}            the restored root exited (or {"signal":N}, or
#                                          {"unknown":true} when it was not our child)
#
# If the daemon goes away (stdout closed), the shim keeps waiting silently: the restored
# process is never killed because of the daemon.
use strict;
use warnings;
use POSIX qw(:sys_wait_h dup2 _exit);
use Errno qw(EINTR ECHILD);

$SIG{PIPE} = 'IGNORE';
$SIG{HUP}  = 'IGNORE';

my ($pidfile, $status_file, @pipes, @criu);
while (@ARGV) {
  my $arg = shift @ARGV;
  if ($arg eq '--pidfile') { $pidfile = shift @ARGV; }
  elsif ($arg eq '--status-file') { $status_file = shift @ARGV; }
  elsif ($arg eq '--pipe') {
    my $spec = shift @ARGV // '';
    die "restore-shim: bad --pipe '$spec', expected FD:in or FD:out\n" unless $spec =~ /^(\d+):(in|out)$/;
    push @pipes, [$1, $2];
  }
  elsif ($arg eq '--') { @criu = @ARGV; last; }
  else { die "restore-shim: unknown argument '$arg'\n"; }
}
die "restore-shim: usage: restore-shim.pl --pidfile FILE [--status-file FILE] [--pipe FD:in|out]... -- CRIU ARG...\n"
  unless defined $pidfile && @criu;

STDOUT->autoflush(1);

sub event {
  my ($json) = @_;
  # A closed stdout (daemon gone) gives EPIPE, ignored: keep waiting.
  print STDOUT "$json\n";
}

# The exit status, also for a daemon that restarted meanwhile (--status-file; written atomically).
sub leave_status {
  my ($json) = @_;
  return unless defined $status_file;
  open(my $fh, '>', "$status_file.tmp") or return;
  print $fh "$json\n";
  close $fh;
  rename("$status_file.tmp", $status_file);
}

# Pipes: both ends stay close-on-exec here (perl sets it on fds above $^F); the criu
# end is moved onto its fixed fd only in criu's process, and the daemon end stays open
# until the daemon has opened it through /proc.
my (%criu_end, @daemon_ends);
for my $p (@pipes) {
  my ($fd, $dir) = @$p;
  pipe(my $r, my $w) or die "restore-shim: pipe: $!\n";
  my ($theirs, $ours) = $dir eq 'in' ? ($r, $w) : ($w, $r);
  $criu_end{$fd} = $theirs;
  push @daemon_ends, [$fd, $ours];
}
if (@pipes) {
  event('{"event":"pipes","fds":{' . join(',', map { "\"$_->[0]\":" . fileno($_->[1]) } @daemon_ends) . '}}');
  my $go = <STDIN>;
  _exit(3) unless defined $go;    # the daemon went away before the restore started
  close $_->[1] for @daemon_ends;
}

unlink $pidfile;
my $criu = fork() // die "restore-shim: fork: $!\n";
if ($criu == 0) {
  $SIG{PIPE} = 'DEFAULT';
  $SIG{HUP}  = 'DEFAULT';
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>&', \*STDERR);    # criu's own output goes to stderr, never among the events
  # Move each criu end onto its fd: first out of the way (a pipe may sit on another's
  # target), then into place; dup2 onto another fd clears close-on-exec.
  my ($spare, %high) = (100);
  for my $fd (keys %criu_end) {
    $high{$fd} = $spare++;
    defined dup2(fileno($criu_end{$fd}), $high{$fd}) or die "restore-shim: dup2: $!\n";
  }
  for my $fd (keys %high) {
    defined dup2($high{$fd}, $fd) or die "restore-shim: dup2 to fd $fd: $!\n";
    POSIX::close($high{$fd});
  }
  { no warnings 'exec'; exec { $criu[0] } @criu; }
  print STDERR "restore-shim: cannot run $criu[0]: $!\n";
  _exit(127);
}

# Wait for criu; reap anything else that ends meanwhile.
my $status;
while (1) {
  my $pid = waitpid(-1, 0);
  if ($pid == $criu) { $status = $?; last; }
  next if $pid > 0 || $! == EINTR;
  die "restore-shim: lost criu (pid $criu): $!\n";
}
# criu is done with the inherited fds (--inherit-fd): close our copies, so that the daemon
# sees EOF when the restored process closes its end.
if (opendir(my $dh, '/proc/self/fd')) {
  my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
  closedir $dh;
  POSIX::close($_) for @fds;
}

if ($status != 0) {
  event(WIFSIGNALED($status) ? '{"event":"failed","signal":' . WTERMSIG($status) . '}'
                             : '{"event":"failed","exit":' . WEXITSTATUS($status) . '}');
  _exit(1);
}
my $root = 0;
if (open(my $fh, '<', $pidfile)) { my $line = <$fh> // ''; ($root) = $line =~ /(\d+)/; close $fh; }
unless ($root) {
  event('{"event":"failed","exit":0,"reason":"no pid in pidfile"}');
  _exit(1);
}
event('{"event":"restored","pid":' . $root . '}');

# Wait for the restored root (our child thanks to --restore-sibling); reap others too.
while (1) {
  my $pid = waitpid(-1, 0);
  if ($pid == $root) {
    my $status = WIFSIGNALED($?) ? '"signal":' . WTERMSIG($?) : '"code":' . WEXITSTATUS($?);
    leave_status("{$status}");
    event("{\"event\":\"exited\",$status}");
    _exit(0);
  }
  next if $pid > 0 || $! == EINTR;
  last if $! == ECHILD;
}
# Not our child after all: watch it until it is gone.
select(undef, undef, undef, 0.1) while kill(0, $root) || $! != POSIX::ESRCH;
event('{"event":"exited","unknown":true}');
_exit(0);
