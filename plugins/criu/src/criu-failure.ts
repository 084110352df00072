/** Turning a failed criu run into a CedanaError that shows the log's telling lines. */
import { CedanaError, type ErrorCode, type PluginErrorCode } from '@cedana/plugin-sdk';
import { detailLines, headlineError } from './criu-log.js';
import { type CriuRun, describeRun } from './criu-process.js';

/**
 * `what failed (exit X): <headline>`, with the log's error lines (or CRIU's own output
 * when the log is empty) as details. `logPath` is named in the last detail line.
 */
export function criuFailure(
  code: ErrorCode | PluginErrorCode,
  what: string,
  run: CriuRun,
  logLines: string[],
  logPath: string,
  hint?: string,
): CedanaError {
  const output = run.output.split('\n').filter((l) => l.trim() !== '');
  const source = logLines.length > 0 ? logLines : output;
  const headline = headlineError(source) ?? output.at(-1) ?? 'no error line in the log';
  const details = [...detailLines(source), `(full log: ${logPath})`];
  return new CedanaError(code, `${what} failed (${describeRun(run)}): ${headline}`, hint === undefined ? { details } : { details, hint });
}
