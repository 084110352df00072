/**
 * Runs a Dump or Restore under a request ID and shows its progress (output/progress.ts)
 * while it runs: on a terminal, or with --progress; never with --json or --no-progress.
 */
import type { CallOpts, DaemonApi } from '../daemon-api.js';
import { requestId, startProgress } from '../output/progress.js';
import type { Session } from '../session.js';

export interface ProgressArgs {
  progress?: boolean;
  json?: boolean;
}

export async function withProgress<T>(
  session: Session,
  client: DaemonApi,
  argv: ProgressArgs,
  label: string,
  call: (opts: CallOpts) => Promise<T>,
): Promise<T> {
  const stream = session.deps.stderr;
  const wanted = !argv.json && argv.progress !== false && (argv.progress === true || stream.isTTY === true);
  if (!wanted) return call({});
  const display = startProgress(stream, label, { force: argv.progress === true });
  const id = requestId();
  const watch = client.watchProgress?.(id, (e) => display.update(e));
  try {
    return await call({ requestId: id });
  } finally {
    watch?.cancel();
    display.stop();
  }
}

/** The --progress and --print-stats flags of dump and restore, and --json. */
export const MEASURE_OPTIONS = {
  progress: { type: 'boolean', describe: 'show bytes done / total (default: on a terminal; --no-progress: never)' },
  'print-stats': { type: 'boolean', describe: 'print freeze, dump and write times and sizes before/after compression' },
  json: { type: 'boolean', describe: 'print the response as JSON (with its stats)' },
} as const;
