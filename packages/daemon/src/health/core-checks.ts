/** The daemon's own health checks; plugins add theirs through the HealthChecks feature. */

import { X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { HealthCheck, PluginSource } from '@cedana/core';
import { HOST_VERSION, isCedanaError, serverTlsOf } from '@cedana/core';

/** A served certificate that expires within this many days is warned of. */
const EXPIRY_WARNING_DAYS = 14;

import { filling, roleMissing } from '../plugins/resolver.js';

export function coreChecks(from: PluginSource): HealthCheck[] {
  const daemon: HealthCheck = async ({ config }) => {
    const result = {
      name: 'daemon',
      data: { version: HOST_VERSION, node: process.version, db: config['db.path'] } as Record<string, string>,
      warnings: [] as { message: string; fix: string }[],
      errors: [] as { message: string; fix: string }[],
    };
    if (process.getuid?.() !== 0)
      result.errors.push({
        message: 'the daemon is not running as root: CRIU needs root',
        fix: 'start it as root: `cedana daemon start` from a root shell (e.g. `su -`)',
      });
    if (config['db.path'].startsWith('/tmp/')) {
      result.warnings.push({
        message: `jobs are kept in ${config['db.path']}, which a reboot may wipe`,
        fix: 'set db.path (or CEDANA_DB_PATH) to a folder outside /tmp to keep them',
      });
    }
    return result;
  };
  const checkpointDir: HealthCheck = async ({ config }) => {
    const dir = config['checkpoint.dir'];
    const result = {
      name: 'checkpoints',
      data: { dir, compression: config['checkpoint.compression'] },
      warnings: [],
      errors: [] as { message: string; fix: string }[],
    };
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
    } catch (err) {
      result.errors.push({
        message: `checkpoint folder ${dir} is not writable: ${(err as NodeJS.ErrnoException).code}`,
        fix: 'set checkpoint.dir (or CEDANA_CHECKPOINT_DIR) to a writable folder',
      });
    }
    return result;
  };
  const pluginCheck: HealthCheck = async ({ config }) => {
    const loaded = from.plugins();
    const result = {
      name: 'plugins',
      data: {
        dir: config['plugins.dir'],
        loaded:
          loaded
            .filter((p) => p.status === 'ok')
            .map((p) => `${p.name}@${p.version}`)
            .join(', ') || 'none',
      },
      warnings: [] as { message: string; fix: string }[],
      errors: loaded
        .filter((p) => p.status !== 'ok')
        .map((p) => ({ message: p.error?.message ?? `plugin ${p.name} failed to load`, fix: p.error?.hint ?? 'reinstall it' })),
    };
    if (!filling(from, 'engine')) {
      const missing = roleMissing(from, 'engine', 'dumping or restoring anything');
      result.warnings.push({ message: missing.message, fix: missing.hint ?? '' });
    }
    return result;
  };
  /** What a TCP daemon serves TLS with, read again from its files: the certificate a client will get next. */
  const tlsCheck: HealthCheck = async ({ config }) => {
    const result = {
      name: 'tls',
      data: {} as Record<string, string>,
      warnings: [] as { message: string; fix: string }[],
      errors: [] as { message: string; fix: string }[],
    };
    if (config.protocol !== 'tcp') return { ...result, data: { serving: 'no (unix socket)' } };
    let tls: ReturnType<typeof serverTlsOf>;
    try {
      tls = serverTlsOf(config);
    } catch (err) {
      if (!isCedanaError(err)) throw err;
      result.errors.push({ message: err.message, fix: err.hint });
      return result;
    }
    if (!tls) return { ...result, data: { serving: 'no (plain TCP: set tls.cert and tls.key)' } };
    const cert = new X509Certificate(tls.cert);
    result.data = { serving: 'yes', cert: config['tls.cert'], names: cert.subjectAltName ?? cert.subject, expires: cert.validTo };
    const daysLeft = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    const renew = { fix: `renew the certificate ${config['tls.cert']} and restart the daemon` };
    if (daysLeft < 0) result.errors.push({ message: `the certificate expired on ${cert.validTo}: clients refuse it`, ...renew });
    else if (daysLeft < EXPIRY_WARNING_DAYS)
      result.warnings.push({ message: `the certificate expires within ${Math.ceil(daysLeft)} day(s), on ${cert.validTo}`, ...renew });
    return result;
  };
  return [daemon, checkpointDir, pluginCheck, tlsCheck];
}
