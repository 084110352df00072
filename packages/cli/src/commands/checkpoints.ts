/** Checkpoint commands: list (`checkpoints`), inspect, delete. */
import type { Checkpoint } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { formatSize, formatTime, renderTable } from '../output/table.js';
import { action, type GlobalArgs, type Session } from '../session.js';

interface ListArgs extends GlobalArgs {
  jid?: string;
  json?: boolean;
}

export function renderCheckpoints(checkpoints: readonly Checkpoint[]): string {
  const rows = checkpoints.map((c) => [c.id, c.jid, formatTime(c.createdAt), formatSize(c.size), c.compression, c.path]);
  return renderTable(['ID', 'JOB', 'TIME', 'SIZE', 'COMPRESSION', 'PATH'], rows);
}

export function listCheckpointsCommand(session: Session, command = 'list [jid]'): CommandModule {
  return {
    command,
    describe: 'List checkpoints, of all jobs or of one',
    builder: (y: Argv) =>
      y
        .positional('jid', { type: 'string', describe: 'only the checkpoints of this job' })
        .option('json', { type: 'boolean', describe: 'print JSON' }),
    handler: action<ListArgs>(session, async (argv) => {
      const { checkpoints } = await (await session.client(argv)).listCheckpoints({ jid: argv.jid ?? '' });
      if (argv.json) return session.json(checkpoints);
      session.out(checkpoints.length === 0 ? 'no checkpoints' : renderCheckpoints(checkpoints));
    }),
  };
}

export function inspectCheckpointCommand(session: Session): CommandModule {
  return {
    command: 'inspect <id>',
    describe: 'Show what a checkpoint holds: processes, open files, memory, sockets (also compressed ones)',
    builder: (y: Argv) =>
      y
        .positional('id', { type: 'string', describe: 'checkpoint ID' })
        .option('json', { type: 'boolean', describe: 'print JSON: the checkpoint, its checkpoint.json and the summary' }),
    handler: action<GlobalArgs & { id: string; json?: boolean }>(session, async (argv) => {
      const resp = await (await session.client(argv)).inspectCheckpoint({ id: argv.id });
      if (argv.json) return session.json({ checkpoint: resp.checkpoint, manifest: resp.manifest, summary: resp.summary });
      const { renderInspection } = await import('./checkpoint-inspect.js');
      session.out(renderInspection(resp));
    }),
  };
}

export function deleteCheckpointsCommand(session: Session): CommandModule {
  return {
    command: 'delete <ids..>',
    describe: 'Delete checkpoints (records and files)',
    builder: (y: Argv) => y.positional('ids', { type: 'string', array: true, describe: 'checkpoint IDs' }),
    handler: action<GlobalArgs & { ids: string[] }>(session, async (argv) => {
      const ids = argv.ids.map(String);
      const resp = await (await session.client(argv)).deleteCheckpoint({ ids });
      session.out(resp.messages.length > 0 ? resp.messages.join('\n') : ids.map((id) => `deleted checkpoint ${id}`).join('\n'));
    }),
  };
}

/** `cedana checkpoint ...` and `cedana job checkpoint ...`. */
export function checkpointGroup(session: Session, withDelete: boolean): CommandModule {
  return {
    command: 'checkpoint',
    describe: 'List, inspect or delete checkpoints',
    builder: (y: Argv) => {
      const out = y.command(listCheckpointsCommand(session)).command(inspectCheckpointCommand(session));
      return (withDelete ? out.command(deleteCheckpointsCommand(session)) : out).demandCommand(1, 'name a checkpoint command');
    },
    handler: () => {},
  };
}
