import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MigrateFrame } from '@cedana/core/proto';
import { type FrameSink, FrameWriter, readFrames } from './file-frames.js';

const dir = await mkdtemp(join(tmpdir(), 'cedana-frames-'));
after(() => rm(dir, { recursive: true, force: true }));

async function pair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const { createConnection } = await import('node:net');
  const client = createConnection(port, '127.0.0.1');
  const s = await accepted;
  server.close();
  s.pause();
  return [client, s];
}

/** A sink that says it is full every other write, and keeps what it got per file. */
class Slow implements FrameSink {
  readonly got = new Map<string, Buffer[]>();
  private n = 0;
  write(f: MigrateFrame, data: Buffer): boolean {
    const key = f.jobLog ? `log:${f.mode.toString(8)}` : f.name;
    this.got.set(key, [...(this.got.get(key) ?? []), Buffer.from(data)]);
    return ++this.n % 2 === 1;
  }
  drained(): Promise<void> {
    return new Promise((r) => setTimeout(r, 1));
  }
}

test('files in ranges, an empty file and a job log arrive whole through a slow sink', async () => {
  const big = randomBytes(3 << 20);
  await writeFile(join(dir, 'img-0.lz4'), big);
  await writeFile(join(dir, 'empty'), '');
  await writeFile(join(dir, 'log'), 'out\n');
  const [a, b] = await pair();
  const sink = new Slow();
  const reading = readFrames(b, sink);
  const w = new FrameWriter(a);
  await w.range(join(dir, 'img-0.lz4'), { name: 'img-0.lz4', jobLog: false, mode: 0 }, 0, 1_000_001); // a shard sent while it grew
  await w.range(join(dir, 'empty'), { name: 'empty', jobLog: false, mode: 0 }, 0, 0);
  await w.range(join(dir, 'img-0.lz4'), { name: 'img-0.lz4', jobLog: false, mode: 0 }, 1_000_001, big.length);
  await w.range(join(dir, 'log'), { name: '', jobLog: true, mode: 0o640 }, 0, 4);
  await w.done();
  await reading;
  assert.ok(Buffer.concat(sink.got.get('img-0.lz4') ?? []).equals(big));
  assert.deepEqual(sink.got.get('empty'), [Buffer.alloc(0)]);
  assert.equal(Buffer.concat(sink.got.get('log:640') ?? []).toString(), 'out\n');
});

test('a connection that ends before the done frame fails the read', async () => {
  const [a, b] = await pair();
  const reading = readFrames(b, new Slow());
  await writeFile(join(dir, 'half'), randomBytes(1000));
  await new FrameWriter(a).range(join(dir, 'half'), { name: 'half', jobLog: false, mode: 0 }, 0, 1000);
  a.end();
  await assert.rejects(reading, /before the end of the checkpoint/);
});

test('bytes that are no frame fail the read', async () => {
  const [a, b] = await pair();
  const reading = readFrames(b, new Slow());
  a.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await assert.rejects(reading, /not a cedana data connection/);
  a.destroy();
});
