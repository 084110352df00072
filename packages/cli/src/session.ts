/**
 * One run of the CLI: its streams, the config (file < CEDANA_* env < flags), a
 * lazily connected daemon client, the loaded plugins, and the exit code. Commands
 * get everything from here, so tests run them with fake streams and a fake daemon.
 */
import type { Config, ConfigKey, LoadedPlugin } from '@cedana/core';
import { loadConfig } from '@cedana/core';
import type { ProfilingData } from '@cedana/core/proto';
import type { ConnectOptions, DaemonApi } from './daemon-api.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError } from './output/errors.js';
import { toJson } from './output/json.js';
import { formatProfile, type Precision } from './output/profiling.js';

export interface OutStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface InStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  isTTY?: boolean;
}

export interface DaemonHandle {
  stop(): Promise<void>;
}

/** Everything the CLI touches outside itself; main.ts passes the real ones. */
export interface CliDeps {
  stdout: OutStream;
  stderr: OutStream;
  stdin: InStream;
  env: NodeJS.ProcessEnv;
  connect(config: Config, opts: ConnectOptions): Promise<DaemonApi>;
  loadPlugins(dir: string): Promise<LoadedPlugin[]>;
  startDaemon(config: Config): Promise<DaemonHandle>;
  /** Subscribes to a signal; returns the unsubscribe function. */
  onSignal(signal: 'SIGINT' | 'SIGTERM', listener: () => void): () => void;
}

/** The global flags, as yargs hands them to every command. */
export interface GlobalArgs {
  config?: string | undefined;
  address?: string | undefined;
  protocol?: string | undefined;
  logLevel?: string | undefined;
  profiling?: boolean | undefined;
  tls?: boolean | undefined;
  tlsCa?: string | undefined;
  tlsServerName?: string | undefined;
  /** `daemon start`'s own: what it serves TLS with. */
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

export function configOverrides(argv: GlobalArgs): Partial<Record<ConfigKey, unknown>> {
  return {
    address: argv.address,
    protocol: argv.protocol,
    log_level: argv.logLevel,
    'profiling.enabled': argv.profiling,
    'tls.enabled': argv.tls,
    'tls.ca': argv.tlsCa,
    'tls.server_name': argv.tlsServerName,
    'tls.cert': argv.tlsCert,
    'tls.key': argv.tlsKey,
  };
}

export class Session {
  exitCode: number = EXIT.OK;
  private loadedConfig: Config | undefined;
  private api: DaemonApi | undefined;
  private profiles: ProfilingData[] = [];
  private pluginList: Promise<LoadedPlugin[]> | undefined;

  constructor(readonly deps: CliDeps) {}

  config(argv: GlobalArgs): Config {
    this.loadedConfig ??= loadConfig({ path: argv.config, env: this.deps.env, overrides: configOverrides(argv) });
    return this.loadedConfig;
  }

  async client(argv: GlobalArgs): Promise<DaemonApi> {
    this.api ??= await this.deps.connect(this.config(argv), { onProfile: (p) => this.profiles.push(p) });
    return this.api;
  }

  /** The installed plugins, loaded once per run. */
  plugins(dir: string): Promise<LoadedPlugin[]> {
    this.pluginList ??= this.deps.loadPlugins(dir);
    return this.pluginList;
  }

  /** The installed plugins loaded anew (after this run installed one). */
  reloadPlugins(dir: string): Promise<LoadedPlugin[]> {
    this.pluginList = undefined;
    return this.plugins(dir);
  }

  out(text: string): void {
    this.deps.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.deps.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  json(value: unknown): void {
    this.out(toJson(value));
  }

  /** Prints the error and sets the exit code it maps to. */
  fail(err: unknown): void {
    this.err(formatError(err));
    this.exitCode = exitCodeFor(err);
  }

  /** Ends the run: prints the profiling trees the daemon sent back, closes the client. */
  finish(): number {
    if (this.profiles.length > 0) {
      const precision = (this.loadedConfig?.['profiling.precision'] ?? 'auto') as Precision;
      for (const profile of this.profiles) this.err(formatProfile(profile, precision).join('\n'));
    }
    this.api?.close();
    return this.exitCode;
  }
}

/** Wraps a command handler: its errors are printed and set the exit code, never thrown to yargs. */
export function action<A>(session: Session, fn: (argv: A) => Promise<void>): (argv: unknown) => Promise<void> {
  return async (argv: unknown) => {
    try {
      await fn(argv as A);
    } catch (err) {
      session.fail(err);
    }
  };
}
