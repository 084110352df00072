import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '@cedana/core';
import { Checkpoint } from '@cedana/core/proto';
import { CheckpointReaders, pruneCheckpoints, type RetentionStore } from './retention.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };

/** An in-memory store of the checkpoints of one job. */
function storeOf(checkpoints: Checkpoint[]): RetentionStore & { ids(): string[] } {
  let list = [...checkpoints];
  return {
    listCheckpoints: async (jid) => list.filter((c) => c.jid === jid),
    deleteCheckpoint: async (id) => {
      list = list.filter((c) => c.id !== id);
    },
    ids: () => list.map((c) => c.id),
  };
}

describe('checkpoint retention', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-retention-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** Checkpoints c1..cN of job `jid`, oldest first: c1 a folder, the others archive files. */
  async function made(jid: string, n: number): Promise<Checkpoint[]> {
    const out: Checkpoint[] = [];
    for (let i = 1; i <= n; i++) {
      const path = join(root, jid, i === 1 ? `c${i}` : `c${i}.tar.zst`);
      await mkdir(join(root, jid), { recursive: true });
      if (i === 1) {
        await mkdir(path);
        await writeFile(join(path, 'pages-1.img'), 'x');
      } else await writeFile(path, 'x');
      out.push(Checkpoint.create({ id: `c${i}`, jid, path, createdAt: new Date(Date.UTC(2026, 0, i)).toISOString() }));
    }
    return out;
  }

  it('keeps the last K of the job, deleting the older ones, files and records', async () => {
    const all = await made('j1', 5);
    const store = storeOf([...all, Checkpoint.create({ id: 'other', jid: 'j2', path: join(root, 'nope') })]);
    const messages = await pruneCheckpoints(store, { jid: 'j1', keep: 2, made: 'c5', readers: new CheckpointReaders(), log });
    assert.deepEqual(store.ids(), ['c4', 'c5', 'other']);
    assert.deepEqual(
      all.map((c) => existsSync(c.path)),
      [false, false, false, true, true],
    );
    assert.equal(messages.length, 3);
    assert.match(messages[0] ?? '', /^deleted checkpoint c1 \(.*c1\): checkpoint\.keep=2$/);
  });

  it('keeps everything with keep 0', async () => {
    const all = await made('j0', 3);
    const store = storeOf(all);
    assert.deepEqual(await pruneCheckpoints(store, { jid: 'j0', keep: 0, made: 'c3', readers: new CheckpointReaders(), log }), []);
    assert.deepEqual(store.ids(), ['c1', 'c2', 'c3']);
  });

  it('never deletes the checkpoint just made, even when it sorts first', async () => {
    const all = await made('j3', 3);
    const store = storeOf(all);
    await pruneCheckpoints(store, { jid: 'j3', keep: 1, made: 'c1', readers: new CheckpointReaders(), log });
    assert.deepEqual(store.ids(), ['c1']);
    assert.ok(existsSync(all[0]?.path ?? ''));
  });

  it('spares a checkpoint a restore is reading, and takes it once the restore is done', async () => {
    const all = await made('j4', 3);
    const store = storeOf(all);
    const readers = new CheckpointReaders();
    const first = all[0]?.path ?? '';
    let messages: string[] = [];
    await readers.reading(`${first}/`, async () => {
      assert.ok(readers.has(first), 'the same path, however it is spelled');
      messages = await pruneCheckpoints(store, { jid: 'j4', keep: 1, made: 'c3', readers, log });
    });
    assert.deepEqual(store.ids(), ['c1', 'c3']);
    assert.ok(existsSync(first));
    assert.match(messages[0] ?? '', /kept checkpoint c1 beyond checkpoint\.keep=1: a restore is reading it/);
    assert.equal(readers.has(first), false);
    await pruneCheckpoints(store, { jid: 'j4', keep: 1, made: 'c3', readers, log });
    assert.deepEqual(store.ids(), ['c3']);
    assert.equal(existsSync(first), false);
  });

  it('counts readers: a path stays read until the last restore of it ends', async () => {
    const readers = new CheckpointReaders();
    let release = () => {};
    const held = readers.reading('/x', () => new Promise<void>((r) => (release = r)));
    await readers.reading('/x', async () => {});
    assert.ok(readers.has('/x'));
    release();
    await held;
    assert.equal(readers.has('/x'), false);
  });
});
