import type { DumpAdapter } from '@cedana/core';
import { recordCriuOptions } from './repeated.js';

// By now every adapter that chooses CRIU options (shell job, TCP) has run.

/** Records in checkpoint.json the CRIU options that its restore must repeat (repeated.ts). */
export const recordCriuOptionsForDump: DumpAdapter = (next) =>
  async function recordCriuOptionsForDump(ctx, req, res) {
    ctx.manifest.criuOptions = recordCriuOptions(ctx.criu);
    return next(ctx, req, res);
  };
