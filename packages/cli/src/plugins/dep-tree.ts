/**
 * The dependency tree of an installed plugin, read from npm's own record of what it
 * installed (`node_modules/.package-lock.json`, the hidden lockfile), following Node's
 * lookup: a dependency of `node_modules/a` is `node_modules/a/node_modules/b`, else
 * `node_modules/b`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DepNode {
  name: string;
  version: string;
  /** Shown once in full; later mentions of the same folder are marked deduped. */
  deduped?: boolean;
  missing?: boolean;
  dependencies: DepNode[];
}

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export async function dependencyTree(pkgDir: string, roots: readonly string[]): Promise<DepNode[]> {
  let packages: Record<string, LockPackage> = {};
  try {
    packages =
      (JSON.parse(await readFile(join(pkgDir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages?: Record<string, LockPackage> })
        .packages ?? {};
  } catch {}
  const seen = new Set<string>();
  const visit = (name: string, from: string): DepNode => {
    const path = locate(packages, name, from);
    if (!path) return { name, version: '', missing: true, dependencies: [] };
    const pkg = packages[path] as LockPackage;
    if (seen.has(path)) return { name, version: pkg.version ?? '', deduped: true, dependencies: [] };
    seen.add(path);
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies });
    return { name, version: pkg.version ?? '', dependencies: deps.map((d) => visit(d, path)) };
  };
  return roots.map((r) => visit(r, ''));
}

/** Where `name` is found from the package at `from` ('' is the plugin itself). */
function locate(packages: Record<string, LockPackage>, name: string, from: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i === -1 ? '' : base.slice(0, i);
  }
}

/** The tree as indented lines: `picocolors@1.1.1`. */
export function renderTree(nodes: readonly DepNode[], indent = ''): string[] {
  return nodes.flatMap((n, i) => {
    const last = i === nodes.length - 1;
    const label = `${n.name}@${n.version || '?'}${n.deduped ? ' (deduped)' : ''}${n.missing ? ' (missing)' : ''}`;
    return [`${indent}${last ? '└─ ' : '├─ '}${label}`, ...renderTree(n.dependencies, `${indent}${last ? '   ' : '│  '}`)];
  });
}
