/** The final dump handler: `criu dump` of ctx.pid into ctx.imagesDir. */
import { join } from 'node:path';
import { type DumpContext, type DumpReq, type DumpResp, Steps } from '@cedana/plugin-sdk';
import { criuFailure } from './criu-failure.js';
import { readLogLines } from './criu-log.js';
import { runCriu } from './criu-process.js';
import { discoverCriu } from './discover.js';
import { criuDumpLazy } from './dump-lazy.js';
import { criuFlags } from './flags.js';

/** CRIU's log, written inside the images folder (so it travels with the checkpoint). */
export const DUMP_LOG = 'dump.log';

/**
 * Dumps the process tree rooted at `ctx.pid` with
 * `criu dump -t PID -D DIR -o dump.log -v4` plus the flags of `ctx.criu`, and records
 * `{ version, binary }` of CRIU as the criu section of checkpoint.json. With `ctx.pageChannel`
 * (post-copy migration) it is a lazy dump instead (dump-lazy.ts).
 *
 * Abort: `ctx.signal` is checked before criu starts; a running dump is never
 * interrupted, because killing criu mid-dump can leave the tree frozen. The caller
 * sees the abort when the handler returns.
 *
 * @throws CedanaError CEDANA_ERR_CRIU_NOT_FOUND, CEDANA_ERR_CRIU_TOO_OLD, CEDANA_ERR_CRIU_DUMP
 *   (with the error lines of dump.log as details)
 */
export async function criuDump(ctx: DumpContext, _req: DumpReq, _res: DumpResp): Promise<void> {
  ctx.signal.throwIfAborted();
  const steps = new Steps();
  const criu = await discoverCriu(ctx.config);
  steps.mark('discover');
  const args = ['dump', '-t', String(ctx.pid), '-D', ctx.imagesDir, '-o', DUMP_LOG, '-v4', ...criuFlags(ctx.criu, 'dump')];
  if (ctx.pageChannel) {
    await criuDumpLazy(ctx, ctx.pageChannel, criu.binary, args, DUMP_LOG);
    ctx.setSection({ version: criu.version.text, binary: criu.binary });
    return;
  }
  ctx.log.debug({ binary: criu.binary, args }, 'running criu dump');
  const run = await runCriu(criu.binary, args);
  steps.mark('criu'); // criu's start and exit with the dump (dump.log has criu's own times)
  ctx.log.debug({ ms: steps.total(), steps: steps.ms }, 'dump steps (ms)');
  if (run.exit !== 0) {
    const logPath = join(ctx.imagesDir, DUMP_LOG);
    throw criuFailure('CEDANA_ERR_CRIU_DUMP', `criu dump of PID ${ctx.pid}`, run, await readLogLines(logPath), logPath);
  }
  ctx.setSection({ version: criu.version.text, binary: criu.binary });
}
