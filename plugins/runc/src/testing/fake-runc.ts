/** Test kit: fake `runc` (and friends) as small shell scripts in a temp folder. */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder holding an executable `name` whose body is `script` (sh). */
export async function fakeProgram(name: string, script: string, dir?: string): Promise<{ dir: string; path: string }> {
  const folder = dir ?? (await mkdtemp(join(tmpdir(), 'cedana-runc-fake-')));
  const path = join(folder, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return { dir: folder, path };
}
