/**
 * Paths built from input (a package's name or version, a checkpoint's file list, a
 * dump's --name) must stay inside the folder they are joined to. `insideFolder` joins
 * and checks in one step; `relativeInside` checks a relative name before anything is
 * joined. Both are lexical: nothing on disk is read, so a refused name is never opened.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Why `name` would leave its folder, or undefined when it stays inside. */
export function escapeOf(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.includes('\0')) return 'it holds a NUL byte';
  if (isAbsolute(name)) return 'it is an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'it goes up with ".."';
  return undefined;
}

/**
 * `folder` joined with `parts`, checked to resolve inside `folder` (or to be `folder`
 * itself when `allowSelf`). Throws `make(reason)` otherwise.
 */
export function insideFolder(folder: string, parts: readonly string[], make: (reason: string) => Error, allowSelf = false): string {
  for (const part of parts) {
    const why = escapeOf(part);
    if (why) throw make(`${JSON.stringify(part)}: ${why}`);
  }
  const base = resolve(folder);
  const target = resolve(base, ...parts);
  const rel = relative(base, target);
  if (rel === '' ? !allowSelf : rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw make(`${JSON.stringify(parts.join('/'))} resolves to ${target}, outside ${base}`);
  }
  return target;
}

/** Whether `name` is one plain path component (no "/", not "." or ".."): a file or folder name. */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[\\/\0]/.test(name);
}
