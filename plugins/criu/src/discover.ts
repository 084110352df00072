/**
 * Finding CRIU: `criu.binary_path` from the config, else `criu` on PATH; its version from
 * `criu --version`. A successful discovery is cached per binary (path and mtime), so a
 * dump does not pay for `criu --version` every time, yet an upgraded binary is seen.
 * Before a run, CRIU's kernel-feature cache is put in place (kdat-cache.ts) unless
 * `criu.kdat_cache` is off.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { CedanaError, type Config } from '@cedana/plugin-sdk';
import { describeRun, runCriu } from './criu-process.js';
import { type CriuVersion, isOlderThan, MIN_CRIU_VERSION, parseCriuVersion } from './criu-version.js';
import { ensureKdatCache } from './kdat-cache.js';

/** A usable CRIU: where it is and what version it is. */
export interface CriuInstall {
  /** Absolute path of the binary. */
  binary: string;
  version: CriuVersion;
}

const cache = new Map<string, Promise<CriuInstall>>();

/**
 * Finds CRIU and checks it is at least MIN_CRIU_VERSION.
 * @throws CedanaError CEDANA_ERR_CRIU_NOT_FOUND, CEDANA_ERR_CRIU_TOO_OLD
 */
export async function discoverCriu(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<CriuInstall> {
  const binary = await locateCriu(config, env);
  const key = `${binary}@${(await stat(binary)).mtimeMs}`;
  let found = cache.get(key);
  if (!found) {
    found = checkedInstall(binary);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  const install = await found;
  if (config['criu.kdat_cache']) await ensureKdatCache(install.binary);
  return install;
}

async function checkedInstall(binary: string): Promise<CriuInstall> {
  const version = await readCriuVersion(binary);
  if (isOlderThan(version)) {
    throw new CedanaError(
      'CEDANA_ERR_CRIU_TOO_OLD',
      `CRIU at ${binary} is version ${version.text}; expected ${MIN_CRIU_VERSION.text} or newer (3.17 fails on current kernels with vDSO errors, 4.1 cannot dump TCP/UDP sockets)`,
    );
  }
  return { binary, version };
}

/**
 * The absolute path of the CRIU binary: `criu.binary_path` when set (a bare name is
 * looked up on PATH), else `criu` on PATH.
 * @throws CedanaError CEDANA_ERR_CRIU_NOT_FOUND
 */
export async function locateCriu(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const configured = config['criu.binary_path'].trim();
  const path = env.PATH ?? '';
  if (configured.includes('/')) {
    const abs = isAbsolute(configured) ? configured : resolve(configured);
    if (await isExecutableFile(abs)) return abs;
    throw new CedanaError('CEDANA_ERR_CRIU_NOT_FOUND', `criu.binary_path is ${configured}, expected an executable file there, found none`);
  }
  const name = configured || 'criu';
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return resolve(candidate);
  }
  throw new CedanaError(
    'CEDANA_ERR_CRIU_NOT_FOUND',
    `CRIU not found: expected an executable "${name}" on PATH (${path || 'empty'}), found none`,
  );
}

/**
 * Runs `BINARY --version` and parses it.
 * @throws CedanaError CEDANA_ERR_CRIU_NOT_FOUND when it does not run or prints no version
 */
export async function readCriuVersion(binary: string): Promise<CriuVersion> {
  const run = await runCriu(binary, ['--version']);
  const version = run.exit === 0 ? parseCriuVersion(run.output) : undefined;
  if (version) return version;
  const found = run.output.trim().split('\n').slice(-3).join(' | ') || '(nothing)';
  throw new CedanaError(
    'CEDANA_ERR_CRIU_NOT_FOUND',
    `${binary} --version should print "Version: X.Y", found ${describeRun(run)}: ${found}`,
  );
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
