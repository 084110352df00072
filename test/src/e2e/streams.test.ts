/**
 * `--streams N`: CRIU's --stream mode into the streamer plugin, which writes N lz4 shards
 * and serves them back on restore. Real CRIU, real daemon, the installed streamer plugin.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { bigCounter, counts, digests, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string; compression: string; streams: number };
}

/** What a restore writes into the folder it restores from (not part of the checkpoint). */
const RESTORE_LOGS = ['restore.log', 'stats-restore'];

/**
 * Rewrites a streamed checkpoint as the streamer wrote it before index format 2: a crc32
 * of each chunk's body instead of its sha256, and checkpoint.json without chunkDigests
 * (so a restore hashes the shards whole first), with the new index's sha256.
 */
async function toFormat1(dir: string): Promise<void> {
  const index = JSON.parse(await readFile(join(dir, 'img-index.json'), 'utf8'));
  const shards = await Promise.all(index.shards.map((_: number, i: number) => readFile(join(dir, `img-${i}.lz4`))));
  index.format = 1;
  for (const image of index.images) {
    for (const c of image.chunks) {
      c.c = crc32((shards[c.s] as Buffer).subarray(c.o + 16, c.o + 16 + c.n));
      delete c.h;
    }
  }
  const text = JSON.stringify(index);
  await writeFile(join(dir, 'img-index.json'), text);
  const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
  for (const f of Object.values(manifest.files) as { chunkDigests?: string }[]) delete f.chunkDigests;
  manifest.files['img-index.json'] = { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
  await writeFile(join(dir, 'checkpoint.json'), JSON.stringify(manifest, null, 2));
}

describe('checkpoint streams (--streams N, the streamer plugin)', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const start = async (jid: string, mib = 24) => {
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--jid', jid, '--', ...bigCounter(file, mib)]);
    await waitForCount(file, 3);
    return file;
  };

  for (const streams of [1, 2, 4]) {
    it(`dumps into ${streams} lz4 stream(s) and restores from them: the count goes on`, async () => {
      const jid = `streams-${streams}`;
      const file = await start(jid);
      const dump = await d.cli(['dump', 'job', jid, '--streams', String(streams), '--progress', '--print-stats']);
      assert.equal(dump.code, 0, dump.stderr);
      assert.match(dump.stderr, new RegExp(`^dumping job ${jid}: stream \\d+% `, 'm'), 'progress of the streams');
      for (let i = 0; i < streams; i++) {
        assert.match(
          dump.stderr,
          new RegExp(`^ {2}stream ${i} +\\d+\\.\\d MiB -> \\d+\\.\\d MiB .*img-${i}\\.lz4$`, 'm'),
          `stats of stream ${i}`,
        );
      }
      assert.match(dump.stderr, /^ {2}streams memory +\d+(\.\d+)? MiB peak$/m, "the streamer's peak memory");
      const dumped = await job(jid);
      assert.equal(dumped.lastCheckpoint?.compression, 'lz4');
      assert.equal(dumped.lastCheckpoint?.streams, streams);
      const dir = dumped.lastCheckpoint?.path as string;
      const files = await readdir(dir);
      for (let i = 0; i < streams; i++) {
        assert.ok(files.includes(`img-${i}.lz4`), `shard img-${i}.lz4 in ${files.join(' ')}`);
        assert.ok((await stat(join(dir, `img-${i}.lz4`))).size > 1 << 20, `img-${i}.lz4 holds a share of the memory`);
      }
      assert.ok(files.includes('img-index.json'));
      assert.deepEqual(
        files.filter((f) => f.endsWith('.img')),
        [],
        'no uncompressed image was written',
      );
      assert.ok(!files.some((f) => f.endsWith('.sock')), 'the stream socket is gone');
      const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
      assert.equal(manifest.sections.streamer.streams, streams);
      for (let i = 0; i < streams; i++) {
        const real = createHash('sha256')
          .update(await readFile(join(dir, `img-${i}.lz4`)))
          .digest('hex');
        assert.equal(manifest.files[`img-${i}.lz4`]?.sha256, real, `checkpoint.json has the sha256 of img-${i}.lz4`);
      }
      assert.equal(manifest.fileDigests, undefined, 'the hand-over of digests is not part of checkpoint.json');
      assert.ok(manifest.sections.streamer.storedBytes < manifest.sections.streamer.rawBytes * 0.75, 'the half-zero memory was compressed');

      if (streams === 2) {
        // inspect reads the small images out of the shards, never the pages
        const id = (await d.json<{ id: string; jid: string }[]>(['checkpoints'])).find((c) => c.jid === jid)?.id as string;
        const seen = await d.json<{ summary: { processes: { comm: string }[] } }>(['checkpoint', 'inspect', id]);
        assert.ok(
          seen.summary.processes.some((p) => p.comm === 'perl'),
          JSON.stringify(seen.summary.processes),
        );
      }

      const atDump = await lastCount(file);
      await d.ok(['restore', 'job', jid]);
      assert.equal((await job(jid)).state.status, 'running');
      await waitForCount(file, atDump + 3);
      const all = await counts(file);
      assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, 'the next count follows the last one before the dump');
      // Its memory came back byte for byte (restore hands CRIU the pages without copying them: slots.ts).
      process.kill((await job(jid)).state.pid, 'SIGUSR1');
      const [before, after] = await waitFor('the md5 after the restore', async () => {
        const seen = await digests(file);
        return seen.length >= 2 ? seen : undefined;
      });
      assert.equal(after, before, 'the restored memory has the md5 it had when it was dumped');
      await d.ok(['job', 'kill', jid]);
    });
  }

  describe('a damaged streamed checkpoint is refused, naming what is wrong, and nothing starts', () => {
    let good: string;
    /** The count file of the dumped job: a restored task that ran would write its next count into it. */
    let countFile: string;
    before(async () => {
      countFile = await start('damage-src');
      await d.ok(['dump', 'job', 'damage-src', '--streams', '2', '--leave-running']);
      good = (await job('damage-src')).lastCheckpoint?.path as string;
      await d.ok(['job', 'kill', 'damage-src']);
      await waitFor('killed', async () => ((await job('damage-src')).state.status === 'exited' ? true : undefined));
    });

    const damaged = async (name: string, damage: (dir: string) => Promise<void>) => {
      const dir = join(d.dir, `damaged-${name}`);
      await cp(good, dir, { recursive: true });
      await damage(dir);
      return dir;
    };
    const sha256Of = async (path: string) =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
    const contents = async (dir: string) =>
      Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (f) => [f, await sha256Of(join(dir, f))])));
    const refused = async (dir: string, jid: string, pattern: RegExp, extra: string[] = []) => {
      const counted = await readFile(countFile, 'utf8');
      const files = await contents(dir);
      for (const f of RESTORE_LOGS) delete files[f];
      const r = await d.cli(['restore', 'process', '--path', dir, '--jid', jid, ...extra]);
      assert.notEqual(r.code, 0, 'the restore must fail');
      assert.match(r.stderr, pattern);
      const j = (await d.json<JobJson[]>(['ps'])).find((x) => x.jid === jid);
      assert.ok(j?.state.status !== 'running', 'no job was started');
      await sleep(300); // the counter writes every 0.1 s: a restored task left running would have by now
      assert.equal(await readFile(countFile, 'utf8'), counted, 'no restored task ran: the count did not go on');
      const left = await contents(dir);
      for (const f of RESTORE_LOGS) delete left[f];
      assert.deepEqual(left, files, 'the checkpoint is unchanged');
      return r.stderr;
    };
    /** Flips a byte at `at` of `shard` in `dir`. */
    const flip = async (dir: string, shard: string, at: (size: number) => number) => {
      const f = await open(join(dir, shard), 'r+');
      const { size } = await f.stat();
      const b = Buffer.alloc(1);
      await f.read(b, 0, 1, at(size));
      b[0] = (b[0] as number) ^ 0xff;
      await f.write(b, 0, 1, at(size));
      await f.close();
    };

    it('a changed byte in a shard: found while serving CRIU, before the restored process runs, naming the chunk', async () => {
      const dir = await damaged('byte', (dir) => flip(dir, 'img-1.lz4', (size) => Math.floor(size / 2)));
      await refused(dir, 'r-byte', /chunk of pages-\d+\.img at byte \d+ of img-1\.lz4 does not match its sha256 in img-index\.json/);
    });

    it('a changed byte in the last chunk of a shard (served last, after the pages before it)', async () => {
      const dir = await damaged('last', (dir) => flip(dir, 'img-0.lz4', (size) => size - 1));
      await refused(dir, 'r-last', /chunk of \S+ at byte \d+ of img-0\.lz4 does not match its sha256 in img-index\.json/);
    });

    it('a checkpoint of index format 1 (a crc32 per chunk): its shards are hashed whole before CRIU starts', async () => {
      const dir = await damaged('format1', (dir) => toFormat1(dir));
      await d.ok(['restore', 'process', '--path', dir, '--jid', 'r-format1']);
      assert.equal((await job('r-format1')).state.status, 'running');
      await d.ok(['job', 'kill', 'r-format1']);
      const bad = await damaged('format1-byte', async (dir) => {
        await toFormat1(dir);
        await flip(dir, 'img-1.lz4', (size) => Math.floor(size / 2));
      });
      await refused(bad, 'r-format1-byte', /checkpoint file img-1\.lz4 does not match its sha256 in checkpoint\.json/);
    });

    it('a truncated shard', async () => {
      const dir = await damaged('trunc', async (dir) => {
        const { size } = await stat(join(dir, 'img-0.lz4'));
        await truncate(join(dir, 'img-0.lz4'), size - 100);
      });
      await refused(dir, 'r-trunc', /img-0\.lz4 has \d+ bytes, expected \d+/);
    });

    it('a missing shard', async () => {
      const dir = await damaged('missing', (dir) => rm(join(dir, 'img-1.lz4')));
      await refused(dir, 'r-missing', /img-1\.lz4 is missing/);
    });

    it('a tampered index', async () => {
      const dir = await damaged('index', async (dir) => {
        const index = JSON.parse(await readFile(join(dir, 'img-index.json'), 'utf8'));
        index.images[0].size += 1;
        await writeFile(join(dir, 'img-index.json'), JSON.stringify(index));
      });
      await refused(dir, 'r-index', /img-index\.json/);
    });

    it('a wrong stream count', async () => {
      const dir = await damaged('count', async () => {});
      await refused(dir, 'r-count', /--streams 3 given, but the checkpoint was written as 2 streams/, ['--streams', '3']);
    });

    it('and the undamaged checkpoint still restores', async () => {
      await d.ok(['restore', 'process', '--path', good, '--jid', 'r-good']);
      assert.equal((await job('r-good')).state.status, 'running');
      await d.ok(['job', 'kill', 'r-good']);
    });
  });

  it('a streamer that dies half way: the dump fails, the job keeps running, no checkpoint is recorded', async () => {
    const jid = 'streamer-dies';
    // Big enough to take a good fraction of a second to stream: the shards are watched every 10 ms.
    const file = await start(jid, 512);
    const dir = join(d.dir, 'dies');
    await mkdir(dir);
    const dump = d.cli(['dump', 'job', jid, '--streams', '2', '--dir', dir]);
    // Kill the streamer once it has written some of the shards.
    let killed: string[] = [];
    for (const deadline = Date.now() + 20_000; killed.length === 0 && Date.now() < deadline; await sleep(10)) {
      const ckpt = (await readdir(dir).catch(() => [] as string[]))[0];
      const size = ckpt ? ((await stat(join(dir, ckpt, 'img-0.lz4')).catch(() => undefined))?.size ?? 0) : 0;
      if (size < 1 << 20) continue;
      // Only this daemon's streamer (-P): other daemons on the machine may be streaming too.
      try {
        killed = execFileSync('pgrep', ['-P', String(d.pid), '-f', 'cedana-streamer capture'], { encoding: 'utf8' })
          .trim()
          .split('\n');
      } catch {
        continue; // pgrep exits 1 when nothing matches
      }
      for (const pid of killed) process.kill(Number(pid), 'SIGKILL');
    }
    assert.ok(killed.length > 0, 'the streamer was caught writing its shards');
    const r = await dump;
    assert.notEqual(r.code, 0, 'the dump must fail');
    assert.match(r.stderr, /streamer/i);
    assert.equal((await job(jid)).state.status, 'running');
    const before = await lastCount(file);
    await waitForCount(file, before + 2);
    assert.deepEqual(await readdir(dir), [], 'the partial checkpoint was removed');
    const list = await d.json<{ jid: string }[]>(['checkpoints']);
    assert.ok(!list.some((c) => c.jid === jid), 'no checkpoint recorded');
    await d.ok(['job', 'kill', jid]);
  });

  it('a full disk during a streamed dump: the job keeps running, the partial shards are removed', async () => {
    const jid = 'streams-full';
    const file = await start(jid, 48);
    const small = join(d.dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
    try {
      const r = await d.cli(['dump', 'job', jid, '--streams', '2', '--dir', small]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /CEDANA_ERR_NO_SPACE|no space left/i, `code ${r.code}, stdout: ${r.stdout}`);
      assert.equal((await job(jid)).state.status, 'running');
      const before = await lastCount(file);
      await waitForCount(file, before + 2);
      assert.deepEqual(await readdir(small), [], 'nothing left on the full disk');
    } finally {
      execFileSync('umount', ['-l', small]);
    }
    await d.ok(['job', 'kill', jid]);
  });

  it('refuses --streams with a compression the streams do not use', async () => {
    const file = await start('streams-gzip', 1);
    void file;
    const r = await d.cli(['dump', 'job', 'streams-gzip', '--streams', '2', '--compression', 'gzip']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--streams 2 writes lz4 streams, found --compression gzip/);
    assert.equal((await job('streams-gzip')).state.status, 'running');
    await d.ok(['job', 'kill', 'streams-gzip']);
  });
});

describe('checkpoint.streams in the config', () => {
  it('streams a process dump that does not say --streams, in lz4 whatever checkpoint.compression says', async () => {
    const d = await TestDaemon.start({ CEDANA_CHECKPOINT_STREAMS: '2', CEDANA_CHECKPOINT_COMPRESSION: 'gzip' });
    try {
      const file = join(d.dir, 'cfg.count');
      await d.ok(['run', 'process', '--jid', 'cfg', '--', ...bigCounter(file, 4)]);
      await waitForCount(file, 3);
      await d.ok(['dump', 'job', 'cfg']);
      const c = (await d.json<{ jid: string; compression: string; streams: number }[]>(['checkpoints'])).find((x) => x.jid === 'cfg');
      assert.deepEqual([c?.compression, c?.streams], ['lz4', 2]);
      const atDump = await lastCount(file);
      await d.ok(['restore', 'job', 'cfg']);
      await waitForCount(file, atDump + 2);
      await d.ok(['job', 'kill', 'cfg']);

      // After streamed work the daemon keeps one spare streamer waiting; it must end with the daemon.
      const spares = () => {
        try {
          return execFileSync('pgrep', ['-P', String(d.pid), '-f', 'cedana-streamer standby'], { encoding: 'utf8' })
            .trim()
            .split('\n');
        } catch {
          return undefined; // pgrep exits 1 when nothing matches
        }
      };
      const spare = await waitFor('a spare streamer', spares, 10_000);
      assert.equal(spare.length, 1, 'one spare');
      process.kill(d.pid, 'SIGKILL');
      await waitFor('the spare to end with the daemon', () => (isGone(Number(spare[0])) ? true : undefined), 10_000);
    } finally {
      await d.stop();
    }
  });
});

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
