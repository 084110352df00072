/**
 * The host provides @cedana/plugin-sdk (and @cedana/core under it) to every plugin:
 * `<plugins dir>/node_modules/@cedana/{plugin-sdk,core}` are symlinks to the host's own
 * copies, so a plugin's `import '@cedana/plugin-sdk'` finds them by Node's ordinary
 * resolution (it walks up from the plugin's folder). Plugins declare the SDK as a peer
 * dependency and never install a copy of their own: one CedanaError, one feature
 * registry, and the SDK version is the host version that `cedana.engines` checks.
 */
import { lstat, mkdir, readFile, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The packages the host provides, by name. */
export const HOST_PROVIDED = ['@cedana/plugin-sdk', '@cedana/core'] as const;

/** The folder of the plugins dir where plugins find the host's packages; never a plugin. */
export const HOST_MODULES_DIR = 'node_modules';

let roots: Map<string, string> | undefined;

/** The package folders of the host's own copies (real paths). */
export async function hostPackageRoots(): Promise<Map<string, string>> {
  if (roots) return roots;
  const found = new Map<string, string>();
  for (const name of HOST_PROVIDED) {
    const entry = fileURLToPath(import.meta.resolve(name));
    found.set(name, await packageRoot(entry, name));
  }
  roots = found;
  return found;
}

/**
 * Makes `<pluginsDir>/node_modules/<pkg>` point at the host's copies; cheap when they
 * already do. A plugins dir that does not exist or cannot be written is left alone: a
 * plugin that needs the SDK then fails to import, with a hint (see loader.ts).
 */
export async function provideHostModules(pluginsDir: string): Promise<void> {
  try {
    if (!(await lstat(pluginsDir)).isDirectory()) return;
  } catch {
    return;
  }
  for (const [name, target] of await hostPackageRoots()) {
    const link = join(pluginsDir, HOST_MODULES_DIR, name);
    if ((await readlink(link).catch(() => undefined)) === target) continue;
    try {
      await mkdir(dirname(link), { recursive: true });
      const tmp = `${link}.${process.pid}.tmp`;
      await unlink(tmp).catch(() => {});
      await symlink(target, tmp, 'dir');
      await rename(tmp, link); // atomic: a concurrent import sees the old link or the new one
    } catch {
      // read-only plugins dir (e.g. not root): leave it; the import error says what to do
    }
  }
}

async function packageRoot(file: string, name: string): Promise<string> {
  let dir = dirname(file);
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {}
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package folder of ${name} above ${file}`);
    dir = up;
  }
}
