/**
 * A damaged checkpoint is refused before anything starts, with the reason and the file,
 * and the checkpoint is left as it was: folders and archives made by real CRIU dumps.
 * A folder's page files are verified while CRIU restores, which holds the restored tasks
 * until then: a damaged byte anywhere in them fails the restore before the restored counter
 * runs (it never writes again). So are an archive's, which CRIU reads as the archive is
 * read (no unpacked copy of them): a tar archive's changed page byte is caught the same way.
 * (Streamed checkpoints: streams.test.ts; paths escaping an archive: checkpoint/unpack.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counterScript, counts, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string };
}

async function flipByte(path: string, at: (size: number) => number): Promise<void> {
  const f = await open(path, 'r+');
  const { size } = await f.stat();
  const b = Buffer.alloc(1);
  await f.read(b, 0, 1, at(size));
  b[0] = (b[0] as number) ^ 0xff;
  await f.write(b, 0, 1, at(size));
  await f.close();
}

/** What CRIU writes into the images folder it restores from: its log, for the user. */
const RESTORE_OUTPUTS = ['restore.log', 'stats-restore'];

/** sha256 of every file under `path` (or of the file) but CRIU's log: to show a refused restore changed nothing. */
async function fingerprint(path: string): Promise<string> {
  const hash = createHash('sha256');
  if ((await stat(path)).isFile()) return hash.update(await readFile(path)).digest('hex');
  const names = (await readdir(path)).filter((name) => !RESTORE_OUTPUTS.includes(name)).sort();
  for (const name of names) hash.update(name).update(await readFile(join(path, name)));
  return hash.digest('hex');
}

describe('a damaged checkpoint is refused and left as it was', () => {
  let d: TestDaemon;
  let folder: string;
  let archive: string;
  let tarArchive: string;
  let file: string;
  before(async () => {
    d = await TestDaemon.start();
    file = join(d.dir, 'src.count');
    await d.ok(['run', 'process', '--jid', 'src', '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    const job = async () => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === 'src') as JobJson;
    await d.ok(['dump', 'job', 'src', '--leave-running', '--compression', 'none']);
    folder = (await job()).lastCheckpoint?.path as string;
    await d.ok(['dump', 'job', 'src', '--leave-running', '--compression', 'lz4']);
    archive = (await job()).lastCheckpoint?.path as string;
    await d.ok(['dump', 'job', 'src', '--leave-running', '--compression', 'tar']);
    tarArchive = (await job()).lastCheckpoint?.path as string;
    await d.ok(['job', 'kill', 'src']);
    await waitFor('src exited', async () => ((await job()).state.status === 'exited' ? true : undefined));
  });
  after(async () => {
    await d.stop();
  });

  const copyOf = async (src: string, name: string) => {
    const dest = join(d.dir, `${name}${/\.tar(\.lz4)?$/.exec(src)?.[0] ?? ''}`);
    await cp(src, dest, { recursive: true });
    return dest;
  };
  const refused = async (path: string, jid: string, pattern: RegExp) => {
    const before = await fingerprint(path);
    const r = await d.cli(['restore', 'process', '--path', path, '--jid', jid]);
    assert.notEqual(r.code, 0, 'the restore must fail');
    assert.match(r.stderr, pattern);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.ok(!(await d.json<JobJson[]>(['ps'])).some((j) => j.jid === jid && j.state.status === 'running'), 'nothing started');
    assert.equal(await fingerprint(path), before, 'the checkpoint is left as it was');
  };
  const pagesOf = async (dir: string) => (await readdir(dir)).find((f) => f.startsWith('pages-')) as string;

  const spots: [string, (size: number) => number][] = [
    ['first', () => 0],
    ['middle', (size) => Math.floor(size / 2)],
    ['last', (size) => size - 1],
  ];
  for (const [spot, at] of spots) {
    it(`a folder with its ${spot} page byte changed: CRIU restores, but no restored task runs`, async () => {
      const dir = await copyOf(folder, `changed-${spot}`);
      const pages = await pagesOf(dir);
      const byte = at((await stat(join(dir, pages))).size);
      await flipByte(join(dir, pages), () => byte);
      const written = await counts(file);
      // Named with the 4 MiB piece that holds the changed byte (checkpoint.json's xxh64 of each).
      const piece = Math.floor(byte / (4 << 20)) * (4 << 20);
      await refused(dir, `changed-${spot}`, new RegExp(`${pages} does not match its xxh64 in checkpoint\\.json at bytes ${piece}-`));
      // The restored counter would append within 0.1 s: it never ran.
      await sleep(1000);
      assert.deepEqual(await counts(file), written, 'the restored counter never wrote');
      const log = await readFile(join(dir, 'restore.log'), 'utf8');
      // On a busy machine another process may hold the dumped PID; CRIU then fails to fork
      // and the check settles while the engine waits to retry: no task ran either way.
      if (!/Can't fork for \d+: File exists/.test(log)) {
        assert.match(log, /Aborting restore due to post-restore script/, 'CRIU was stopped at post-restore, before the tasks resumed');
      }
    });
  }

  it('a folder with a changed byte in a small image is refused before CRIU starts', async () => {
    const dir = await copyOf(folder, 'changed-core');
    const core = (await readdir(dir)).find((f) => f.startsWith('core-')) as string;
    await flipByte(join(dir, core), (size) => Math.floor(size / 2));
    await refused(dir, 'changed-core', new RegExp(`${core} does not match its sha256`));
    assert.ok(!(await readdir(dir)).includes('restore.log'), 'CRIU never ran');
  });

  it('a folder with a truncated image', async () => {
    const dir = await copyOf(folder, 'truncated');
    const pages = await pagesOf(dir);
    await truncate(join(dir, pages), 4096);
    await refused(dir, 'truncated', new RegExp(`${pages} has 4096 bytes, expected \\d+`));
  });

  it('a folder with an image missing', async () => {
    const dir = await copyOf(folder, 'incomplete');
    const core = (await readdir(dir)).find((f) => f.startsWith('core-')) as string;
    await rm(join(dir, core));
    await refused(dir, 'incomplete', new RegExp(`${core} is missing`));
  });

  it('a checkpoint made by an incompatible version', async () => {
    const dir = await copyOf(folder, 'future');
    const manifest = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
    manifest.format = 99;
    manifest.host.cedana = '9.0.0';
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify(manifest));
    await refused(dir, 'future', /checkpoint format 99 \(made by cedana 9\.0\.0\) is not one this cedana .* reads \(formats 1, 2\)/);
  });

  it('a tar archive with a page byte changed: CRIU restores from it, but no restored task runs', async () => {
    const path = await copyOf(tarArchive, 'changed-tar');
    const tar = await readFile(path);
    // The page file's tar header (pages-*.img come last), then its first block of contents.
    let header = 0;
    while (!tar.toString('latin1', header, header + 6).startsWith('pages-')) header += 512;
    const pages = tar.toString('latin1', header, tar.indexOf(0, header));
    await flipByte(path, () => header + 512 + 1000);
    const written = await counts(file);
    await refused(path, 'changed-tar', new RegExp(`${pages} does not match its xxh64 in checkpoint\\.json at bytes 0-`));
    await sleep(1000);
    assert.deepEqual(await counts(file), written, 'the restored counter never wrote');
    const logs = (await readdir(d.dir)).filter((f) => f.startsWith('changed-tar.tar.restore-') && f.endsWith('.log'));
    const log = await readFile(join(d.dir, logs[0] as string), 'utf8');
    // CRIU stops at post-restore, or earlier: at the next page file, which is not sent once one failed.
    assert.doesNotMatch(log, /Restore finished successfully/, log.slice(-1500));
  });

  it('an lz4 archive with a changed byte', async () => {
    const file = await copyOf(archive, 'changed-archive');
    await flipByte(file, (size) => Math.floor(size * 0.6));
    await refused(file, 'changed-archive', /changed-archive\.tar\.lz4|does not match|checksum/);
  });

  it('a truncated lz4 archive', async () => {
    const file = await copyOf(archive, 'cut-archive');
    await truncate(file, Math.floor((await stat(file)).size / 2));
    await refused(file, 'cut-archive', /cut-archive\.tar\.lz4/);
  });

  it('and the undamaged ones still restore', async () => {
    for (const [path, jid] of [
      [archive, 'good'],
      [folder, 'good-folder'],
    ] as const) {
      const before = (await counts(file)).length;
      await d.ok(['restore', 'process', '--path', path, '--jid', jid]);
      assert.equal((await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid)?.state.status, 'running');
      await waitFor('the restored counter counts on', async () => ((await counts(file)).length > before ? true : undefined));
      await d.ok(['job', 'kill', jid]);
      await waitFor(`${jid} exited`, async () =>
        (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid)?.state.status === 'exited' ? true : undefined,
      );
    }
  });
});
