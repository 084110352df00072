/**
 * The `criu` health check of `cedana daemon check`: is there a CRIU, is it new enough,
 * does `criu check` pass, and can CRIU lock the network (iptables-restore).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { type HealthCheck, type HealthIssue, type HealthResult, isCedanaError } from '@cedana/plugin-sdk';
import { headlineError } from './criu-log.js';
import { describeRun, runCriu } from './criu-process.js';
import { isOlderThan, MIN_CRIU_VERSION } from './criu-version.js';
import { locateCriu, readCriuVersion } from './discover.js';

const INSTALL_FIX = 'install CRIU >= 4.2 with scripts/install-criu.sh (or set criu.binary_path to one)';

/**
 * Checks the CRIU setup. Never throws: every problem becomes an error or a warning
 * with its fix.
 */
export const criuHealthCheck: HealthCheck = async function criuHealthCheck(ctx) {
  const result: HealthResult = { name: 'criu', data: {}, warnings: [], errors: [] };
  try {
    await checkCriu(ctx.config, result);
  } catch (err) {
    const fix = (isCedanaError(err) && err.hint) || INSTALL_FIX;
    result.errors.push({ message: err instanceof Error ? err.message : String(err), fix });
  }
  const iptables = await iptablesWarning();
  if (iptables) result.warnings.push(iptables);
  return result;
};

async function checkCriu(config: Parameters<HealthCheck>[0]['config'], result: HealthResult): Promise<void> {
  const binary = await locateCriu(config);
  result.data.binary = binary;
  const version = await readCriuVersion(binary);
  result.data.version = version.text;
  if (isOlderThan(version)) {
    result.errors.push({
      message:
        `CRIU ${version.text} is older than ${MIN_CRIU_VERSION.text}: on this kernel 3.17 fails every command ` +
        '("vdso: Unexpected rt vDSO area bounds") and 4.1 cannot dump processes with TCP/UDP sockets ("Can\'t get 1:16 opt")',
      fix: INSTALL_FIX,
    });
    return;
  }
  const check = await runCriu(binary, ['check']);
  const lines = check.output.split('\n').filter((l) => l.trim() !== '');
  if (check.exit !== 0) {
    const why = headlineError(lines) ?? lines.at(-1) ?? 'no output';
    result.errors.push({
      message: `\`${binary} check\` failed (${describeRun(check)}): ${why}`,
      fix: 'run `criu check` as root to see every missing kernel feature; a newer CRIU (scripts/install-criu.sh) or kernel may be needed',
    });
    return;
  }
  for (const line of lines.filter((l) => /^Warn/.test(l))) {
    result.warnings.push({ message: `criu check: ${line}`, fix: 'only needed by some process trees; see `criu check --all`' });
  }
}

async function iptablesWarning(): Promise<HealthIssue | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, 'iptables-restore'), constants.X_OK);
      return undefined;
    } catch {
      // not in this folder
    }
  }
  return {
    message: 'iptables-restore is not on PATH: CRIU locks the network with it, so dumps of containers fail with "Locking network failed"',
    fix: 'apt-get install iptables',
  };
}
