/** Test kit: handler contexts as the daemon builds them, with a logger that records. */
import { type Config, type ConfigKey, loadConfig, pluginSource } from '@cedana/core';
import {
  type CheckpointManifest,
  type CriuOptions,
  contextSlots,
  type DumpContext,
  type Logger,
  pluginView,
  type RestoreContext,
  type RestoreIo,
} from '@cedana/plugin-sdk';

/** A log entry the recording logger kept. */
export interface LogEntry {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

/** A Logger that keeps every entry in `entries`. */
export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      entries.push({ level, obj, msg });
    };
  const log = { entries, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

/** The configuration without CEDANA_* variables, with `overrides`. */
export function testConfig(overrides: Partial<Record<ConfigKey, unknown>> = {}): Config {
  return loadConfig({ env: {}, overrides });
}

/** CRIU options with everything off. */
export function criuOptions(partial: Partial<CriuOptions> = {}): CriuOptions {
  return {
    leaveRunning: false,
    tcpEstablished: false,
    tcpClose: false,
    fileLocks: false,
    shellJob: false,
    extUnixSk: false,
    linkRemap: false,
    external: [],
    extraArgs: [],
    ...partial,
  };
}

/** A dump context for `pid` into `imagesDir`, as the criu plugin's code sees it. */
export function dumpContext(
  pid: number,
  imagesDir: string,
  criu: Partial<CriuOptions> = {},
): DumpContext & { log: ReturnType<typeof recordingLogger> } {
  return pluginView(
    {
      log: recordingLogger(),
      config: testConfig(),
      signal: new AbortController().signal,
      plugins: pluginSource([]),
      pid,
      imagesDir,
      criu: criuOptions(criu),
      manifest: {},
      ...contextSlots(),
    },
    'criu',
  );
}

/** A restore context of `imagesDir` (with the daemon's facts of `manifest`), as the criu plugin's code sees it. */
export function restoreContext(
  imagesDir: string,
  opts: { io?: RestoreIo; manifest?: Partial<CheckpointManifest>; criu?: Partial<CriuOptions> } = {},
): RestoreContext & { log: ReturnType<typeof recordingLogger> } {
  const manifest: CheckpointManifest = {
    format: 2,
    createdAt: new Date().toISOString(),
    host: { cedana: '', node: process.version, kernel: '', hostname: '' },
    files: {},
    sections: {},
    ...opts.manifest,
  };
  return pluginView(
    {
      log: recordingLogger(),
      config: testConfig(),
      signal: new AbortController().signal,
      plugins: pluginSource([]),
      imagesDir,
      criu: criuOptions(opts.criu),
      manifest,
      ...contextSlots(),
      ...(opts.io ? { io: opts.io } : {}),
    },
    'criu',
  );
}
