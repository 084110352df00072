/**
 * The `cedana` binary users run (/usr/local/bin/cedana): the bundle of packages/cli that
 * `pnpm build` makes (scripts/bundle-cli.mjs). `tsc -b` alone leaves it as it was, with the
 * CLI's and @cedana/core's code of the last `pnpm build` inside, so the tests refuse a bundle
 * older than the files it is made of rather than test yesterday's CLI.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'packages/cli/dist/bundle/main.js');
/**
 * The launcher /usr/local/bin/cedana runs (made by the same build): node with the CLI's
 * startup snapshot while its stamp matches, else main.js. The harness runs `cedana` through it.
 */
export const LAUNCHER = join(ROOT, 'packages/cli/dist/bundle/cedana');

/** The newest .js under `dir` (its `bundle` folder left out), in ms. */
function newestJs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js') || entry.name.endsWith('.test.js')) continue;
    const path = join(entry.parentPath, entry.name);
    if (path.includes('/dist/bundle/')) continue;
    newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function assertCliBundleFresh(): void {
  let built: number;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    throw new Error(`no CLI bundle at ${CLI}: run \`pnpm build\``);
  }
  const inputs = Math.max(newestJs(join(ROOT, 'packages/cli/dist')), newestJs(join(ROOT, 'packages/core/dist')));
  if (inputs > built) throw new Error(`the CLI bundle ${CLI} is older than packages/cli/dist or packages/core/dist: run \`pnpm build\``);
}
