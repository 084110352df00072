/**
 * A real cedana daemon for end-to-end tests: started through the CLI, with its
 * own socket, database and checkpoint folder under a temp dir, and the plugins
 * that setup installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assertCliBundleFresh, CLI, LAUNCHER } from './cli-bundle.js';

export { CLI, LAUNCHER };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestDaemon {
  private proc?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
    /** Flags after `cedana daemon start`. */
    private readonly startArgs: string[] = [],
  ) {}

  /** Starts a daemon; `env` adds or overrides CEDANA_* settings, `args` are flags of `daemon start`. */
  static async start(env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<TestDaemon> {
    assertCliBundleFresh();
    const dir = await mkdtemp('/tmp/cedana-e2e-');
    const d = new TestDaemon(
      dir,
      {
        ...process.env,
        HOME: dir, // no ~/.cedana/config.json of the machine's
        CEDANA_ADDRESS: join(dir, 'cedana.sock'),
        CEDANA_DB_PATH: join(dir, 'db'),
        CEDANA_CHECKPOINT_DIR: join(dir, 'checkpoints'),
        CEDANA_LOG_DIR: join(dir, 'logs'),
        CEDANA_LOG_LEVEL: 'debug',
        ...env,
      },
      args,
    );
    await d.startProcess();
    return d;
  }

  get socket(): string {
    return this.env.CEDANA_ADDRESS as string;
  }

  /** The daemon's PID (0 when it is not running). */
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Runs `cedana ARGS` against this daemon. */
  cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    return runCli(args, { ...this.env, ...opts.env }, opts);
  }

  /** Runs `cedana ARGS --json` and parses its output; throws with stderr when it fails. */
  async json<T = unknown>(args: string[]): Promise<T> {
    const r = await this.cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`cedana ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Runs `cedana ARGS` and throws with its stderr unless it succeeds. */
  async ok(args: string[]): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`cedana ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    await this.startProcess();
  }

  /** Stops the daemon and leaves its jobs running; `restart()` brings it back. */
  async stopDaemonOnly(): Promise<void> {
    await this.stopProcess();
  }

  /** Kills the daemon with SIGKILL (no clean-up of its own) and leaves its jobs running; `restart()` brings it back. */
  async killDaemon(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  /** Stops the daemon, kills the jobs' processes it left and removes the temp dir. */
  async stop(): Promise<void> {
    const r = await this.cli(['ps', '--json']).catch(() => undefined);
    const daemon = this.pid;
    await this.stopProcess();
    if (r?.code === 0) {
      for (const job of JSON.parse(r.stdout) as { state?: { pid?: number; status?: string } }[]) {
        // Never init, this test, or the daemon, should a test have made a job of one of them.
        const pid = job.state?.pid ?? 0;
        if (job.state?.status === 'running' && pid > 1 && pid !== process.pid && pid !== daemon) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      }
    }
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }

  private async startProcess(): Promise<void> {
    const { openSync } = await import('node:fs');
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    this.proc = spawn(LAUNCHER, ['daemon', 'start', ...this.startArgs], { env: this.env, stdio: ['ignore', log, log] });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`daemon exited ${this.proc.exitCode}: see ${join(this.dir, 'daemon.log')}`);
      const listening = this.env.CEDANA_PROTOCOL === 'tcp' || existsSync(this.socket);
      if (listening && (await this.cli(['ps'])).code === 0) return;
      await sleep(100);
    }
    throw new Error('daemon did not start in 15 s');
  }

  private async stopProcess(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
  }
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(LAUNCHER, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
