/**
 * Starting a process with none of the daemon's file descriptors. Node's spawn passes on
 * every fd that lacks close-on-exec, and LevelDB opens its files without it: a child would
 * hold the daemon's database files open (deleted ones too), and a process CRIU dumps with
 * one fails to restore once the file changed (`File .../db/000003.log has bad size`). The
 * program is exec'd through a Perl one-liner (perl-base is Essential on Debian) that closes
 * every fd from `keep` up first; the PID stays the same across the exec, so killing and
 * waiting for the child work as with a bare spawn. It loads no module (POSIX costs ~10x its
 * start-up): an fd is closed by opening a handle on it (`<&=`, `>&=`) and closing that.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

const CLOSE_FDS_AND_EXEC = [
  'my $keep = shift @ARGV;',
  'opendir(my $d, "/proc/self/fd") or die "cannot list /proc/self/fd: $!\\n";',
  'my @fds = grep { /^\\d+$/ && $_ >= $keep } readdir($d); closedir($d);',
  'for my $fd (@fds) { open(my $h, "<&=", $fd) ? close($h) : open($h, ">&=", $fd) && close($h) }',
  'exec { $ARGV[0] } @ARGV or die "cannot exec $ARGV[0]: $!\\n";',
].join(' ');

/** Debian's perl (perl-base), whatever PATH holds; else the first perl on PATH. */
let perl: string | undefined;
function perlPath(): string {
  perl ??= isExecutable('/usr/bin/perl') ? '/usr/bin/perl' : 'perl';
  return perl;
}

/** The command line that runs `program args` with only fds 0 to `keep - 1` (stdin, stdout, stderr by default). */
export function cleanExec(program: string, args: readonly string[], keep = 3): { file: string; args: string[] } {
  return { file: perlPath(), args: ['-e', CLOSE_FDS_AND_EXEC, '--', String(keep), program, ...args] };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The executable `command` names (PATH looked up as exec does), or undefined. */
function executable(command: string, path: string, cwd: string): string | undefined {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  return candidates.find(isExecutable);
}

/**
 * child_process.spawn, but the child gets no fd of the daemon's beyond its `stdio` entries.
 * A program that does not exist is spawned bare, so its error ('error' event, ENOENT) is
 * the one Node reports, as with spawn.
 */
export const spawnClean = ((command: string, args?: readonly string[] | object, options?: object) => {
  const argv = Array.isArray(args) ? (args as string[]) : [];
  const opts = (Array.isArray(args) ? options : args) ?? {};
  const { env, cwd, stdio } = opts as { env?: NodeJS.ProcessEnv; cwd?: string | URL; stdio?: unknown };
  const file = executable(command, (env ?? process.env).PATH ?? '', cwd ? String(cwd) : process.cwd());
  if (!file) return spawn(command, argv, opts);
  const exec = cleanExec(file, argv, Array.isArray(stdio) ? Math.max(3, stdio.length) : 3);
  return spawn(exec.file, exec.args, opts);
}) as typeof spawn;
