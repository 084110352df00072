/**
 * Benchmark (not a test): checkpoints to and from S3-compatible storage (s3rver on loopback,
 * in this process) against plain AWS SDK transfers of the same bytes, in the same run:
 *
 * - dump:    `cedana dump job --dir s3://...` of a MEM_MIB job (each 4 KiB page half random,
 *            half zeros), in each of FORMS (`--streams 2`: the shards piped into their uploads;
 *            `--compression lz4`: one archive packed straight into a multipart upload, CRIU's
 *            images staged in STAGING_BASE) vs a lib-storage Upload from memory of as many bytes
 *            as the dump stored (same part size and queue);
 * - restore: `cedana restore job` from the bucket vs ranged GETs of the same objects, in
 *            parallel, same part size and queue, into memory and dropped.
 *
 * s3rver is slow (it writes every part to its folder and copies parts on complete): only the
 * ratios mean anything. Also the daemon's peak RSS (VmHWM, reset before each step) and the
 * streamer's (its VmHWM, from the dump's stats).
 *
 *   pnpm bench:s3        (ROUNDS=1 MEM_MIB=1024 FORMS='--streams 2|--compression lz4' STAGING_BASE=/dev/shm by default)
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';
import { TestS3 } from '../harness/s3.js';
import { memoryHog } from './memory-hog.js';

const ROUNDS = Number(process.env.ROUNDS ?? 1);
const MEM_MIB = Number(process.env.MEM_MIB ?? 1024);
/**
 * The forms dumped in each round, `|`-separated: N streams (shards piped into their uploads)
 * and an archive packed straight into one multipart upload.
 */
const FORMS = (process.env.FORMS ?? '--streams 2|--compression lz4').split('|').map((f) => f.trim().split(/\s+/));
/** Where the daemon stages CRIU's images: a tmpfs, as storage.staging_dir's default (STAGING_BASE=/tmp: the disk). */
const STAGING_BASE = process.env.STAGING_BASE ?? '/dev/shm';
const PART_MIB = 8;
const QUEUE = 4;
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

async function daemonPeak(d: TestDaemon, fn: () => Promise<unknown>): Promise<number> {
  await writeFile(`/proc/${d.pid}/clear_refs`, '5');
  daemonRssAtStart.push(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${d.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  await fn();
  const status = await readFile(`/proc/${d.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
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
  const flagDir = await mkdtemp('/tmp/cedana-bench-flag-');
  const rows: string[] = [];
  const runs: { form: string; dump: number; restore: number; rss: number }[] = [];
  try {
    for (let step = 0; step < ROUNDS * FORMS.length; step++) {
      const round = Math.floor(step / FORMS.length);
      const FORM = FORMS[step % FORMS.length] as string[];
      const jid = `s3bench-${step}`;
      const flag = join(flagDir, `${jid}.ready`);
      await d.ok(['run', 'process', '--jid', jid, '--env', 'UV_USE_IO_URING=0', '--', process.execPath, '-e', HOG, flag]);
      await waitFor(
        'the job filled its memory',
        async () => (await readFile(flag, 'utf8').catch(() => '')) === 'ready' || undefined,
        300_000,
      );
      const prefix = `r${step}`;
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
      const bodies = objects.map((o) => randomBytes(o.Size ?? 0));
      const plainUpS = await time(() =>
        Promise.all(
          objects.map(async (_o, i) => {
            await new Upload({
              client,
              params: { Bucket: BUCKET, Key: `plain-${step}/${i}`, Body: bodies[i] },
              partSize: PART_MIB << 20,
              queueSize: QUEUE,
            }).done();
          }),
        ),
      );
      bodies.length = 0;

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
      rows.push(
        `round ${round + 1}: ${MEM_MIB} MiB job, ${FORM.join(' ')}, ${(stored / (1 << 20)).toFixed(0)} MiB stored in ${objects.length} objects\n` +
          `  dump to s3     ${dumpS.toFixed(2)} s   plain Upload ${plainUpS.toFixed(2)} s   ratio ${(dumpS / plainUpS).toFixed(2)}` +
          `   (CRIU ${(Number(dumped.stats?.criuNs ?? 0) / 1e9).toFixed(2)} s, then packing and storing ${(Number(dumped.stats?.writeNs ?? 0) / 1e9).toFixed(2)} s)\n` +
          `  restore        ${restoreS.toFixed(2)} s   plain GETs   ${plainDownS.toFixed(2)} s   ratio ${(restoreS / plainDownS).toFixed(2)}` +
          `   (fetch ${(Number(restored.stats?.writeNs ?? 0) / 1e9).toFixed(2)} s, CRIU ${(Number(restored.stats?.criuNs ?? 0) / 1e9).toFixed(2)} s)\n` +
          `  peak RSS       daemon dump ${dumpMiB.toFixed(0)} MiB (from ${dumpFrom.toFixed(0)}), restore ${restoreMiB.toFixed(0)} MiB (from ${restoreFrom.toFixed(0)});` +
          ` streamer dump ${streamerMiB.toFixed(0)} MiB, restore ${servingMiB.toFixed(0)} MiB` +
          ` (daemon + streamer dumping ${(dumpMiB + streamerMiB).toFixed(0)} MiB, target 256)`,
      );
      console.log(rows.at(-1));
      runs.push({ form: FORM.join(' '), dump: dumpS / plainUpS, restore: restoreS / plainDownS, rss: dumpMiB + streamerMiB });
    }
    for (const form of FORMS.map((f) => f.join(' '))) {
      const of = runs.filter((r) => r.form === form);
      if (of.length < 2) continue;
      const spread = (xs: number[], digits: number) =>
        `median ${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
      console.log(
        `${of.length} rounds of ${form}: dump ratio ${spread(
          of.map((r) => r.dump),
          2,
        )}, restore ratio ${spread(
          of.map((r) => r.restore),
          2,
        )}, daemon + streamer peak RSS dumping ${spread(
          of.map((r) => r.rss),
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
