/**
 * Test kit: real processes to dump, started the way CRIU wants them (session leaders,
 * no terminal), and a register that kills every one of them at the end of a test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** PIDs to SIGKILL when the test ends, whatever happened. */
export class ProcessRegister {
  private readonly pids = new Set<number>();

  add(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  /** SIGKILLs every registered process that still exists. */
  killAll(): void {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.pids.clear();
  }
}

/** A job started for a test. */
export interface TestJob {
  child: ChildProcess;
  pid: number;
  /** Settles when Node has reaped it. */
  exited: Promise<void>;
}

function startJob(script: string, stdio: ('ignore' | number)[], register: ProcessRegister): TestJob {
  const child = spawn('sh', ['-c', script], { detached: true, stdio });
  if (child.pid === undefined) throw new Error('could not start sh');
  register.add(child.pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, pid: child.pid, exited };
}

/**
 * A counter: writes 1, 2, 3, ... into DIR/count every 100 ms, and exits 7 once
 * DIR/stop exists.
 */
export function startCounter(dir: string, register: ProcessRegister): TestJob {
  const count = join(dir, 'count');
  const script = `i=0; while :; do i=$((i+1)); echo $i > ${count}.tmp && mv ${count}.tmp ${count}; [ -e ${join(dir, 'stop')} ] && exit 7; sleep 0.1; done`;
  return startJob(script, ['ignore', 'ignore', 'ignore'], register);
}

/** The counter's current value (0 before the first write). */
export async function readCount(dir: string): Promise<number> {
  try {
    return Number((await readFile(join(dir, 'count'), 'utf8')).trim());
  } catch {
    return 0;
  }
}

/** Waits until `test` holds, or fails after `ms`. */
export async function waitFor(what: string, test: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * A real anonymous pipe (Node's stdio 'pipe' makes socket pairs, which CRIU cannot
 * dump): a perl helper makes it and Node opens both ends through /proc/HELPER/fd/N.
 */
export async function makePipe(): Promise<{ read: number; write: number }> {
  const helper = spawn('perl', ['-e', '$|=1; pipe(my $r, my $w) or die; print fileno($r), " ", fileno($w), "\\n"; <STDIN>;'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    helper.stdout.once('data', (d: Buffer) => resolve(d.toString()));
    helper.once('error', reject);
  });
  const [r, w] = line.trim().split(' ').map(Number);
  const read = openSync(`/proc/${helper.pid}/fd/${r}`, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(`/proc/${helper.pid}/fd/${w}`, constants.O_WRONLY | constants.O_NONBLOCK);
  helper.stdin.end();
  return { read, write };
}

/**
 * An attachable job on real pipes: for each line on stdin it prints "out LINE" on
 * stdout and "err LINE" on stderr; it exits 0 at the end of stdin. The test holds the
 * other ends as streams.
 */
export async function startEchoJob(register: ProcessRegister): Promise<TestJob & { stdin: Socket; stdout: Socket; stderr: Socket }> {
  const [stdin, stdout, stderr] = [await makePipe(), await makePipe(), await makePipe()];
  const job = startJob(
    'while read line; do echo "out $line"; echo "err $line" >&2; done',
    [stdin.read, stdout.write, stderr.write],
    register,
  );
  for (const fd of [stdin.read, stdout.write, stderr.write]) closeSync(fd);
  return {
    ...job,
    stdin: new Socket({ fd: stdin.write, readable: false, writable: true }),
    stdout: new Socket({ fd: stdout.read, readable: true, writable: false }),
    stderr: new Socket({ fd: stderr.read, readable: true, writable: false }),
  };
}

/** CRIU's key of fd `fd` of `pid`, e.g. `pipe:[4711]`. */
export function fdKey(pid: number, fd: number): string {
  return readlinkSync(`/proc/${pid}/fd/${fd}`);
}

/** Collects what `stream` yields, as text. */
export function collect(stream: NodeJS.ReadableStream): { text: () => string } {
  let text = '';
  stream.on('data', (d: Buffer | string) => {
    text += d.toString();
  });
  return { text: () => text };
}
