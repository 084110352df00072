/**
 * The I/O holder of an attachable job: a small perl process (shim/io-holder.pl) that owns
 * the daemon's ends of the job's pipes, so that a daemon that dies takes no job with it (a
 * job whose stdout reader is gone dies of SIGPIPE at its next write). The holder appends the
 * output to the job's log, keeps the scrollback and relays both ways over a private unix
 * socket, which a restarted daemon connects to again. `run --attachable` starts the job
 * from the holder, which then reaps it and knows its exit code even while the daemon is
 * down; a restored job or a container is adopted: its pipes are handed to a new holder.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CedanaError, type ExitStatus, type Logger, type Started, signalName } from '@cedana/core';
import { encodeFrame, FrameReader } from './holder-frames.js';

/** The holder script, shipped in the package's `shim` folder. */
export const HOLDER_PATH = fileURLToPath(new URL('../../shim/io-holder.pl', import.meta.url));

/** An open connection to a holder. */
export interface HolderLink {
  /** The job's streams as the holder relays them. */
  stdio: { stdin: Writable; stdout: Readable; stderr: Readable };
  /** The exit status the holder reports (a job it started); null when the link ends without one. */
  exited: Promise<ExitStatus | null>;
  /** Asks the holder to end now (the job is being deleted). */
  quit(): void;
}

/** A job started through a holder: its streams come from `holder`. */
export interface HeldStarted extends Started {
  holder: HolderLink;
}

/** Where the holder of job `jid` listens: a short, fixed-length name inside `dir`, whatever the JID. */
export function holderSocket(dir: string, jid: string): string {
  return join(dir, `${createHash('sha256').update(jid).digest('hex').slice(0, 16)}.sock`);
}

export interface HolderPlace {
  /** The private folder of the holders' sockets. */
  dir: string;
  jid: string;
  /** The job's log: the holder appends the output to it. */
  log: string;
}

/** What `run --attachable` starts: the resolved program, its arguments and surroundings. */
export interface HeldRun {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where the holder also leaves the exit status, for a daemon that was down when the job ended. */
  statusFile: string;
}

/**
 * Starts a holder that starts the job. Resolves once the job runs.
 * @throws CedanaError CEDANA_ERR_RUN_FAILED (the program could not be started, or perl is missing)
 */
export async function startHeldRun(place: HolderPlace, run: HeldRun): Promise<{ pid: number; link: HolderLink }> {
  const env = Object.entries(run.env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}\0`)
    .join('');
  const mode = ['--status-file', run.statusFile, '--run', '--cwd', run.cwd, '--', run.file, ...run.args];
  const { pid, link } = await startHolder(place, mode, ['pipe'], env);
  return { pid, link };
}

/**
 * Hands the streams of a job that runs already (restored, or a container) to a new holder;
 * the daemon's copies are closed once the holder has its own. What the daemon's streams had
 * read already goes to the holder first, so no output is lost or reordered.
 */
export async function adoptStdio(place: HolderPlace, stdio: NonNullable<Started['stdio']>, pid?: number): Promise<HolderLink> {
  const streams = [stdio.stdin, stdio.stdout, stdio.stderr];
  const present = streams.flatMap((s, i) => (s ? [i] : []));
  const taken = [takeRead(stdio.stdout), takeRead(stdio.stderr)] as const;
  const early = Buffer.concat([...taken[0].map((c) => encodeFrame('o', c)), ...taken[1].map((c) => encodeFrame('e', c))]);
  try {
    const mode = ['--adopt', present.join(','), ...(pid ? ['--pid', String(pid)] : [])];
    const { link } = await startHolder(place, mode, ['pipe', ...streams.map((s) => s ?? 'ignore')], early);
    for (const s of streams) s?.destroy();
    return link;
  } catch (err) {
    giveBack(stdio.stdout, taken[0]);
    giveBack(stdio.stderr, taken[1]);
    throw err;
  }
}

/**
 * Stops a socket over a pipe from reading further (net.Socket starts reading its fd as soon
 * as it is made) and returns what it had read. Node has no public call for this: the
 * handle's readStop() stops libuv, and `reading` is left set so that read() takes the
 * buffer without starting it again. A stream that is no such socket gives what it holds.
 */
function takeRead(stream: Readable | undefined): Buffer[] {
  if (!stream) return [];
  handleOf(stream)?.readStop?.();
  const chunks: Buffer[] = [];
  for (let c = stream.read() as Buffer | null; c !== null; c = stream.read() as Buffer | null) chunks.push(c);
  return chunks;
}

/** Undoes takeRead (no holder could be had): the stream reads again, what it had read first. */
function giveBack(stream: Readable | undefined, chunks: Buffer[]): void {
  if (!stream || stream.destroyed) return;
  for (const c of [...chunks].reverse()) stream.unshift(c);
  handleOf(stream)?.readStart?.();
}

function handleOf(stream: Readable): { readStop?(): number; readStart?(): number } | undefined {
  return (stream as unknown as { _handle?: { readStop?(): number; readStart?(): number } })._handle;
}

/**
 * The streams an attachable job's runtime connects to: its holder's, adopting the streams of
 * a job that has none yet. When no holder can be had, the job's own streams (it then lives
 * only as long as the daemon, as before), with a warning.
 */
export async function holdStdio(
  started: Started,
  place: HolderPlace,
  log: Logger,
): Promise<{ stdio: NonNullable<Started['stdio']>; holder?: HolderLink }> {
  if ('holder' in started) {
    const { holder } = started as HeldStarted;
    return { stdio: holder.stdio, holder };
  }
  const stdio = started.stdio as NonNullable<Started['stdio']>;
  try {
    const holder = await adoptStdio(place, stdio, started.pid);
    return { stdio: holder.stdio, holder };
  } catch (err) {
    log.warn({ jid: place.jid, err: (err as Error).message }, 'no I/O holder for the job: its pipes stay with the daemon and end with it');
    return { stdio };
  }
}

/** Connects to the holder of job `jid` again (after a daemon restart); undefined when it is not there. */
export async function reconnectHolder(dir: string, jid: string): Promise<HolderLink | undefined> {
  return connectHolder(holderSocket(dir, jid)).catch(() => undefined);
}

async function startHolder(
  place: HolderPlace,
  mode: string[],
  stdio: ('pipe' | 'ignore' | Readable | Writable)[],
  input?: string | Buffer,
): Promise<{ pid: number; link: HolderLink }> {
  await privateDir(place.dir);
  const socket = holderSocket(place.dir, place.jid);
  const [first, ...extra] = stdio;
  const holder = spawn('perl', [HOLDER_PATH, '--socket', socket, '--log', place.log, ...mode], {
    detached: true,
    stdio: [first ?? 'ignore', 'pipe', 'pipe', ...extra],
  });
  holder.unref();
  holder.stdin?.on('error', () => {});
  holder.stdin?.end(input ?? '');
  let stderr = '';
  holder.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 16 * 1024) stderr += c.toString('utf8');
  });
  const event = await new Promise<{ event?: string; pid?: number; reason?: string }>((resolve) => {
    const lines = createInterface({ input: holder.stdout as Readable });
    lines.once('line', (line) => {
      lines.close();
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({ reason: `unexpected line from the I/O holder: ${line}` });
      }
    });
    holder.once('error', (err) => resolve({ reason: `cannot start perl for the I/O holder: ${err.message}` }));
    holder.once('close', (code) => resolve({ reason: stderr.trim() || `the I/O holder exited ${code} before it was ready` }));
  });
  if (event.event !== 'ready' || typeof event.pid !== 'number') {
    throw new CedanaError('CEDANA_ERR_RUN_FAILED', event.reason ?? 'the I/O holder did not start', {
      hint: "an attachable job's streams are held by a perl process (Debian: apt-get install perl-base)",
    });
  }
  try {
    return { pid: event.pid, link: await connectHolder(socket) };
  } catch (err) {
    // A job the daemon cannot reach is one it does not know of: it must not run on.
    if (event.pid > 0) process.kill(event.pid, 'SIGKILL');
    throw new CedanaError(
      'CEDANA_ERR_RUN_FAILED',
      `the I/O holder is ready but its socket ${socket} does not answer: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** The holders' folder: created 0700, and refused when it is a symlink or someone else's. */
async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new CedanaError(
      'CEDANA_ERR_RUN_FAILED',
      `the folder of the I/O holders' sockets ${dir} must be a directory of UID ${uid} with mode 0700; found mode ${(st.mode & 0o7777).toString(8)}, UID ${st.uid}${st.isSymbolicLink() ? ', a symlink' : ''}`,
      { hint: `remove ${dir} (the daemon makes it again), or set db.path elsewhere: the folder is db.path with -io added` },
    );
  }
}

function connectHolder(path: string): Promise<HolderLink> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(linkOver(sock));
    });
  });
}

function linkOver(sock: Socket): HolderLink {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const send = (frame: Buffer) => {
    if (!sock.destroyed) sock.write(frame);
  };
  const stdin = new Writable({
    write(chunk: Buffer, _enc, done) {
      send(encodeFrame('i', chunk));
      done();
    },
    final(done) {
      send(encodeFrame('c'));
      done();
    },
  });
  let reportExit: (s: ExitStatus | null) => void = () => {};
  const exited = new Promise<ExitStatus | null>((r) => {
    reportExit = r;
  });
  // The exit comes after the output before it; the PassThroughs pass that on a tick later.
  const settle = (s: ExitStatus | null) => setImmediate(() => reportExit(s));
  const reader = new FrameReader();
  sock.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      if (f.type === 'o') stdout.write(f.data);
      else if (f.type === 'e') stderr.write(f.data);
      else if (f.type === 'x') settle(parseStatus(f.data));
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => {
    stdout.end();
    stderr.end();
    settle(null);
  });
  sock.unref();
  return { stdio: { stdin, stdout, stderr }, exited, quit: () => send(encodeFrame('q')) };
}

function parseStatus(data: Buffer): ExitStatus | null {
  try {
    const s = JSON.parse(data.toString()) as { code?: number; signal?: number };
    if (typeof s.code === 'number') return { code: s.code, signal: null };
    if (typeof s.signal === 'number') return { code: null, signal: signalName(s.signal) };
  } catch {}
  return null;
}
