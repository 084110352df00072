/**
 * GPU jobs end to end through the CLI, the daemon and the gpu plugin, with a STAND-IN
 * `cuda-checkpoint` and `nvidia-smi` (plugins/gpu/stand-in/) first on the daemon's PATH:
 * they keep a per-PID CUDA state machine and refuse illegal transitions, so these tests
 * prove the order of the GPU steps, the error paths and the rollback. The CPU side is real:
 * CRIU dumps and restores the real process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { counterScript, lastCount, waitForCount } from '../harness/counter.js';
import { TestDaemon } from '../harness/daemon.js';

const standIn = fileURLToPath(new URL('../../../plugins/gpu/stand-in', import.meta.url));

interface JobJson {
  jid: string;
  type: string;
  gpuEnabled?: boolean;
  state: { pid: number; status: string };
  lastCheckpoint?: { path: string };
}

describe('GPU jobs with the stand-in cuda-checkpoint (real CRIU)', () => {
  let d: TestDaemon;
  let state: string;
  before(async () => {
    state = await mkdtemp('/tmp/cuda-standin-');
    d = await TestDaemon.start({ PATH: `${standIn}:${process.env.PATH}`, CUDA_STANDIN_STATE: state });
  });
  after(async () => {
    await d.stop();
    await rm(state, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const f of ['fail', 'no-driver', 'gpus', 'calls.log']) await rm(join(state, f), { force: true });
  });

  const job = async (jid: string) => (await d.json<JobJson[]>(['ps'])).find((j) => j.jid === jid) as JobJson;
  const calls = async () => (await readFile(join(state, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  const cudaState = async (pid: number) => (await readFile(join(state, String(pid)), 'utf8').catch(() => 'running\n')).trim();

  it('stand-in: a --gpu-enabled job is marked GPU, dumped as lock, checkpoint, CRIU and restored as CRIU, restore, unlock', async () => {
    const jid = 'gpu-counter';
    const file = join(d.dir, `${jid}.count`);
    const out = await d.cli(['run', 'process', '--gpu-enabled', '--jid', jid, '--', ...counterScript(file)]);
    assert.equal(out.code, 0, out.stderr);
    const started = await job(jid);
    assert.equal(started.gpuEnabled, true);
    assert.match(await d.ok(['ps']), /gpu-counter\s+process \(GPU\)/);
    const pid = started.state.pid;
    await waitForCount(file, 3);

    const dumped = await d.cli(['dump', 'job', jid, '--compression', 'none', '--profiling']);
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.match(dumped.stdout + dumped.stderr, /gpu:gpuDump/, 'the profiling tree shows the GPU step by name');
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`]);
    assert.equal(await cudaState(pid), 'checkpointed');
    const j = await job(jid);
    assert.equal(j.state.status, 'checkpointed');
    const manifest = JSON.parse(await readFile(join(j.lastCheckpoint?.path as string, 'checkpoint.json'), 'utf8'));
    assert.equal(manifest.job.gpuEnabled, true);
    assert.deepEqual(manifest.sections.gpu.steps, ['lock', 'checkpoint']);
    assert.equal(manifest.sections.gpu.driver, '570.86.15');

    const atDump = await lastCount(file);
    await d.ok(['restore', 'job', jid]);
    const restored = await job(jid);
    assert.equal(restored.state.status, 'running');
    assert.equal(restored.state.pid, pid);
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
    const after = await waitForCount(file, atDump + 2);
    assert.ok(after > atDump);
    await d.ok(['job', 'kill', jid]);
  });

  it('stand-in: a GPU job dumped as streams (--streams 2): the GPU steps run around CRIU, streams and all', async () => {
    const jid = 'gpu-streams';
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--gpu-enabled', '--jid', jid, '--', ...counterScript(file)]);
    const pid = (await job(jid)).state.pid;
    await waitForCount(file, 3);
    const mine = async () => (await calls()).filter((c) => c.startsWith(`${pid} `));

    await d.ok(['dump', 'job', jid, '--streams', '2']);
    const j = await job(jid);
    const manifest = JSON.parse(await readFile(join(j.lastCheckpoint?.path as string, 'checkpoint.json'), 'utf8'));
    assert.equal(manifest.sections.streamer.streams, 2);
    assert.deepEqual(manifest.sections.gpu.steps, ['lock', 'checkpoint']);
    assert.deepEqual(await mine(), [`${pid} lock`, `${pid} checkpoint`]);

    const atDump = await lastCount(file);
    await d.ok(['restore', 'job', jid]);
    assert.deepEqual(await mine(), [`${pid} lock`, `${pid} checkpoint`, `${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
    await waitForCount(file, atDump + 2);
    await d.ok(['job', 'kill', jid]);
  });

  it('stand-in: --leave-running restores and unlocks the CUDA state after CRIU, the job goes on', async () => {
    const jid = 'gpu-leave';
    await d.ok(['run', 'process', '--gpu-enabled', '--jid', jid, '--', 'sleep', '300']);
    const pid = (await job(jid)).state.pid;
    await d.ok(['dump', 'job', jid, '--leave-running', '--compression', 'none']);
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} restore`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
    assert.equal((await job(jid)).state.status, 'running');
    await d.ok(['job', 'kill', jid]);
  });

  it('stand-in: a failing checkpoint step fails the dump with its name and message, and the job keeps running on its GPU', async () => {
    const jid = 'gpu-fail';
    const file = join(d.dir, `${jid}.count`);
    await d.ok(['run', 'process', '--gpu-enabled', '--jid', jid, '--', ...counterScript(file)]);
    const pid = (await job(jid)).state.pid;
    await waitForCount(file, 2);
    await writeFile(join(state, 'fail'), 'checkpoint');
    const r = await d.cli(['dump', 'job', jid, '--compression', 'none']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_GPU_CHECKPOINT/);
    assert.match(r.stderr, /step "checkpoint"/);
    assert.match(r.stderr, /CUDA_ERROR_OUT_OF_MEMORY \(stand-in told to fail\)/);
    assert.deepEqual(await calls(), [`${pid} lock`, `${pid} checkpoint`, `${pid} unlock`]);
    assert.equal(await cudaState(pid), 'running');
    assert.equal((await job(jid)).state.status, 'running');
    const n = await lastCount(file);
    await waitForCount(file, n + 1);
    await d.ok(['job', 'kill', jid]);
  });

  it('stand-in: a --gpu-enabled run is refused at start when the driver does not answer, and no job is left', async () => {
    await writeFile(join(state, 'no-driver'), '');
    const r = await d.cli(['run', 'process', '--gpu-enabled', '--jid', 'gpu-nodriver', '--', 'sleep', '300']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_GPU_UNAVAILABLE/);
    assert.match(r.stderr, /couldn't communicate with the NVIDIA driver/);
    assert.equal(await job('gpu-nodriver'), undefined);
  });

  it('a GPU dump (--gpu) of a job not started with --gpu-enabled is refused, and the job goes on', async () => {
    await d.ok(['run', 'process', '--jid', 'cpu-only', '--', 'sleep', '300']);
    const r = await d.cli(['dump', 'job', 'cpu-only', '--gpu']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /CEDANA_ERR_GPU_NOT_ENABLED/);
    assert.equal((await job('cpu-only')).state.status, 'running');
    assert.deepEqual(await calls(), []);
    await d.ok(['job', 'kill', 'cpu-only']);
  });

  it('stand-in: daemon check reports driver, GPU count and cuda-checkpoint, and an old driver with its fix', async () => {
    await writeFile(join(state, 'gpus'), '545.23.08, NVIDIA A100\n545.23.08, NVIDIA A100\n');
    const r = await d.cli(['daemon', 'check']);
    const text = r.stdout + r.stderr;
    assert.match(text, /545\.23\.08/);
    assert.match(text, /older than 550/);
    assert.match(text, /upgrade the NVIDIA driver/);
  });
});
