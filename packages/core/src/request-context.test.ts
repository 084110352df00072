import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CedanaError } from './errors.js';
import { fromFormat1, type ManifestFacts, sectionOf } from './manifest.js';
import { baseOf, contextSlots, pluginView, stateKey } from './request-context.js';

/** A dump context's facts and slots, as the daemon makes them. */
function context(manifest: ManifestFacts = { type: 'runc', job: { jid: 'j1', log: '/tmp/j1.log' } }) {
  return { pid: 0, manifest, ...contextSlots() };
}

const refused = (pattern: RegExp) => (err: CedanaError) => {
  assert.equal(err.code, 'CEDANA_ERR_MANIFEST_OWNER');
  assert.match(err.message, pattern);
  return true;
};

describe('a plugin view of the request context', () => {
  it("writes the plugin's own section and hands what else it sets to the daemon's context", () => {
    const ctx = context();
    const runc = pluginView(ctx, 'runc');
    runc.setSection({ id: 'c1' });
    runc.pid = 4242;
    runc.section<{ id: string; version?: string }>()!.version = '1.1';
    assert.deepEqual(ctx.manifest.sections, { runc: { id: 'c1', version: '1.1' } });
    assert.equal(ctx.pid, 4242, 'ctx.pid set by the plugin is the one the daemon sees');
    assert.equal(baseOf(runc), ctx);
    assert.equal(runc.manifest.job?.log, '/tmp/j1.log', "the daemon's facts read through");
  });

  it("refuses a change to the daemon's facts, nested ones too, naming the plugin and the key", () => {
    const runc = pluginView(context({ io: { stdout: 'pipe:[1]' } }), 'runc');
    assert.throws(
      () => {
        delete runc.manifest.io;
      },
      refused(/^plugin runc tried to change io of checkpoint\.json: it belongs to the daemon/),
    );
    assert.throws(
      () => {
        runc.manifest.type = 'process';
      },
      refused(/plugin runc tried to change type/),
    );
    assert.throws(
      () => {
        (runc.manifest.io as { stdout?: string }).stdout = 'x';
      },
      refused(/plugin runc tried to change stdout/),
    );
    assert.throws(
      () => {
        runc.manifest = {};
      },
      refused(/ctx\.manifest/),
    );
  });

  it("reads another plugin's section but refuses to change it", () => {
    const ctx = context();
    pluginView(ctx, 'streamer').setSection({ streams: 2 });
    const gpu = pluginView(ctx, 'gpu');
    assert.equal(gpu.section<{ streams: number }>('streamer')?.streams, 2);
    assert.equal(gpu.section('kata'), undefined, 'a plugin that wrote none has no section');
    assert.throws(
      () => {
        (gpu.section<{ streams: number }>('streamer') as { streams: number }).streams = 3;
      },
      refused(/^plugin gpu tried to change streams of the streamer section of checkpoint\.json: it belongs to plugin streamer/),
    );
    assert.deepEqual(ctx.manifest.sections, { streamer: { streams: 2 } });
  });

  it("gives the daemon's own adapters read-only sections", () => {
    const ctx = context();
    pluginView(ctx, 'runc').setSection({ id: 'c1' });
    assert.equal(ctx.section<{ id: string }>('runc')?.id, 'c1');
    assert.throws(() => ctx.setSection({}), refused(/^the daemon tried to change a section of its own/));
  });

  it('keeps request state by key: what a middleware leaves, its handler finds, and no other key reaches it', () => {
    const ctx = context();
    const TARGET = stateKey<{ id: string }>('target');
    const OTHER = stateKey<{ id: string }>('target');
    pluginView(ctx, 'runc').state.set(TARGET, { id: 'c1' });
    assert.deepEqual(pluginView(ctx, 'runc').state.get(TARGET), { id: 'c1' });
    assert.equal(ctx.state.get(OTHER), undefined, 'a key of the same name is another key');
    assert.equal(context().state.get(TARGET), undefined, 'each request has its own state');
  });
});

describe("checkpoint.json's format 1 layout", () => {
  const old = {
    format: 1,
    id: 'abc',
    type: 'runc',
    plugins: { runc: '0.1.0', criu: '0.1.0' },
    criuOptions: { shellJob: true },
    io: { stdin: 'pipe:[7]' },
    runc: { id: 'c1', bundle: '/b' },
    criu: { version: '4.2' },
    fileDigests: { 'img-0.lz4': { size: 1, sha256: 'x' } },
    files: {},
  };

  it("moves every plugin's top-level facts into its section and keeps the daemon's", () => {
    const m = fromFormat1(old);
    assert.deepEqual(m.sections, { runc: { id: 'c1', bundle: '/b' }, criu: { version: '4.2' } });
    assert.deepEqual(m.plugins, { runc: '0.1.0', criu: '0.1.0' }, 'plugin versions are a fact of the daemon');
    assert.deepEqual(m.criuOptions, { shellJob: true });
    assert.deepEqual(m.io, { stdin: 'pipe:[7]' });
    assert.equal('runc' in m, false);
    assert.equal('fileDigests' in m, false, 'the hand-over key is not a section');
  });

  it('leaves facts in format 2 layout as they are', () => {
    const m = fromFormat1({ type: 'runc', sections: { runc: { id: 'c1' } } });
    assert.deepEqual(m, { type: 'runc', sections: { runc: { id: 'c1' } } });
  });

  it("finds a plugin's section in either layout (a plugin reading checkpoint.json itself)", () => {
    assert.deepEqual(sectionOf(old, 'runc'), { id: 'c1', bundle: '/b' });
    assert.deepEqual(sectionOf({ format: 2, sections: { runc: { id: 'c2' } } }, 'runc'), { id: 'c2' });
    assert.equal(sectionOf({ format: 2, runc: { id: 'c3' } }, 'runc'), undefined);
  });
});
