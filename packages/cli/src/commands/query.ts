/**
 * `cedana query TYPE`: asks the daemon (and the plugin of TYPE) for information. People
 * get each list of flat records in the answer as a table; programs get JSON (--json).
 */
import { features, type LoadedPlugin } from '@cedana/core';
import type { QueryReq } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { type Cell, renderTable } from '../output/table.js';
import { addPluginOptions, type PluginCmd, pluginCommands, pluginDetails } from '../plugins/commands.js';
import { action, type GlobalArgs, type Session } from '../session.js';

interface QueryArgs extends GlobalArgs {
  json?: boolean;
}

async function query(session: Session, argv: QueryArgs, req: QueryReq): Promise<void> {
  const resp = await (await session.client(argv)).query(req);
  const result = resp.result ?? {};
  const tables = argv.json ? undefined : asTables(result);
  if (!tables) return session.json(result);
  const many = tables.length > 1;
  session.out(tables.map(([key, text]) => (many ? `${key}:\n${text}` : text)).join('\n\n'));
}

/**
 * Each value of `result` that is a list of flat records, as a table (columns from the
 * records' keys, in order of appearance); undefined when `result` holds anything else.
 */
export function asTables(result: Record<string, unknown>): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(result)) {
    if (!Array.isArray(value) || !value.every(isFlatRecord)) return undefined;
    const records = value as Record<string, unknown>[];
    if (records.length === 0) {
      out.push([key, `no ${key}`]);
      continue;
    }
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
    const rows = records.map((r) => columns.map((c) => cell(r[c])));
    out.push([
      key,
      renderTable(
        columns.map((c) => c.toUpperCase()),
        rows,
      ),
    ]);
  }
  return out.length > 0 ? out : undefined;
}

function isFlatRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object');
}

function cell(v: unknown): Cell {
  return v === null || v === undefined ? undefined : typeof v === 'number' ? v : String(v);
}

function jsonOption(y: Argv): Argv {
  return y.option('json', { type: 'boolean', describe: 'print JSON' });
}

function pluginQueryCommand(session: Session, pc: PluginCmd): CommandModule {
  return {
    command: pc.plugin,
    describe: pc.cmd.describe,
    builder: (y: Argv) => addPluginOptions(jsonOption(y), pc.cmd.options),
    handler: action<QueryArgs>(session, (argv) =>
      query(session, argv, { type: pc.plugin, details: pluginDetails(pc, features.QueryCmd.symbol, argv as Record<string, unknown>) }),
    ),
  };
}

export function queryCommand(session: Session, plugins: readonly LoadedPlugin[]): CommandModule {
  return {
    command: 'query <type>',
    describe: 'Query the daemon about a type of workload (a table, or JSON with --json)',
    builder: (y: Argv) => {
      let out = y;
      for (const pc of pluginCommands(plugins, features.QueryCmd, [])) out = out.command(pluginQueryCommand(session, pc));
      return out.command({
        command: '$0 <type>',
        describe: 'Query TYPE with no plugin flags',
        builder: (q: Argv) => jsonOption(q.positional('type', { type: 'string', describe: 'process, or a plugin type' })),
        handler: action<QueryArgs & { type: string }>(session, (argv) => query(session, argv, { type: argv.type, details: undefined })),
      });
    },
    handler: () => {},
  };
}
