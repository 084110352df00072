/** What a job's type adds to kill and delete: its plugin's kill signal and its cleanup ("process" jobs have neither). */
import { features, inPlugin, type PluginSource } from '@cedana/core';
import type { Job } from '@cedana/core/proto';

/** The signal `job kill` sends without --signal: the type plugin's KillSignal, else SIGKILL. */
export function killSignalFor(plugins: PluginSource, type: string): string {
  return (type !== 'process' && features.KillSignal.get(plugins, type)) || 'SIGKILL';
}

/** The type plugin's Cleanup of a job being deleted (e.g. its container's leftovers). */
export async function cleanUpJob(plugins: PluginSource, job: Job): Promise<void> {
  const cleanup = job.type === 'process' ? undefined : features.Cleanup.get(plugins, job.type);
  if (cleanup) await inPlugin(job.type, features.Cleanup.symbol, () => cleanup(job));
}
