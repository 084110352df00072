/**
 * The record of installed plugins: `<plugins dir>/installed.json`, one entry per plugin
 * (name, version, where it came from, its integrity, when). Written whole to a temp
 * file and renamed, so a reader never sees half of it. The version folders are the
 * truth of what loads; this says where each came from.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newestFirst } from '@cedana/core';
import type { Source } from './fetch.js';

export interface InstalledRecord {
  /** Short name: the folder under the plugins dir. */
  plugin: string;
  /** npm package name */
  name: string;
  version: string;
  source: Source;
  /** The tarball URL or file, or the folder, it was installed from. */
  resolved: string;
  integrity: string;
  /** ISO time of the install. */
  installedAt: string;
  /** Runtime dependencies npm installed for it. */
  dependencies?: string[];
  /**
   * Bytes on disk of the version folder, dependencies included, summed at install time:
   * `plugin list` shows it without walking thousands of node_modules files each time.
   */
  size?: number;
}

export const RECORD_FILE = 'installed.json';

export async function readInstalled(pluginsDir: string): Promise<Record<string, InstalledRecord>> {
  try {
    const parsed = JSON.parse(await readFile(join(pluginsDir, RECORD_FILE), 'utf8')) as { plugins?: Record<string, InstalledRecord> };
    return parsed.plugins ?? {};
  } catch {
    return {};
  }
}

export async function writeInstalled(pluginsDir: string, records: Record<string, InstalledRecord>): Promise<void> {
  const file = join(pluginsDir, RECORD_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const sorted = Object.fromEntries(Object.entries(records).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(tmp, `${JSON.stringify({ plugins: sorted }, null, 2)}\n`);
  await rename(tmp, file);
}

/** A plugin folder found under the plugins dir, with its record when there is one. */
export interface FoundPlugin {
  plugin: string;
  /** The version that loads (the highest), '' when there is no version folder. */
  version: string;
  /** Every version folder. */
  versions: string[];
  dir: string;
  /** npm package name, from the loaded version's package.json. */
  name: string;
  record?: InstalledRecord;
}

/** Every plugin folder of the plugins dir, as the loader sees them (dot folders and node_modules are not plugins). */
export async function scanInstalled(pluginsDir: string): Promise<FoundPlugin[]> {
  const records = await readInstalled(pluginsDir);
  let entries: string[];
  try {
    entries = (await readdir(pluginsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  return Promise.all(
    entries.map(async (plugin) => {
      const dir = join(pluginsDir, plugin);
      const versions = newestFirst(await readdir(dir).catch(() => [] as string[]));
      const version = versions[0] ?? '';
      const pkg = version
        ? ((JSON.parse(await readFile(join(dir, version, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string }) ?? {})
        : {};
      const record = records[plugin];
      return { plugin, version, versions, dir, name: pkg.name ?? record?.name ?? plugin, ...(record ? { record } : {}) };
    }),
  );
}
