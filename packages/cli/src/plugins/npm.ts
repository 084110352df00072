/**
 * npm itself, for what npm does best: packing a folder (`npm pack`) and installing a
 * plugin's runtime dependencies (`npm install`). The user's npm config (.npmrc,
 * auth tokens of private registries) applies as it does to any npm command.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError } from '@cedana/core';
import type { PackageJson } from '@cedana/daemon/plugins';

export interface NpmOptions {
  registry: string;
  allowScripts: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** `npm pack` of a folder into `dest`; the tarball's path and integrity. */
export async function packFolder(dir: string, dest: string, allowScripts: boolean): Promise<{ file: string; integrity: string }> {
  await mkdir(dest, { recursive: true });
  const args = ['pack', dir, '--json', '--pack-destination', dest, ...(allowScripts ? [] : ['--ignore-scripts'])];
  const out = await npm(args, dest, { timeoutMs: 120_000 });
  const packed = (JSON.parse(out) as { filename: string; integrity: string }[])[0];
  if (!packed) throw new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `npm pack ${dir} made no tarball`);
  return { file: join(dest, packed.filename), integrity: packed.integrity };
}

/**
 * Installs the runtime dependencies of the unpacked package in `pkgDir` into its
 * node_modules. npm runs in a scratch folder whose package.json holds only them: the
 * plugin's own package.json may list devDependencies (or `workspace:` ranges) that no
 * registry has, which `npm install --omit=dev` would still try to resolve.
 * `skip` names dependencies the host provides (the SDK).
 */
export async function installDependencies(
  pkgDir: string,
  pkg: PackageJson & { optionalDependencies?: Record<string, string>; bundleDependencies?: unknown },
  scratch: string,
  skip: readonly string[],
  opts: NpmOptions,
): Promise<string[]> {
  const bundled = new Set(Array.isArray(pkg.bundleDependencies) ? (pkg.bundleDependencies as string[]) : []);
  const pick = (deps: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(deps ?? {}).filter(([name]) => !skip.includes(name) && !bundled.has(name)));
  const dependencies = pick(pkg.dependencies);
  const optionalDependencies = pick(pkg.optionalDependencies);
  const names = [...Object.keys(dependencies), ...Object.keys(optionalDependencies)];
  if (names.length === 0) return [];

  await mkdir(scratch, { recursive: true });
  await writeFile(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'cedana-plugin-dependencies', version: '0.0.0', private: true, dependencies, optionalDependencies }),
  );
  const args = [
    'install',
    '--omit=dev',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    `--fetch-timeout=${opts.timeoutMs}`,
    '--fetch-retries=1',
  ];
  if (!opts.allowScripts) args.push('--ignore-scripts');
  if (opts.registry) args.push(`--registry=${opts.registry}`);
  await npm(args, scratch, opts);
  await mergeInto(join(scratch, 'node_modules'), join(pkgDir, 'node_modules'));
  return names;
}

/** Runs the package's own install scripts (only with --allow-scripts). */
export async function runInstallScripts(pkgDir: string, pkg: { scripts?: Record<string, string> }, opts: NpmOptions): Promise<void> {
  for (const script of ['preinstall', 'install', 'postinstall']) {
    if (pkg.scripts?.[script]) await npm(['run-script', script], pkgDir, opts);
  }
}

/** Moves every package of `from` into `to`; packages already in `to` (bundled ones) stay. */
async function mergeInto(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from)) {
    if (entry.startsWith('@')) {
      await mergeInto(join(from, entry), join(to, entry));
      continue;
    }
    const target = join(to, entry);
    if (entry === '.bin') await rm(target, { recursive: true, force: true });
    await rename(join(from, entry), target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }
}

function npm(args: string[], cwd: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: an abort stops npm and what it started
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = () => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {}
    };
    // npm retries and waits on its own; this bounds the whole command.
    const timer = setTimeout(kill, Math.max(opts.timeoutMs * 4, 60_000));
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `cannot run npm: ${err.message}`, {
          hint: 'cedana installs plugin dependencies with npm: install Node.js with npm, or put npm on PATH',
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      if (code === 0) return resolve(stdout);
      const lines = stderr
        .split('\n')
        .filter((l) => l.trim() && !/Unknown (user|project|builtin) config/.test(l))
        .slice(-12);
      reject(
        new CedanaError('CEDANA_ERR_PLUGIN_INSTALL', `npm ${args[0]} failed (${signal ?? `exit ${code}`}) in ${cwd}`, { details: lines }),
      );
    });
  });
}
