/** Job commands: list (`ps`, `jobs`), inspect, kill, delete. `job.ts` groups them under `cedana job`. */
import { CedanaError } from '@cedana/core';
import type { Job } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { JOB_HEAD, jobRows, NO_JOBS } from '../output/job-rows.js';
import { renderTable } from '../output/table.js';
import { action, type GlobalArgs, type Session } from '../session.js';

interface ListArgs extends GlobalArgs {
  json?: boolean;
}

export function renderJobs(jobs: readonly Job[]): string {
  return renderTable(JOB_HEAD, jobRows(jobs));
}

export function listJobsCommand(session: Session, command: string | string[] = 'list'): CommandModule {
  return {
    command,
    describe: 'List managed jobs',
    builder: (y: Argv) => y.option('json', { type: 'boolean', describe: 'print JSON' }),
    handler: action<ListArgs>(session, async (argv) => {
      const { jobs } = await (await session.client(argv)).list({ jids: [], type: '' });
      if (argv.json) return session.json(jobs);
      session.out(jobs.length === 0 ? NO_JOBS : renderJobs(jobs));
    }),
  };
}

export function inspectJobCommand(session: Session): CommandModule {
  return {
    command: 'inspect <jid>',
    describe: 'Show every field of a job (JSON)',
    builder: (y: Argv) =>
      y.positional('jid', { type: 'string', describe: 'job ID' }).option('json', { type: 'boolean', describe: 'print JSON (the default)' }),
    handler: action<ListArgs & { jid: string }>(session, async (argv) => {
      const { jobs } = await (await session.client(argv)).list({ jids: [argv.jid], type: '' });
      const job = jobs.find((j) => j.jid === argv.jid);
      if (!job) throw new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', `no job "${argv.jid}"`);
      session.json(job);
    }),
  };
}

interface JidsArgs extends GlobalArgs {
  jids: string[];
  signal?: string;
}

export function killCommand(session: Session): CommandModule {
  return {
    command: 'kill <jids..>',
    describe: 'Kill jobs (SIGKILL unless --signal)',
    builder: (y: Argv) =>
      y
        .positional('jids', { type: 'string', array: true, describe: 'job IDs' })
        .option('signal', { alias: 's', type: 'string', describe: 'signal name (SIGTERM) or number' })
        .example('$0 kill web -s SIGTERM', 'ask job "web" to stop'),
    handler: action<JidsArgs>(session, async (argv) => {
      const jids = argv.jids.map(String);
      const resp = await (await session.client(argv)).kill({ jids, signal: argv.signal ?? '' });
      session.out(resp.messages.length > 0 ? resp.messages.join('\n') : jids.map((j) => `killed job ${j}`).join('\n'));
    }),
  };
}

export function deleteCommand(session: Session): CommandModule {
  return {
    command: 'delete <jids..>',
    describe: 'Delete jobs',
    builder: (y: Argv) => y.positional('jids', { type: 'string', array: true, describe: 'job IDs' }),
    handler: action<JidsArgs>(session, async (argv) => {
      const jids = argv.jids.map(String);
      const resp = await (await session.client(argv)).delete({ jids });
      session.out(resp.messages.length > 0 ? resp.messages.join('\n') : jids.map((j) => `deleted job ${j}`).join('\n'));
    }),
  };
}
