import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  type Config,
  contextSlots,
  type DumpContext,
  type DumpHandlerFn,
  type DumpMiddleware,
  isCedanaError,
  type LoadedPlugin,
  type Logger,
  loadConfig,
  type ManifestFacts,
  type PluginDefinition,
  type PluginSource,
  pluginSource,
  processStartTime,
} from '@cedana/core';
import { type DumpReq, DumpResp } from '@cedana/core/proto';
import { unpackCheckpoint } from '../checkpoint/archive.js';
import { PIECE_BYTES } from '../checkpoint/piece-digests.js';
import { xxh64 } from '../checkpoint/xxh64.js';
import { criuOptionsFrom } from '../defaults/criu-options.js';
import { dumpPipeline } from './dump.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const IMAGE = Buffer.from('pretend CRIU pages\n');
/** A page file's digest: its sha256, and the XXH64 of its one piece (piece-digests.ts). */
const IMAGE_DIGEST = {
  size: IMAGE.length,
  sha256: createHash('sha256').update(IMAGE).digest('hex'),
  pieces: { bytes: PIECE_BYTES, xxh64: [xxh64(IMAGE).toString(16).padStart(16, '0')] },
};

/** What the fake plugins saw, in the order they saw it. */
interface Seen {
  step: string;
  imagesDir: string;
  imagesDirExists: boolean;
  pid: number;
  manifest: ManifestFacts;
}

function loaded(definition: PluginDefinition): LoadedPlugin {
  return { name: definition.name, version: definition.version, path: `/fake/${definition.name}`, status: 'ok', definition };
}

function snapshot(step: string, ctx: DumpContext): Seen {
  return {
    step,
    imagesDir: ctx.imagesDir,
    imagesDirExists: ctx.imagesDir !== '' && existsSync(ctx.imagesDir),
    pid: ctx.pid,
    manifest: JSON.parse(JSON.stringify(ctx.manifest)), // a plugin's view of it is a proxy, which structuredClone refuses
  };
}

describe('dumpPipeline', () => {
  let root: string;
  let config: Config;
  let sleeper: ChildProcess;
  let sleeperPid: number;
  let seen: Seen[];
  /** What the fake plugins do; tests change it. */
  let behaviour: { middlewareThrows?: Error; handlerThrows?: Error; middlewarePid?: number };
  let dirCount = 0;
  let source: PluginSource = pluginSource([]);

  const criuDumpHandler: DumpHandlerFn = async function criuDump(ctx) {
    seen.push(snapshot('criu:DumpHandler', ctx));
    if (behaviour.handlerThrows) throw behaviour.handlerThrows;
    await writeFile(join(ctx.imagesDir, 'pages-1.img'), IMAGE);
  };
  const runcMiddleware: DumpMiddleware = [
    (next) =>
      async function setRuncPid(ctx, req, res) {
        seen.push(snapshot('runc:DumpMiddleware', ctx));
        if (behaviour.middlewareThrows) throw behaviour.middlewareThrows;
        ctx.pid = behaviour.middlewarePid ?? sleeperPid;
        return next(ctx, req, res);
      },
  ];

  function install(...definitions: PluginDefinition[]): void {
    const plugins = definitions.map(loaded);
    source = pluginSource(plugins);
  }

  /** Builds the context as JobManager.dump does, and runs the pipeline of the request's type. */
  async function dump(fields: Partial<DumpReq>): Promise<{ req: DumpReq; res: DumpResp; ctx: DumpContext }> {
    const req: DumpReq = {
      jid: '',
      type: 'process',
      pid: 0,
      dir: join(root, `dumps-${++dirCount}`),
      name: '',
      compression: '',
      streams: undefined,
      criu: undefined,
      details: undefined,
      ...fields,
    };
    const ctx: DumpContext = {
      log,
      config,
      signal: new AbortController().signal,
      plugins: source,
      imagesDir: '',
      pid: 0,
      criu: criuOptionsFrom(req.criu, config),
      manifest: { plugins: { criu: '1.0.0' } },
      ...contextSlots(),
    };
    const res = DumpResp.create();
    await dumpPipeline(source, req.type || 'process')(ctx, req, res);
    return { req, res, ctx };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-dump-pipeline-'));
    const configPath = join(root, 'config.json');
    await writeFile(configPath, '{}');
    config = loadConfig({ env: {}, path: configPath });
    sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    sleeper.unref();
    assert.ok(sleeper.pid);
    sleeperPid = sleeper.pid;
  });
  after(async () => {
    sleeper.kill('SIGKILL');
    source = pluginSource([]);
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen = [];
    behaviour = {};
    install(
      { name: 'criu', version: '1.0.0', role: 'engine', features: { DumpHandler: criuDumpHandler } },
      { name: 'runc', version: '1.0.0', features: { DumpMiddleware: runcMiddleware } },
    );
  });
  afterEach(() => (source = pluginSource([])));

  it('runs plugin middleware after prepareDumpDir and before fillProcessStateForDump', async () => {
    const { res } = await dump({ type: 'runc' });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['runc:DumpMiddleware', 'criu:DumpHandler'],
    );
    const [mw, handler] = seen;
    // After prepareDumpDir: the images folder exists when the middleware runs.
    assert.ok(mw?.imagesDirExists, 'the middleware sees ctx.imagesDir made');
    assert.equal(mw.pid, 0);
    // Before fillProcessStateForDump: no process facts yet, and the PID the middleware set is the one checked.
    assert.equal(mw.manifest.process, undefined);
    assert.equal(handler?.pid, sleeperPid);
    assert.equal(handler.imagesDir, mw.imagesDir);
    assert.deepEqual(handler.manifest.process, { startTime: await processStartTime(sleeperPid) });
    assert.equal(res.checkpoint?.pid, sleeperPid);
    assert.equal(res.checkpoint?.type, 'runc');
  });

  it('runs the middleware of a plugin with appliesTo "*" for plain process dumps, and after the type\'s own plugin for others', async () => {
    const hook: DumpMiddleware = [
      (next) =>
        async function preDumpHook(ctx, req, res) {
          seen.push(snapshot('hook:DumpMiddleware', ctx));
          return next(ctx, req, res);
        },
    ];
    const only: DumpMiddleware = [
      (next) =>
        async function onlyRunc(ctx, req, res) {
          seen.push(snapshot('only-runc:DumpMiddleware', ctx));
          return next(ctx, req, res);
        },
    ];
    install(
      { name: 'criu', version: '1.0.0', role: 'engine', features: { DumpHandler: criuDumpHandler } },
      { name: 'hook', version: '1.0.0', appliesTo: '*', features: { DumpMiddleware: hook } },
      { name: 'only-runc', version: '1.0.0', appliesTo: ['runc'], features: { DumpMiddleware: only } },
      { name: 'runc', version: '1.0.0', features: { DumpMiddleware: runcMiddleware } },
    );
    await dump({ pid: sleeperPid, compression: 'none', name: 'hooked' });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['hook:DumpMiddleware', 'criu:DumpHandler'],
    );
    seen = [];
    await dump({ type: 'runc', compression: 'none', name: 'hooked-runc' });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['runc:DumpMiddleware', 'hook:DumpMiddleware', 'only-runc:DumpMiddleware', 'criu:DumpHandler'],
    );
    assert.equal(seen[1]?.pid, sleeperPid, "a hook sees the PID the type's plugin set");
  });

  it('writes the checkpoint folder and checkpoint.json with the sha256 of every file (compression none)', async () => {
    const { req, res, ctx } = await dump({ pid: sleeperPid, compression: 'none', name: 'plain' });
    const folder = join(req.dir, 'plain');
    assert.equal(ctx.imagesDir, folder);
    assert.equal(res.checkpoint?.path, folder);
    assert.equal(res.checkpoint?.compression, 'none');
    assert.deepEqual((await readdir(folder)).sort(), ['checkpoint.json', 'pages-1.img']);
    assert.deepEqual(await readFile(join(folder, 'pages-1.img')), IMAGE);
    const manifest = JSON.parse(await readFile(join(folder, 'checkpoint.json'), 'utf8'));
    assert.deepEqual(manifest.files, { 'pages-1.img': IMAGE_DIGEST });
    assert.equal(manifest.pid, sleeperPid);
    assert.equal(manifest.type, 'process');
    assert.equal(manifest.id, res.checkpoint?.id);
    assert.deepEqual(manifest.plugins, { criu: '1.0.0' });
    assert.equal(manifest.process.startTime, await processStartTime(sleeperPid));
  });

  it('packs the checkpoint into DIR.tar.lz4 with checkpoint.json and the sha256 of every file (compression lz4)', async () => {
    const { req, res } = await dump({ pid: sleeperPid, compression: 'lz4', name: 'packed' });
    const archive = join(req.dir, 'packed.tar.lz4');
    assert.equal(res.checkpoint?.path, archive);
    assert.equal(res.checkpoint?.compression, 'lz4');
    assert.deepEqual(await readdir(req.dir), ['packed.tar.lz4'], 'the folder is gone once packed');
    const out = join(root, 'unpacked-lz4');
    await unpackCheckpoint(archive, out);
    assert.deepEqual(await readFile(join(out, 'pages-1.img')), IMAGE);
    const manifest = JSON.parse(await readFile(join(out, 'checkpoint.json'), 'utf8'));
    assert.deepEqual(manifest.files, { 'pages-1.img': IMAGE_DIGEST });
    assert.equal(manifest.compression, 'lz4');
  });

  it('names the plugin and feature of an error thrown inside plugin middleware, and removes the folder', async () => {
    behaviour.middlewareThrows = new Error('cannot find container c1');
    const req = { type: 'runc' };
    await assert.rejects(dump(req), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_PLUGIN_FAILED');
      assert.match(err.message, /plugin "runc" failed in DumpMiddleware: cannot find container c1/);
      return true;
    });
    assert.deepEqual(await readdir(join(root, `dumps-${dirCount}`)), []);
  });

  it('keeps the final handler plugin name for an error that only passes through the middleware', async () => {
    behaviour.handlerThrows = new Error('criu dump exited with 1');
    await assert.rejects(dump({ type: 'runc' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_PLUGIN_FAILED');
      assert.match(err.message, /plugin "criu" failed in DumpHandler: criu dump exited with 1/);
      assert.doesNotMatch(err.message, /runc/);
      return true;
    });
  });

  it('keeps the code and message of a core adapter error that passes through the middleware', async () => {
    behaviour.middlewarePid = 2 ** 22 + 1; // above pid_max: no such process
    await assert.rejects(dump({ type: 'runc' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_PROCESS_NOT_FOUND');
      assert.match(err.message, /^no running process with PID 4194305$/);
      return true;
    });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['runc:DumpMiddleware'],
    );
  });

  it('leaves no checkpoint folder behind when the final handler fails', async () => {
    behaviour.handlerThrows = new Error('criu dump exited with 1');
    await assert.rejects(dump({ pid: sleeperPid, name: 'failed' }), { code: 'CEDANA_ERR_PLUGIN_FAILED' });
    const dir = join(root, `dumps-${dirCount}`);
    assert.deepEqual(await readdir(dir), []);
    assert.equal(seen.length, 1, 'the handler ran and made files before failing');
  });

  it('refuses with CEDANA_ERR_ROLE_MISSING, naming the role, who fills it and how to install it, when no plugin is the engine', async () => {
    // a plugin exporting a DumpHandler is not the engine unless it says so
    install(
      { name: 'handler-only', version: '1.0.0', features: { DumpHandler: criuDumpHandler } },
      { name: 'runc', version: '1.0.0', features: { DumpMiddleware: runcMiddleware } },
    );
    for (const fields of [{ pid: sleeperPid }, { type: 'runc' }]) {
      await assert.rejects(dump(fields), (err: unknown) => {
        assert.ok(isCedanaError(err));
        assert.equal(err.code, 'CEDANA_ERR_ROLE_MISSING');
        assert.match(err.message, /needs a plugin in the "engine" role .* no loaded plugin fills it \(plugins that fill it: criu\)/);
        assert.match(err.hint ?? '', /`cedana plugin install criu`/);
        return true;
      });
    }
    assert.equal(seen.length, 0);
    assert.equal(existsSync(join(root, `dumps-${dirCount}`)), false);
  });

  it('uses whichever plugin declares the engine role, whatever its name', async () => {
    const engineDump: DumpHandlerFn = async function engineDump(ctx) {
      seen.push(snapshot('my-engine:DumpHandler', ctx));
      await writeFile(join(ctx.imagesDir, 'pages-1.img'), IMAGE);
    };
    install(
      { name: 'not-the-engine', version: '1.0.0', features: { DumpHandler: criuDumpHandler } },
      { name: 'my-engine', version: '1.0.0', role: 'engine', features: { DumpHandler: engineDump } },
    );
    await dump({ pid: sleeperPid });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['my-engine:DumpHandler'],
    );
  });

  it('splices in the middleware of whichever plugin declares the streams role for --streams N, innermost', async () => {
    const streamsMiddleware: DumpMiddleware = [
      (next) =>
        async function myStreams(ctx, req, res) {
          seen.push(snapshot('my-streams:DumpMiddleware', ctx));
          return next(ctx, req, res);
        },
    ];
    install(
      { name: 'criu', version: '1.0.0', role: 'engine', features: { DumpHandler: criuDumpHandler } },
      { name: 'my-streams', version: '1.0.0', role: 'streams', requires: ['engine'], features: { DumpMiddleware: streamsMiddleware } },
    );
    await dump({ pid: sleeperPid, streams: 2 });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['my-streams:DumpMiddleware', 'criu:DumpHandler'],
    );
  });

  it('refuses with CEDANA_ERR_UNSUPPORTED_TYPE a type whose plugin is not installed', async () => {
    await assert.rejects(dump({ type: 'kata', pid: sleeperPid }), {
      code: 'CEDANA_ERR_UNSUPPORTED_TYPE',
      message: /"kata" is not installed/,
    });
    assert.equal(seen.length, 0, 'criu was not asked to dump a type it does not serve');
    assert.equal(existsSync(join(root, `dumps-${dirCount}`)), false);
  });

  it('refuses a type whose plugin failed to load, naming it', async () => {
    const broken: LoadedPlugin = { name: 'runc', version: '1.0.0', path: '/fake/runc', status: 'error', phase: 'import' };
    const criu = loaded({ name: 'criu', version: '1.0.0', role: 'engine', features: { DumpHandler: criuDumpHandler } });
    source = pluginSource([criu, broken]);
    await assert.rejects(dump({ type: 'runc', pid: sleeperPid }), {
      code: 'CEDANA_ERR_PLUGIN_IMPORT',
      message: /plugin "runc" failed to load/,
    });
    assert.equal(seen.length, 0);
  });

  it('dumps with the criu handler a type whose installed plugin exports no middleware', async () => {
    install(
      { name: 'criu', version: '1.0.0', role: 'engine', features: { DumpHandler: criuDumpHandler } },
      { name: 'kata', version: '1.0.0', features: {} },
    );
    const { res } = await dump({ type: 'kata', pid: sleeperPid });
    assert.deepEqual(
      seen.map((s) => s.step),
      ['criu:DumpHandler'],
    );
    assert.equal(res.checkpoint?.type, 'kata');
  });

  it('refuses --streams 2 without a plugin in the streams role before anything is written', async () => {
    await assert.rejects(dump({ pid: sleeperPid, streams: 2 }), {
      code: 'CEDANA_ERR_ROLE_MISSING',
      message: /--streams 2 .*needs a plugin in the "streams" role.*plugins that fill it: streamer/,
    });
    assert.equal(existsSync(join(root, `dumps-${dirCount}`)), false, 'not even the parent folder was made');
    assert.equal(seen.length, 0);
  });
});
