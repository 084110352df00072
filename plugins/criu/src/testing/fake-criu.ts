/** Test kit: fake criu binaries (shell scripts) for the discovery and health-check paths. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** Removes every folder fakeCriu made (call it from `after`). */
export async function removeFakeCrius(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * Writes an executable `criu` into a new temp folder that prints "Version: VERSION" for
 * --version, and for `check` prints `checkOutput` and exits `checkExit`.
 */
export async function fakeCriu(version: string, checkExit = 0, checkOutput = 'Looks good.'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fake-criu-'));
  made.push(dir);
  const path = join(dir, 'criu');
  const script = [
    '#!/bin/sh',
    `if [ "$1" = "--version" ]; then echo "Version: ${version}"; exit 0; fi`,
    `if [ "$1" = "check" ]; then echo '${checkOutput}' >&2; exit ${checkExit}; fi`,
    'exit 1',
    '',
  ].join('\n');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}
