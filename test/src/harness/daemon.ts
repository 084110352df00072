/**
 * A real cedana daemon for end-to-end tests: started through the CLI, with its
 * own socket, database and checkpoint folder under a temp dir, and the plugins
 * that setup installed.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { type CliResult, DaemonProcess, runCedana } from '@cedana/plugin-sdk/testing';
import { assertCliBundleFresh, CLI, LAUNCHER } from './cli-bundle.js';

export { CLI, type CliResult, LAUNCHER };

/** The SDK test kit's daemon, on the plugins that setup installed ($CEDANA_PLUGINS_DIR) and this build's CLI. */
export class TestDaemon extends DaemonProcess {
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
      [LAUNCHER], // the cedana command as setup links it: the startup snapshot, or main.js
      args,
    );
    await d.startProcess();
    return d;
  }
}

/** Runs `cedana ARGS` with `env`, without a daemon of the harness's. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCedana([LAUNCHER], args, env, opts);
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
