/**
 * A second "host" on this machine for migration tests: a network namespace joined to this
 * one by a veth pair (addresses picked here, in 10.0.0.0/8), and a mount namespace with private
 * tmpfs folders for the target daemon's DB, checkpoints, migrate folder, plugins (a copy) and
 * /var/log, so neither daemon sees the other's files except what a test passes (/tmp is shared),
 * and a sysfs of its own network namespace with the mounts under it that a host has (cgroups).
 * A holder process (`sleep`) keeps both namespaces alive across daemon restarts; `destroy()`
 * kills it and deletes the namespace (and with it the veth pair), even after a failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { CONFIG_KEYS } from '@cedana/core';
import { assertCliBundleFresh, CLI } from './cli-bundle.js';
import { type CliResult, runCli, sleep, waitFor } from './daemon.js';

const PORT = 17_900;
/** The holder's life bounds the namespace's even if destroy() is never reached. */
const HOLDER_SECONDS = 900;

export class TargetHost {
  private holder?: ChildProcess;
  private daemon?: ChildProcess;

  private constructor(
    readonly ns: string,
    readonly hostIp: string,
    readonly targetIp: string,
    /** An empty folder of this host; the target sees a private tmpfs there. */
    readonly root: string,
    readonly token: string,
  ) {}

  /** The target daemon's log, on this host (outside the private folders), kept after destroy(). */
  get logFile(): string {
    return `${this.root}.log`;
  }

  get address(): string {
    return `${this.targetIp}:${PORT}`;
  }

  /**
   * `bareSys`: the target's /sys is its own sysfs and nothing under it, as `ip netns exec` leaves
   * it: a host without the mounts this machine has there (its cgroup hierarchies).
   */
  static async create(opts: { bareSys?: boolean } = {}): Promise<TargetHost> {
    assertCliBundleFresh();
    const tag = randomBytes(3).toString('hex');
    const net = `10.${randomInt(64, 250)}.${randomInt(1, 250)}`;
    const t = new TargetHost(
      `cedana-t-${tag}`,
      `${net}.1`,
      `${net}.2`,
      await mkdtemp('/tmp/cedana-e2e-target-'),
      randomBytes(16).toString('hex'),
    );
    try {
      await t.setUpNetwork(tag);
      await t.startHolder(opts.bareSys === true);
      await t.startDaemon();
    } catch (err) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  private async setUpNetwork(tag: string): Promise<void> {
    const hostSide = `vcs-${tag}`;
    const targetSide = `vct-${tag}`;
    for (const args of [
      ['netns', 'add', this.ns],
      ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', targetSide],
      ['link', 'set', targetSide, 'netns', this.ns],
      ['addr', 'add', `${this.hostIp}/30`, 'dev', hostSide],
      ['link', 'set', hostSide, 'up'],
      ['-n', this.ns, 'addr', 'add', `${this.targetIp}/30`, 'dev', targetSide],
      ['-n', this.ns, 'link', 'set', targetSide, 'up'],
      ['-n', this.ns, 'link', 'set', 'lo', 'up'],
    ])
      await run('ip', args);
  }

  private async startHolder(bareSys: boolean): Promise<void> {
    const r = this.root;
    // The plugins this host's daemons use: setup's folder unless the environment names another (a shell quoted path).
    const plugins = process.env.CEDANA_PLUGINS_DIR || CONFIG_KEYS['plugins.dir'].default;
    if (!plugins.startsWith('/') || plugins === '/') throw new Error(`the plugins folder must be an absolute path, found ${plugins}`);
    // `ip netns exec` would replace /sys with a bare sysfs of the namespace, without what every
    // real host's init mounts under it (the cgroup hierarchies under /sys/fs/cgroup, debugfs, ...);
    // a job's mount namespace (`run process --pid-ns`) names those mounts, and a restore binds
    // them again. So the holder enters the network namespace by nsenter and gives the target what
    // a host has: a sysfs of its own network namespace with this machine's mounts under /sys moved
    // onto it (each top mount below /sys, with its own below it).
    const script = [
      `mount -t tmpfs -o mode=0700 cedana-target ${r}`,
      `subs=$(awk 'NR == FNR { if ($5 == "/sys") sys = $1; next } $2 == sys { print $5 }' /proc/self/mountinfo /proc/self/mountinfo)`,
      ...(bareSys ? ['subs='] : []),
      `i=0 && for m in $subs; do i=$((i + 1)); mkdir -p ${r}/sys/$i && mount --rbind "$m" ${r}/sys/$i || exit 1; done`,
      'umount -l /sys && mount -t sysfs cedana-target-sys /sys',
      `i=0 && for m in $subs; do i=$((i + 1)); mount --move ${r}/sys/$i "$m" || exit 1; done && rm -rf ${r}/sys`,
      'mount -t tmpfs -o mode=0755 cedana-target-log /var/log',
      `mkdir -p ${r}/plugins && cp -a '${plugins.replaceAll("'", "'\\''")}'/. ${r}/plugins/`,
      'echo ready',
      `exec sleep ${HOLDER_SECONDS}`,
    ].join(' && ');
    this.holder = spawn('nsenter', [`--net=/run/netns/${this.ns}`, '--', 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const holder = this.holder;
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on('data', (d) => String(d).includes('ready') && resolve());
      holder.once('exit', (code) => reject(new Error(`the target's namespace holder exited ${code}`)));
    });
  }

  /** Environment of the target daemon (inside) and of CLI calls to it (from this host). */
  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.root,
      CEDANA_PROTOCOL: 'tcp',
      CEDANA_ADDRESS: this.address,
      CEDANA_AUTH_TOKEN: this.token,
      CEDANA_DB_PATH: `${this.root}/db`,
      CEDANA_CHECKPOINT_DIR: `${this.root}/checkpoints`,
      CEDANA_MIGRATE_DIR: `${this.root}/migrate`,
      CEDANA_LOG_DIR: `${this.root}/logs`,
      CEDANA_PLUGINS_DIR: `${this.root}/plugins`,
      CEDANA_LOG_LEVEL: 'debug',
    };
  }

  async startDaemon(): Promise<void> {
    const pid = String(this.holder?.pid);
    const { openSync } = await import('node:fs');
    const log = openSync(this.logFile, 'a');
    this.daemon = spawn('nsenter', ['-t', pid, '-m', '-n', '--', process.execPath, CLI, 'daemon', 'start'], {
      env: this.env(),
      stdio: ['ignore', log, log],
    });
    const daemon = this.daemon;
    await waitFor(
      'the target daemon to answer',
      async () => {
        if (daemon.exitCode !== null) throw new Error(`the target daemon exited ${daemon.exitCode}`);
        return (await this.cli(['ps'], { timeoutMs: 5000 })).code === 0 ? true : undefined;
      },
      20_000,
    );
  }

  /** Kills the target daemon with SIGKILL, as a host that dies would. */
  async killDaemon(): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGKILL');
    await exited;
  }

  get daemonPid(): number {
    return this.daemon?.pid ?? 0;
  }

  /** `cedana ARGS` against the target, over TCP with its token. */
  cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    return runCli(args, { ...this.env(), ...opts.env }, opts);
  }

  async json<T>(args: string[]): Promise<T> {
    const r = await this.cli([...args, '--json']);
    if (r.code !== 0) throw new Error(`target: cedana ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`target: cedana ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  /** Runs a command inside the target's namespaces. */
  inside(cmd: string[], timeoutMs = 10_000): Promise<CliResult> {
    return runIn('nsenter', ['-t', String(this.holder?.pid), '-m', '-n', '--', ...cmd], timeoutMs);
  }

  /** Kills the jobs the target runs, its daemon and holder, and deletes the namespace: nothing is left. */
  async destroy(): Promise<void> {
    const ps = this.daemon ? await this.cli(['ps', '--json'], { timeoutMs: 5000 }).catch(() => undefined) : undefined;
    if (ps?.code === 0) {
      for (const j of JSON.parse(ps.stdout) as { state?: { pid?: number; status?: string } }[]) {
        const pid = j.state?.pid ?? 0;
        if (j.state?.status === 'running' && pid > 1 && pid !== process.pid) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      }
    }
    await this.killDaemon();
    this.holder?.kill('SIGKILL');
    await sleep(100);
    await run('ip', ['netns', 'del', this.ns]).catch(() => {});
    await rm(this.root, { recursive: true, force: true }).catch(() => {});
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await runIn(cmd, args, 10_000);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

function runIn(cmd: string, args: string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
