/** Turning a failed criu run into a CedanaError that shows the log's telling lines. */
import { CedanaError, type ErrorCode, type PluginErrorCode } from '@cedana/plugin-sdk';
import { detailLines, headlineError } from './criu-log.js';
import { type CriuRun, describeRun } from './criu-process.js';

/**
 * CRIU refusals whose log line alone does not say what the user can do, and what that is. The
 * hint replaces the code's general one when the headline matches.
 */
const KNOWN_CAUSES: ReadonlyArray<{ headline: RegExp; hint: string }> = [
  {
    headline: /session leader of \d+\(\d+\) is outside of its pid namespace/,
    hint:
      'the process belongs to a session whose leader is in a parent PID namespace, which CRIU cannot dump. ' +
      'Start the job with `cedana run` (a session of its own) or under `setsid`. The process was left running',
  },
];

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
  const why = KNOWN_CAUSES.find((c) => c.headline.test(headline))?.hint ?? hint;
  return new CedanaError(
    code,
    `${what} failed (${describeRun(run)}): ${headline}`,
    why === undefined ? { details } : { details, hint: why },
  );
}
