/**
 * What commands see of the daemon: one promise per unary RPC, the Attach stream,
 * and close(). Types only, so commands never load a gRPC client themselves: client.ts
 * implements this over gRPC, tests with a fake.
 */
import type { AttachReq, AttachResp, DaemonService, ProfilingData, ProgressEvent } from '@cedana/core/proto';

type Service = typeof DaemonService;
/** The names of the service's unary RPCs. */
export type UnaryMethod = {
  [K in keyof Service]: Service[K]['requestStream'] extends true ? never : Service[K]['responseStream'] extends true ? never : K;
}[keyof Service];

/** Per-call options of a unary RPC. */
export interface CallOpts {
  /** Names the call for watchProgress (Dump, Restore). */
  requestId?: string;
}

/** One promise per unary RPC, derived from the service definition (the .proto is the one list of RPCs). */
export type DaemonApi = {
  [K in UnaryMethod]: (
    req: Parameters<Service[K]['requestSerialize']>[0],
    opts?: CallOpts,
  ) => Promise<ReturnType<Service[K]['responseDeserialize']>>;
} & {
  /** Opens the Attach stream; its errors are already CedanaErrors. */
  attach(): Promise<AttachCall>;
  /**
   * Streams the progress of the call sent with `requestId` (it may start before that call)
   * until the call ends; errors only stop the reports. Absent on fakes without progress.
   */
  watchProgress?(requestId: string, onEvent: (e: ProgressEvent) => void): { cancel(): void };
  close(): void;
};

/** The Attach stream as commands use it (a subset of grpc-js' ClientDuplexStream). */
export interface AttachCall {
  write(req: AttachReq): unknown;
  end(): void;
  cancel(): void;
  on(event: 'data', listener: (resp: AttachResp) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

export interface ConnectOptions {
  /** Called with the profiling tree of each call that sent one back. */
  onProfile?(data: ProfilingData): void;
  /** How long to wait for the daemon to accept the connection. */
  timeoutMs?: number;
}
