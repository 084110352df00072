/**
 * Unary gRPC calls over node:http2, for the CLI's one-shot commands (why not grpc-js:
 * docs/architecture.md, "The CLI's gRPC client"). A call is one POST of one length-prefixed
 * message (a 5-byte header: compressed flag 0, big-endian length) with `content-type:
 * application/grpc` and `te: trailers`; the answer is one such message, then trailers with
 * grpc-status and grpc-message. A call that does not end OK rejects with a FailedCall (status,
 * details and trailer metadata, as grpc-js gives them) for call-errors.ts to read.
 */
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { type FailedCall, wire } from '@cedana/core';
import { unreachable } from './call-errors.js';

const { OK, CANCELLED, UNKNOWN, INTERNAL, UNAVAILABLE, UNIMPLEMENTED, UNAUTHENTICATED, RESOURCE_EXHAUSTED } = wire.GRPC_STATUS;
const PERMISSION_DENIED = 7;

/** The gRPC status of an answer without one, by its HTTP status (as the gRPC spec and grpc-js map them). */
const STATUS_OF_HTTP: Record<number, number> = {
  400: INTERNAL,
  401: UNAUTHENTICATED,
  403: PERMISSION_DENIED,
  404: UNIMPLEMENTED,
  429: UNAVAILABLE,
  502: UNAVAILABLE,
  503: UNAVAILABLE,
  504: UNAVAILABLE,
};

/** The gRPC status of a stream the daemon reset, by its HTTP/2 error code (as grpc-js maps them). */
const STATUS_OF_RST: Record<number, number> = { 7: UNAVAILABLE, 8: CANCELLED, 11: RESOURCE_EXHAUSTED, 12: PERMISSION_DENIED };

/** Response metadata as grpc-js' Metadata.get() gives it: `-bin` values base64-decoded. */
export class ResponseMetadata {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(key: string): (string | Buffer)[] {
    const v = this.headers[key];
    if (v === undefined) return [];
    const values = Array.isArray(v) ? v : [v];
    return key.endsWith('-bin') ? values.flatMap((x) => x.split(',')).map((x) => Buffer.from(x.trim(), 'base64')) : values;
  }
}

export interface UnaryAnswer {
  message: Buffer;
  metadata: ResponseMetadata;
}

/** A failed call as grpc-js' ServiceError has it. */
class CallFailure extends Error implements FailedCall {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly metadata: ResponseMetadata = new ResponseMetadata({}),
  ) {
    const name = Object.entries(wire.GRPC_STATUS).find(([, n]) => n === code)?.[0] ?? String(code);
    super(`${code} ${name}: ${details}`);
  }
}

/**
 * Why a connection failed, when there is more to say than "unreachable" (a TLS failure): called
 * with the connection's error, or undefined when it closed before the daemon answered.
 */
export type Diagnose = (err: NodeJS.ErrnoException | undefined) => Promise<Error | undefined>;

/**
 * An HTTP/2 session with the daemon (`options`: a createConnection of a unix socket, or TLS
 * options), once the daemon has sent its SETTINGS: a peer that is not an HTTP/2 server never gets
 * there. Rejects with what `diagnose` says, else CEDANA_ERR_DAEMON_UNREACHABLE, on the first
 * connection error, or at the deadline.
 */
export function openSession(
  http2: typeof import('node:http2'),
  authority: string,
  options: import('node:http2').SecureClientSessionOptions,
  target: string,
  timeoutMs: number,
  diagnose: Diagnose = async () => undefined,
): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options);
    let failed = false;
    const fail = (reason: string, err?: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      session.destroy();
      void diagnose(err).then(
        (diagnosed) => reject(diagnosed ?? unreachable(target, reason)),
        () => reject(unreachable(target, reason)),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      session.off('error', onError);
      session.off('close', onClose);
      session.on('error', () => {}); // a session that fails later fails its calls (unaryCall reads that)
      resolve(session);
    });
    const onError = (err: NodeJS.ErrnoException) => fail(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message, err);
    const onClose = () => fail('the connection closed before the daemon answered');
    session.once('error', onError);
    session.once('close', onClose);
  });
}

/** Calls `path` (`/package.Service/Method`) with the encoded request `body` and request metadata `headers`. */
export function unaryCall(
  session: ClientHttp2Session,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<UnaryAnswer> {
  return new Promise((resolve, reject) => {
    if (session.destroyed || session.closed) return reject(new CallFailure(UNAVAILABLE, 'the connection to the daemon is closed'));
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    stream.end(Buffer.concat([prefix, body]));

    let response: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let error: Error | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (response = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => (error = err));
    stream.on('close', () => {
      // Trailers, or a trailers-only answer (the status in the one HEADERS frame).
      const end = trailers ?? (response['grpc-status'] !== undefined ? response : undefined);
      if (end === undefined)
        return reject(withoutStatus(Number(response[':status']), session.destroyed ? undefined : stream.rstCode, error));
      const metadata = new ResponseMetadata(end);
      const code = Number(end['grpc-status']);
      if (code !== OK) return reject(new CallFailure(Number.isInteger(code) ? code : UNKNOWN, grpcMessage(end), metadata));
      const data = Buffer.concat(chunks);
      if (data.length < 5) return reject(new CallFailure(UNIMPLEMENTED, 'No message received', metadata));
      if (data[0] !== 0)
        return reject(new CallFailure(INTERNAL, 'the daemon sent a compressed message, which this CLI did not ask for', metadata));
      const length = data.readUInt32BE(1);
      if (data.length < 5 + length)
        return reject(new CallFailure(INTERNAL, `the daemon's answer ended after ${data.length - 5} of ${length} bytes`, metadata));
      resolve({ message: data.subarray(5, 5 + length), metadata });
    });
  });
}

/** grpc-message is percent-encoded (gRPC over HTTP/2). */
function grpcMessage(headers: IncomingHttpHeaders): string {
  const raw = headers['grpc-message'];
  if (typeof raw !== 'string') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The failure of a call that ended without a gRPC status (`rstCode` undefined: the connection went down). */
function withoutStatus(httpStatus: number, rstCode: number | undefined, error: Error | undefined): CallFailure {
  if (httpStatus && httpStatus !== 200)
    return new CallFailure(STATUS_OF_HTTP[httpStatus] ?? UNKNOWN, `Received HTTP status code ${httpStatus}`);
  if (rstCode) return new CallFailure(STATUS_OF_RST[rstCode] ?? INTERNAL, `Received RST_STREAM with code ${rstCode}`);
  return new CallFailure(UNAVAILABLE, error ? `connection dropped: ${error.message}` : 'connection dropped before the daemon answered');
}
