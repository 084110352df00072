/**
 * The `runc` health check of `cedana daemon check`: is runc there (and which), and will
 * checkpointing containers work: CRIU >= 4.2 on PATH (runc runs `criu` from PATH, not
 * criu.binary_path), iptables-restore (CRIU locks a container's network with it), perl
 * (the shim).
 */
import type { HealthCheck, HealthResult } from '@cedana/plugin-sdk';
import { findOnPath } from '@cedana/plugin-sdk';
import { runRunc } from './runc-cli.js';
import { parseRuncVersion } from './version.js';

/** CRIU older than this fails on this kernel or cannot dump sockets (see the criu plugin). */
export const MIN_CRIU = [4, 2] as const;

export const runcHealthCheck: HealthCheck = async function runcHealthCheck(ctx) {
  const result: HealthResult = { name: 'runc', data: {}, warnings: [], errors: [] };
  const path = process.env.PATH ?? '';
  const runc = await findOnPath('runc', path);
  if (!runc) {
    result.errors.push({ message: "runc is not on the daemon's PATH: runc containers cannot run", fix: 'apt-get install runc' });
  } else {
    result.data.binary = runc;
    const run = await runRunc(runc, ['--version']);
    result.data.version = run.exit === 0 ? parseRuncVersion(run.stdout) : `unknown (runc --version: exit ${run.exit})`;
  }
  const criu = await findOnPath('criu', path);
  if (!criu) {
    result.errors.push({
      message: "criu is not on the daemon's PATH: runc runs `criu` from PATH (not criu.binary_path), so containers cannot be checkpointed",
      fix: 'install CRIU >= 4.2 with scripts/install-criu.sh (it puts a criu wrapper in /usr/local/sbin)',
    });
  } else {
    const run = await runRunc(criu, ['--version']);
    const version = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(run.stdout);
    result.data.criu = `${criu} ${version ? version.slice(1).filter(Boolean).join('.') : 'unknown version'}`;
    if (!version || Number(version[1]) < MIN_CRIU[0] || (Number(version[1]) === MIN_CRIU[0] && Number(version[2]) < MIN_CRIU[1])) {
      result.errors.push({
        message: `the criu runc runs (${criu}) is ${version ? version.slice(1).filter(Boolean).join('.') : 'of unknown version'}, older than ${MIN_CRIU.join('.')}: container checkpoints fail on this kernel`,
        fix: 'install CRIU >= 4.2 with scripts/install-criu.sh, first on PATH',
      });
    }
    const configured = ctx.config['criu.binary_path'];
    if (configured && configured !== criu) {
      result.warnings.push({
        message: `criu.binary_path is ${configured}, but runc runs ${criu} (the first criu on PATH)`,
        fix: "put the same CRIU first on the daemon's PATH",
      });
    }
  }
  if (!(await findOnPath('iptables-restore', path))) {
    result.errors.push({
      message: `iptables-restore is not on PATH: CRIU locks a container's network with it, so container dumps fail with "Locking network failed"`,
      fix: 'apt-get install iptables',
    });
  }
  if (!(await findOnPath('perl', path))) {
    result.errors.push({ message: 'perl is not on PATH: containers start through a perl shim', fix: 'apt-get install perl-base' });
  }
  return result;
};
