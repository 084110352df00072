/**
 * Benchmark (not a test): checkpoints to and from S3-compatible storage (s3rver on loopback,
 * in this process) against plain AWS SDK transfers of the same bytes, in the same run:
 *
 * - dump:    `cedana dump job --dir s3://... --streams 2` of a MEM_MIB job (each 4 KiB page
 *            half random, half zeros) vs a lib-storage Upload from memory of as many bytes as
 *            the dump stored (same part size and queue), with the SDK's defaults (a CRC32 and
 *            a sha256 of every part), and again with the storage's own client settings (neither:
 *            "lean", timed right before the dump (from round 2) and right after, the mean of both),
 *            which is the ratio of the dump's own overhead;
 * - restore: `cedana restore job` from the bucket vs ranged GETs of the same objects, in
 *            parallel, same part size and queue, into memory and dropped.
 *
 * s3rver is slow (it writes every part to its folder and copies parts on complete): only the
 * ratios mean anything. Also the daemon's peak RSS (VmHWM, reset before each step) and the
 * streamer's (its VmHWM, from the dump's stats).
 *
 *   pnpm bench:s3        (ROUNDS=1 MEM_MIB=1024 STREAMS=2 PART_MIB=8 QUEUE=4 STAGING_BASE=/dev/shm by default; STREAMS=0 COMPRESSION=lz4: an archive)
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { TestS3 } from '../harness/s3.js';
import { memoryHog } from './memory-hog.js';

const ROUNDS = Number(process.env.ROUNDS ?? 1);
const MEM_MIB = Number(process.env.MEM_MIB ?? 1024);
const STREAMS = Number(process.env.STREAMS ?? 2);
/** How the dump is stored: N streams, or (STREAMS=0) one archive in COMPRESSION. */
const FORM = STREAMS > 0 ? ['--streams', String(STREAMS)] : ['--compression', process.env.COMPRESSION ?? 'lz4'];
/** The storage's part size and queue, set on the daemon and on the plain transfers alike. */
const PART_MIB = Number(process.env.PART_MIB ?? 8);
const QUEUE = Number(process.env.QUEUE ?? 4);
/** Where the daemon stages an archive's CRIU images: a tmpfs, as storage.staging_dir's default (STAGING_BASE=/tmp: the disk). */
const STAGING_BASE = process.env.STAGING_BASE ?? '/dev/shm';
const BUCKET = 'bench';
const PID_SETTLE_MS = 2500;

const HOG = memoryHog(MEM_MIB);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The daemon's RSS when a step starts: its peak during the step cannot be lower (VmHWM is reset to it). */
const daemonRssAtStart: number[] = [];
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The daemon's CPU seconds (user + system) during each step: where the dump's time goes, beside the wall clock. */
const daemonCpuS: number[] = [];
async function cpuSeconds(pid: number): Promise<number> {
  // Fields 14 and 15 of /proc/PID/stat (after the command's closing parenthesis), in clock ticks of 1/100 s.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function daemonPeak(d: TestDaemon, fn: () => Promise<unknown>): Promise<number> {
  await writeFile(`/proc/${d.pid}/clear_refs`, '5');
  daemonRssAtStart.push(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${d.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  const cpuBefore = await cpuSeconds(d.pid);
  await fn();
  daemonCpuS.push((await cpuSeconds(d.pid)) - cpuBefore);
  const status = await readFile(`/proc/${d.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** A client set as the storage's (plugins/storage-s3/src/s3-client.ts): no CRC32 per part, bodies not hashed into signatures. */
function leanClient(s3: TestS3): S3Client {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      if (headers && ['UploadPartCommand', 'PutObjectCommand'].includes(context.commandName ?? ''))
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build' },
  );
  return client;
}

/** Objects of these sizes (random bytes, from memory), each through a plain lib-storage Upload, all at once: seconds. */
async function plainUploads(via: S3Client, prefix: string, sizes: number[]): Promise<number> {
  const bodies = sizes.map((n) => randomBytes(n));
  return time(() =>
    Promise.all(
      bodies.map((Body, i) =>
        new Upload({
          client: via,
          params: { Bucket: BUCKET, Key: `${prefix}/${i}`, Body },
          partSize: PART_MIB << 20,
          queueSize: QUEUE,
        }).done(),
      ),
    ),
  );
}

async function main(): Promise<void> {
  const s3 = await TestS3.start([BUCKET]);
  const staging = await mkdtemp(join(STAGING_BASE, 'cedana-bench-staging-'));
  const d = await TestDaemon.start({
    ...s3.env,
    CEDANA_STORAGE_STAGING_DIR: staging,
    CEDANA_STORAGE_S3_PART_SIZE_MIB: String(PART_MIB),
    CEDANA_STORAGE_S3_QUEUE: String(QUEUE),
    CEDANA_LOG_LEVEL: 'info',
  });
  const client = s3.client();
  const lean = leanClient(s3);
  const flagDir = await mkdtemp('/tmp/cedana-bench-flag-');
  const rows: string[] = [];
  const runs: { dump: number; dumpLean: number; restore: number; rss: number }[] = [];
  let lastSizes: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const jid = `s3bench-${round}`;
      const flag = join(flagDir, `${jid}.ready`);
      await d.ok(['run', 'process', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
      await waitFor(
        'the job filled its memory',
        async () => (await readFile(flag, 'utf8').catch(() => '')) === 'ready' || undefined,
        300_000,
      );
      const prefix = `r${round}`;
      const leanBeforeS = lastSizes.length > 0 ? await plainUploads(lean, `lean-before-${round}`, lastSizes) : undefined;
      let dumped: { stats?: { streamsPeakRssBytes?: number | string; criuNs?: number | string; writeNs?: number | string } } = {};
      let dumpS = 0;
      const dumpMiB = await daemonPeak(d, async () => {
        dumpS = await time(async () => {
          dumped = await d.json(['dump', 'job', jid, '--dir', `s3://${BUCKET}/${prefix}`, ...FORM, '--print-stats']);
        });
      });
      const objects = (await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }))).Contents ?? [];
      const stored = objects.reduce((sum, o) => sum + (o.Size ?? 0), 0);

      // The same number of bytes, from memory, in as many objects, through a plain lib-storage Upload each.
      const sizes = objects.map((o) => o.Size ?? 0);
      const plainUpS = await plainUploads(client, `plain-${round}`, sizes);
      const leanAfterS = await plainUploads(lean, `lean-after-${round}`, sizes);
      // The load drifts: the lean baseline is the mean of one right before the dump (the last round's sizes) and one right after.
      const leanUpS = leanBeforeS === undefined ? leanAfterS : (leanBeforeS + leanAfterS) / 2;
      lastSizes = sizes;

      await sleep(PID_SETTLE_MS);
      let restoreS = 0;
      let restored: { stats?: { writeNs?: number | string; criuNs?: number | string; streamsPeakRssBytes?: number | string } } = {};
      const restoreMiB = await daemonPeak(d, async () => {
        restoreS = await time(async () => {
          restored = await d.json(['restore', 'job', jid, '--print-stats']);
        });
      });
      // Ranged GETs of the dump's own objects, QUEUE in flight per object, dropped as they arrive.
      const plainDownS = await time(() =>
        Promise.all(
          objects.map(async (o) => {
            // The daemon's own settings: 2 objects at once would be fairer, all at once is the plain best case.
            const size = (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: o.Key }))).ContentLength ?? 0;
            let next = 0;
            const worker = async () => {
              while (next < size) {
                const start = next;
                next = Math.min(size, start + (PART_MIB << 20));
                const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key, Range: `bytes=${start}-${next - 1}` }));
                await r.Body?.transformToByteArray();
              }
            };
            await Promise.all(Array.from({ length: QUEUE }, worker));
          }),
        ),
      );
      await d.ok(['job', 'kill', jid]);
      const streamerMiB = Number(dumped.stats?.streamsPeakRssBytes ?? 0) / (1 << 20);
      const servingMiB = Number(restored.stats?.streamsPeakRssBytes ?? 0) / (1 << 20);
      const [dumpFrom, restoreFrom] = daemonRssAtStart.slice(-2) as [number, number];
      const [dumpCpu, restoreCpu] = daemonCpuS.slice(-2) as [number, number];
      rows.push(
        `round ${round + 1}: ${MEM_MIB} MiB job, ${FORM.join(' ')}, parts of ${PART_MIB} MiB x ${QUEUE}, ${(stored / (1 << 20)).toFixed(0)} MiB stored in ${objects.length} objects\n` +
          `  dump to s3     ${dumpS.toFixed(2)} s   plain Upload ${plainUpS.toFixed(2)} s   ratio ${(dumpS / plainUpS).toFixed(2)}` +
          `   (lean plain Upload ${leanUpS.toFixed(2)} s${leanBeforeS === undefined ? '' : ` (before ${leanBeforeS.toFixed(2)}, after ${leanAfterS.toFixed(2)})`}, ratio ${(dumpS / leanUpS).toFixed(2)})` +
          `   (CRIU ${(Number(dumped.stats?.criuNs ?? 0) / 1e9).toFixed(2)} s, then packing and storing ${(Number(dumped.stats?.writeNs ?? 0) / 1e9).toFixed(2)} s)\n` +
          `  restore        ${restoreS.toFixed(2)} s   plain GETs   ${plainDownS.toFixed(2)} s   ratio ${(restoreS / plainDownS).toFixed(2)}` +
          `   (fetch ${(Number(restored.stats?.writeNs ?? 0) / 1e9).toFixed(2)} s, CRIU ${(Number(restored.stats?.criuNs ?? 0) / 1e9).toFixed(2)} s)\n` +
          `  peak RSS       daemon dump ${dumpMiB.toFixed(0)} MiB (from ${dumpFrom.toFixed(0)}), restore ${restoreMiB.toFixed(0)} MiB (from ${restoreFrom.toFixed(0)});` +
          ` streamer dump ${streamerMiB.toFixed(0)} MiB, restore ${servingMiB.toFixed(0)} MiB` +
          ` (daemon + streamer dumping ${(dumpMiB + streamerMiB).toFixed(0)} MiB, target 256)\n` +
          `  daemon CPU     dump ${dumpCpu.toFixed(2)} s, restore ${restoreCpu.toFixed(2)} s`,
      );
      console.log(rows.at(-1));
      runs.push({ dump: dumpS / plainUpS, dumpLean: dumpS / leanUpS, restore: restoreS / plainDownS, rss: dumpMiB + streamerMiB });
    }
    if (runs.length > 1) {
      const spread = (xs: number[], digits: number) =>
        `median ${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
      console.log(
        `${runs.length} rounds: dump ratio ${spread(
          runs.map((r) => r.dump),
          2,
        )} (lean ${spread(
          runs.map((r) => r.dumpLean),
          2,
        )}), restore ratio ${spread(
          runs.map((r) => r.restore),
          2,
        )}, daemon + streamer peak RSS dumping ${spread(
          runs.map((r) => r.rss),
          0,
        )} MiB`,
      );
    }
  } finally {
    // The daemon's log (step timings) outlives its temp dir.
    await copyFile(join(d.dir, 'daemon.log'), '/tmp/cedana-s3-bench-daemon.log').catch(() => {});
    await d.stop();
    await s3.remove();
    await rm(staging, { recursive: true, force: true });
    await rm(flagDir, { recursive: true, force: true });
  }
}

await main();
