/**
 * Starting a job with no file descriptor of the daemon's: Node's spawn passes on
 * every fd that lacks close-on-exec (LevelDB's files among them), and CRIU would
 * then dump those and fail to restore them once they changed. The job is
 * exec'd through a Perl one-liner (perl-base is always on Debian) that closes
 * every fd above 2 first; the PID stays the same across the exec.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

const CLOSE_FDS_AND_EXEC = [
  'use POSIX ();',
  'opendir(my $d, "/proc/self/fd") or die "cannot list /proc/self/fd: $!\\n";',
  'my @fds = grep { /^\\d+$/ && $_ > 2 } readdir($d); closedir($d);',
  'POSIX::close($_) for @fds;',
  'exec { $ARGV[0] } @ARGV or die "cannot exec $ARGV[0]: $!\\n";',
].join(' ');

/** The command line that runs `program args` with only fds 0, 1 and 2. */
export function cleanExec(program: string, args: string[]): { file: string; args: string[] } {
  return { file: 'perl', args: ['-e', CLOSE_FDS_AND_EXEC, '--', program, ...args] };
}

/** The executable `program` names, looked up in PATH like a shell would; undefined if there is none. */
export async function resolveProgram(program: string, env: NodeJS.ProcessEnv, cwd: string): Promise<string | undefined> {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const c of candidates) {
    if (
      await access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return c;
  }
  return undefined;
}
