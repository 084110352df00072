import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type DumpContext, type LoadedPlugin, loadConfig, type PluginSource, pluginSource } from '@cedana/core';
import { type DumpReq, DumpResp } from '@cedana/core/proto';
import { fillMissingDumpDefaults } from './dump-adapters.js';

let source: PluginSource = pluginSource([]);

/** The request as fillMissingDumpDefaults leaves it, with `checkpoint.*` settings from `config`. */
async function filled(req: Partial<DumpReq>, config: Record<string, unknown>): Promise<DumpReq> {
  let seen: DumpReq | undefined;
  const ctx = { config: loadConfig({ overrides: config, env: {} }), plugins: source } as unknown as DumpContext;
  await fillMissingDumpDefaults(async (_ctx, r) => {
    seen = r;
  })(ctx, req as DumpReq, DumpResp.create());
  return seen as DumpReq;
}

const runcWithItsOwnHandler: LoadedPlugin = {
  name: 'runc',
  version: '0.1.0',
  path: '/fake/runc',
  status: 'ok',
  definition: { name: 'runc', version: '0.1.0', features: { DumpHandler: async () => {} } },
};

describe('fillMissingDumpDefaults', () => {
  afterEach(() => (source = pluginSource([])));

  it('takes checkpoint.streams for a process dump, and streams are lz4', async () => {
    const req = await filled({ type: 'process', pid: 1 }, { 'checkpoint.streams': 2, 'checkpoint.compression': 'gzip' });
    assert.equal(req.streams, 2);
    assert.equal(req.compression, 'lz4');
  });

  it('leaves checkpoint.streams out when the dump asks for another compression', async () => {
    const req = await filled({ type: 'process', pid: 1, compression: 'zstd' }, { 'checkpoint.streams': 2 });
    assert.equal(req.streams, 0);
    assert.equal(req.compression, 'zstd');
  });

  it('leaves checkpoint.streams out for a type whose plugin runs CRIU itself', async () => {
    source = pluginSource([runcWithItsOwnHandler]);
    const req = await filled({ type: 'runc' }, { 'checkpoint.streams': 2, 'checkpoint.compression': 'gzip' });
    assert.equal(req.streams, 0);
    assert.equal(req.compression, 'gzip');
  });

  it('keeps an explicit --streams for validation to judge', async () => {
    source = pluginSource([runcWithItsOwnHandler]);
    const req = await filled({ type: 'runc', streams: 2 }, {});
    assert.equal(req.streams, 2);
  });
});
