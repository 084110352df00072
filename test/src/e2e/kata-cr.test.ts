/**
 * The kata plugin end to end. Stand-in: the "guest" is a second, real cedana daemon on a unix
 * socket (its own state) instead of a daemon inside a Kata VM reached over vsock; the plugin
 * dials it with the same client code (`unix://` instead of `vsock://`). CRIU, the dump and
 * restore of the real process, the host's checkpoint and the shared folder are real.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DaemonService, HealthCheckResp } from '@cedana/core/proto';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { counterScript, counts, lastCount, waitForCount } from '../harness/counter.js';
import { sleep, TestDaemon, waitFor } from '../harness/daemon.js';

interface JobJson {
  jid: string;
  type: string;
  state: { pid: number; status: string };
}

describe('kata plugin (stand-in guest: a second cedana daemon on a unix socket, not a Kata VM over vsock)', () => {
  let guest: TestDaemon;
  let host: TestDaemon;
  let shared: string;
  before(async () => {
    guest = await TestDaemon.start();
    const vms = join(guest.dir, 'kata-vms.json');
    await writeFile(vms, JSON.stringify({ vm1: `unix://${guest.socket}` }));
    host = await TestDaemon.start({ CEDANA_KATA_VMS: vms });
    shared = join(guest.dir, 'shared'); // the folder host and "guest" both see
    await mkdir(shared);
  });
  after(async () => {
    await host?.stop();
    await guest?.stop();
  });

  const guestJob = async (jid: string) => (await guest.json<JobJson[]>(['ps'])).find((j) => j.jid === jid);

  it('checkpoints a real process in the stand-in guest through `cedana dump kata`, and restores it with `cedana restore kata`', async () => {
    const file = join(guest.dir, 'w.count');
    await guest.ok(['run', 'process', '--jid', 'w', '--', ...counterScript(file)]);
    await waitForCount(file, 5);

    const out = await host.ok(['dump', 'kata', '--vm', 'vm1', '--jid', 'w', '--dir', shared, '--compression', 'tar']);
    assert.match(out, /kata/);
    assert.equal((await guestJob('w'))?.state.status, 'checkpointed', 'the guest daemon dumped its job');
    const atDump = await lastCount(file);
    await sleep(300);
    assert.equal(await lastCount(file), atDump, 'the process is gone after the dump');

    const [checkpoint] = await host.json<{ path: string; type: string; compression: string }[]>(['checkpoints']);
    assert.ok(checkpoint, 'the host keeps the checkpoint');
    assert.equal(checkpoint.type, 'kata');
    assert.equal(checkpoint.compression, 'tar');
    assert.ok((await stat(checkpoint.path)).isFile(), 'the host packed the guest folder into its archive');

    await host.ok(['restore', 'kata', '--vm', 'vm1', '--path', checkpoint.path]);
    const restored = (await guest.json<JobJson[]>(['ps'])).find((j) => j.jid !== 'w' && j.state.status === 'running');
    assert.ok(restored, 'the guest daemon has the restored job');
    await waitForCount(file, atDump + 3);
    const all = await counts(file);
    assert.equal(all[all.indexOf(atDump) + 1], atDump + 1, 'the count goes on from the checkpoint');
    const hostJobs = await host.json<JobJson[]>(['ps']);
    const hostJob = hostJobs.find((j) => j.type === 'kata');
    assert.equal(hostJob?.state.status, 'running', 'the host has a kata job standing for the guest job');

    await guest.ok(['job', 'kill', restored.jid]);
    await waitFor('the host job follows the guest job', async () =>
      (await host.json<JobJson[]>(['ps'])).find((j) => j.jid === hostJob?.jid)?.state.status === 'exited' ? true : undefined,
    );
  });

  it('refuses an unknown VM ID, naming the VM map, and leaves the guest job running', async () => {
    const file = join(guest.dir, 'u.count');
    await guest.ok(['run', 'process', '--jid', 'u', '--', ...counterScript(file)]);
    const before = await readdir(shared);
    const r = await host.cli(['dump', 'kata', '--vm', 'nope', '--jid', 'u', '--dir', shared]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_KATA_VM_NOT_FOUND/);
    assert.match(r.stderr, /no Kata VM "nope".*kata-vms\.json has no entry "nope"/);
    assert.match(r.stderr, /--guest-address vsock:\/\/CID:PORT/);
    assert.equal((await guestJob('u'))?.state.status, 'running');
    assert.deepEqual(await readdir(shared), before, 'no checkpoint folder left');
    await guest.ok(['job', 'kill', 'u']);
  });

  it('refuses to restore into an unknown VM ID, and a checkpoint that is not a kata one', async () => {
    const file = join(guest.dir, 'r.count');
    await guest.ok(['run', 'process', '--jid', 'r', '--', ...counterScript(file)]);
    await waitForCount(file, 2);
    await guest.ok(['dump', 'job', 'r', '--leave-running', '--dir', shared, '--name', 'plain', '--compression', 'none']);
    await host.ok(['dump', 'kata', '--vm', 'vm1', '--jid', 'r', '--dir', shared, '--name', 'for-restore', '--compression', 'none']);
    const checkpoint = join(shared, 'for-restore');
    const r = await host.cli(['restore', 'kata', '--vm', 'other-vm', '--path', checkpoint]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_KATA_VM_NOT_FOUND.*"other-vm"/);
    assert.equal(
      (await guest.json<JobJson[]>(['ps'])).filter((j) => j.state.status === 'running').length,
      0,
      'nothing was restored in the guest',
    );

    const plain = await host.cli(['restore', 'kata', '--vm', 'vm1', '--path', join(shared, 'plain')]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stderr, /CEDANA_ERR_INVALID_ARGUMENT.*was made by `cedana dump process`/);
  });

  it('says the guest is unreachable, with the address and what to check', async () => {
    const address = `unix://${join(guest.dir, 'no-daemon.sock')}`;
    const r = await host.cli(['dump', 'kata', '--vm', 'vm1', '--guest-address', address, '--pid', '1', '--dir', shared]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_KATA_GUEST_UNREACHABLE/);
    assert.ok(r.stderr.includes(address), r.stderr);
    assert.match(r.stderr, /cedana-daemon listens on the vsock port/);
  });

  it('says a vsock guest is unreachable when there is no VM (no vsock on this machine: only the error path runs)', async () => {
    const r = await host.cli(['dump', 'kata', '--vm', 'vm1', '--guest-address', 'vsock://3:7', '--pid', '1', '--dir', shared], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_KATA_GUEST_UNREACHABLE/);
    assert.match(r.stderr, /vsock:\/\/3:7/);
  });

  it('refuses a malformed address', async () => {
    const r = await host.cli(['dump', 'kata', '--vm', 'vm1', '--guest-address', 'vsock://2:x', '--pid', '1', '--dir', shared]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_INVALID_ARGUMENT.*vsock:\/\/CID:PORT/);
  });

  it('refuses a guest daemon that is too old (stand-in: a gRPC server answering only HealthCheck, with version 0.0.9)', async () => {
    const socket = join(guest.dir, 'old.sock');
    const server = new Server();
    const unimplemented = (_call: unknown, cb: (err: Error) => void) => cb(Object.assign(new Error('not here'), { code: 12 }));
    const impl: Record<string, unknown> = Object.fromEntries(Object.keys(DaemonService).map((k) => [k, unimplemented]));
    impl.healthCheck = (_call: unknown, cb: (err: null, r: HealthCheckResp) => void) =>
      cb(null, HealthCheckResp.fromPartial({ components: [{ name: 'daemon', source: 'core', data: { version: '0.0.9' } }] }));
    server.addService(DaemonService, impl as never);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    try {
      const r = await host.cli(['dump', 'kata', '--vm', 'vm1', '--guest-address', `unix://${socket}`, '--pid', '1', '--dir', shared]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /CEDANA_ERR_KATA_GUEST_TOO_OLD/);
      assert.match(r.stderr, /version 0\.0\.9.*needs 0\.1\.0 or newer/);
    } finally {
      server.forceShutdown();
    }
  });
});
