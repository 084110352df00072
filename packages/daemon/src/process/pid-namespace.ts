/**
 * Jobs in their own PID namespace (`run process --pid-ns`, config `jobs.pid_namespace`).
 *
 * util-linux's `unshare --pid --fork --mount-proc` (util-linux is Essential on Debian)
 * makes a PID namespace with a mount namespace of its own, mounts that namespace's /proc
 * (mounts are made private first, so nothing shows on the host), and forks the job as
 * its PID 1. unshare stays outside as the job's parent, reaps it and exits with its status
 * (or the same signal). The job is the namespace's init: CRIU is given its host PID and
 * dumps the whole namespace; `criu restore` makes a new one, so no PID of the host is
 * needed back. Inside, a small Perl step makes the init a session leader (CRIU refuses a
 * tree whose session leader is outside its PID namespace), reopens /dev/null and the log
 * file (a file opened before the mount namespace existed sits on a host mount that CRIU
 * cannot name), closes every other inherited fd and execs the program.
 */
import { readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CedanaError } from '@cedana/core';

const INIT_STEP = [
  'use POSIX ();',
  'my $log = shift @ARGV;',
  'POSIX::setsid();',
  'if (length $log) {',
  ' open(STDIN, "<", "/dev/null") or die "cannot open /dev/null: $!\\n";',
  ' open(STDOUT, ">>", $log) or die "cannot open $log: $!\\n";',
  ' open(STDERR, ">&", \\*STDOUT) or die "cannot dup stdout: $!\\n";',
  '}',
  'opendir(my $d, "/proc/self/fd") or die "cannot list /proc/self/fd: $!\\n";',
  'my @fds = grep { /^\\d+$/ && $_ > 2 } readdir($d); closedir($d);',
  'POSIX::close($_) for @fds;',
  'exec { $ARGV[0] } @ARGV or die "cannot exec $ARGV[0]: $!\\n";',
].join(' ');

/**
 * The command line that runs `program args` as init of a new PID and mount namespace.
 * `log`: the file its stdout and stderr are reopened on (stdin on /dev/null) inside the
 * namespace; undefined keeps the streams it is given (an attachable job's pipes).
 */
export function pidNamespaceExec(program: string, args: string[], log: string | undefined): { file: string; args: string[] } {
  return {
    file: 'unshare',
    args: ['--pid', '--fork', '--mount-proc', '--', 'perl', '-e', INIT_STEP, '--', log ?? '', program, ...args],
  };
}

/** How long the namespace's init may take to appear once unshare runs. */
const INIT_WAIT = { totalMs: 5000, everyMs: 10 };

/**
 * The host PID of the namespace's init that `unshare` (PID `unsharePid`) forked: its only
 * child. Throws CEDANA_ERR_RUN_FAILED when unshare ends or forks nothing in time.
 */
export async function namespaceInit(unsharePid: number, what: string): Promise<number> {
  const deadline = Date.now() + INIT_WAIT.totalMs;
  for (;;) {
    const children = await readFile(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').catch(() => undefined);
    const child = Number(children?.trim().split(' ')[0]);
    if (Number.isInteger(child) && child > 0 && (await ownPidNamespace(child))) return child;
    if (children === undefined || Date.now() > deadline) {
      throw new CedanaError(
        'CEDANA_ERR_RUN_FAILED',
        `cannot start ${what} in a new PID namespace: expected unshare (PID ${unsharePid}) to fork the namespace's init, found ${children === undefined ? 'unshare gone' : 'no child after 5 s'}`,
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
