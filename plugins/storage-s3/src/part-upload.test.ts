import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Config, ObjectUpload } from '@cedana/plugin-sdk';
import { partUpload } from './part-upload.js';
import { s3Settings } from './s3-client.js';
import { storageError } from './s3-errors.js';

// s3rver ships no types: what is used of it.
type S3rverCtor = new (opts: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
const { default: S3rver } = (await import('s3rver' as string)) as { default: S3rverCtor };

const BUCKET = 'parts';
const PART = 5 << 20; // S3's smallest part

describe('partUpload (a fixed pool of part buffers) against a real S3 server', () => {
  let dir: string;
  let server: InstanceType<S3rverCtor>;
  let settings: ReturnType<typeof s3Settings>;
  /** UploadParts sent with no bytes (a part taken for a read that never came must not go out). */
  let emptyParts = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cedana-parts-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
    const { port } = await server.run();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    // The storage's own client (no per-part CRC32, bodies unsigned): the server must take it.
    settings = s3Settings({
      'storage.s3.endpoint': `http://127.0.0.1:${port}`,
      'storage.s3.region': 'us-east-1',
      'storage.s3.force_path_style': 'auto',
      'storage.s3.part_size_mib': 5,
      'storage.s3.queue': 2,
      'storage.s3.create_bucket': false,
    } as unknown as Config);
    settings.client.middlewareStack.add(
      (next, context) => (args) => {
        const body = (args.input as { Body?: Uint8Array }).Body;
        if (context.commandName === 'UploadPartCommand' && body?.length === 0) emptyParts++;
        return next(args);
      },
      { step: 'initialize' },
    );
  });
  after(async () => {
    settings.client.destroy();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = (key: string, reserve = 0) =>
    partUpload(
      settings.client,
      { bucket: BUCKET, key },
      { reserve, partSize: PART, queue: 2, fail: (err) => storageError(err, key, settings) },
    );
  const stored = async (key: string) => {
    const r = await settings.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from((await r.Body?.transformToByteArray()) ?? []);
  };
  /** Writes `body` in uneven chunks, as a pipe hands them over. */
  const writeAll = async (up: ObjectUpload, body: Buffer) => {
    for (let at = 0, n = 1; at < body.length; at += n, n = (n * 7 + 65_537) % (3 << 20)) {
      if (!up.stream.write(body.subarray(at, at + n))) await new Promise((resolve) => up.stream.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => up.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  };

  for (const size of [0, 1000, PART, 2 * PART + 12_345]) {
    it(`stores ${size} bytes written to its stream, byte for byte`, async () => {
      const body = randomBytes(size);
      const up = upload(`plain-${size}`);
      await writeAll(up, body);
      assert.deepEqual(await up.finish(), { size });
      assert.ok((await stored(`plain-${size}`)).equals(body));
    });
  }

  for (const size of [1000, 3 * PART + 77]) {
    it(`a reserved head given at finish() starts the object (${size} bytes after it)`, async () => {
      const head = Buffer.from('{"checkpoint":"head"}'.padEnd(4096, ' '));
      const body = randomBytes(size);
      const up = upload(`head-${size}`, head.length);
      await writeAll(up, body);
      assert.deepEqual(await up.finish(head), { size: head.length + size });
      assert.ok((await stored(`head-${size}`)).equals(Buffer.concat([head, body])));
    });
  }

  for (const size of [4 * PART + 999, 4 * PART]) {
    it(`a reader filling the lent part buffers (parts: space, commit, ready) stores ${size} bytes in order, waiting while both parts are out`, async () => {
      const body = randomBytes(size);
      const up = upload(`lent-${size}`);
      const parts = up.parts as NonNullable<ObjectUpload['parts']>;
      let waits = 0;
      for (let at = 0; at < body.length; ) {
        let room = parts.space();
        if (!room) {
          waits++;
          await parts.ready();
          room = parts.space() as Buffer;
        }
        const n = body.copy(room, 0, at, Math.min(body.length, at + 300_000));
        parts.commit(n);
        at += n;
      }
      await parts.ready(); // a part taken, as a pipe's reader takes one after its last read, before it hears the end
      await new Promise<void>((resolve, reject) => up.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
      assert.deepEqual(await up.finish(), { size: body.length });
      assert.ok((await stored(`lent-${size}`)).equals(body));
      assert.ok(waits > 0, 'with 2 buffers of 5 MiB, 20 MiB cannot go without waiting for one');
      assert.equal(emptyParts, 0, 'no empty part was sent');
    });
  }
});
