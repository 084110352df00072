/** Test kit: fake `runc` (and friends) as small shell scripts in temp folders, removed when the test process exits. */
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding an executable `name` whose body is `script` (sh). */
export async function fakeProgram(name: string, script: string, dir?: string): Promise<{ dir: string; path: string }> {
  let folder = dir;
  if (!folder) {
    folder = await mkdtemp(join(tmpdir(), 'cedana-runc-fake-'));
    made.push(folder);
  }
  const path = join(folder, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return { dir: folder, path };
}
