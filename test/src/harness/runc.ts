/**
 * runc test subjects, made on the spot: a busybox rootfs bundle (Debian's busybox-static)
 * whose container counts in its shell's memory and appends each count to /data/count, a
 * bind mount of a host folder the test reads. Every test uses its own runc --root and
 * unique container IDs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestDaemon } from './daemon.js';

export const BUSYBOX = '/bin/busybox';

/** The counter: its count lives only in the shell's memory, so a restart would start again from 1. */
export const COUNTER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i >> /data/count; sleep 0.1; done'];

/** A unique container ID. */
export function containerId(prefix = 'c'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface BundleOptions {
  /** Host folder mounted at /data (default: `<dir>/data`). */
  data?: string;
  args?: string[];
  readonly?: boolean;
  terminal?: boolean;
  /** Changes to config.json after the defaults. */
  edit?: (config: Record<string, unknown>) => void;
}

/** Makes `dir` an OCI bundle (config.json + rootfs/) running `args`; returns the /data folder. */
export async function makeBundle(dir: string, opts: BundleOptions = {}): Promise<string> {
  const data = opts.data ?? join(dir, 'data');
  await mkdir(join(dir, 'rootfs', 'bin'), { recursive: true });
  await mkdir(join(dir, 'rootfs', 'data'), { recursive: true });
  await mkdir(data, { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'rootfs', 'bin', 'busybox'));
  for (const name of ['sh', 'sleep', 'echo', 'cat', 'true']) await symlink('busybox', join(dir, 'rootfs', 'bin', name));
  execFileSync('runc', ['spec', '--bundle', dir]);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { readonly: boolean };
    mounts: unknown[];
  };
  config.process.terminal = opts.terminal ?? false;
  config.process.args = opts.args ?? COUNTER;
  config.root.readonly = opts.readonly ?? false;
  config.mounts.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
  opts.edit?.(config as unknown as Record<string, unknown>);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return data;
}

/** A tar of the rootfs only, as `docker export` writes it. */
export function tarRootfs(bundle: string, out: string): string {
  execFileSync('tar', ['-C', join(bundle, 'rootfs'), '-cf', out, '.']);
  return out;
}

/** A tar of the whole bundle: config.json and rootfs/. */
export function tarBundle(bundle: string, out: string): string {
  execFileSync('tar', ['-C', bundle, '-cf', out, 'config.json', 'rootfs']);
  return out;
}

export interface RuncState {
  id: string;
  pid: number;
  status: string;
  bundle: string;
}

/** `runc state`, or undefined when runc knows no such container. */
export function runcState(root: string, id: string): RuncState | undefined {
  try {
    return JSON.parse(execFileSync('runc', ['--root', root, 'state', id], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as RuncState;
  } catch {
    return undefined;
  }
}

/** The IDs of the containers under `root`. */
export function runcIds(root: string): string[] {
  try {
    return execFileSync('runc', ['--root', root, 'list', '-q'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Starts a container with runc itself (not cedana), its stdio on /dev/null or a host file. */
export function runcRunDetached(root: string, bundle: string, id: string, output = '/dev/null'): void {
  execFileSync('sh', ['-c', `exec runc --root "$0" run -d -b "$1" "$2" </dev/null >>"$3" 2>&1`, root, bundle, id, output]);
}

/** Removes every container under `root`, running or not. */
export function removeAllContainers(root: string): void {
  for (const id of runcIds(root)) {
    try {
      execFileSync('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    } catch {}
  }
}

/** Removes the log files of the daemon's jobs (they go to /var/log by default). */
export async function removeJobLogs(d: TestDaemon): Promise<void> {
  const r = await d.cli(['ps', '--json']).catch(() => undefined);
  if (r?.code !== 0) return;
  for (const job of JSON.parse(r.stdout) as { log?: string }[]) if (job.log) await rm(job.log, { force: true });
}
