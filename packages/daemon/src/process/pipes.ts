/**
 * Real anonymous pipes for an attachable job's stdio. Node's own `stdio: 'pipe'`
 * makes unix socket pairs, and CRIU cannot dump a stream socket whose peer is
 * outside the dumped tree; a pipe it can (and restore reconnects it with
 * --inherit-fd). Node cannot call pipe(2), so a perl one-liner (perl-base is
 * always on Debian) makes the pipe and the daemon opens both ends through
 * /proc/HELPER/fd/N before the helper exits.
 */
import { spawn } from 'node:child_process';
import { constants, openSync } from 'node:fs';

export interface Pipe {
  read: number;
  write: number;
}

export async function makePipe(): Promise<Pipe> {
  const helper = spawn('perl', ['-e', '$|=1; pipe(my $r, my $w) or die "pipe: $!"; print fileno($r), " ", fileno($w), "\\n"; <STDIN>;'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      helper.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      helper.once('error', reject);
      helper.once('exit', (code) => reject(new Error(`the pipe helper (perl) exited ${code} before making a pipe`)));
    });
    const [r, w] = line.trim().split(' ').map(Number);
    return {
      read: openSync(`/proc/${helper.pid}/fd/${r}`, constants.O_RDONLY | constants.O_NONBLOCK),
      write: openSync(`/proc/${helper.pid}/fd/${w}`, constants.O_WRONLY | constants.O_NONBLOCK),
    };
  } finally {
    helper.stdin.end();
  }
}
