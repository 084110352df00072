/**
 * @cedana/plugin-gpu: CUDA checkpoint/restore around CRIU with NVIDIA's cuda-checkpoint.
 * The daemon splices these features into the pipelines of GPU jobs (--gpu-enabled) only;
 * the core never knows about GPUs. See docs/gpu.md.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { GPUInterceptor, GPUInterceptorRestore, gpuDump, gpuRestoreCheck } from './adapters.js';
import { GPU_ERRORS } from './errors.js';
import { gpuHealthCheck } from './health.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'gpu',
  version,
  role: 'accelerator',
  requires: ['engine'],
  errors: GPU_ERRORS,
  features: {
    GPUInterceptor,
    GPUInterceptorRestore,
    DumpMiddleware: [gpuDump],
    RestoreMiddleware: [gpuRestoreCheck],
    HealthChecks: [gpuHealthCheck],
  },
});
