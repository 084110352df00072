/**
 * Does a bundle fit a checkpoint? CRIU restores open and mapped files by path inside the
 * container's root, and every mount by its mount point: a bundle whose rootfs lacks the
 * container's program, or whose config.json lacks a mount, fails deep inside CRIU. So the
 * dump records what the container needs from its rootfs, and the restore checks it first.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, processTree } from '@cedana/plugin-sdk';
import type { Bundle, OciConfig } from './bundle.js';
import { mappedFiles, mountOfPath, mountsOf } from './proc.js';

/** What the dumped container needed from its bundle (kept in checkpoint.json under runc.needs). */
export interface BundleNeeds {
  /** Files on the root mount that the container's processes mapped, with their sizes. */
  files: { path: string; size: number }[];
  /** Mount points of config.json's mounts. */
  mounts: string[];
}

/** Reads what the running container (init `pid`) needs from a bundle. */
export async function bundleNeeds(pid: number, config: OciConfig | undefined): Promise<BundleNeeds> {
  const mountPoints = (await mountsOf(pid)).map((m) => m.mountPoint);
  const paths = new Set<string>();
  for (const p of await processTree(pid)) for (const f of await mappedFiles(p)) paths.add(f);
  const files: BundleNeeds['files'] = [];
  for (const path of [...paths].sort()) {
    if (mountOfPath(path, mountPoints) !== '/') continue;
    const s = await stat(`/proc/${pid}/root${path}`).catch(() => undefined);
    if (s?.isFile()) files.push({ path, size: s.size });
  }
  return { files, mounts: mountDestinations(config) };
}

export function mountDestinations(config: OciConfig | undefined): string[] {
  return (config?.mounts ?? [])
    .map((m) => m.destination)
    .filter((d): d is string => typeof d === 'string')
    .sort();
}

/** Refuses, naming the first difference, a bundle that lacks what the checkpoint needs. */
export async function checkBundle(bundle: Bundle, needs: BundleNeeds | undefined, bundlePath: string): Promise<void> {
  if (!needs) return;
  const problems: string[] = [];
  for (const f of needs.files) {
    const s = await stat(join(bundle.rootfs, f.path)).catch(() => undefined);
    if (!s) problems.push(`${f.path} is missing from its rootfs`);
    else if (s.size !== f.size) problems.push(`${f.path} has ${s.size} bytes in its rootfs, the checkpoint's has ${f.size}`);
  }
  const have = new Set(mountDestinations(bundle.config));
  for (const m of needs.mounts) if (!have.has(m)) problems.push(`its config.json has no mount at ${m}`);
  if (problems.length > 0) {
    throw new CedanaError('CEDANA_ERR_RUNC_BUNDLE_INVALID', `bundle ${bundlePath} does not match the checkpoint: ${problems[0]}`, {
      details: problems,
      hint: 'restore with the bundle the container was dumped from (or a copy of it): same rootfs files, same mounts',
    });
  }
}
