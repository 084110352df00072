import { randomBytes } from 'node:crypto';
import { type BaseContext, type Config, type Logger, type PluginSource, Profiler, wire } from '@cedana/core';
import type { Metadata } from '@grpc/grpc-js';

/** The context of one request: a logger named after it, its cancellation, a profiler when asked for, the loaded plugins. */
export function callContext(
  method: string,
  metadata: Metadata,
  call: { on(event: 'cancelled', l: () => void): unknown },
  config: Config,
  log: Logger,
  plugins: PluginSource,
): BaseContext {
  const abort = new AbortController();
  call.on('cancelled', () => abort.abort());
  const profiling = config['profiling.enabled'] || metadata.get(wire.PROFILING_REQUEST_KEY)[0] === '1';
  return {
    log: log.child({ method, req: randomBytes(3).toString('hex') }),
    config,
    signal: abort.signal,
    profiler: profiling ? new Profiler(method) : undefined,
    plugins,
  };
}
