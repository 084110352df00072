/** checkpoint.json rewritten as cedana wrote it before format 2: each plugin's section at the top level, under its name. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Rewrites the checkpoint.json of the checkpoint folder `dir` in format 1's layout; returns what it wrote. */
export async function rewriteAsFormat1(
  dir: string,
  change: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m,
): Promise<Record<string, unknown>> {
  const path = join(dir, 'checkpoint.json');
  const { sections, ...top } = JSON.parse(await readFile(path, 'utf8')) as { sections: Record<string, unknown> } & Record<string, unknown>;
  const old = change({ ...top, ...sections, format: 1 });
  await writeFile(path, JSON.stringify(old));
  return old;
}
