/**
 * The `containerd` health check of `cedana daemon check`: does containerd answer on its
 * socket (and which version), and will its runc shim be able to checkpoint: runc and CRIU
 * >= 4.2 on PATH (the shim runs `runc`, which runs `criu`, from PATH), iptables-restore
 * (CRIU locks a container's network with it). containerd not running is a warning: the
 * other runtimes work without it.
 */
import { execFile } from 'node:child_process';
import type { HealthCheck, HealthResult } from '@cedana/plugin-sdk';
import { findOnPath } from '@cedana/plugin-sdk';
import { Containerd } from './client.js';
import { VersionService } from './proto/gen/containerd/services/version.js';
import { defaultAddress } from './socket.js';

/** CRIU older than this fails on this kernel or cannot dump sockets (see the criu plugin). */
export const MIN_CRIU = [4, 2] as const;

export const containerdHealthCheck: HealthCheck = async function containerdHealthCheck() {
  const result: HealthResult = { name: 'containerd', data: {}, warnings: [], errors: [] };
  const address = defaultAddress();
  result.data.address = address;
  try {
    const cd = await Containerd.connect(address, 'default');
    try {
      const v = await cd.call(VersionService.version, {}, 'tell its version');
      result.data.version = v.version;
    } finally {
      cd.close();
    }
  } catch (err) {
    result.warnings.push({
      message: `containerd does not answer at ${address}: ${(err as Error).message}`,
      fix: 'start containerd (Debian: apt-get install containerd), or set CONTAINERD_ADDRESS for the daemon to the socket it listens on',
    });
  }
  const path = process.env.PATH ?? '';
  const shim = await findOnPath('containerd-shim-runc-v2', `${path}:/usr/bin:/usr/local/bin`);
  if (!shim) {
    result.errors.push({
      message: 'containerd-shim-runc-v2 is not installed: containerd cannot run runc containers (io.containerd.runc.v2)',
      fix: 'apt-get install containerd (it brings the shim)',
    });
  } else {
    result.data.shim = shim;
  }
  const runc = await findOnPath('runc', path);
  if (!runc) {
    result.errors.push({
      message: "runc is not on the daemon's PATH: containerd's runc shim cannot run containers",
      fix: 'apt-get install runc',
    });
  } else {
    const out = await run(runc, ['--version']);
    result.data.runc = `${runc} ${/runc version (\S+)/.exec(out)?.[1] ?? 'unknown version'}`;
  }
  const criu = await findOnPath('criu', path);
  if (!criu) {
    result.errors.push({
      message: "criu is not on the daemon's PATH: runc runs `criu` from PATH, so containerd tasks cannot be checkpointed",
      fix: 'install CRIU >= 4.2 with scripts/install-criu.sh (it puts a criu wrapper in /usr/local/sbin)',
    });
  } else {
    const m = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(await run(criu, ['--version']));
    const version = m ? m.slice(1).filter(Boolean).join('.') : undefined;
    result.data.criu = `${criu} ${version ?? 'unknown version'}`;
    if (!m || Number(m[1]) < MIN_CRIU[0] || (Number(m[1]) === MIN_CRIU[0] && Number(m[2]) < MIN_CRIU[1])) {
      result.errors.push({
        message: `the criu runc runs (${criu}) is ${version ?? 'of unknown version'}, older than ${MIN_CRIU.join('.')}: container checkpoints fail on this kernel`,
        fix: 'install CRIU >= 4.2 with scripts/install-criu.sh, first on PATH',
      });
    }
  }
  if (!(await findOnPath('iptables-restore', path))) {
    result.errors.push({
      message: 'iptables-restore is not on PATH: CRIU locks a container\'s network with it, so dumps fail with "Locking network failed"',
      fix: 'apt-get install iptables',
    });
  }
  return result;
};

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 10_000 }, (_err, stdout) => resolve(String(stdout)));
  });
}
