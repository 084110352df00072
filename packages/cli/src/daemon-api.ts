/**
 * What commands see of the daemon: one promise per unary RPC, the Attach stream,
 * and close(). Types only, so commands never load grpc-js themselves: client.ts
 * implements this over gRPC, tests with a fake.
 */
import type {
  AttachReq,
  AttachResp,
  DeleteCheckpointReq,
  DeleteCheckpointResp,
  DeleteReq,
  DeleteResp,
  DumpReq,
  DumpResp,
  FeaturesReq,
  FeaturesResp,
  HealthCheckReq,
  HealthCheckResp,
  InspectCheckpointReq,
  InspectCheckpointResp,
  KillReq,
  KillResp,
  ListCheckpointsReq,
  ListCheckpointsResp,
  ListReq,
  ListResp,
  ManageReq,
  ManageResp,
  ProfilingData,
  QueryReq,
  QueryResp,
  ReloadPluginsReq,
  RestoreReq,
  RestoreResp,
  RunReq,
  RunResp,
} from '@cedana/core/proto';

export interface DaemonApi {
  dump(req: DumpReq): Promise<DumpResp>;
  restore(req: RestoreReq): Promise<RestoreResp>;
  run(req: RunReq): Promise<RunResp>;
  manage(req: ManageReq): Promise<ManageResp>;
  list(req: ListReq): Promise<ListResp>;
  kill(req: KillReq): Promise<KillResp>;
  delete(req: DeleteReq): Promise<DeleteResp>;
  listCheckpoints(req: ListCheckpointsReq): Promise<ListCheckpointsResp>;
  inspectCheckpoint(req: InspectCheckpointReq): Promise<InspectCheckpointResp>;
  deleteCheckpoint(req: DeleteCheckpointReq): Promise<DeleteCheckpointResp>;
  query(req: QueryReq): Promise<QueryResp>;
  healthCheck(req: HealthCheckReq): Promise<HealthCheckResp>;
  features(req: FeaturesReq): Promise<FeaturesResp>;
  reloadPlugins(req: ReloadPluginsReq): Promise<FeaturesResp>;
  /** Opens the Attach stream; its errors are already CedanaErrors. */
  attach(): AttachCall;
  close(): void;
}

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
