/**
 * The dump half of a post-copy migration (`migrate job J --lazy`): `criu dump --lazy-pages`
 * writes every image but the lazy pages, keeps the tree frozen and then serves those pages as a
 * page server until the target's `criu lazy-pages` has pulled them all; then it kills the tree.
 *
 * CRIU's page server has no auth or TLS, so it never listens on an address here: it talks over
 * one end of a socketpair given to it as `--ps-socket 3` (Node's stdio 'pipe' is a socketpair),
 * and the daemon relays the other end to the target over its authenticated connection
 * (ctx.pageChannel). `--status-fd 4` says when the images are written: the handler returns
 * then, and criu goes on serving.
 *
 * If the channel fails before the target runs the job, the daemon kills this criu: the tree,
 * seized but whole, then resumes where it was (CRIU 4.2 detaches by dying), so the job runs on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { CedanaError, type DumpContext, type PageChannel, spawnClean } from '@cedana/plugin-sdk';
import { criuFailure } from './criu-failure.js';
import { readLogLines } from './criu-log.js';
import { type CriuRun, describeRun } from './criu-process.js';

/** The fds criu gets: its end of the page socket, and the pipe it writes one byte into once the images are written. */
const PS_SOCKET_FD = 3;
const STATUS_FD = 4;
/**
 * CRIU's page server sizes a pipe to (8 pages / 40-byte pipe buffers) pages = 819 pages: more than
 * the default fs.pipe-max-size (1 MiB), which needs CAP_SYS_RESOURCE. Without either, every page
 * request fails (`page-pipe: splice: -1: Bad file descriptor` in dump.log).
 */
const CRIU_PIPE_BYTES = 819 * 4096;
const CAP_SYS_RESOURCE = 24n;

/**
 * Runs the lazy dump; resolves once the images are in ctx.imagesDir and criu serves the pages
 * over the channel. A dump that fails before that throws as a normal dump (the tree runs on).
 *
 * @throws CedanaError CEDANA_ERR_CRIU_LAZY_DUMP (this host cannot serve pages: nothing froze),
 *   CEDANA_ERR_CRIU_DUMP (criu failed before the images were written)
 */
export async function criuDumpLazy(ctx: DumpContext, channel: PageChannel, binary: string, args: string[], logName: string): Promise<void> {
  await assertPipeSize();
  const lazyArgs = [...args, '--lazy-pages', '--ps-socket', String(PS_SOCKET_FD), '--status-fd', String(STATUS_FD)];
  ctx.log.debug({ binary, args: lazyArgs }, 'running criu dump --lazy-pages');
  const child = spawnClean(binary, lazyArgs, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c: Buffer) => {
    if (output.length < 64 * 1024) output += c.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const ended = new Promise<CriuRun>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ exit: null, signal: null, output, spawnError: err }));
    child.on('close', (exit, signal) => resolve({ exit, signal, output }));
  });
  const status = child.stdio[STATUS_FD] as Readable;
  const ready = await new Promise<boolean>((resolve) => {
    status.once('data', () => resolve(true));
    status.once('end', () => resolve(false));
    status.once('error', () => resolve(false));
    void ended.then(() => resolve(false));
  });
  const logPath = join(ctx.imagesDir, logName);
  if (!ready) {
    const run = await ended;
    throw criuFailure('CEDANA_ERR_CRIU_DUMP', `criu dump --lazy-pages of PID ${ctx.pid}`, run, await readLogLines(logPath), logPath);
  }
  status.destroy();
  channel.attach(
    child.stdio[PS_SOCKET_FD] as Duplex,
    child.pid as number,
    ended.then(async (run) => ({
      ok: run.exit === 0,
      why: run.exit === 0 ? 'served every page' : `${describeRun(run)}: ${(await readLogLines(logPath)).slice(-3).join(' | ')}`,
    })),
  );
  ctx.log.info({ pid: ctx.pid, criuPid: child.pid }, 'lazy dump: images written, criu serves the pages (the tree stays frozen)');
}

/** Refuses before anything freezes when criu could not size its page pipe here. */
async function assertPipeSize(): Promise<void> {
  const max = Number((await readFile('/proc/sys/fs/pipe-max-size', 'utf8').catch(() => '0')).trim());
  if (max >= CRIU_PIPE_BYTES) return;
  const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '0';
  if ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) return;
  throw new CedanaError(
    'CEDANA_ERR_CRIU_LAZY_DUMP',
    `a lazy dump needs pipes of ${CRIU_PIPE_BYTES} bytes for CRIU's page server; found fs.pipe-max-size ${max} and no CAP_SYS_RESOURCE for the daemon`,
    { hint: 'raise it on the source: `sysctl -w fs.pipe-max-size=4194304` (or run the daemon with CAP_SYS_RESOURCE); nothing was frozen' },
  );
}
