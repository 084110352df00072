/**
 * The GPU steps against the STAND-IN cuda-checkpoint and nvidia-smi (plugins/gpu/stand-in/),
 * which keep a per-PID CUDA state machine and refuse illegal transitions: these tests prove
 * the order of calls, the error paths and the rollback. No GPU and no CRIU here: `next` is a
 * stand-in for CRIU too (test/src/e2e/gpu-cr.test.ts has the real CRIU).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BaseContext, type CriuOptions, contextSlots, loadConfig, pluginSource, pluginView, unreadManifest } from '@cedana/core';
import { DumpReq, DumpResp, RestoreReq, RestoreResp, RunReq, RunResp } from '@cedana/core/messages';
import type { DumpContext, Logger, RestoreContext, Started } from '@cedana/plugin-sdk';
import { GPUInterceptor, GPUInterceptorRestore, gpuDump, gpuRestoreCheck } from './adapters.js';
import { gpuHealthCheck } from './health.js';

const standIn = fileURLToPath(new URL('../stand-in', import.meta.url));
const log: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => log };
let state: string;
let savedPath: string | undefined;
const procs: number[] = [];

function sleeper(): number {
  const c = spawn('sleep', ['300'], { stdio: 'ignore' });
  procs.push(c.pid as number);
  return c.pid as number;
}
const calls = async () => (await readFile(join(state, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
const cudaState = async (pid: number) => (await readFile(join(state, String(pid)), 'utf8').catch(() => 'running\n')).trim();
const config = loadConfig({ env: {} });
const base = (): BaseContext => ({ log, config, signal: new AbortController().signal, plugins: pluginSource([]) });
const criu = (leaveRunning: boolean): CriuOptions => ({
  leaveRunning,
  tcpEstablished: false,
  tcpClose: false,
  fileLocks: false,
  shellJob: false,
  extUnixSk: false,
  linkRemap: false,
  external: [],
  extraArgs: [],
});
/** Contexts as the gpu plugin's code sees them. */
const dumpCtx = (pid: number, leaveRunning = false): DumpContext =>
  pluginView({ ...base(), pid, imagesDir: '', criu: criu(leaveRunning), manifest: {}, ...contextSlots() }, 'gpu');
const restoreCtx = (): RestoreContext =>
  pluginView({ ...base(), imagesDir: '', criu: criu(false), manifest: unreadManifest(), ...contextSlots() }, 'gpu');

before(() => {
  savedPath = process.env.PATH;
  process.env.PATH = `${standIn}:${savedPath}`;
});
after(() => {
  process.env.PATH = savedPath;
  for (const p of procs) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
});
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'cuda-standin-'));
  process.env.CUDA_STANDIN_STATE = state;
});
afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});

describe('gpu dump (stand-in cuda-checkpoint)', () => {
  it('locks and checkpoints before CRIU, in that order, and records the GPU in checkpoint.json', async () => {
    const pid = sleeper();
    const ctx = dumpCtx(pid);
    let atCriu = '';
    await gpuDump(async () => {
      atCriu = await cudaState(pid);
    })(ctx, DumpReq.create(), DumpResp.create());
    assert.equal(atCriu, 'checkpointed');
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`]);
    assert.deepEqual(ctx.section<{ steps: string[] }>()?.steps, ['lock', 'checkpoint']);
  });

  it('with --leave-running restores and unlocks after CRIU', async () => {
    const pid = sleeper();
    await gpuDump(async () => {})(dumpCtx(pid, true), DumpReq.create(), DumpResp.create());
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
  });

  for (const failing of ['lock', 'checkpoint'] as const) {
    it(`a failing ${failing} names the step with the tool's message, never runs CRIU, and leaves the process on its GPU`, async () => {
      const pid = sleeper();
      await writeFile(join(state, 'fail'), failing);
      let criuRan = false;
      await assert.rejects(
        gpuDump(async () => {
          criuRan = true;
        })(dumpCtx(pid), DumpReq.create(), DumpResp.create()),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'CEDANA_ERR_GPU_CHECKPOINT');
          assert.match(err.message, new RegExp(`step "${failing}"`));
          assert.match(err.message, /CUDA_ERROR_OUT_OF_MEMORY \(stand-in told to fail\)/);
          return true;
        },
      );
      assert.equal(criuRan, false);
      assert.equal(await cudaState(pid), 'running');
      if (failing === 'checkpoint') assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} unlock`]);
    });
  }

  it('a failing CRIU dump keeps its own error and puts the process back on its GPU (restore, unlock)', async () => {
    const pid = sleeper();
    await assert.rejects(
      gpuDump(async () => {
        throw Object.assign(new Error('criu dump failed'), { code: 'X' });
      })(dumpCtx(pid), DumpReq.create(), DumpResp.create()),
      /GPU dump failed at the CRIU dump: criu dump failed; the process was left running: its CUDA state was restored and unlocked/,
    );
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
  });

  it('a failing unlock after --leave-running is named, and the process is not left locked silently', async () => {
    const pid = sleeper();
    await writeFile(join(state, 'fail'), 'unlock');
    await assert.rejects(
      gpuDump(async () => {})(dumpCtx(pid, true), DumpReq.create(), DumpResp.create()),
      /step "unlock" after the dump.*putting it back on its GPU failed too/,
    );
    assert.equal(await cudaState(pid), 'locked');
  });

  it('an r550 driver (toggle only) checkpoints with one --toggle and restores with another', async () => {
    const pid = sleeper();
    await writeFile(join(state, 'toggle-only'), '');
    await gpuDump(async () => {})(dumpCtx(pid, true), DumpReq.create(), DumpResp.create());
    assert.deepEqual(await calls(), [`${pid} toggle`, `${pid} toggle`]);
    assert.equal(await cudaState(pid), 'running');
  });

  it('refuses with GPU_UNAVAILABLE when the driver does not answer, before any step', async () => {
    const pid = sleeper();
    await writeFile(join(state, 'no-driver'), '');
    await assert.rejects(gpuDump(async () => {})(dumpCtx(pid), DumpReq.create(), DumpResp.create()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_GPU_UNAVAILABLE');
      assert.match(err.message, /couldn't communicate with the NVIDIA driver/);
      return true;
    });
    assert.deepEqual(await calls(), []);
  });
});

describe('gpu run and restore (stand-in cuda-checkpoint)', () => {
  it('GPUInterceptor refuses a run on a driver older than 550, naming the fix', async () => {
    await writeFile(join(state, 'gpus'), '535.104.05, Tesla T4\n');
    await assert.rejects(
      GPUInterceptor(async () => ({}) as Started)(base(), RunReq.create(), RunResp.create()),
      (err: Error & { code?: string; hint?: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_GPU_UNAVAILABLE');
        assert.match(err.message, /driver is 535\.104\.05, older than 550/);
        assert.match(err.hint ?? '', /upgrade the NVIDIA driver/);
        return true;
      },
    );
  });

  it('restores the CUDA state after CRIU: restore, then unlock', async () => {
    const pid = sleeper();
    await writeFile(join(state, String(pid)), 'checkpointed\n'); // as a dump left it
    const chain = gpuRestoreCheck(GPUInterceptorRestore(async () => ({ pid, exited: new Promise(() => {}) }) as Started));
    const started = await chain(restoreCtx(), RestoreReq.create(), RestoreResp.create());
    assert.equal(started.pid, pid);
    assert.deepEqual(await calls(), [`${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
  });

  it('a failing restore step kills the restored process and names the step', async () => {
    const c = spawn('sleep', ['300'], { stdio: 'ignore' });
    const pid = c.pid as number;
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => c.on('exit', (code, signal) => r({ code, signal })));
    await writeFile(join(state, String(pid)), 'checkpointed\n');
    await writeFile(join(state, 'fail'), 'restore');
    await assert.rejects(
      GPUInterceptorRestore(async () => ({ pid, exited }) as Started)(restoreCtx(), RestoreReq.create(), RestoreResp.create()),
      /GPU restore failed at step "restore" after CRIU restored PID \d+: .*CUDA_ERROR_OUT_OF_MEMORY.*the restored process was killed/,
    );
    assert.equal((await exited).signal, 'SIGKILL');
  });
});

describe('gpu health check (stand-in nvidia-smi)', () => {
  it('reports driver, GPU count and cuda-checkpoint', async () => {
    await writeFile(join(state, 'gpus'), '570.86.15, NVIDIA H100 80GB HBM3\n570.86.15, NVIDIA H100 80GB HBM3\n');
    const r = await gpuHealthCheck(base());
    assert.equal(r.data.driver, '570.86.15');
    assert.equal(r.data.gpus, '2');
    assert.match(r.data['cuda-checkpoint'] ?? '', /stand-in\/cuda-checkpoint \(--action\)/);
    assert.deepEqual(r.errors, []);
  });

  it('each problem comes with its fix: no cuda-checkpoint, old driver', async () => {
    await writeFile(join(state, 'gpus'), '545.23.08, NVIDIA A100\n');
    process.env.PATH = `${join(standIn, 'nvidia-smi-only')}:${savedPath}`;
    try {
      const r = await gpuHealthCheck(base());
      const messages = r.errors.map((e) => e.message).join('\n');
      assert.match(messages, /older than 550/);
      assert.match(messages, /cuda-checkpoint is not on the daemon's PATH/);
      assert.ok(r.errors.every((e) => e.fix.length > 0));
    } finally {
      process.env.PATH = `${standIn}:${savedPath}`;
    }
  });
});
