import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DumpContext, Logger } from '@cedana/core';
import { DumpReq, DumpResp } from '@cedana/core/proto';
import { prepareDumpDir } from './dump-adapters.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };

describe('prepareDumpDir', () => {
  it('gives two dumps of a job within one second archives of their own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cedana-dump-dir-'));
    try {
      const dump = prepareDumpDir(async (ctx) => {
        await writeFile(join(ctx.imagesDir, 'core-1.img'), 'images');
      });
      const paths: string[] = [];
      for (let i = 0; i < 3; i++) {
        const req = DumpReq.fromPartial({ jid: 'web', type: 'process', dir: root, compression: 'tar' });
        const ctx = { signal: new AbortController().signal, log, imagesDir: '', pid: 0, criu: { leaveRunning: true }, manifest: {} };
        const res = DumpResp.create();
        await dump(ctx as unknown as DumpContext, req, res);
        paths.push(res.checkpoint?.path ?? '');
      }
      assert.equal(new Set(paths).size, 3, paths.join(', '));
      for (const path of paths) assert.ok(existsSync(path), path);
      assert.equal((await readdir(root)).length, 3);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
