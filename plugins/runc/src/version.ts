/** `runc --version`, read once per binary. */
import { runRunc } from './runc-cli.js';

const cache = new Map<string, Promise<string>>();

/** "1.1.5+ds1" from "runc version 1.1.5+ds1"; "unknown" when runc does not say. */
export function runcVersion(binary: string): Promise<string> {
  let v = cache.get(binary);
  if (!v) {
    v = runRunc(binary, ['--version']).then((run) => parseRuncVersion(run.stdout));
    cache.set(binary, v);
  }
  return v;
}

export function parseRuncVersion(text: string): string {
  return /runc version (\S+)/.exec(text)?.[1] ?? 'unknown';
}
