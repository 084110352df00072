/** Which cedana CLI the test kit runs. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The command (program and leading arguments) that runs `cedana`: `explicit` or
 * $CEDANA_CLI (a main.js runs under this node), else @cedana/cli as the plugin's folder
 * resolves it (a devDependency), else `cedana` on PATH.
 */
export function cliCommand(explicit: string | undefined, pluginDir: string): string[] {
  const given = explicit ?? process.env.CEDANA_CLI;
  if (given) return given.endsWith('.js') ? [process.execPath, given] : [given];
  try {
    const pkgFile = createRequire(join(pluginDir, 'package.json')).resolve('@cedana/cli/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin?: Record<string, string> };
    const main = pkg.bin?.cedana;
    if (main) return [process.execPath, join(dirname(pkgFile), main)];
  } catch {}
  return ['cedana'];
}
