/**
 * The fast path of `cedana ps` (the launcher runs fast-main.js for exactly `cedana ps` or
 * `cedana jobs`): the same List call and the same table as commands/jobs.ts, without yargs, the
 * startup snapshot or node:http2, which together cost ~2/3 of a bare `node` again. It prints
 * only a complete answer; whatever else happens (a config this path does not serve, no daemon, a
 * failed call, a table that needs cli-table3) returns undefined before anything is printed, and
 * the full CLI runs the command line instead, printing what it always has.
 */
import { loadConfig } from '@cedana/core/config';
import { ListReq, ListResp } from '@cedana/core/messages';
import { cellsOf, layOutColumns } from '../output/columns.js';
import { JOB_HEAD, jobRows, NO_JOBS } from '../output/job-rows.js';
import { H2TimeoutError, h2UnaryCall } from './h2-call.js';

/** As the full client waits for a daemon (client.ts' DEFAULT_TIMEOUT_MS). */
const TIMEOUT_MS = 5000;
const LIST_PATH = '/cedana.daemon.v1.Daemon/List';

/** The command lines this path serves. */
export function isFastPs(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === 'ps' || args[0] === 'jobs');
}

export type FastResult = { stdout: string; timedOut?: undefined } | { stdout?: undefined; timedOut: string } | undefined;

/**
 * What `cedana ps` prints, or that the daemon did not answer in time (`timedOut`: the socket
 * path, for the full path's error), or undefined for the full path to run.
 */
export async function fastPs(env: NodeJS.ProcessEnv): Promise<FastResult> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env });
  } catch {
    return undefined;
  }
  // TCP and TLS, a token, profiling trees: the full client's.
  if (config.protocol !== 'unix' || config.auth_token || config['profiling.enabled']) return undefined;
  const request = ListReq.encode({ jids: [], type: '' }).finish();
  const body = Buffer.alloc(5 + request.length);
  body.writeUInt32BE(request.length, 1);
  body.set(request, 5);
  let answer: Awaited<ReturnType<typeof h2UnaryCall>>;
  try {
    answer = await h2UnaryCall(config.address, LIST_PATH, body, [], TIMEOUT_MS);
  } catch (err) {
    return err instanceof H2TimeoutError ? { timedOut: err.message } : undefined;
  }
  const { headers, trailers, body: data } = answer;
  if (headers[':status'] !== '200' || trailers['grpc-status'] !== '0' || data.length < 5 || data[0] !== 0) return undefined;
  const length = data.readUInt32BE(1);
  if (data.length !== 5 + length) return undefined;
  let jobs: ListResp['jobs'];
  try {
    jobs = ListResp.decode(data.subarray(5)).jobs;
  } catch {
    return undefined;
  }
  if (jobs.length === 0) return { stdout: `${NO_JOBS}\n` };
  const table = layOutColumns(JOB_HEAD, cellsOf(jobRows(jobs)));
  return table === undefined ? undefined : { stdout: `${table}\n` };
}
