/** `cedana job ...` and the top-level shorthands users know from Cedana (ps, jobs, kill, delete, attach, checkpoints, inspect). */
import type { Argv, CommandModule } from 'yargs';
import type { Session } from '../session.js';
import { attachCommand, jobAttachCommand } from './attach.js';
import { checkpointGroup, inspectCheckpointCommand, listCheckpointsCommand } from './checkpoints.js';
import { deleteCommand, inspectJobCommand, killCommand, listJobsCommand } from './jobs.js';

export function jobCommand(session: Session): CommandModule {
  return {
    command: 'job',
    describe: 'Manage jobs: list, inspect, kill, delete, attach, checkpoints',
    builder: (y: Argv) =>
      y
        .command(listJobsCommand(session))
        .command(inspectJobCommand(session))
        .command(killCommand(session))
        .command(deleteCommand(session))
        .command(jobAttachCommand(session))
        .command(checkpointGroup(session, false))
        .command(listCheckpointsCommand(session, 'checkpoints [jid]'))
        .demandCommand(1, 'name a job command'),
    handler: () => {},
  };
}

/** The top-level commands of the job and checkpoint domain. */
export function jobShorthands(session: Session): CommandModule[] {
  return [
    jobCommand(session),
    listJobsCommand(session, ['ps', 'jobs']),
    killCommand(session),
    deleteCommand(session),
    attachCommand(session),
    listCheckpointsCommand(session, 'checkpoints [jid]'),
    checkpointGroup(session, true),
    inspectCheckpointCommand(session),
  ];
}
