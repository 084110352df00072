/**
 * The daemon's streaming calls (Attach, Progress) over grpc-js, which the CLI loads only for
 * them: its unary calls go over client.ts' own small client (docs/architecture.md, "The CLI's
 * gRPC client"). Errors of the Attach stream become CedanaErrors as unary ones do.
 */
import type { ClientTls } from '@cedana/core';
import { type AttachReq, type AttachResp, channelOf, DaemonClient, type ProgressEvent } from '@cedana/core/proto';
import { type ClientDuplexStream, Metadata } from '@grpc/grpc-js';
import { type FailedCall, fromFailedCall } from './call-errors.js';
import type { AttachCall } from './daemon-api.js';

export interface StreamsClient {
  attach(): AttachCall;
  watchProgress(requestId: string, onEvent: (e: ProgressEvent) => void): { cancel(): void };
  close(): void;
}

/** A grpc-js client of `target` (over TLS when `tls` is given), sending `headers` (auth, profiling) as metadata with each call. */
export function streamsClient(target: string, headers: Record<string, string>, tls?: ClientTls): StreamsClient {
  const channel = channelOf(tls, target);
  const client = new DaemonClient(target, channel.credentials, { 'grpc.enable_http_proxy': 0, ...channel.options });
  const metadata = () => {
    const md = new Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    return md;
  };
  return {
    attach: () => new GrpcAttachCall(client.attach(metadata()), target),
    watchProgress: (requestId, onEvent) => {
      const call = client.progress({ requestId }, metadata());
      call.on('data', onEvent);
      call.on('error', () => {}); // progress is a nicety: a failed watch never fails the command
      return { cancel: () => call.cancel() };
    },
    close: () => client.close(),
  };
}

/** The Attach stream, with its errors turned into CedanaErrors. */
class GrpcAttachCall implements AttachCall {
  constructor(
    private readonly stream: ClientDuplexStream<AttachReq, AttachResp>,
    private readonly target: string,
  ) {}

  write(req: AttachReq): boolean {
    return this.stream.write(req);
  }

  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }

  on(event: 'data', listener: (resp: AttachResp) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'error' | 'end', listener: (arg: never) => void): this {
    if (event === 'error') this.stream.on('error', (err: FailedCall) => (listener as (e: Error) => void)(fromFailedCall(err, this.target)));
    else this.stream.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
}
