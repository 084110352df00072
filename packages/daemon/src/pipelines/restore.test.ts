import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  CedanaError,
  type Compression,
  type Config,
  contextSlots,
  type LoadedPlugin,
  type Logger,
  loadConfig,
  type PluginSource,
  pluginSource,
  type RestoreContext,
  type RestoreHandlerFn,
  unreadManifest,
} from '@cedana/core';
import { type RestoreReq, RestoreResp } from '@cedana/core/proto';
import { packCheckpoint } from '../checkpoint/archive.js';
import { writeManifest } from '../checkpoint/manifest.js';
import { criuOptionsFrom } from '../defaults/criu-options.js';
import { restorePipeline } from './restore.js';

const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const PAGES = Buffer.from('pretend CRIU pages, long enough to change one byte of\n');

/** What the fake criu RestoreHandler saw. */
interface Seen {
  imagesDir: string;
  files: string[];
  pages: Buffer;
  manifestFiles: unknown;
  /** Whether it read the pages over CRIU's --stream socket. */
  streamed: boolean;
}

/**
 * What CRIU's --stream mode does for one image (criu/img-streamer.c), in python (Node cannot
 * send a descriptor): ask for it, and read it from the pipe whose write end it sends.
 */
const STREAM_CLIENT = `
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.path.join(sys.argv[1], 'streamer-serve.sock'))
name = sys.argv[2].encode()
s.sendall(struct.pack('<I', len(name) + 2) + bytes([0x0a, len(name)]) + name)
reply = b''
while len(reply) < 6:
    reply += s.recv(6 - len(reply))
if reply[5] != 1:
    sys.exit(3)
r, w = os.pipe()
socket.send_fds(s, [b'\\0'], [w])
os.close(w)
while True:
    b = os.read(r, 65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
s.close()
`;

async function streamedImage(dir: string, name: string): Promise<Buffer> {
  const child = spawn('python3', ['-c', STREAM_CLIENT, dir, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `the stream client for ${name} exited with ${code}`);
  return Buffer.concat(chunks);
}

async function fingerprint(path: string): Promise<{ size: number; mtimeMs: number; sha256: string }> {
  const s = await stat(path);
  return {
    size: s.size,
    mtimeMs: s.mtimeMs,
    sha256: createHash('sha256')
      .update(await readFile(path))
      .digest('hex'),
  };
}

describe('restorePipeline', () => {
  let root: string;
  let config: Config;
  let seen: Seen[];
  let behaviour: {
    handlerThrows?: (imagesDir: string) => Error;
    writeRestoreLog?: boolean;
    /** Like a handler of an older engine: it ignores ctx.resumeGate and returns this child's PID. */
    ignoresGate?: ChildProcess;
  };
  let count = 0;
  /** Whether the fake engine let its restored "tasks" run (the gate, when held, resolved). */
  let resumed: boolean[];

  // As the engine does: hold the gate before "CRIU" starts, let the tasks run only once it resolved.
  // With --stream, "CRIU" reads the page file through the daemon's socket, as CRIU does.
  const criuRestoreHandler: RestoreHandlerFn = async function criuRestore(ctx) {
    const verified = behaviour.ignoresGate ? undefined : ctx.resumeGate?.hold();
    const args = ctx.criu.extraArgs;
    const streamDir = args.includes('--stream') ? args[args.lastIndexOf('-D') + 1] : undefined;
    seen.push({
      imagesDir: ctx.imagesDir,
      files: (await readdir(ctx.imagesDir)).sort(),
      pages: streamDir ? await streamedImage(streamDir, 'pages-1.img') : await readFile(join(ctx.imagesDir, 'pages-1.img')),
      manifestFiles: ctx.manifest.files,
      streamed: streamDir !== undefined,
    });
    if (behaviour.writeRestoreLog) await writeFile(join(ctx.imagesDir, 'restore.log'), 'Error (criu/cr-restore.c): it broke\n');
    if (behaviour.handlerThrows) throw behaviour.handlerThrows(ctx.imagesDir);
    await verified;
    resumed.push(true);
    const pid = behaviour.ignoresGate?.pid ?? 4242;
    return { pid, exited: Promise.resolve({ code: 0, signal: null }) };
  };

  /** A checkpoint folder as prepareDumpDir leaves it; `tamper` runs after checkpoint.json is written. */
  async function checkpoint(compression: Compression, tamper?: (dir: string) => Promise<void>): Promise<string> {
    const parent = join(root, `checkpoints-${++count}`);
    const dir = join(parent, 'ckpt');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'pages-1.img'), PAGES);
    await writeFile(join(dir, 'sub', 'fs.img'), 'nested image');
    await writeManifest(dir, { id: 'abc', pid: 4242, type: 'process', compression });
    await tamper?.(dir);
    return (await packCheckpoint(dir, compression)).path;
  }

  /** Builds the context as JobManager.restore does, and runs the pipeline. */
  let source: PluginSource = pluginSource([]);

  async function restore(path: string, type = 'process'): Promise<{ ctx: RestoreContext; res: RestoreResp }> {
    const req: RestoreReq = {
      jid: '',
      path,
      checkpointId: '',
      type,
      criu: undefined,
      attachable: false,
      log: '',
      details: undefined,
    };
    const ctx: RestoreContext = {
      log,
      config,
      signal: new AbortController().signal,
      plugins: source,
      imagesDir: '',
      criu: criuOptionsFrom(req.criu, config),
      manifest: unreadManifest(),
      ...contextSlots(),
    };
    const res = RestoreResp.create({ jid: 'j1' });
    const started = await restorePipeline(source, req.type || 'process')(ctx, req, res);
    assert.equal(started.pid, behaviour.ignoresGate?.pid ?? 4242);
    return { ctx, res };
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-restore-pipeline-'));
    const configPath = join(root, 'config.json');
    await writeFile(configPath, '{}');
    config = loadConfig({ env: {}, path: configPath });
  });
  after(() => rm(root, { recursive: true, force: true }));
  beforeEach(() => {
    seen = [];
    resumed = [];
    behaviour = {};
    const criu: LoadedPlugin = {
      name: 'criu',
      version: '1.0.0',
      path: '/fake/criu',
      status: 'ok',
      definition: { name: 'criu', version: '1.0.0', role: 'engine', features: { RestoreHandler: criuRestoreHandler } },
    };
    source = pluginSource([criu]);
  });
  afterEach(() => (source = pluginSource([])));

  it('verifies a folder checkpoint and hands it to the final handler in place, with its manifest', async () => {
    const path = await checkpoint('none');
    const { ctx } = await restore(path);
    assert.equal(seen.length, 1);
    const [s] = seen;
    assert.equal(s?.imagesDir, path);
    assert.deepEqual(s.files, ['checkpoint.json', 'pages-1.img', 'sub']);
    assert.deepEqual(s.pages, PAGES);
    assert.deepEqual(Object.keys(s.manifestFiles as object), ['pages-1.img', 'sub/fs.img']);
    assert.equal(ctx.manifest.id, 'abc');
  });

  const changedPages = (dir: string) => {
    const changed = Buffer.from(PAGES);
    changed[10] = (changed[10] ?? 0) ^ 0xff;
    return writeFile(join(dir, 'pages-1.img'), changed);
  };

  it('refuses a folder checkpoint with one changed page byte, naming the file: the engine restores, but nothing runs', async () => {
    const path = await checkpoint('none', changedPages);
    await assert.rejects(restore(path), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file pages-1\.img does not match its xxh64 in checkpoint\.json at bytes 0-/,
    });
    assert.equal(seen.length, 1, 'the page files are verified while the engine restores');
    assert.deepEqual(resumed, [], 'the held tasks never ran');
  });

  it('refuses a folder checkpoint with one changed byte in another image, naming the file, without calling the handler', async () => {
    const path = await checkpoint('none', (dir) => writeFile(join(dir, 'sub', 'fs.img'), 'nested imagf'));
    await assert.rejects(restore(path), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file sub\/fs\.img does not match its sha256/,
    });
    assert.equal(seen.length, 0);
  });

  it('kills what a handler that ignores the gate restored from a folder with a changed page byte', async () => {
    const path = await checkpoint('none', changedPages);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const gone = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    behaviour.ignoresGate = child;
    try {
      await assert.rejects(restore(path), { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: /pages-1\.img does not match/ });
      assert.equal(await gone, 'SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a folder checkpoint with a truncated file, naming the file, without calling the handler', async () => {
    const path = await checkpoint('none', (dir) => truncate(join(dir, 'sub', 'fs.img'), 3));
    await assert.rejects(restore(path), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file sub\/fs\.img has 3 bytes, expected 12/,
    });
    assert.equal(seen.length, 0);
  });

  it('refuses a folder checkpoint with a missing file, naming the file', async () => {
    const path = await checkpoint('none', (dir) => unlink(join(dir, 'pages-1.img')));
    await assert.rejects(restore(path), { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: /pages-1\.img is missing/ });
    assert.equal(seen.length, 0);
  });

  it('refuses a path that does not exist with CEDANA_ERR_CHECKPOINT_NOT_FOUND', async () => {
    await assert.rejects(restore(join(root, 'nothing-here')), { code: 'CEDANA_ERR_CHECKPOINT_NOT_FOUND' });
    assert.equal(seen.length, 0);
  });

  it('refuses with CEDANA_ERR_UNSUPPORTED_TYPE a type whose plugin is not installed', async () => {
    const path = await checkpoint('none');
    await assert.rejects(restore(path, 'kata'), { code: 'CEDANA_ERR_UNSUPPORTED_TYPE', message: /"kata" is not installed/ });
    assert.equal(seen.length, 0);
  });

  it('serves an archive to the engine over --stream: the small images unpacked, the pages from the archive; then removes the folder and leaves the archive untouched', async () => {
    const archive = await checkpoint('lz4');
    assert.match(archive, /\.tar\.lz4$/);
    const before = await fingerprint(archive);
    await restore(archive);
    assert.equal(seen.length, 1);
    const [s] = seen;
    assert.ok(s);
    assert.ok(s.imagesDir.startsWith(`${archive}.restore-`), s.imagesDir);
    assert.equal(s.streamed, true);
    // The page files' copies (kept for a CRIU run again) may have begun by then: the rest is unpacked.
    assert.deepEqual(
      s.files.filter((f) => !/^pages-\d+\.img$/.test(f)),
      ['checkpoint.json', 'streamer-serve.sock', 'sub'],
      'the small images, unpacked before the engine ran',
    );
    assert.deepEqual(s.pages, PAGES);
    assert.deepEqual(resumed, [true]);
    assert.equal(existsSync(s.imagesDir), false, 'the unpacked folder is removed');
    assert.deepEqual(await readdir(join(archive, '..')), ['ckpt.tar.lz4']);
    assert.deepEqual(await fingerprint(archive), before);
  });

  it('refuses an archive with a changed page byte, naming the bytes: the engine restores from it, but nothing runs', async () => {
    const archive = await checkpoint('tar', changedPages);
    await assert.rejects(restore(archive), {
      code: 'CEDANA_ERR_CHECKPOINT_INVALID',
      message: /checkpoint file pages-1\.img does not match its xxh64 in checkpoint\.json at bytes 0-/,
    });
    assert.equal(seen[0]?.streamed, true, 'the pages were served while checked');
    assert.deepEqual(resumed, [], 'the held tasks never ran');
    assert.deepEqual(await readdir(join(archive, '..')), ['ckpt.tar']);
  });

  it('refuses an archive holding a changed file and removes the unpacked folder', async () => {
    const archive = await checkpoint('tar', (dir) => writeFile(join(dir, 'sub', 'fs.img'), 'nested imagf'));
    await assert.rejects(restore(archive), { code: 'CEDANA_ERR_CHECKPOINT_INVALID', message: /sub\/fs\.img does not match/ });
    assert.equal(seen.length, 0);
    assert.deepEqual(await readdir(join(archive, '..')), ['ckpt.tar']);
  });

  it('removes the unpacked folder when the handler fails, keeping restore.log beside the archive and naming it', async () => {
    const archive = await checkpoint('lz4');
    behaviour.writeRestoreLog = true;
    behaviour.handlerThrows = (imagesDir) =>
      new CedanaError('CEDANA_ERR_CRIU_RESTORE', 'criu restore exited with 1', { details: [`log: ${join(imagesDir, 'restore.log')}`] });
    const thrown = await restore(archive).then(
      () => assert.fail('the restore should fail'),
      (err: CedanaError) => err,
    );
    const unpacked = seen[0]?.imagesDir ?? '';
    const kept = `${unpacked}.log`;
    assert.equal(thrown.code, 'CEDANA_ERR_CRIU_RESTORE');
    assert.deepEqual(thrown.details, [`log: ${kept}`]);
    assert.equal(existsSync(unpacked), false, 'the unpacked folder is removed');
    assert.match(await readFile(kept, 'utf8'), /it broke/);
    assert.deepEqual((await readdir(join(archive, '..'))).sort(), ['ckpt.tar.lz4', basename(kept)].sort());
  });
});
