/**
 * One unary gRPC call on a fresh HTTP/2 connection over a unix socket (RFC 9113, prior
 * knowledge, as the daemon's unix socket speaks it), for the fast path of the commonest
 * command (fast-path/ps.ts). node:http2 costs ~15 ms to load (it brings http, tls and crypto
 * along): more than `cedana ps` may take beyond a bare `node`. Only the happy path is handled
 * here: anything this does not expect (a reset, GOAWAY, a push, a closed connection, a bad
 * frame) rejects with an H2CallError, and the caller runs the full CLI instead, which reports it
 * as it always has.
 */
import { connect } from 'node:net';
import { encodeHeaders, type HeaderList, HpackDecoder } from './hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
};
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 };
const STREAM = 1;
/** Windows as large as HTTP/2 has (2^31-1): the answer is read whole, and never waits for a WINDOW_UPDATE. */
const MAX_WINDOW = 0x7fffffff;
const DEFAULT_WINDOW = 65_535;

export class H2CallError extends Error {}
/** The daemon sent no SETTINGS within the deadline: where the full client gives up too. */
export class H2TimeoutError extends H2CallError {}

export interface H2Answer {
  headers: Record<string, string>;
  /** The trailers; the response headers again for a trailers-only answer. */
  trailers: Record<string, string>;
  /** The body: gRPC's length-prefixed messages as sent. */
  body: Buffer;
}

function frame(type: number, flags: number, stream: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** Header names as gRPC reads them: a name sent twice keeps its values joined by ", " (as node:http2 does). */
function toRecord(list: HeaderList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of list) out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  return out;
}

/**
 * POSTs `body` (one gRPC message, already length-prefixed) to `path` on the daemon at the unix
 * socket `socketPath`. `timeoutMs` bounds the wait for the daemon's SETTINGS, as openSession()
 * does for the full client; after those, the call waits as long as the daemon takes.
 */
export function h2UnaryCall(socketPath: string, path: string, body: Buffer, headers: HeaderList, timeoutMs: number): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    // The request goes out in one DATA frame: at most 16 KiB (SETTINGS_MAX_FRAME_SIZE's least value).
    if (body.length > 16_384) return reject(new H2CallError(`a request of ${body.length} bytes, more than one frame holds`));
    const socket = connect(socketPath);
    const decoder = new HpackDecoder();
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    let block: Buffer[] | undefined; // a header block still waiting for its CONTINUATION frames
    let blockEnds = false;
    const blocks: Record<string, string>[] = [];
    const data: Buffer[] = [];

    const timer = setTimeout(() => fail(new H2TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const done = () => {
      settled = true;
      clearTimeout(timer);
      // GOAWAY (last stream 0, NO_ERROR), then the end: the daemon sees a client that left politely.
      socket.end(frame(FRAME.GOAWAY, 0, 0, Buffer.alloc(8)));
      const [head, trailers] = blocks;
      resolve({
        headers: head as Record<string, string>,
        trailers: (trailers ?? head) as Record<string, string>,
        body: Buffer.concat(data),
      });
    };

    const onHeaderBlock = (payload: Buffer, endStream: boolean) => {
      blocks.push(toRecord(decoder.decode(payload)));
      if (blocks.length > 2) throw new H2CallError('more than two header blocks');
      if (endStream) done();
    };

    const onFrame = (type: number, flags: number, stream: number, payload: Buffer) => {
      if (block && type !== FRAME.CONTINUATION) throw new H2CallError('a header block cut by another frame');
      if (stream === 0) {
        if (type === FRAME.SETTINGS) {
          if (flags & FLAG.ACK) return;
          clearTimeout(timer); // the daemon is there, and speaks HTTP/2
          socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        } else if (type === FRAME.PING) {
          if (!(flags & FLAG.ACK)) socket.write(frame(FRAME.PING, FLAG.ACK, 0, payload));
        } else if (type === FRAME.GOAWAY) {
          throw new H2CallError('the daemon closed the connection (GOAWAY)');
        } else if (type !== FRAME.WINDOW_UPDATE) throw new H2CallError(`frame type ${type} on the connection`);
        return;
      }
      if (stream !== STREAM) throw new H2CallError(`a frame of stream ${stream}`);
      if (type === FRAME.DATA || type === FRAME.HEADERS) {
        let start = 0;
        let end = payload.length;
        if (flags & FLAG.PADDED) end -= payload[start++] ?? 0;
        if (type === FRAME.HEADERS && flags & FLAG.PRIORITY) start += 5;
        if (start > end) throw new H2CallError('more padding than frame');
        const content = payload.subarray(start, end);
        if (type === FRAME.DATA) {
          if (flags & FLAG.END_STREAM) throw new H2CallError('the answer ended without trailers');
          data.push(content);
        } else if (flags & FLAG.END_HEADERS) {
          onHeaderBlock(content, (flags & FLAG.END_STREAM) !== 0);
        } else {
          block = [content];
          blockEnds = (flags & FLAG.END_STREAM) !== 0;
        }
      } else if (type === FRAME.CONTINUATION && block) {
        block.push(payload);
        if (flags & FLAG.END_HEADERS) {
          const whole = Buffer.concat(block);
          block = undefined;
          onHeaderBlock(whole, blockEnds);
        }
      } else if (type !== FRAME.WINDOW_UPDATE && type !== FRAME.PRIORITY) {
        throw new H2CallError(type === FRAME.RST_STREAM ? 'the daemon reset the call' : `frame type ${type} on the call`);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      try {
        while (!settled && buffered.length >= 9) {
          const length = buffered.readUIntBE(0, 3);
          if (buffered.length < 9 + length) break;
          const payload = buffered.subarray(9, 9 + length);
          onFrame(buffered[3] as number, buffered[4] as number, buffered.readUInt32BE(5) & MAX_WINDOW, payload);
          buffered = buffered.subarray(9 + length);
        }
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.on('error', (err) => fail(new H2CallError(err.message)));
    socket.on('close', () => fail(new H2CallError('the connection closed before the answer ended')));

    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(MAX_WINDOW, 8);
    const windowUpdate = Buffer.alloc(4);
    windowUpdate.writeUInt32BE(MAX_WINDOW - DEFAULT_WINDOW, 0);
    const block0 = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', 'localhost'],
      [':path', path],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ...headers,
    ]);
    socket.write(
      Buffer.concat([
        PREFACE,
        frame(FRAME.SETTINGS, 0, 0, settings),
        frame(FRAME.WINDOW_UPDATE, 0, 0, windowUpdate),
        frame(FRAME.HEADERS, FLAG.END_HEADERS, STREAM, block0),
        frame(FRAME.DATA, FLAG.END_STREAM, STREAM, body),
      ]),
    );
  });
}
