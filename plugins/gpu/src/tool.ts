/**
 * NVIDIA's tools as the plugin runs them: `nvidia-smi` (driver version, GPUs) and
 * `cuda-checkpoint` (driver >= 550). cuda-checkpoint moves a process's CUDA state
 * between the GPU and host memory. Drivers from r570 take `--action lock|checkpoint|
 * restore|unlock` (the documented order: lock, checkpoint, then CRIU; after it restore,
 * unlock); r550/r555 know only `--toggle`, which does lock+checkpoint or restore+unlock
 * in one call. `--get-state` answers running | locked | checkpointed | failed.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { CedanaError } from '@cedana/plugin-sdk';

/** cuda-checkpoint needs this driver or newer. */
export const MIN_DRIVER = 550;

export interface Run {
  exit: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], signal?: AbortSignal): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { signal, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
      resolve({ exit: code, stdout: String(stdout), stderr: String(stderr) || (err && code === 127 ? err.message : '') });
    });
  });
}

export async function findOnPath(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const d of path.split(delimiter)) {
    if (!d) continue;
    const f = join(d, name);
    try {
      await access(f, constants.X_OK);
      return f;
    } catch {}
  }
  return undefined;
}

export interface Gpu {
  driver: string;
  name: string;
}

export interface Probe {
  gpus: Gpu[];
  driver?: string;
  cudaCheckpoint?: string;
  /** `action` (r570+: lock/checkpoint/restore/unlock) or `toggle` (r550/r555). */
  mode?: 'action' | 'toggle';
  problems: { message: string; fix: string }[];
}

/** What the machine offers for GPU checkpoints, and each problem with its fix. */
export async function probe(signal?: AbortSignal): Promise<Probe> {
  const out: Probe = { gpus: [], problems: [] };
  const smi = await findOnPath('nvidia-smi');
  if (!smi) {
    out.problems.push({
      message: "nvidia-smi is not on the daemon's PATH: no NVIDIA driver is installed",
      fix: 'install the NVIDIA driver >= 550 (it brings nvidia-smi), or run without --gpu-enabled',
    });
  } else {
    const r = await run(smi, ['--query-gpu=driver_version,name', '--format=csv,noheader'], signal);
    if (r.exit !== 0) {
      out.problems.push({
        message: `nvidia-smi failed (exit ${r.exit}): ${firstLine(r.stderr || r.stdout)}`,
        fix: 'load the NVIDIA driver (`nvidia-smi` must work), or run without --gpu-enabled',
      });
    } else {
      for (const line of r.stdout.split('\n')) {
        const m = /^\s*([\d.]+)\s*,\s*(.+?)\s*$/.exec(line);
        if (m) out.gpus.push({ driver: m[1] as string, name: m[2] as string });
      }
      out.driver = out.gpus[0]?.driver;
      if (out.gpus.length === 0) {
        out.problems.push({ message: 'nvidia-smi lists no GPU', fix: 'check that the GPU is visible to this machine (`nvidia-smi -L`)' });
      } else if (Number.parseInt(out.driver ?? '0', 10) < MIN_DRIVER) {
        out.problems.push({
          message: `the NVIDIA driver is ${out.driver}, older than ${MIN_DRIVER}: cuda-checkpoint needs ${MIN_DRIVER} or newer`,
          fix: `upgrade the NVIDIA driver to ${MIN_DRIVER} or newer (570+ for lock/checkpoint/restore/unlock)`,
        });
      }
    }
  }
  out.cudaCheckpoint = await findOnPath('cuda-checkpoint');
  if (!out.cudaCheckpoint) {
    out.problems.push({
      message: "cuda-checkpoint is not on the daemon's PATH",
      fix: 'install it from https://github.com/NVIDIA/cuda-checkpoint (bin/x86_64_Linux/cuda-checkpoint) into /usr/local/bin',
    });
  } else {
    const help = await run(out.cudaCheckpoint, ['--help'], signal);
    if (help.exit !== 0 || !/--toggle|--action/.test(help.stdout + help.stderr)) {
      out.problems.push({
        message: `${out.cudaCheckpoint} does not look like cuda-checkpoint (\`--help\` exit ${help.exit}, no --toggle or --action)`,
        fix: 'install cuda-checkpoint from https://github.com/NVIDIA/cuda-checkpoint',
      });
    } else {
      out.mode = /--action/.test(help.stdout + help.stderr) ? 'action' : 'toggle';
    }
  }
  return out;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/** One cuda-checkpoint step; a failure names the step and carries the tool's own message. */
export async function step(tool: string, mode: 'action' | 'toggle', action: Step, pid: number, signal?: AbortSignal): Promise<void> {
  const args = mode === 'action' ? ['--action', action, '--pid', String(pid)] : ['--toggle', '--pid', String(pid)];
  const r = await run(tool, args, signal);
  if (r.exit !== 0) {
    throw new CedanaError(
      'CEDANA_ERR_GPU_CHECKPOINT',
      `cuda-checkpoint ${action} of PID ${pid} failed (exit ${r.exit}): ${(r.stderr || r.stdout).trim() || 'no message'}`,
    );
  }
}

export type Step = 'lock' | 'checkpoint' | 'restore' | 'unlock';

export type CudaState = 'running' | 'locked' | 'checkpointed' | 'failed' | 'unknown';

export async function state(tool: string, pid: number): Promise<CudaState> {
  const r = await run(tool, ['--get-state', '--pid', String(pid)]);
  const s = r.stdout.trim();
  return r.exit === 0 && ['running', 'locked', 'checkpointed', 'failed'].includes(s) ? (s as CudaState) : 'unknown';
}

/**
 * Puts a process back on its GPU from wherever a failed step left it: restore if
 * checkpointed, unlock if locked. Returns what it did, or what went wrong doing it.
 */
export async function rollback(tool: string, mode: 'action' | 'toggle', pid: number): Promise<string> {
  const s = await state(tool, pid);
  try {
    if (s === 'checkpointed') {
      if (mode === 'toggle') await step(tool, mode, 'restore', pid);
      else {
        await step(tool, mode, 'restore', pid);
        await step(tool, mode, 'unlock', pid);
      }
      return 'its CUDA state was restored and unlocked: it runs on its GPU';
    }
    if (s === 'locked') {
      await step(tool, mode, 'unlock', pid);
      return 'it was unlocked: it runs on its GPU';
    }
    if (s === 'running') return 'it runs on its GPU';
    return `its CUDA state is ${s}`;
  } catch (err) {
    return `putting it back on its GPU failed too: ${(err as Error).message}`;
  }
}
