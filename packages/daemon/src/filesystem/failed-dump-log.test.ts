import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CedanaError, type Logger } from '@cedana/core';
import { FAILED_DUMPS_DIR, KEEP_FAILED_DUMP_LOGS, keepFailedDumpLog } from './failed-dump-log.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const root = await mkdtemp(join(tmpdir(), 'cedana-failed-dump-'));
after(() => rm(root, { recursive: true, force: true }));

async function failedDump(name: string): Promise<string> {
  const dir = join(root, 'checkpoints', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'dump.log'), `(00.01) Error (criu/cr-dump.c:1): ${name}\n(00.02) Error (criu/cr-dump.c:2): Dumping FAILED.\n`);
  return dir;
}

describe('the log of a failed dump', () => {
  it('is copied to <log.dir>/failed-dumps (0700, 0600) and the error names the copy instead of the folder that goes', async () => {
    const dir = await failedDump('dump-process-web-1');
    const logDir = join(root, 'logs');
    const err = new CedanaError('CEDANA_ERR_CRIU_DUMP', `criu dump failed, see ${join(dir, 'dump.log')}`, {
      details: ['Error (criu/cr-dump.c:1): x', `(full log: ${join(dir, 'dump.log')})`],
    });
    const kept = (await keepFailedDumpLog(err, dir, logDir, 'abc123', log)) as string;
    assert.ok(kept.startsWith(join(logDir, FAILED_DUMPS_DIR)));
    await rm(dir, { recursive: true });
    assert.match(await readFile(kept, 'utf8'), /Dumping FAILED/);
    assert.equal((await stat(kept)).mode & 0o777, 0o600);
    assert.equal((await stat(logDir)).mode & 0o777, 0o700);
    assert.equal(err.details.at(-1), `(full log: ${kept})`);
    assert.ok(err.message.includes(kept) && !err.message.includes(dir));
  });

  it('is named even when the error did not name it (runc, containerd)', async () => {
    const dir = await failedDump('dump-runc-c1');
    const err = new CedanaError('CEDANA_ERR_RUNC_DUMP', 'runc checkpoint failed', { details: ['runc: x'] });
    const kept = await keepFailedDumpLog(err, dir, join(root, 'logs'), 'def456', log);
    assert.deepEqual(err.details, ['runc: x', `(full log: ${kept})`]);
  });

  it('leaves the error as it was when there is no dump.log', async () => {
    const dir = join(root, 'checkpoints', 'no-log');
    await mkdir(dir, { recursive: true });
    const err = new CedanaError('CEDANA_ERR_CRIU_DUMP', 'failed', { details: ['a'] });
    assert.equal(await keepFailedDumpLog(err, dir, join(root, 'logs'), 'x', log), undefined);
    assert.deepEqual(err.details, ['a']);
  });

  it(`keeps only the newest ${KEEP_FAILED_DUMP_LOGS}`, async () => {
    const logDir = join(root, 'bounded');
    for (let i = 0; i < KEEP_FAILED_DUMP_LOGS + 5; i++) {
      const kept = await keepFailedDumpLog(new Error('x'), await failedDump(`d${i}`), logDir, String(i), log);
      const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
      await utimes(kept as string, t, t);
    }
    const names = await readdir(join(logDir, FAILED_DUMPS_DIR));
    assert.equal(names.length, KEEP_FAILED_DUMP_LOGS);
    assert.ok(
      names.some((n) => n.startsWith(`d${KEEP_FAILED_DUMP_LOGS + 4}-`)),
      'the newest is kept',
    );
    assert.ok(!names.some((n) => n.startsWith('d0-')), 'the oldest went');
  });
});
