/**
 * Runs the CLI in-process against a fake daemon: what a test needs to check that
 * a command line becomes the right request, output and exit code.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedPlugin } from '@cedana/core';
import { runCli, runWithPlugins } from '../cli.js';
import type { DaemonApi } from '../daemon-api.js';
import { type CliDeps, Session } from '../session.js';

/** An empty config file, so a ~/.cedana/config.json on the test machine plays no part. */
const EMPTY_CONFIG = join(mkdtempSync(join(tmpdir(), 'cedana-cli-test-')), 'config.json');
writeFileSync(EMPTY_CONFIG, '{}');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: [string, unknown][];
}

/** Runs the CLI against a fake daemon: `responses` by RPC name (an Error rejects the call). */
export async function cli(
  args: string[],
  opts: {
    responses?: Record<string, unknown>;
    plugins?: LoadedPlugin[];
    connectError?: Error;
    env?: NodeJS.ProcessEnv;
    /** Reports a watchProgress call receives at once. */
    progress?: { phase: string; bytesDone: number; bytesTotal: number }[];
    /** Gives the command line `plugins` even where runCli would load none. */
    forcePlugins?: boolean;
  } = {},
): Promise<Run> {
  const calls: [string, unknown][] = [];
  let stdout = '';
  let stderr = '';
  const api = new Proxy({} as DaemonApi, {
    get: (_t, name: string) =>
      name === 'then' // not a thenable: `await connect()` must give the api itself
        ? undefined
        : name === 'close'
          ? () => {}
          : name === 'watchProgress'
            ? (requestId: string, onEvent: (e: unknown) => void) => {
                calls.push([name, requestId]);
                for (const e of opts.progress ?? []) onEvent(e);
                return { cancel() {} };
              }
            : async (req: unknown) => {
                calls.push([name, req]);
                const resp = opts.responses?.[name];
                if (resp instanceof Error) throw resp;
                return resp ?? { messages: [] };
              },
  });
  const deps: CliDeps = {
    stdout: { write: (s) => (stdout += String(s)) },
    stderr: { write: (s) => (stderr += String(s)) },
    stdin: Object.assign(new EventEmitter(), { pause: () => {} }),
    env: { CEDANA_CONFIG: EMPTY_CONFIG, ...opts.env },
    connect: async () => {
      if (opts.connectError) throw opts.connectError;
      return api;
    },
    loadPlugins: async () => opts.plugins ?? [],
    startDaemon: async () => ({ stop: async () => {} }),
    onSignal: () => () => {},
  };
  const code = opts.forcePlugins ? await runWithPlugins(new Session(deps), args, opts.plugins ?? []) : await runCli(args, deps);
  return { code, stdout, stderr, calls };
}
