/**
 * The fast path's HTTP/2 client against node:http2's server (nghttp2, as the daemon's grpc-js
 * serves): what it sends must be a valid request, and what nghttp2 encodes (Huffman strings, the
 * dynamic table, answers over several DATA frames and past the default window) must read back
 * as sent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { H2CallError, H2TimeoutError, h2UnaryCall } from './h2-call.js';
import { encodeHeaders, HpackDecoder, huffmanDecode } from './hpack.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cedana-h2-call-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function serve(
  onStream: (stream: ServerHttp2Stream, headers: Record<string, unknown>, body: Buffer) => void,
): Promise<{ path: string; server: Http2Server }> {
  const path = join(dir, `${randomBytes(4).toString('hex')}.sock`);
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => onStream(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

const close = (server: Http2Server | Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Printable ASCII of every kind, as header values carry (nghttp2 Huffman-codes what that makes shorter). */
const printable = (n: number) =>
  [...randomBytes(n)]
    .map((b) => String.fromCharCode(0x20 + (b % 95)))
    .join('')
    .trim() || 'x';

describe('h2UnaryCall', () => {
  it('sends the call and reads back headers, a body past the window in many frames, and trailers', async () => {
    const values = Array.from({ length: 40 }, (_, i) => printable(10 + i * 7));
    const big = randomBytes(200_000);
    let seen: { headers: Record<string, unknown>; body: Buffer } | undefined;
    const { path, server } = await serve((stream, headers, body) => {
      seen = { headers, body };
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'x-same': 'again and again', 'x-value': values.slice(0, 20) },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'x-same': 'again and again', 'x-value': values.slice(20) }),
      );
      stream.end(big);
    });
    try {
      const answer = await h2UnaryCall(path, '/cedana.daemon.v1.Daemon/List', Buffer.from([0, 0, 0, 0, 1, 7]), [['x-asked', 'yes']], 5000);
      assert.equal(seen?.headers[':method'], 'POST');
      assert.equal(seen?.headers[':path'], '/cedana.daemon.v1.Daemon/List');
      assert.equal(seen?.headers['content-type'], 'application/grpc');
      assert.equal(seen?.headers.te, 'trailers');
      assert.equal(seen?.headers['x-asked'], 'yes');
      assert.deepEqual(seen?.body, Buffer.from([0, 0, 0, 0, 1, 7]));
      assert.equal(answer.headers[':status'], '200');
      assert.equal(answer.headers['x-same'], 'again and again');
      assert.equal(answer.headers['x-value'], values.slice(0, 20).join(', '));
      assert.equal(answer.trailers['grpc-status'], '0');
      assert.equal(answer.trailers['x-same'], 'again and again'); // from the dynamic table
      assert.equal(answer.trailers['x-value'], values.slice(20).join(', '));
      assert.deepEqual(answer.body, big);
    } finally {
      await close(server);
    }
  });

  it('reads a trailers-only answer', async () => {
    const { path, server } = await serve((stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'no%20job' },
        { endStream: true },
      );
    });
    try {
      const answer = await h2UnaryCall(path, '/x/Y', Buffer.alloc(5), [], 5000);
      assert.equal(answer.trailers['grpc-status'], '5');
      assert.equal(answer.trailers['grpc-message'], 'no%20job');
      assert.equal(answer.body.length, 0);
    } finally {
      await close(server);
    }
  });

  it('rejects a reset call, a missing socket, and a peer that never speaks HTTP/2', async () => {
    const { path, server } = await serve((stream) => stream.close(8));
    try {
      await assert.rejects(h2UnaryCall(path, '/x/Y', Buffer.alloc(5), [], 5000), H2CallError);
    } finally {
      await close(server);
    }
    await assert.rejects(
      h2UnaryCall(join(dir, 'none.sock'), '/x/Y', Buffer.alloc(5), [], 5000),
      (err) => err instanceof H2CallError && !(err instanceof H2TimeoutError),
    );
    const silent = createNetServer(() => {});
    const silentPath = join(dir, 'silent.sock');
    await new Promise<void>((resolve) => silent.listen(silentPath, resolve));
    try {
      await assert.rejects(h2UnaryCall(silentPath, '/x/Y', Buffer.alloc(5), [], 200), H2TimeoutError);
    } finally {
      silent.close();
    }
  });
});

describe('hpack', () => {
  it('reads back its own literals, and refuses damaged Huffman strings', () => {
    const headers: [string, string][] = [
      ['a', ''],
      ['x-long', 'y'.repeat(300)],
      ['grpc-message', printable(80)],
    ];
    assert.deepEqual(new HpackDecoder().decode(encodeHeaders(headers)), headers);
    assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff])), /EOS|padding/); // EOS is 30 ones
    assert.throws(() => huffmanDecode(Buffer.from([0x00])), /padding/); // '0' (00000), then padding of zeros
    assert.equal(huffmanDecode(Buffer.from([0x07])), '0'); // '0' (00000), then padding of ones
  });
});
