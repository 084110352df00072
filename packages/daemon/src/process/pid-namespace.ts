/**
 * Jobs in their own PID namespace (`run process --pid-ns`, config `jobs.pid_namespace`).
 *
 * util-linux's `unshare --pid --mount` (util-linux is Essential on Debian) gives a small
 * Perl parent a new mount namespace (mounts made private, so nothing shows on the host) and
 * a PID namespace for its children. The parent forks the job as that namespace's PID 1,
 * stays outside as its parent, reaps it and ends as it did: the same exit code, or killed
 * by the same signal (unshare's own --fork turns a SIGKILLed child into exit 1). The child
 * replaces the host's /proc with the namespace's, unmounts its copies of nsfs mounts (`ip netns` leaves them
 * in /run/netns, and CRIU cannot dump them), makes itself a session leader (CRIU refuses a tree whose
 * session leader is outside its PID namespace), reopens /dev/null and the log file (a file
 * opened before the mount namespace existed sits on a host mount that CRIU cannot name),
 * closes every other inherited fd and execs the program. The job is the namespace's init:
 * CRIU is given its host PID and dumps the whole namespace; `criu restore` makes a new one,
 * so no PID of the host is needed back.
 */
import { readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CedanaError, isAlive, sessionAndTty } from '@cedana/core';

const NAMESPACE_PARENT = [
  'use POSIX ();',
  'my $log = shift @ARGV;',
  'opendir(my $d, "/proc/self/fd") or die "cannot list /proc/self/fd: $!\\n";',
  'my @fds = grep { /^\\d+$/ && $_ > 2 } readdir($d); closedir($d);',
  'POSIX::close($_) for @fds;',
  'my $pid = fork() // die "cannot fork the namespace init: $!\\n";',
  'if ($pid == 0) {',
  ' system("umount", "-l", "/proc");', // the host's /proc, with what is mounted under it
  ' system("mount", "-t", "proc", "-o", "nosuid,noexec,nodev", "proc", "/proc") == 0 or die "cannot mount the namespace\'s /proc\\n";',
  // Mounts CRIU cannot dump (nsfs: the /run/netns entries of `ip netns`) are not the job's: dropped from its copy.
  String.raw` if (open(my $mi, "<", "/proc/self/mountinfo")) { my @drop; while (my $l = <$mi>) { my @f = split / /, $l; my ($sep) = grep { $f[$_] eq "-" } 0 .. $#f; push @drop, $f[4] if defined $sep && $f[$sep + 1] eq "nsfs"; } close $mi; for my $m (reverse @drop) { $m =~ s/\\([0-7]{3})/chr(oct($1))/ge; system("umount", "-l", $m); } }`,
  ' POSIX::setsid();',
  ' if (length $log) {',
  '  open(STDIN, "<", "/dev/null") or die "cannot open /dev/null: $!\\n";',
  '  open(STDOUT, ">>", $log) or die "cannot open $log: $!\\n";',
  '  open(STDERR, ">&", \\*STDOUT) or die "cannot dup stdout: $!\\n";',
  ' }',
  ' exec { $ARGV[0] } @ARGV or die "cannot exec $ARGV[0]: $!\\n";',
  '}',
  '$SIG{$_} = "IGNORE" for qw(INT TERM HUP PIPE);',
  'my $w; do { $w = waitpid($pid, 0) } until $w == $pid || ($w < 0 && !$!{EINTR});',
  'POSIX::_exit(1) unless $w == $pid;',
  'my $st = $?;',
  'if ($st & 127) { $SIG{$_} = "DEFAULT" for qw(INT TERM HUP PIPE); kill($st & 127, $$); POSIX::_exit(128 + ($st & 127)); }',
  'POSIX::_exit($st >> 8);',
].join(' ');

/**
 * The command line that runs `program args` as init of a new PID and mount namespace.
 * `log`: the file its stdout and stderr are reopened on (stdin on /dev/null) inside the
 * namespace; undefined keeps the streams it is given (an attachable job's pipes).
 */
export function pidNamespaceExec(program: string, args: string[], log: string | undefined): { file: string; args: string[] } {
  return {
    file: 'unshare',
    args: ['--pid', '--mount', '--propagation', 'private', '--', 'perl', '-e', NAMESPACE_PARENT, '--', log ?? '', program, ...args],
  };
}

/** How long the namespace's init may take to appear once unshare runs. */
const INIT_WAIT = { totalMs: 5000, everyMs: 10 };

/**
 * The host PID of the namespace's init that the parent (PID `unsharePid`) forked, once the
 * init step has made it a session leader (its final shape, what a dump sees). A job that
 * ended already is named by the init seen last, else by unshare, whose exit status is the
 * job's. Throws CEDANA_ERR_RUN_FAILED when unshare forks no init in time.
 */
export async function namespaceInit(unsharePid: number, what: string): Promise<number> {
  const deadline = Date.now() + INIT_WAIT.totalMs;
  let seen: number | undefined;
  for (;;) {
    const children = await readFile(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').catch(() => undefined);
    if (children === undefined || !(await isAlive(unsharePid))) return seen ?? unsharePid;
    const child = Number(children.trim().split(' ')[0]);
    if (Number.isInteger(child) && child > 0 && (await ownPidNamespace(child))) {
      seen = child;
      if ((await sessionAndTty(child))?.sid === child) return child;
    }
    if (Date.now() > deadline) {
      if (seen !== undefined) return seen;
      throw new CedanaError(
        'CEDANA_ERR_RUN_FAILED',
        `cannot start ${what} in a new PID namespace: expected unshare (PID ${unsharePid}) to fork the namespace's init, found no child after ${INIT_WAIT.totalMs / 1000} s`,
        {
          hint: "see the job's log for unshare's own message; `unshare --pid --fork --mount-proc true` must work as root here (util-linux)",
        },
      );
    }
    await sleep(INIT_WAIT.everyMs);
  }
}

/** True when `pid` is PID 1 of a PID namespace other than the daemon's (seen from the host). */
export async function ownPidNamespace(pid: number): Promise<boolean> {
  const [theirs, ours, status] = await Promise.all([
    readlink(`/proc/${pid}/ns/pid`).catch(() => undefined),
    readlink('/proc/self/ns/pid').catch(() => undefined),
    readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''),
  ]);
  const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
  return theirs !== undefined && theirs !== ours && nspid.length > 1 && nspid[nspid.length - 1] === '1';
}

/** True when `pid` has a mount namespace other than the daemon's: CRIU then dumps it, and restores it under `--root /`. */
export async function ownMountNamespace(pid: number): Promise<boolean> {
  const [theirs, ours] = await Promise.all([
    readlink(`/proc/${pid}/ns/mnt`).catch(() => undefined),
    readlink('/proc/self/ns/mnt').catch(() => undefined),
  ]);
  return theirs !== undefined && theirs !== ours;
}

/** A mount of the job's mount namespace that CRIU takes as external: the host's own mount at the same place. */
export interface ExternalMount {
  /** CRIU's key of it in the images (`--external mnt[MOUNTPOINT]:KEY` at dump, `mnt[KEY]:MOUNTPOINT` at restore). */
  key: string;
  mountpoint: string;
}

/**
 * Every mount of `pid`'s mount namespace but its root and its own /proc, as external
 * mounts: their copies in the namespace are the host's mounts (made private), so a dump
 * names them instead of saving them (CRIU would tar every tmpfs into the checkpoint), and
 * a restore binds the host's mounts at the same places again (a tmpfs stays shared with
 * the host). A mountpoint CRIU's syntax cannot carry (`:` or `]`) is left to CRIU.
 */
export async function externalMounts(pid: number): Promise<ExternalMount[]> {
  const text = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
  const out: ExternalMount[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    const mountpoint = (f[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    const fstype = sep > 0 ? f[sep + 1] : '';
    if (mountpoint === '/' || (mountpoint === '/proc' && fstype === 'proc') || /[:\]]/.test(mountpoint)) continue;
    out.push({ key: `cedana-mnt-${f[0]}`, mountpoint });
  }
  return out;
}
