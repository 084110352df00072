/**
 * @cedana/plugin-sdk/testing: a real cedana daemon for a plugin's own tests. It runs on
 * a socket in a temp folder, with the plugin under test loaded from its package folder
 * (linked, not copied: rebuild and start again), and refuses to start when the plugin
 * fails to load, saying why. Tests then drive it through the real CLI:
 *
 *   const d = await startTestDaemon({ plugin: new URL('..', import.meta.url), with: ['criu'] });
 *   after(() => d.stop());
 *   assert.match(await d.ok(['features', 'tag']), /DumpMiddleware/);
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliCommand } from './cli-path.js';
import { DaemonProcess } from './daemon-process.js';

export { type CliCallOptions, type CliResult, DaemonProcess, runCedana } from './daemon-process.js';

export interface TestDaemonOptions {
  /** Folder of the plugin package under test (a path or a file: URL). */
  plugin: string | URL;
  /** Plugins to load beside it: folders of packages, or names of plugins installed on this machine (e.g. 'criu'). */
  with?: string[];
  /** Extra environment (CEDANA_* settings) for the daemon and the CLI. */
  env?: Record<string, string>;
  /** Flags after `cedana daemon start`. */
  args?: string[];
  /** The cedana CLI: its main.js or a binary. Default: $CEDANA_CLI, else @cedana/cli as seen from the plugin's folder, else `cedana` on PATH. */
  cli?: string;
  /** How long to wait for the daemon to answer (default 15 s). */
  timeoutMs?: number;
}

/** The `cedana features --json` record of one plugin, as the daemon's loader sees it. */
export interface LoadedRecord {
  name: string;
  version: string;
  path: string;
  status: string;
  error: string;
  errorCode: string;
  phase: string;
  hint: string;
}

/** A daemon with the plugin under test loaded (see DaemonProcess for cli, ok, json, log, restart, stop...). */
export class TestDaemon extends DaemonProcess {
  private constructor(
    dir: string,
    /** The plugins folder the daemon loads (links to the packages). */
    readonly pluginsDir: string,
    env: NodeJS.ProcessEnv,
    command: string[],
    args: string[],
    timeoutMs: number,
  ) {
    super(dir, env, command, args, timeoutMs);
  }

  /** Starts a daemon with the plugin under test loaded; throws with the load error if it fails to load. */
  static async start(opts: TestDaemonOptions): Promise<TestDaemon> {
    const pluginDir = await realpath(opts.plugin instanceof URL ? fileURLToPath(opts.plugin) : opts.plugin);
    const dir = await mkdtemp(join(tmpdir(), 'cedana-plugin-test-'));
    const pluginsDir = join(dir, 'plugins');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: dir, // no ~/.cedana/config.json of the machine's
      CEDANA_ADDRESS: join(dir, 'cedana.sock'),
      CEDANA_PROTOCOL: 'unix',
      CEDANA_DB_PATH: join(dir, 'db'),
      CEDANA_CHECKPOINT_DIR: join(dir, 'checkpoints'),
      CEDANA_PLUGINS_DIR: pluginsDir,
      CEDANA_LOG_LEVEL: 'debug',
      ...opts.env,
    };
    const machinePlugins = process.env.CEDANA_PLUGINS_DIR || '/usr/local/lib/cedana/plugins';
    const under = await link(pluginsDir, pluginDir);
    for (const other of opts.with ?? []) {
      if (other.includes('/')) await link(pluginsDir, await realpath(other));
      else await linkInstalled(pluginsDir, machinePlugins, other);
    }
    const d = new TestDaemon(dir, pluginsDir, env, cliCommand(opts.cli, pluginDir), opts.args ?? [], opts.timeoutMs ?? 15_000);
    try {
      await d.startProcess();
      const record = await d.plugin(under);
      if (record?.status !== 'ok') {
        throw new Error(
          `plugin "${under}" failed to load${record ? ` (${record.phase}): [${record.errorCode}] ${record.error}\nhint: ${record.hint}` : ''}`,
        );
      }
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  /** How the plugin `name` loaded (undefined: not found in the plugins folder). */
  async plugin(name: string): Promise<LoadedRecord | undefined> {
    const features = await this.json<{ plugins: LoadedRecord[] }>(['features']);
    return features.plugins.find((p) => p.name === name);
  }
}

/** Starts a daemon with the plugin under test loaded: `TestDaemon.start(opts)`. */
export function startTestDaemon(opts: TestDaemonOptions): Promise<TestDaemon> {
  return TestDaemon.start(opts);
}

/** Links a package folder as `<pluginsDir>/<cedana.plugin>/<version>`; returns the plugin's name. */
async function link(pluginsDir: string, folder: string): Promise<string> {
  let pkg: { version?: string; cedana?: { plugin?: string } };
  try {
    pkg = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as typeof pkg;
  } catch (err) {
    throw new Error(`${folder} is not a package folder: ${(err as Error).message}`);
  }
  const name = pkg.cedana?.plugin;
  if (!name || !pkg.version) throw new Error(`${folder}/package.json needs "version" and "cedana": { "plugin": NAME, "engines": RANGE }`);
  await mkdir(join(pluginsDir, name), { recursive: true });
  await symlink(folder, join(pluginsDir, name, pkg.version), 'dir');
  return name;
}

/**
 * Links every version folder of the machine's installed plugin `name` into `pluginsDir`:
 * the daemon's loader then picks the version as it does on the machine.
 */
async function linkInstalled(pluginsDir: string, machinePlugins: string, name: string): Promise<void> {
  const folder = join(machinePlugins, name);
  const versions = await readdir(folder).catch(() => [] as string[]);
  if (versions.length === 0) {
    throw new Error(
      `plugin "${name}" is not installed in ${machinePlugins}: \`cedana plugin install ${name}\` (or set CEDANA_PLUGINS_DIR)`,
    );
  }
  await mkdir(join(pluginsDir, name), { recursive: true });
  for (const v of versions) await symlink(await realpath(join(folder, v)), join(pluginsDir, name, v), 'dir');
}
