/**
 * What `cedana plugin list` and `update` know of each plugin: every first-party one
 * and every installed one, with the version installed, the latest the source has
 * (registry, or the local catalog), and whether it loads.
 */
import { join } from 'node:path';
import type { LoadedPlugin } from '@cedana/core';
import { FIRST_PARTY, firstParty, packageOf } from '@cedana/core';
import semver from 'semver';
import { du } from './disk-size.js';
import type { FoundPlugin } from './installed.js';

export type PluginStatus = 'installed' | 'outdated' | 'available' | 'unavailable';

export interface PluginRow {
  plugin: string;
  /** npm package name */
  name: string;
  type: 'supported' | 'experimental' | 'third-party';
  status: PluginStatus;
  installed?: string;
  latest?: string;
  /** Bytes on disk of the installed version, dependencies included. */
  size?: number;
  /** Whether the installed version loads (as the daemon would load it). */
  load?: 'ok' | 'error';
  error?: { code: string; message: string; phase?: string };
  path?: string;
  source?: string;
}

/** The latest version of a package in the configured source; undefined when it has none (or cannot say). */
export type LatestOf = (name: string) => Promise<string | undefined>;

export async function pluginRows(found: readonly FoundPlugin[], loaded: readonly LoadedPlugin[], latestOf: LatestOf): Promise<PluginRow[]> {
  const names = [...new Set([...FIRST_PARTY.map((p) => p.name), ...found.map((p) => p.plugin)])];
  return Promise.all(
    names.map(async (plugin): Promise<PluginRow> => {
      const f = found.find((p) => p.plugin === plugin && p.version);
      const l = loaded.find((p) => p.name === plugin);
      const fp = firstParty(plugin);
      const name = f?.name ?? packageOf(plugin);
      const latest = await latestOf(name);
      const row: PluginRow = {
        plugin,
        name,
        type: fp && (!f || f.name === packageOf(plugin)) ? fp.type : 'third-party',
        status: !f ? (latest ? 'available' : 'unavailable') : latest && semver.gt(latest, f.version) ? 'outdated' : 'installed',
        ...(f ? { installed: f.version, path: join(f.dir, f.version), size: await sizeOf(f) } : {}),
        ...(latest ? { latest } : {}),
        ...(f?.record ? { source: f.record.source } : {}),
      };
      if (f && l) {
        row.load = l.status;
        if (l.error) row.error = { code: l.error.code, message: l.error.message, ...(l.phase ? { phase: l.phase } : {}) };
      }
      return row;
    }),
  );
}

/** The installed version's bytes on disk: as recorded at install time, else summed now (a folder put there by hand, or an older cedana's record). */
async function sizeOf(f: FoundPlugin): Promise<number> {
  const recorded = f.record?.version === f.version ? f.record.size : undefined;
  return recorded ?? du(join(f.dir, f.version));
}
