/**
 * Issue 13, items 4, 8, 9: checkpoints are private (folders 0700, files 0600, CRIU's
 * images and the streamer's shards too, and checkpoint.dir when cedana creates it); a
 * checkpoint folder holds only what checkpoint.json lists; `--streams` works whatever
 * the length of the checkpoint folder's path, and a huge `--streams` is refused.
 * Real CRIU, real daemon, the installed streamer plugin.
 */
import assert from 'node:assert/strict';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string; streams: number };
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** The modes of a folder and of everything in it, by name ('.' the folder). */
async function modes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = { '.': await modeOf(dir) };
  for (const name of await readdir(dir, { recursive: true })) out[name] = await modeOf(join(dir, name));
  return out;
}

describe('checkpoints stay private and whole, streams whatever the path', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const start = async (jid: string) => {
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--jid', jid, '--', ...counterScript(file)]);
    await waitForCount(file, 3);
    return file;
  };
  const stopJob = async (jid: string) => {
    await d.ok(['job', 'kill', jid]);
    await waitFor(`${jid} exited`, async () => ((await job(jid)).state.status === 'exited' ? true : undefined));
  };

  it('gh-13: a dump makes checkpoint.dir, its folder 0700 and every file in it 0600; an archive is 0600', async () => {
    await start('private');
    const checkpoints = join(d.dir, 'new', 'checkpoints');
    await d.ok(['dump', 'job', 'private', '--leave-running', '--compression', 'none', '--dir', checkpoints]);
    assert.equal(await modeOf(checkpoints), 0o700, 'checkpoint.dir is created 0700');
    const folder = (await job('private')).lastCheckpoint?.path as string;
    const found = await modes(folder);
    assert.ok(
      Object.keys(found).some((n) => n.startsWith('pages-')),
      `CRIU's pages are there: ${Object.keys(found).join(' ')}`,
    );
    const wrong = Object.entries(found).filter(([name, mode]) => mode !== (name === '.' ? 0o700 : 0o600));
    assert.deepEqual(wrong, [], 'folder 0700, files 0600');

    await d.ok(['dump', 'job', 'private', '--leave-running', '--compression', 'lz4', '--dir', checkpoints]);
    assert.equal(await modeOf((await job('private')).lastCheckpoint?.path as string), 0o600);
    await stopJob('private');
  });

  it('gh-13: a file added to a checkpoint folder makes its restore fail naming it; without it the folder restores, twice', async () => {
    const file = await start('extra');
    await d.ok(['dump', 'job', 'extra', '--compression', 'none']);
    await waitFor('extra exited', async () => ((await job('extra')).state.status !== 'running' ? true : undefined));
    const folder = (await job('extra')).lastCheckpoint?.path as string;
    const added = join(folder, 'pages-9.img');
    await writeFile(added, 'not from the dump');
    const refused = await d.cli(['restore', 'process', '--path', folder, '--jid', 'extra-1']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.match(refused.stderr, /checkpoint file pages-9\.img in .* is not listed in checkpoint\.json/);

    await rm(added);
    // A restore in place leaves CRIU's restore.log in the folder: the next restore still accepts it.
    for (const jid of ['extra-1', 'extra-2']) {
      const atStart = await lastCount(file);
      const r = await d.cli(['restore', 'process', '--path', folder, '--jid', jid]);
      assert.equal(r.code, 0, r.stderr);
      await waitForCount(file, atStart + 2);
      await stopJob(jid);
    }
  });

  it('gh-13: --streams works when the checkpoint folder path is longer than a unix socket path', async () => {
    const file = await start('long');
    const deep = join(d.dir, 'a-rather-long-folder-name-for-checkpoints', 'x'.repeat(60), 'more');
    const dump = await d.cli(['dump', 'job', 'long', '--streams', '2', '--dir', deep]);
    assert.equal(dump.code, 0, dump.stderr);
    const ckpt = (await job('long')).lastCheckpoint;
    assert.ok((ckpt?.path.length ?? 0) > 150, `the checkpoint path is ${ckpt?.path.length} bytes`);
    assert.equal(ckpt?.streams, 2);
    const found = await modes(ckpt?.path as string);
    assert.deepEqual(
      Object.keys(found)
        .filter((n) => n.startsWith('img-'))
        .map((n) => [n, found[n]]),
      [
        ['img-0.lz4', 0o600],
        ['img-1.lz4', 0o600],
        ['img-index.json', 0o600],
      ],
      'the shards are private',
    );
    const atDump = await lastCount(file);
    const r = await d.cli(['restore', 'job', 'long']);
    assert.equal(r.code, 0, r.stderr);
    await waitForCount(file, atDump + 2);
    await stopJob('long');
  });

  it('gh-13: --streams 1000 is refused before anything is touched, naming the limit and its config key', async () => {
    await start('many');
    const r = await d.cli(['dump', 'job', 'many', '--streams', '1000']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_INVALID_ARGUMENT/);
    assert.match(r.stderr, /--streams must be at most 64, found 1000/);
    assert.match(r.stderr, /checkpoint\.max_streams/);
    assert.equal((await job('many')).state.status, 'running');
    assert.equal((await job('many')).lastCheckpoint, undefined);
    await stopJob('many');
  });

  it('gh-13: a --name that leaves --dir is refused, and nothing is made outside it', async () => {
    await start('named');
    const dir = join(d.dir, 'named', 'checkpoints');
    for (const name of ['../escape', '..', 'a/b']) {
      const r = await d.cli(['dump', 'job', 'named', '--leave-running', '--dir', dir, '--name', name]);
      assert.equal(r.code, 2, r.stderr); // a usage error: the CLI checks the name rule before asking the daemon
      assert.match(r.stderr, /CEDANA_ERR_INVALID_NAME/);
    }
    assert.deepEqual(await readdir(join(d.dir, 'named')).catch(() => []), [], 'nothing was made');
    assert.equal((await job('named')).state.status, 'running');
    await stopJob('named');
  });
});
