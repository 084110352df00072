/**
 * The DumpMiddleware of type "tag": it runs after the daemon made the checkpoint folder
 * and before the process is inspected and CRIU dumps it. It validates the request's
 * details, tells the pipeline which process to dump (ctx.pid), and adds `tag` to the
 * facts that end up in checkpoint.json.
 */
import { hostname } from 'node:os';
import { CedanaError, type DumpAdapter } from '@cedana/plugin-sdk';
import type { TagDetails } from './dump-command.js';

export const LABEL = /^[\w.-]{1,64}$/;

export const tagCheckpoint: DumpAdapter = (next) =>
  async function tagCheckpoint(ctx, req, res) {
    const { pid, label } = detailsOf(req.details?.tag);
    ctx.pid = pid;
    ctx.setSection({ label, taggedAt: new Date().toISOString(), host: hostname() });
    ctx.log.info({ pid, label }, 'tagging the checkpoint');
    return next(ctx, req, res);
  };

function detailsOf(raw: unknown): TagDetails {
  const d = (raw ?? {}) as Partial<Record<keyof TagDetails, unknown>>;
  if (typeof d.label !== 'string' || !LABEL.test(d.label)) {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `label ${JSON.stringify(d.label)} is not 1 to 64 letters, digits, ".", "_" or "-"`,
      {
        hint: 'give --label nightly-2025 or similar',
      },
    );
  }
  const pid = Number(d.pid);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--pid must be a process ID, found ${JSON.stringify(d.pid)}`);
  }
  return { pid, label: d.label };
}
