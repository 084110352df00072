import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CheckpointManifest, type Logger, MANIFEST_FORMAT, processState, processTree } from '@cedana/core';
import { Job } from '@cedana/core/proto';
import { readManifestFromArchive } from '../checkpoint/archive.js';
import { Store } from '../store/store.js';
import { DumpJournal, type DumpRecord, type DumpStart } from './dump-journal.js';
import { type DumpFindings, decideRecovery, recoverInterruptedDumps } from './dump-recovery.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };

const record = (over: Partial<DumpRecord>): DumpRecord => ({
  id: 'd1',
  phase: 'started',
  dir: '/x/dump-1',
  jid: 'j',
  type: 'process',
  pid: 42,
  startTicks: 1,
  compression: 'zstd',
  streams: 0,
  leaveRunning: false,
  startedAt: '',
  facts: {},
  ...over,
});
const seen = (over: Partial<DumpFindings>): DumpFindings => ({ alive: false, checkpointComplete: false, imagesComplete: false, ...over });

describe('decideRecovery', () => {
  const cases: [string, Partial<DumpRecord>, Partial<DumpFindings>, string][] = [
    ['a complete archive is registered', { phase: 'images-done' }, { checkpointComplete: true }, 'register'],
    [
      'a packed one too, even if its process lives (--leave-running)',
      { phase: 'packed' },
      { checkpointComplete: true, alive: true },
      'register',
    ],
    ['a live process is continued and the partial checkpoint removed', { phase: 'started' }, { alive: true }, 'thaw'],
    ['a live process after CRIU (leave-running) too', { phase: 'images-done', leaveRunning: true }, { alive: true }, 'thaw'],
    ['complete images of a gone process are finished', { phase: 'images-done' }, {}, 'finish'],
    ['a plain dump CRIU finished after the daemon died is finished', { phase: 'started' }, { imagesComplete: true }, 'finish'],
    ['a streamed one is kept: its streamer facts are unknown', { phase: 'started', streams: 2 }, { imagesComplete: true }, 'keep'],
    ["a runtime plugin's is kept", { phase: 'started', type: 'runc' }, { imagesComplete: true }, 'keep'],
    ['incomplete images of a gone process are removed', { phase: 'started' }, {}, 'discard'],
  ];
  for (const [name, r, f, action] of cases) {
    it(name, () => assert.equal(decideRecovery(record(r), seen(f)).action, action));
  }
});

describe('recoverInterruptedDumps', () => {
  let root: string;
  let store: Store;
  let journal: DumpJournal;
  /** PIDs this test started, grandchildren too. */
  const started: number[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-recovery-'));
    store = await Store.open(join(root, 'db'));
    journal = new DumpJournal(store);
  });
  after(async () => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  const start = (over: Partial<DumpStart>): DumpStart => ({
    id: 'd',
    dir: '',
    jid: '',
    type: 'process',
    pid: 0,
    compression: 'tar',
    streams: 0,
    leaveRunning: false,
    facts: {},
    ...over,
  });

  it('continues a process tree that a dump left stopped, and removes the partial checkpoint', async () => {
    const child = spawn('sh', ['-c', 'sleep 1000 & wait'], { stdio: 'ignore' });
    const pid = child.pid as number;
    let tree: number[] = [];
    for (let i = 0; i < 100 && tree.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      tree = await processTree(pid);
    }
    started.push(...tree);
    for (const p of tree) process.kill(p, 'SIGSTOP');
    for (const p of tree) while ((await processState(p)) !== 'T') await new Promise((r) => setTimeout(r, 10));
    const dir = join(root, 'stopped');
    await mkdir(dir);
    await writeFile(join(dir, 'img-0.lz4'), 'part of a stream');
    await journal.intent().started(start({ id: 'stopped', dir, pid, streams: 2, compression: 'lz4' }));

    await recoverInterruptedDumps({ store, journal, log });
    for (const p of tree) assert.notEqual(await processState(p), 'T', `PID ${p} was continued`);
    assert.ok(!existsSync(dir), 'the partial checkpoint was removed');
    assert.deepEqual(await journal.list(), []);
  });

  it("finishes a dump whose images are complete and whose process is gone: packed, registered, the job's checkpoint", async () => {
    await store.putJob(Job.fromPartial({ jid: 'gone', type: 'process', state: { pid: 999_999, status: 'running' } }));
    const dir = join(root, 'gone');
    await mkdir(dir);
    await writeFile(join(dir, 'pages-1.img'), 'pretend pages');
    await writeFile(join(dir, 'dump.log'), '(00.1) Writing stats\n(00.2) Dumping finished successfully\n');
    await writeFile(`${dir}.tar.partial`, 'half an archive');
    const intent = journal.intent();
    await intent.started(start({ id: 'gone', dir, jid: 'gone', pid: 999_999, facts: { id: 'gone', jid: 'gone' } }));
    // The facts as a daemon from before checkpoint.json's format 2 journaled them: the criu plugin's at the top level.
    const oldLayout = { id: 'gone', jid: 'gone', criu: { version: '4.2.1' } };
    await intent.imagesDone(999_999, oldLayout, '2026-12-03T00:00:00.000Z');

    await recoverInterruptedDumps({ store, journal, log });
    const job = await store.getJob('gone');
    assert.equal(job?.state?.status, 'checkpointed');
    assert.equal(job?.lastCheckpoint?.path, `${dir}.tar`);
    assert.equal((await store.getCheckpoint('gone'))?.compression, 'tar');
    assert.deepEqual(await readdir(root).then((n) => n.filter((x) => x.startsWith('gone'))), ['gone.tar']);
    const manifest: Partial<CheckpointManifest> = await readManifestFromArchive(`${dir}.tar`, 'checkpoint.json');
    assert.deepEqual(Object.keys(manifest.files ?? {}).sort(), ['dump.log', 'pages-1.img']);
    assert.equal(manifest.format, MANIFEST_FORMAT);
    assert.deepEqual(manifest.sections, { criu: { version: '4.2.1' } }, "the criu plugin's facts are its section now");
    assert.deepEqual(await journal.list(), []);
  });
});
