/**
 * The feature matrix: which plugin exports which feature, derived from FEATURES.
 * Shared by the daemon's Features RPC and the CLI's `cedana features`.
 */
import { FEATURES } from './features.js';
import type { LoadedPlugin } from './plugin.js';

export type ExportState = 'exported' | 'missing' | 'incompatible' | 'failed';

export interface MatrixCell {
  plugin: string;
  symbol: string;
  state: ExportState;
  /** Why it is incompatible or failed. */
  error?: string;
}

/** One cell per plugin and feature symbol, in FEATURES order. */
export function featureMatrix(plugins: readonly LoadedPlugin[]): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const feature of FEATURES) {
    for (const p of plugins) {
      if (p.status !== 'ok') {
        cells.push({ plugin: p.name, symbol: feature.symbol, state: 'failed', error: p.error?.message });
        continue;
      }
      const value: unknown = p.definition?.features[feature.symbol as never];
      if (value === undefined) cells.push({ plugin: p.name, symbol: feature.symbol, state: 'missing' });
      else if (feature.shape.test(value)) cells.push({ plugin: p.name, symbol: feature.symbol, state: 'exported' });
      else cells.push({ plugin: p.name, symbol: feature.symbol, state: 'incompatible', error: feature.incompatible(p.name, value).message });
    }
  }
  return cells;
}
