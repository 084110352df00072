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
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliCommand } from './cli-path.js';

export interface TestDaemonOptions {
  /** Folder of the plugin package under test (a path or a file: URL). */
  plugin: string | URL;
  /** Plugins to load beside it: folders of packages, or names of plugins installed on this machine (e.g. 'criu'). */
  with?: string[];
  /** Extra environment (CEDANA_* settings) for the daemon and the CLI. */
  env?: Record<string, string>;
  /** The cedana CLI: its main.js or a binary. Default: $CEDANA_CLI, else @cedana/cli as seen from the plugin's folder, else `cedana` on PATH. */
  cli?: string;
  /** How long to wait for the daemon to answer (default 15 s). */
  timeoutMs?: number;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
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

export class TestDaemon {
  private proc: ChildProcess | undefined;

  private constructor(
    /** Temp folder of everything: socket, database, checkpoints, plugins, daemon.log. */
    readonly dir: string,
    /** The plugins folder the daemon loads (links to the packages). */
    readonly pluginsDir: string,
    /** Environment of the daemon and of every `cli()` call. */
    readonly env: NodeJS.ProcessEnv,
    private readonly command: string[],
  ) {}

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
    const d = new TestDaemon(dir, pluginsDir, env, cliCommand(opts.cli, pluginDir));
    try {
      await d.startProcess(opts.timeoutMs ?? 15_000);
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

  /** Runs `cedana ARGS` against this daemon. */
  cli(args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    const [bin, ...pre] = this.command as [string, ...string[]];
    return new Promise((resolve, reject) => {
      const p = spawn(bin, [...pre, ...args], { env: { ...this.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      p.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${bin}: ${err.message} (set CEDANA_CLI to the cedana CLI, or install @cedana/cli)`));
      });
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      p.stdin.end(opts.input ?? '');
    });
  }

  /** Runs `cedana ARGS`; throws with its output unless it exits 0. Returns stdout. */
  async ok(args: string[]): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`cedana ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Runs `cedana ARGS --json` and parses what it prints. */
  async json<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, '--json'])) as T;
  }

  /** How the plugin `name` loaded (undefined: not found in the plugins folder). */
  async plugin(name: string): Promise<LoadedRecord | undefined> {
    const features = await this.json<{ plugins: LoadedRecord[] }>(['features']);
    return features.plugins.find((p) => p.name === name);
  }

  /** The daemon's log so far (pino JSON lines). */
  log(): string {
    return existsSync(join(this.dir, 'daemon.log')) ? readFileSync(join(this.dir, 'daemon.log'), 'utf8') : '';
  }

  /** Stops the daemon, kills the processes of jobs it left running, and removes the temp folder. */
  async stop(): Promise<void> {
    const jobs = this.proc?.exitCode === null ? await this.cli(['ps', '--json']).catch(() => undefined) : undefined;
    await this.stopProcess();
    if (jobs?.code === 0) {
      for (const job of JSON.parse(jobs.stdout) as { state?: { pid?: number; status?: string } }[]) {
        if (job.state?.status === 'running' && job.state.pid) {
          try {
            process.kill(job.state.pid, 'SIGKILL');
          } catch {}
        }
      }
    }
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  private async startProcess(timeoutMs: number): Promise<void> {
    const [bin, ...pre] = this.command as [string, ...string[]];
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    const proc = spawn(bin, [...pre, 'daemon', 'start'], { env: this.env, stdio: ['ignore', log, log] });
    this.proc = proc;
    const failed = new Promise<Error>((resolve) => proc.on('error', resolve));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const err = await Promise.race([failed, sleep(100).then(() => undefined)]);
      if (err) throw new Error(`cannot start ${bin}: ${err.message} (set CEDANA_CLI to the cedana CLI, or install @cedana/cli)`);
      if (proc.exitCode !== null) throw new Error(`the daemon exited ${proc.exitCode}:\n${this.log().slice(-2000)}`);
      if (existsSync(this.env.CEDANA_ADDRESS as string) && (await this.cli(['ps'])).code === 0) return;
    }
    throw new Error(`the daemon did not answer in ${timeoutMs} ms:\n${this.log().slice(-2000)}`);
  }

  private async stopProcess(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
