/**
 * A real cedana daemon started through the CLI in a temp folder of its own (socket,
 * database, checkpoints, daemon.log), driven through the real CLI. The test kit's
 * TestDaemon (a plugin under test loaded) builds on it, and so do cedana's own e2e tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliCallOptions {
  /** Written to the CLI's stdin. */
  input?: string;
  /** Added to (or overriding) the daemon's environment for this call. */
  env?: NodeJS.ProcessEnv;
  /** The CLI is killed after this long (default 120 s). */
  timeoutMs?: number;
}

/** Runs `command ARGS` (command: the CLI's program and leading arguments) and collects what it prints. */
export function runCedana(command: string[], args: string[], env: NodeJS.ProcessEnv, opts: CliCallOptions = {}): Promise<CliResult> {
  const [bin, ...pre] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [...pre, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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

export class DaemonProcess {
  private proc: ChildProcess | undefined;

  protected constructor(
    /** Temp folder of everything: socket, database, checkpoints, daemon.log. */
    readonly dir: string,
    /** Environment of the daemon and of every `cli()` call. */
    readonly env: NodeJS.ProcessEnv,
    /** The CLI's program and leading arguments. */
    protected readonly command: string[],
    /** Flags after `cedana daemon start`. */
    private readonly startArgs: string[] = [],
    /** How long `daemon start` may take to answer. */
    private readonly timeoutMs = 15_000,
  ) {}

  /** The daemon's address (a socket path, or host:port with CEDANA_PROTOCOL=tcp). */
  get socket(): string {
    return this.env.CEDANA_ADDRESS as string;
  }

  /** The daemon's PID (0 when it is not running). */
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Runs `cedana ARGS` against this daemon. */
  cli(args: string[], opts: CliCallOptions = {}): Promise<CliResult> {
    return runCedana(this.command, args, { ...this.env, ...opts.env }, opts);
  }

  /** Runs `cedana ARGS`; throws with its output unless it exits 0. Returns stdout. */
  async ok(args: string[]): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`cedana ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  /** Runs `cedana ARGS --json` and parses what it prints; throws with its output unless it exits 0. */
  async json<T = unknown>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, '--json'])) as T;
  }

  /** The daemon's log so far (pino JSON lines). */
  log(): string {
    return existsSync(join(this.dir, 'daemon.log')) ? readFileSync(join(this.dir, 'daemon.log'), 'utf8') : '';
  }

  /** Stops the daemon (SIGTERM) and starts it again on the same folder; its jobs keep running. */
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

  /** Stops the daemon, kills the processes of jobs it left running, and removes the temp folder. */
  async stop(): Promise<void> {
    const jobs = await this.cli(['ps', '--json']).catch(() => undefined);
    const daemon = this.pid;
    await this.stopProcess();
    if (jobs?.code === 0) {
      for (const job of JSON.parse(jobs.stdout) as { state?: { pid?: number; status?: string } }[]) {
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

  /** Starts `cedana daemon start` and waits until it answers `ps`. */
  protected async startProcess(): Promise<void> {
    const [bin, ...pre] = this.command as [string, ...string[]];
    const log = openSync(join(this.dir, 'daemon.log'), 'a');
    const proc = spawn(bin, [...pre, 'daemon', 'start', ...this.startArgs], { env: this.env, stdio: ['ignore', log, log] });
    this.proc = proc;
    const failed = new Promise<Error>((resolve) => proc.on('error', resolve));
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      const err = await Promise.race([failed, sleep(100).then(() => undefined)]);
      if (err) throw new Error(`cannot start ${bin}: ${err.message} (set CEDANA_CLI to the cedana CLI, or install @cedana/cli)`);
      if (proc.exitCode !== null) {
        throw new Error(`the daemon exited ${proc.exitCode} (log: ${join(this.dir, 'daemon.log')}):\n${this.log().slice(-2000)}`);
      }
      const listening = this.env.CEDANA_PROTOCOL === 'tcp' || existsSync(this.socket);
      if (listening && (await this.cli(['ps'])).code === 0) return;
    }
    throw new Error(`the daemon did not answer in ${this.timeoutMs} ms:\n${this.log().slice(-2000)}`);
  }

  private async stopProcess(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
