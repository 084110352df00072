/** `cedana migrate job JID --to ADDRESS`: moves a running job to another cedana daemon. */
import type { Argv, CommandModule } from 'yargs';
import { action, type GlobalArgs, type Session } from '../session.js';
import { countOf, nameOf } from './validate.js';

interface MigrateArgs extends GlobalArgs {
  json?: boolean;
  jid: string;
  to: string;
  token?: string;
  keep?: boolean;
  lazy?: boolean;
  streams?: number;
  targetJid?: string;
}

export function migrateCommand(session: Session): CommandModule {
  return {
    command: 'migrate',
    describe: 'Move a running job to another cedana daemon',
    builder: (y: Argv) =>
      y
        .command({
          command: 'job <jid>',
          describe: 'Dump the job, stream its images to the target daemon, which restores it; on any failure it runs here again',
          builder: (j: Argv) =>
            j
              .positional('jid', { type: 'string', describe: 'job ID' })
              .option('to', { type: 'string', demandOption: true, describe: 'the target daemon: host:port (TCP) or its unix socket path' })
              .option('token', {
                type: 'string',
                describe: "the target daemon's auth_token (default: CEDANA_TARGET_TOKEN)",
                default: process.env.CEDANA_TARGET_TOKEN,
                defaultDescription: '$CEDANA_TARGET_TOKEN',
              })
              .option('keep', {
                type: 'boolean',
                describe: 'keep the checkpoint here, in checkpoint.dir (default: none is written to disk)',
              })
              .option('lazy', {
                type: 'boolean',
                describe:
                  'post-copy: the job runs on the target before its memory moved (CRIU lazy pages, pulled from here); least downtime, but a source lost before the copy ends loses the job',
              })
              .option('streams', { type: 'number', describe: 'checkpoint streams (default: config checkpoint.streams, at least 1)' })
              .option('json', { type: 'boolean', describe: 'print JSON (with the times of each stage)' })
              .option('target-jid', { type: 'string', describe: "the job's JID on the target (default: the same)" })
              .example(
                '$0 migrate job web --to 10.0.0.2:8080',
                'move job "web" to the daemon at 10.0.0.2:8080 (token in CEDANA_TARGET_TOKEN)',
              )
              .example('$0 migrate job web --to 10.0.0.2:8080 --lazy', 'post-copy: "web" runs there at once, its memory follows'),
          handler: action<MigrateArgs>(session, async (argv) => {
            const client = await session.client(argv);
            const resp = await client.migrate({
              jid: argv.jid,
              to: argv.to,
              token: argv.token ?? '',
              keep: Boolean(argv.keep),
              streams: countOf(argv.streams, 'streams') ?? 0,
              targetJid: nameOf(argv.targetJid, 'JID'),
              lazy: Boolean(argv.lazy),
            });
            if (argv.json) return session.json(resp);
            for (const m of resp.messages) session.err(m);
            const t = resp.times;
            session.out(`migrated job ${argv.jid} to ${resp.target}: job ${resp.targetJid} (PID ${resp.targetPid}) runs there`);
            if (t) session.out(`downtime ${(t.downtimeMs / 1000).toFixed(2)} s, total ${(t.totalMs / 1000).toFixed(2)} s`);
          }),
        })
        .demandCommand(1, 'name what to migrate: job'),
    handler: () => {},
  };
}
