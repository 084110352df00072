/** Cleanup: when a runc job is deleted, its stopped container and its unpacked bundle go too. */
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Job } from '@cedana/plugin-sdk';
import { EXTRACTED_PREFIX } from './bundle.js';
import { runcDetails } from './details.js';
import { globalArgs, locateRunc, runRunc } from './runc-cli.js';
import { containerState } from './state.js';

/** Never throws for what is already gone; a running container is left alone (the daemon refuses to delete a running job anyway). */
export async function runcCleanup(job: Job): Promise<void> {
  const d = runcDetails(job.details);
  if (d.extracted && basename(d.extracted).startsWith(EXTRACTED_PREFIX)) await rm(d.extracted, { recursive: true, force: true });
  if (!d.id) return;
  const binary = await locateRunc().catch(() => undefined);
  if (!binary) return;
  const root = d.root ?? '';
  const state = await containerState(binary, root, d.id).catch(() => undefined);
  if (state?.status === 'stopped') await runRunc(binary, [...globalArgs(root), 'delete', d.id]);
}
