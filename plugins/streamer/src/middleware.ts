/**
 * The streamer in the dump and restore pipelines, right around CRIU: start the streamer
 * process on the images folder, run CRIU with --stream, wait for the streamer, record
 * what it wrote.
 *
 * Nothing is lost when the streamer fails: CRIU's last write into a pipe is not yet on
 * disk when CRIU finishes, so a dump that would end the process runs CRIU with
 * --leave-stopped instead, and the process tree is killed only once the streamer has
 * written every shard and the index; if the streamer fails, the tree is continued. When
 * the daemon uploads the shards as they are written (DumpContext.pipeToStorage: remote
 * storage), they are safe only once stored: the tree stays stopped until the daemon says
 * (DumpContext.settleTree), and is ended or continued then.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CedanaError, type DumpAdapter, type Measured, processTree, type RestoreAdapter, Steps } from '@cedana/plugin-sdk';
import { ensureAddon } from './build-addon.js';
import type { StreamStats } from './capture.js';
import { socketName } from './control.js';
import { INDEX_FILE, shardName } from './format.js';
import { shortPathTo } from './short-path.js';
import { type StreamerRun, startStreamer } from './streamer-process.js';

/** How long a streamer may take to end by itself once CRIU failed. */
const STREAMER_GRACE_MS = 2000;

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** What checkpoint.json records under "streamer". */
export interface StreamerFacts {
  version: string;
  streams: number;
  compression: 'lz4';
  index: string;
  rawBytes: number;
  storedBytes: number;
  shards: StreamStats['shards'];
}

export const streamDump: DumpAdapter = (next) =>
  async function streamDump(ctx, req, res) {
    const streams = req.streams ?? 0;
    if (streams <= 0) return next(ctx, req, res);
    const steps = new Steps();
    const addon = await ensureAddon();
    // The total is not known until CRIU is done: the tree's resident memory is the estimate.
    let estimate = await residentBytes(ctx.pid);
    const progress = ctx.progress;
    // The socket's path must fit sun_path whatever the folder's length: CRIU and the streamer use a short name of it.
    const short = await shortPathTo(ctx.imagesDir);
    steps.mark('setup');
    // Remote storage: each shard is a pipe the daemon uploads from as it is written (no copy on this disk).
    const piped = ctx.pipeToStorage !== undefined;
    for (let i = 0; piped && i < streams; i++) await ctx.pipeToStorage?.(shardName(i));
    const streamer = startStreamer(
      'capture',
      short.path,
      streams,
      addon,
      (done) => {
        estimate = Math.max(estimate, done);
        progress?.(done, estimate, 'stream');
      },
      { piped },
    );
    const stopInstead = !ctx.criu.leaveRunning;
    try {
      await streamer.ready;
      steps.mark('streamerReady');
      // A second -D wins over the handler's: CRIU's images dir (and so its socket path) is the short name.
      ctx.criu.extraArgs.push('--stream', '-D', short.path, ...(stopInstead ? ['--leave-stopped'] : []));
      try {
        await next(ctx, req, res);
      } catch (err) {
        throw short.named(await explain(err, streamer), ctx.imagesDir);
      }
      steps.mark('criu');
      let stats: StreamStats;
      try {
        stats = await streamer.done;
      } catch (err) {
        if (stopInstead) await signalTree(ctx.pid, 'SIGCONT');
        throw short.named(err, ctx.imagesDir);
      }
      steps.mark('streamerDone'); // the last shard writes, their sha256s, the index
      if (stopInstead && piped) {
        // The shards are safe only once the daemon stored them: it says when (DumpContext.settleTree).
        const pid = ctx.pid;
        let settled = false;
        ctx.settleTree = async (stored) => {
          if (settled) return;
          settled = true;
          await signalTree(pid, stored ? 'SIGKILL' : 'SIGCONT');
        };
      } else if (stopInstead) await signalTree(ctx.pid, 'SIGKILL');
      steps.mark('settleTree');
      // Hashed as they were written: checkpoint.json takes these instead of reading the shards again.
      // A restore checks the shards chunk by chunk as it serves them, against the sha256s in the
      // index (itself checked whole first): `chunkDigests` tells it not to hash them up front.
      ctx.fileDigests = Object.fromEntries(
        stats.shards.flatMap((s) =>
          s.sha256 === undefined ? [] : [[s.shard, { size: s.storedBytes, sha256: s.sha256, chunkDigests: INDEX_FILE }]],
        ),
      );
      ctx.setSection({
        version,
        streams,
        compression: 'lz4',
        index: INDEX_FILE,
        rawBytes: stats.rawBytes,
        storedBytes: stats.storedBytes,
        shards: stats.shards,
      } satisfies StreamerFacts);
      addStats(ctx, stats);
      ctx.log.info({ streams, rawBytes: stats.rawBytes, storedBytes: stats.storedBytes, ms: stats.durationMs }, 'streamed the images');
      ctx.log.debug({ ms: steps.total(), steps: steps.ms }, 'streamed dump steps (ms)');
    } finally {
      streamer.kill();
      await rm(join(ctx.imagesDir, socketName('capture')), { force: true });
      await short.release();
    }
  };

export const streamRestore: RestoreAdapter = (next) =>
  async function streamRestore(ctx, req, res) {
    const streams = Number(ctx.section<StreamerFacts>()?.streams ?? 0);
    const asked = Number((req.details?.streamer as { streams?: number } | undefined)?.streams ?? 0);
    if (asked > 0 && asked !== streams) {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        streams
          ? `--streams ${asked} given, but the checkpoint was written as ${streams} streams`
          : `--streams ${asked} given, but the checkpoint was not written as streams`,
        {
          hint: streams
            ? `restore with --streams ${streams}, or leave --streams out: restore reads the count from checkpoint.json`
            : 'leave --streams out',
        },
      );
    }
    if (streams <= 0) return next(ctx, req, res);
    const steps = new Steps();
    const addon = await ensureAddon();
    const progress = ctx.progress;
    const short = await shortPathTo(ctx.imagesDir);
    // From remote storage the shards may still be arriving (ctx.arriving): the streamer waits for the chunks it serves,
    // and the progress shown is the download's (the serving follows it), not two phases taking turns.
    const onServed = ctx.arriving ? undefined : (done: number, total: number) => progress?.(done, total, 'stream');
    const streamer = startStreamer('serve', short.path, streams, addon, onServed, { arriving: ctx.arriving });
    try {
      await streamer.ready;
      steps.mark('streamerReady');
      ctx.criu.extraArgs.push('--stream', '-D', short.path);
      let started: Awaited<ReturnType<typeof next>>;
      try {
        started = await next(ctx, req, res);
      } catch (err) {
        throw short.named(await explain(err, streamer), ctx.imagesDir);
      }
      steps.mark('criu');
      streamer.stop();
      const stats = await streamer.done;
      steps.mark('streamerDone');
      addStats(ctx, stats);
      // rawBytes below the index's total: CRIU left part of an image unread (that part was not checked).
      const indexed = stats.shards.reduce((sum, s) => sum + s.rawBytes, 0);
      ctx.log.info({ streams, rawBytes: stats.rawBytes, indexedBytes: indexed, ms: stats.durationMs }, 'served the images from streams');
      ctx.log.debug({ ms: steps.total(), steps: steps.ms }, 'streamed restore steps (ms)');
      return started;
    } finally {
      streamer.kill();
      await rm(join(ctx.imagesDir, socketName('serve')), { force: true });
      await short.release();
    }
  };

/**
 * CRIU failed. CRIU's end closes the stream socket, and stop() ends a serving streamer,
 * so the streamer ends within moments; when it failed first (a damaged chunk, a full disk), its reason is
 * the one to tell, with CRIU's words after it.
 */
async function explain(criuError: unknown, streamer: StreamerRun): Promise<unknown> {
  streamer.stop();
  const settled = streamer.done.then(
    () => undefined,
    (err: unknown) => err,
  );
  const streamerError = await Promise.race([settled, sleep(STREAMER_GRACE_MS).then(() => undefined)]);
  streamer.kill();
  if (!(streamerError instanceof CedanaError)) return criuError;
  const criuText = criuError instanceof Error ? criuError.message : String(criuError);
  return new CedanaError(streamerError.code, streamerError.message, {
    details: [...streamerError.details, `then: ${criuText}`],
    cause: criuError,
  });
}

/** The streams' figures for --print-stats (ctx.stats, when asked for). */
function addStats(ctx: Measured, stats: StreamStats): void {
  if (!ctx.stats) return;
  const ns = stats.durationMs * 1e6;
  ctx.stats.streams = stats.shards.map((s, index) => ({
    index,
    path: s.shard,
    bytesRaw: s.rawBytes,
    bytesStored: s.storedBytes,
    writeNs: ns,
  }));
  ctx.stats.bytesRaw = stats.rawBytes;
  ctx.stats.bytesStored = stats.storedBytes;
  ctx.stats.writeNs = ns;
  ctx.stats.compression = 'lz4';
  ctx.stats.streamsPeakRssBytes = stats.peakRssBytes ?? 0;
}

/** Resident memory of `pid` and its descendants, in bytes (0 when unreadable). */
async function residentBytes(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** Sends `signal` to `pid` and every descendant (the tree CRIU dumped and left stopped). */
async function signalTree(pid: number, signal: NodeJS.Signals): Promise<void> {
  for (const p of await processTree(pid)) {
    try {
      process.kill(p, signal);
    } catch {
      // gone already
    }
  }
}
