/** What a job's type adds to kill and delete: its plugin's kill signal and its cleanup ("process" jobs have neither). */
import { features } from '@cedana/core';
import type { Job } from '@cedana/core/proto';

/** The signal `job kill` sends without --signal: the type plugin's KillSignal, else SIGKILL. */
export async function killSignalFor(type: string): Promise<string> {
  let signal = 'SIGKILL';
  if (type !== 'process' && features.KillSignal.isAvailable(type)) {
    await features.KillSignal.ifAvailable((_, s) => {
      signal = s;
    }, type);
  }
  return signal;
}

/** The type plugin's Cleanup of a job being deleted (e.g. its container's leftovers). */
export async function cleanUpJob(job: Job): Promise<void> {
  if (job.type !== 'process' && features.Cleanup.isAvailable(job.type))
    await features.Cleanup.ifAvailable((_, cleanup) => cleanup(job), job.type);
}
