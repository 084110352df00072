#!/usr/bin/perl
# io-holder.pl: holds the standard streams of one incarnation of an attachable job, so that
# they outlive the daemon. Spawned by @cedana/daemon (src/jobs/io-holder.ts).
#
# Why: the job's stdout and stderr are pipes. If the daemon held their read ends, a daemon
# that dies would close them and the job would die of SIGPIPE at its next write. The holder
# owns those ends instead: it appends the output to the job's log, keeps the last 64 KiB
# (the scrollback), and relays both ways to the daemon over a private unix socket, which a
# restarted daemon connects to again. It never blocks on the daemon: while 8 MiB wait for a
# daemon that does not read, it gets no more output (the log has all of it).
#
# Usage: perl io-holder.pl --socket PATH --log FILE [--status-file FILE] MODE
#   --run [--cwd DIR] -- PROG ARG...
#                start PROG (an absolute path) in its own session with three fresh pipes on
#                fds 0, 1 and 2 and no other fd, its environment read from stdin ("K=V"
#                entries, each ended by a NUL, until EOF); the holder reaps it and reports its
#                exit status, also into FILE (--status-file, written atomically) for a daemon
#                that was down when it ended
#   --adopt LIST [--pid PID]
#                the job runs already (restored, or a container); fds 3, 4, 5 are the other
#                ends of its stdin, stdout and stderr pipes, those LIST names ("0,1,2", "0,1").
#                Output the daemon read from them before it handed them over comes on stdin,
#                as 'o' and 'e' frames (below), until EOF: it goes first into log and scrollback.
#                With --pid, the job has also ended once PID is gone (a FIFO opened read-write,
#                as containerd's, never reads EOF)
#
# Events on stdout, one JSON line each, then the holder leaves the daemon's stdio alone:
#   {"event":"ready","pid":N}       listening on PATH; N is the job's PID (0 with --adopt)
#   {"event":"failed","reason":S}   nothing was started; the holder exits 1
#
# The socket (mode 0600) serves one client at a time; a new one replaces the old. Frames are
# [type: 1 byte][length: 4 bytes, big-endian][payload]:
#   holder -> client  'o' stdout bytes, 'e' stderr bytes, 'x' exit status ({"code":C} or
#                     {"signal":N}, --run only). A new client first gets the scrollback.
#   client -> holder  'i' bytes for the job's stdin, 'c' close the job's stdin, 'q' quit
#
# The holder ends when the job's output pipes are closed, or once the job is reaped (--run) or
# its PID gone (--pid), after at most 1 s more of draining; or on 'q'. It ignores SIGHUP and SIGPIPE.
use strict;
use warnings;
use POSIX qw(:sys_wait_h dup2 _exit setsid);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);

$SIG{PIPE} = 'IGNORE';
$SIG{HUP}  = 'IGNORE';
$SIG{CHLD} = sub { };    # interrupts select, so an exit is seen at once

my $SCROLLBACK = 64 * 1024;
my $CLIENT_MAX = 8 * 1024 * 1024;    # output queued for a client that does not read
my $STDIN_MAX  = 8 * 1024 * 1024;    # input queued for a job that does not read

my ($socket_path, $log, $status_file, $mode, $cwd, $adopt, $watch, @cmd);
while (@ARGV) {
  my $arg = shift @ARGV;
  if    ($arg eq '--socket')      { $socket_path = shift @ARGV; }
  elsif ($arg eq '--log')         { $log         = shift @ARGV; }
  elsif ($arg eq '--status-file') { $status_file = shift @ARGV; }
  elsif ($arg eq '--cwd')         { $cwd         = shift @ARGV; }
  elsif ($arg eq '--pid')         { $watch       = shift @ARGV; }
  elsif ($arg eq '--adopt')       { $mode = 'adopt'; $adopt = shift @ARGV // ''; }
  elsif ($arg eq '--run')         { $mode = 'run'; }
  elsif ($arg eq '--' && ($mode // '') eq 'run') { @cmd = @ARGV; last; }
  else { fail("unknown argument '$arg'"); }
}
fail('usage: io-holder.pl --socket PATH --log FILE [--status-file FILE] (--run [--cwd DIR] -- PROG ARG... | --adopt LIST)')
  unless defined $socket_path && defined $log && defined $mode && ($mode eq 'adopt' || @cmd);

STDOUT->autoflush(1);
my $listening;
sub event { print STDOUT "$_[0]\n"; }
sub json_str { my ($s) = @_; $s =~ s/(["\\])/\\$1/g; $s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge; return "\"$s\""; }
sub fail { unlink $socket_path if $listening; event('{"event":"failed","reason":' . json_str("io holder: $_[0]") . '}'); _exit(1); }

# Nothing of the daemon's (Node passes on every fd without close-on-exec): only the adopted ends.
if (opendir(my $dh, '/proc/self/fd')) {
  my $keep = $mode eq 'adopt' ? 5 : 2;
  my @fds = grep { /^\d+$/ && $_ > $keep } readdir $dh;
  closedir $dh;
  POSIX::close($_) for @fds;
}

sub nonblocking { my ($fh) = @_; my $fl = fcntl($fh, F_GETFL, 0) // 0; fcntl($fh, F_SETFL, $fl | O_NONBLOCK); }

open(my $logfh, '>>', $log) or fail("cannot open the log $log: $!");
$logfh->autoflush(1);

# Listening first: once the job runs, nothing may fail any more.
my $old_umask = umask(077);
unlink $socket_path;
my $listener = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $socket_path, Listen => 4)
  or fail("cannot listen on $socket_path: $!");
umask($old_umask);
chmod(0600, $socket_path);
nonblocking($listener);
$listening = 1;

# The job's streams, as the holder sees them: $in is written, $out{o} and $out{e} are read.
my ($in, %out, $child, @early);
if ($mode eq 'run') {
  local $/ = "\0";
  my @env = map { chomp; $_ } <STDIN>;
  pipe(my $in_r, my $in_w) or fail("pipe: $!");
  pipe(my $out_r, my $out_w) or fail("pipe: $!");
  pipe(my $err_r, my $err_w) or fail("pipe: $!");
  pipe(my $why_r, my $why_w) or fail("pipe: $!");    # close-on-exec: EOF means exec worked
  $child = fork() // fail("fork: $!");
  if ($child == 0) {
    my $oops = sub { syswrite($why_w, $_[0]); _exit(127); };
    setsid();
    %ENV = map { /^([^=]*)=(.*)$/s ? ($1, $2) : ($_, '') } @env;
    if (defined $cwd) { chdir($cwd) or $oops->("cannot change to $cwd: $!"); }
    defined dup2(fileno($in_r), 0) && defined dup2(fileno($out_w), 1) && defined dup2(fileno($err_w), 2)
      or $oops->("dup2: $!");
    opendir(my $dh, '/proc/self/fd') or $oops->("cannot list /proc/self/fd: $!");
    my @fds = grep { /^\d+$/ && $_ > 2 && $_ != fileno($why_w) } readdir $dh;
    closedir $dh;
    POSIX::close($_) for @fds;
    $SIG{$_} = 'DEFAULT' for qw(PIPE HUP CHLD);    # an ignored signal would stay ignored in the job
    { no warnings 'exec'; exec { $cmd[0] } @cmd; }
    $oops->("cannot start $cmd[0]: $!");
  }
  close $_ for ($in_r, $out_w, $err_w, $why_w);
  my $why = '';
  while (1) { my $n = sysread($why_r, my $buf, 4096); last if defined $n && $n == 0; if ($n) { $why .= $buf; next; } last if $! != EINTR; }
  close $why_r;
  if ($why ne '') { waitpid($child, 0); fail($why); }
  ($in, $out{o}, $out{e}) = ($in_w, $out_r, $err_r);
} else {
  binmode STDIN;
  local $/;
  my $early = <STDIN> // '';
  while (length($early) >= 5) {
    my ($type, $len) = unpack('a N', $early);
    push @early, [$type, substr($early, 5, $len)] if $type eq 'o' || $type eq 'e';
    substr($early, 0, 5 + $len) = '';
  }
  my %have = map { $_ => 1 } split /,/, $adopt;
  for ([0, 3, '>&='], [1, 4, '<&='], [2, 5, '<&=']) {
    my ($stream, $fd, $how) = @$_;
    next unless $have{$stream};
    open(my $fh, $how, $fd) or fail("fd $fd (the job's " . qw(stdin stdout stderr)[$stream] . "): $!");
    if   ($stream == 0) { $in = $fh; }
    else                { $out{$stream == 1 ? 'o' : 'e'} = $fh; }
  }
}
nonblocking($_) for grep { defined } ($in, values %out);


event('{"event":"ready","pid":' . ($child // 0) . '}');
open(STDIN, '<', '/dev/null');
open(STDOUT, '>', '/dev/null');
open(STDERR, '>', '/dev/null');

# The daemon that started the holder connects right after "ready": wait for it (a while) before
# ending, so that a job that ends at once still has its output and exit status delivered.
my $first_client_by = time + 10;
my (@scrollback, $scroll_bytes, $client, $served, $cin, $cout, $inq, $close_in, $status, $reaped_at);
($scroll_bytes, $cin, $cout, $inq) = (0, '', '', '');

sub frame { my ($type, $data) = @_; return $type . pack('N', length $data) . $data; }
sub drop_client { close $client if $client; $client = undef; ($cin, $cout) = ('', ''); }
# A client that does not keep up misses output (the log has all of it): the job never waits.
sub to_client {
  my ($frame, $always) = @_;
  return unless $client;
  $cout .= $frame if $always || length($cout) < $CLIENT_MAX;
}

sub output {
  my ($type, $data) = @_;
  syswrite($logfh, $data);
  push @scrollback, [$type, $data];
  $scroll_bytes += length $data;
  $scroll_bytes -= length((shift @scrollback)->[1]) while $scroll_bytes > $SCROLLBACK && @scrollback > 1;
  to_client(frame($type, $data));
}

sub status_json { return WIFSIGNALED($status) ? '{"signal":' . WTERMSIG($status) . '}' : '{"code":' . WEXITSTATUS($status) . '}'; }

# At once, for a daemon that is down (written atomically); the client hears it only at the end.
sub leave_status {
  return unless defined $status_file && open(my $fh, '>', "$status_file.tmp");
  print $fh status_json(), "\n";
  close $fh;
  rename("$status_file.tmp", $status_file);
}

sub finish {
  to_client(frame('x', status_json()), 1) if defined $status;
  # What is left for the client: a short, bounded wait for it to take it.
  my $until = time + 2;
  while ($client && $cout ne '' && time < $until) {
    my $win = '';
    vec($win, fileno($client), 1) = 1;
    next unless select(undef, my $w = $win, undef, 0.2) > 0;
    my $n = syswrite($client, $cout);
    if (defined $n) { substr($cout, 0, $n) = ''; }
    elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) { last; }
  }
  unlink $socket_path;
  _exit(0);
}

sub client_input {
  while (length($cin) >= 5) {
    my ($type, $len) = unpack('a N', $cin);
    last if length($cin) < 5 + $len;
    my $data = substr($cin, 5, $len);
    substr($cin, 0, 5 + $len) = '';
    if    ($type eq 'i') { $inq .= $data if $in && !$close_in && length($inq) < $STDIN_MAX; }
    elsif ($type eq 'c') { $close_in = 1; }
    elsif ($type eq 'q') { finish(); }
  }
}

output(@$_) for @early;

# A watched PID is gone when it is, when it is a zombie, or when another process now has it.
sub start_time { open(my $fh, '<', "/proc/$_[0]/stat") or return; my $st = <$fh> // ''; return $st =~ /\)\s+([A-Za-z])\s+(?:\S+\s+){18}(\d+)/ ? ($1, $2) : (); }
my $watch_start = $watch ? (start_time($watch))[1] : undef;
sub watched_gone { my ($state, $start) = start_time($watch); return !defined $start || $state =~ /[ZX]/ || $start ne $watch_start; }

while (1) {
  if ($child && !defined $status) {
    my $pid = waitpid($child, WNOHANG);
    if ($pid == $child) { $status = $?; $reaped_at = time; leave_status(); }
  }
  if ($in && $close_in && $inq eq '') { close $in; $in = undef; }
  my $open  = grep { defined } values %out;
  if ($watch && !defined $reaped_at && (!defined $watch_start || watched_gone())) { $reaped_at = time; }
  my $ended = $mode eq 'run' ? defined $status && (!$open || time - $reaped_at >= 1) : !$open || (defined $reaped_at && time - $reaped_at >= 1);
  finish() if $ended && ($served || time > $first_client_by);

  my ($rin, $win) = ('', '');
  vec($rin, fileno($listener), 1) = 1;
  vec($rin, fileno($client), 1) = 1 if $client;
  vec($rin, fileno($_), 1) = 1 for grep { defined } values %out;
  vec($win, fileno($client), 1) = 1 if $client && $cout ne '';
  vec($win, fileno($in), 1) = 1 if $in && $inq ne '';
  my $n = select(my $rout = $rin, my $wout = $win, undef, $ended || defined $reaped_at ? 0.2 : 1);
  next if $n <= 0;

  for my $type ('o', 'e') {
    my $fh = $out{$type} or next;
    next unless vec($rout, fileno($fh), 1);
    my $got = sysread($fh, my $buf, 65536);
    if ($got) { output($type, $buf); }
    elsif (defined $got || ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR)) { close $fh; delete $out{$type}; }
  }
  if (vec($rout, fileno($listener), 1)) {
    if (my $new = $listener->accept) {
      drop_client();
      $client = $new;
      $served = 1;
      nonblocking($client);
      to_client(frame($_->[0], $_->[1])) for @scrollback;
    }
  }
  if ($client && vec($rout, fileno($client), 1)) {
    my $got = sysread($client, my $buf, 65536);
    if ($got) { $cin .= $buf; client_input(); }
    elsif (defined $got || ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR)) { drop_client(); }
  }
  if ($client && $cout ne '' && vec($wout, fileno($client), 1)) {
    my $put = syswrite($client, $cout);
    if (defined $put) { substr($cout, 0, $put) = ''; }
    elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) { drop_client(); }
  }
  if ($in && $inq ne '' && vec($wout, fileno($in), 1)) {
    my $put = syswrite($in, $inq);
    if (defined $put) { substr($inq, 0, $put) = ''; }
    elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) { close $in; $in = undef; $inq = ''; }    # EPIPE: the job closed its stdin
  }
}
