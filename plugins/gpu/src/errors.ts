/** The error codes of the gpu plugin only (definePlugin's `errors`); rows in docs/errors.md, gpu section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const GPU_ERRORS = {
  CEDANA_ERR_GPU_UNAVAILABLE: {
    status: 'FAILED_PRECONDITION',
    hint: 'install the NVIDIA driver >= 550 and cuda-checkpoint (`cedana daemon check` lists what is missing), or run without --gpu-enabled',
  },
  CEDANA_ERR_GPU_CHECKPOINT: {
    status: 'INTERNAL',
    hint: 'read the cuda-checkpoint message above; the process was put back on its GPU, so the dump can be retried',
  },
} as const satisfies Record<`CEDANA_ERR_GPU_${string}`, ErrorSpec>;
