import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '@cedana/core';
import { ExitFiles, exitFilePath } from './exit-files.js';

describe('exit status files', () => {
  let dir: string;
  const warned: unknown[] = [];
  const log = { warn: (o: unknown) => warned.push(o) } as unknown as Logger;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exit-files-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a code, a signal by name, or nothing', async () => {
    const files = new ExitFiles(join(dir, 'exits'), log);
    const path = await files.fresh('a');
    assert.equal(path, exitFilePath(join(dir, 'exits'), 'a'));
    assert.equal(await files.read('a'), undefined);
    await writeFile(path, '{"code":3}');
    assert.deepEqual(await files.read('a'), { code: 3, signal: null });
    await writeFile(path, '{"signal":15}');
    assert.deepEqual(await files.read('a'), { code: null, signal: 'SIGTERM' });
  });

  it('warns of an unreadable file and reads it as none', async () => {
    const files = new ExitFiles(join(dir, 'exits'), log);
    await writeFile(await files.fresh('b'), '{"code":');
    assert.equal(await files.read('b'), undefined);
    assert.equal(warned.length, 1);
  });

  it("fresh() and remove() leave no status of the job's last incarnation", async () => {
    const files = new ExitFiles(join(dir, 'exits'), log);
    await writeFile(await files.fresh('c'), '{"code":0}');
    await files.fresh('c');
    assert.equal(await files.read('c'), undefined);
    await writeFile(exitFilePath(join(dir, 'exits'), 'c'), '{"code":0}');
    await files.remove('c');
    assert.ok(!(await readdir(join(dir, 'exits'))).some((f) => f.startsWith('c')));
  });
});
