/**
 * OCI bundles: a folder with config.json and a rootfs, or a tar of one. A tar with no
 * config.json is a rootfs (what `docker export` writes): it is unpacked into `rootfs/`
 * beside the config.json the checkpoint saved from the dumped container.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { CedanaError } from '@cedana/plugin-sdk';

/** The parts of an OCI runtime config.json the plugin reads. */
export interface OciConfig {
  root?: { path?: string; readonly?: boolean };
  process?: { terminal?: boolean; args?: string[] };
  mounts?: { destination?: string; type?: string; source?: string }[];
  [key: string]: unknown;
}

/** A bundle folder, read and checked. */
export interface Bundle {
  dir: string;
  config: OciConfig;
  /** The rootfs folder (config.root.path, relative to dir unless absolute). */
  rootfs: string;
}

/** Folders where tar bundles are unpacked start with this. */
export const EXTRACTED_PREFIX = 'cedana-runc-bundle-';

function invalid(message: string, hint?: string): CedanaError {
  return new CedanaError('CEDANA_ERR_RUNC_BUNDLE_INVALID', message, hint === undefined ? {} : { hint });
}

/** Reads `dir/config.json`: an OCI runtime config, at least a JSON object. */
export async function readConfig(dir: string): Promise<OciConfig> {
  const text = await readFile(join(dir, 'config.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw invalid(
      `bundle ${dir} has no config.json (${err.code})`,
      'a bundle folder holds config.json (`runc spec` writes one) and the rootfs it names',
    );
  });
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw invalid(`config.json of bundle ${dir} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalid(`config.json of bundle ${dir} is not a JSON object`);
  return config as OciConfig;
}

/** Reads `dir/config.json` and checks the rootfs it names is a folder. */
export async function readBundle(dir: string): Promise<Bundle> {
  const config = await readConfig(dir);
  const rootPath = config.root?.path || 'rootfs';
  const rootfs = isAbsolute(rootPath) ? rootPath : join(dir, rootPath);
  if (!(await stat(rootfs).catch(() => undefined))?.isDirectory()) {
    throw invalid(`the rootfs of bundle ${dir} (${rootfs}, root.path of its config.json) is not a folder`);
  }
  return { dir, config, rootfs };
}

/** What a bundle path turned out to be, ready for runc. */
export interface PreparedBundle extends Bundle {
  /** Set when a tar was unpacked: the folder to remove once the container is gone. */
  extracted?: string;
}

/**
 * A folder is used in place; a tar is unpacked into a new folder under the system's
 * temp dir. `savedConfig` (the dumped container's config.json) completes a tar that
 * holds only a rootfs.
 */
export async function prepareBundle(path: string, id: string, savedConfig?: OciConfig): Promise<PreparedBundle> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw invalid(`bundle ${path} does not exist`);
  if (info.isDirectory()) return readBundle(path);
  if (!info.isFile()) throw invalid(`bundle ${path} is neither a folder nor a tar file`);
  const entries = await tarEntries(path);
  const hasConfig = entries.some((e) => e.replace(/^\.\//, '') === 'config.json');
  if (!hasConfig && !savedConfig) {
    throw invalid(
      `tar ${path} has no config.json, and the checkpoint holds none to go with a rootfs`,
      'give a tar (or folder) of a whole bundle: config.json and its rootfs',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), `${EXTRACTED_PREFIX}${id}-`));
  try {
    if (hasConfig) {
      await untar(path, dir);
    } else {
      await mkdir(join(dir, 'rootfs'));
      await untar(path, join(dir, 'rootfs'));
      const config = { ...savedConfig, root: { ...savedConfig?.root, path: 'rootfs' } };
      await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    }
    return { ...(await readBundle(dir)), extracted: dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The names in a tar (any compression GNU tar recognises). */
export async function tarEntries(file: string): Promise<string[]> {
  const run = await tar(['-tf', file]);
  if (run.code !== 0)
    throw invalid(`bundle ${file} is not a folder and not a tar that tar can read: ${run.stderr.trim() || `exit ${run.code}`}`);
  return run.stdout.split('\n').filter(Boolean);
}

async function untar(file: string, dest: string): Promise<void> {
  const run = await tar(['-xf', file, '-C', dest, '--numeric-owner']);
  if (run.code !== 0) throw invalid(`cannot unpack bundle ${file}: ${run.stderr.trim() || `tar exited ${run.code}`}`);
}

function tar(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 16 * 1024) stderr += c.toString('utf8');
    });
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: `cannot run tar: ${err.message}` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
