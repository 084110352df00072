/** The `gpu` health check of `cedana daemon check`: driver version, GPU count, cuda-checkpoint. */
import type { HealthCheck, HealthResult } from '@cedana/plugin-sdk';
import { probe } from './tool.js';

export const gpuHealthCheck: HealthCheck = async function gpuHealthCheck({ signal }) {
  const p = await probe(signal);
  const result: HealthResult = { name: 'gpu', data: {}, warnings: [], errors: p.problems };
  if (p.driver) result.data.driver = p.driver;
  result.data.gpus = String(p.gpus.length);
  if (p.gpus.length) result.data.models = [...new Set(p.gpus.map((g) => g.name))].join(', ');
  if (p.cudaCheckpoint)
    result.data['cuda-checkpoint'] = `${p.cudaCheckpoint}${p.mode ? ` (${p.mode === 'action' ? '--action' : '--toggle only'})` : ''}`;
  if (p.mode === 'toggle') {
    result.warnings.push({
      message: 'this driver offers only cuda-checkpoint --toggle (r550/r555): lock and checkpoint happen in one step',
      fix: 'upgrade the NVIDIA driver to 570 or newer for lock/checkpoint/restore/unlock',
    });
  }
  return result;
};
