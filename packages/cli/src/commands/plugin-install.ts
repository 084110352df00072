/**
 * The handlers of `cedana plugin install|update|remove` (list is plugin-list.ts). Each change happens under
 * the plugins folder's lock, then the daemon is told (ReloadPlugins) so the next
 * request uses the new set, with no restart.
 */
import { appliesToType, CedanaError, isCedanaError, type LoadedPlugin } from '@cedana/core';
import type { Job } from '@cedana/core/proto';
import { EXIT } from '../exit-codes.js';
import type { FetchOptions } from '../plugins/fetch.js';
import { scanInstalled } from '../plugins/installed.js';
import { emptyTrash, type InstallOptions, type InstallResult, installPlugin, removePlugin, settleUpgrade } from '../plugins/installer.js';
import { withPluginsLock } from '../plugins/lock.js';
import { fetchOptionsOf, latestOf } from '../plugins/source.js';
import { describeSpec, parseSpec } from '../plugins/spec.js';
import type { Session } from '../session.js';
import type { PluginArgs } from './plugin.js';

interface ChangeArgs extends PluginArgs {
  allowScripts?: boolean;
  force?: boolean;
}

export async function install(session: Session, argv: ChangeArgs & { specs: string[] }): Promise<void> {
  const specs = argv.specs.map((s) => parseSpec(String(s)));
  const opts = await installOptions(session, argv);
  const results: InstallResult[] = [];
  const failed = await withAbort(session, opts, () =>
    withPluginsLock(opts.pluginsDir, async () => {
      let errors = 0;
      for (const spec of specs) {
        try {
          results.push(await installPlugin(spec, opts));
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          errors++;
          session.fail(new CedanaError(toCode(err), `cannot install ${describeSpec(spec)}: ${(err as Error).message}`, hintOf(err)));
        }
      }
      return errors;
    }),
  );
  report(session, argv, results, opts);
  await afterChange(
    session,
    argv,
    opts.pluginsDir,
    results.filter((r) => r.action !== 'unchanged').map((r) => r.plugin),
    results,
  );
  if (failed > 0) session.exitCode = EXIT.FAILED;
}

export async function update(session: Session, argv: ChangeArgs & { names?: string[] }): Promise<void> {
  const opts = await installOptions(session, argv);
  const results: InstallResult[] = [];
  await withAbort(session, opts, () =>
    withPluginsLock(opts.pluginsDir, async () => {
      const found = await scanInstalled(opts.pluginsDir);
      const names = (argv.names ?? []).map(String);
      for (const name of names) {
        if (!found.some((p) => p.plugin === name && p.version))
          throw new CedanaError('CEDANA_ERR_PLUGIN_NOT_FOUND', `plugin "${name}" is not installed in ${opts.pluginsDir}`, {
            hint: `install it: \`cedana plugin install ${name}\``,
          });
      }
      for (const p of found.filter((f) => f.version && (names.length === 0 || names.includes(f.plugin)))) {
        const from = p.record?.source;
        if (from === 'file' || from === 'directory' || from === 'remote') {
          session.out(`${p.plugin} ${p.version}: installed from ${p.record?.resolved}; install a newer file to update it`);
          continue;
        }
        const latest = await latestOf(opts)(p.name);
        if (!latest) {
          session.err(`${p.plugin} ${p.version}: ${p.name} is not in ${sourceName(opts)}; left as it is`);
          continue;
        }
        if (latest === p.version || !(await import('semver')).default.gt(latest, p.version)) {
          session.out(`${p.plugin} ${p.version}: up to date`);
          continue;
        }
        results.push(await installPlugin({ kind: 'registry', raw: `${p.name}@${latest}`, name: p.name, range: latest }, opts));
      }
    }),
  );
  report(session, argv, results, opts);
  await afterChange(
    session,
    argv,
    opts.pluginsDir,
    results.map((r) => r.plugin),
    results,
  );
}

export async function remove(session: Session, argv: ChangeArgs & { names: string[] }): Promise<void> {
  const config = session.config(argv);
  const pluginsDir = config['plugins.dir'];
  const names = argv.names.map(String);
  const { needed, hooks } = await jobsNeeding(session, argv, names);
  if (needed.length > 0) {
    const list = needed.map((n) => `${n.plugin}: job ${n.job.jid} (${n.job.type}, PID ${n.job.state?.pid}) ${n.why}`);
    if (!argv.force) {
      throw new CedanaError('CEDANA_ERR_PLUGIN_IN_USE', `running jobs need ${[...new Set(needed.map((n) => n.plugin))].join(', ')}`, {
        details: list,
      });
    }
    session.err(`removing anyway (--force); after that:\n  ${list.join('\n  ')}`);
  }
  for (const h of hooks) session.err(`note: ${h}`);
  const removed = await withPluginsLock(pluginsDir, async () => {
    const out: string[] = [];
    for (const name of names) {
      const record = await removePlugin(pluginsDir, name);
      session.out(`removed ${name}${record ? ` ${record.version}` : ''}`);
      out.push(name);
    }
    return out;
  });
  await afterChange(session, argv, pluginsDir, removed);
}

async function installOptions(session: Session, argv: ChangeArgs): Promise<InstallOptions> {
  const config = session.config(argv);
  return { ...(await fetchOptionsOf(config, argv)), pluginsDir: config['plugins.dir'], force: argv.force ?? false };
}

function sourceName(opts: FetchOptions): string {
  return opts.registry ? `registry ${opts.registry}` : 'the local catalog';
}

/** Ctrl+C or SIGTERM stops npm and the install; the staging folder goes, the old version stays. */
async function withAbort<T>(session: Session, opts: InstallOptions, fn: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  opts.signal = controller.signal;
  const offs = (['SIGINT', 'SIGTERM'] as const).map((s) => session.deps.onSignal(s, () => controller.abort()));
  try {
    return await fn();
  } finally {
    for (const off of offs) off();
  }
}

function report(session: Session, argv: PluginArgs, results: InstallResult[], opts: FetchOptions): void {
  if (argv.json) {
    session.json(results.map((r) => ({ ...r.record, action: r.action, previous: r.previous, warnings: r.warnings })));
    return;
  }
  for (const r of results) {
    const from = r.record.source === 'catalog' ? 'the local catalog' : r.record.source === 'registry' ? opts.registry : r.record.resolved;
    const what =
      r.action === 'unchanged'
        ? `${r.plugin} ${r.version} is already installed (--force reinstalls it)`
        : `${r.action} ${r.plugin} ${r.previous && r.previous !== r.version ? `${r.previous} -> ` : ''}${r.version} (${r.name}) from ${from}`;
    session.out(what);
    for (const w of r.warnings) session.err(`warning: ${w}`);
  }
}

/**
 * Tells the daemon to reload its plugins and says what it loaded. An upgrade the daemon
 * failed to load is rolled back to the version it kept (settleUpgrade) and the daemon
 * reloads again; then the trash is emptied.
 */
async function afterChange(
  session: Session,
  argv: PluginArgs,
  pluginsDir: string,
  changed: string[],
  results: readonly InstallResult[] = [],
): Promise<void> {
  if (changed.length === 0) return;
  const upgrades = results.filter((r) => r.kept?.length);
  try {
    const client = await session.client(argv);
    const resp = await client.reloadPlugins({});
    const rolledBack: string[] = [];
    for (const name of changed) {
      const p = resp.plugins.find((x) => x.name === name);
      if (!p) session.err(`daemon: ${name} unloaded`);
      else if (p.status === 'ok') session.err(`daemon: ${name} ${p.version} loaded`);
      else session.err(`daemon: ${name} ${p.version} failed to load: [${p.errorCode}] ${p.error}`);
      const r = upgrades.find((u) => u.plugin === name);
      if (!r) continue;
      const back = await withPluginsLock(pluginsDir, () => settleUpgrade(pluginsDir, r, p?.status === 'ok' && p.version === r.version));
      if (back) {
        rolledBack.push(name);
        session.err(`rolled ${name} back to ${back}, the version installed before (${r.version} is removed)`);
        session.exitCode = EXIT.FAILED;
      }
    }
    if (rolledBack.length > 0) {
      const again = await client.reloadPlugins({});
      for (const name of rolledBack) {
        const p = again.plugins.find((x) => x.name === name);
        session.err(`daemon: ${name} ${p?.version ?? ''} ${p?.status === 'ok' ? 'loaded' : `failed to load: ${p?.error}`}`);
      }
    }
  } catch (err) {
    if (!isCedanaError(err) || err.code !== 'CEDANA_ERR_DAEMON_UNREACHABLE') throw err;
    session.err(`no daemon answers at ${session.config(argv).address}: it loads the plugins when it starts`);
    await withPluginsLock(pluginsDir, async () => {
      for (const r of upgrades) await settleUpgrade(pluginsDir, r, true); // its test load passed
    });
  } finally {
    await emptyTrash(pluginsDir);
  }
}

/**
 * Running jobs that need one of `names` (their type's plugin, or the engine, criu, that dumps
 * every type without its own), each with what stops working; and, for plugins whose
 * middleware applies to other types (appliesTo), what they stop doing, which blocks nothing.
 */
async function jobsNeeding(
  session: Session,
  argv: PluginArgs,
  names: string[],
): Promise<{ needed: { plugin: string; job: Job; why: string }[]; hooks: string[] }> {
  const loaded = await session.plugins(session.config(argv)['plugins.dir']);
  let jobs: Job[] = [];
  try {
    jobs = (await (await session.client(argv)).list({ jids: [], type: '' })).jobs.filter((j) => j.state?.status === 'running');
  } catch (err) {
    if (!isCedanaError(err) || err.code !== 'CEDANA_ERR_DAEMON_UNREACHABLE') throw err; // no daemon, no running jobs
  }
  const needed = names.flatMap((plugin) =>
    jobs.flatMap((job) => {
      const why = needs(job, plugin, loaded);
      return why ? [{ plugin, job, why }] : [];
    }),
  );
  const hooks = names.flatMap((plugin) => {
    const d = loaded.find((p) => p.name === plugin && p.status === 'ok')?.definition;
    const middleware = ['DumpMiddleware', 'RestoreMiddleware', 'RunMiddleware'].filter(
      (s) => (d?.features as Record<string, unknown> | undefined)?.[s] !== undefined,
    );
    if (!d?.appliesTo || middleware.length === 0) return [];
    const types = d.appliesTo === '*' ? 'jobs of every type' : `jobs of type ${d.appliesTo.join(', ')}`;
    const running = jobs.filter((j) => appliesToType(d, j.type)).length;
    return [
      `${plugin}'s ${middleware.join(', ')} will no longer run for ${types}; those requests go on without it (${running} running jobs)`,
    ];
  });
  return { needed, hooks };
}

/** What stops working for `job` once `plugin` is gone; undefined when nothing does. */
export function needs(job: Job, plugin: string, loaded: readonly LoadedPlugin[]): string | undefined {
  if (job.type === plugin) return `can no longer be dumped, restored, managed or cleaned up: ${plugin} serves its type`;
  const exports = (name: string, symbol: string) =>
    ((loaded.find((p) => p.name === name)?.definition?.features ?? {}) as Record<string, unknown>)[symbol] !== undefined;
  const engine = exports(plugin, 'DumpHandler') || exports(plugin, 'RestoreHandler');
  if (!engine || (job.type !== 'process' && exports(job.type, 'DumpHandler'))) return undefined;
  return `can no longer be dumped or restored: ${plugin} does its dump and restore`;
}

function toCode(err: unknown): CedanaError['code'] {
  return isCedanaError(err) ? err.code : 'CEDANA_ERR_PLUGIN_INSTALL';
}

function hintOf(err: unknown): { hint?: string; details?: string[]; cause: unknown } {
  return isCedanaError(err) ? { hint: err.hint, details: err.details, cause: err } : { cause: err };
}
