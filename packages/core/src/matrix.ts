/**
 * The feature matrix: which plugin exports which feature symbol, built by
 * iterating FEATURES (never a hand-written list). Pure, and shaped as the
 * Features RPC's answer, so the daemon and the CLI (which loads plugins itself)
 * give the same data.
 */
import type { Feature } from './feature.js';
import { FEATURES } from './features.js';
import type { LoadedPlugin } from './plugin.js';
import type { FeatureExport, FeaturesResp } from './proto/gen/cedana/daemon/v1/types.js';
import { HOST_VERSION } from './version.js';

export function featureMatrix(
  plugins: readonly LoadedPlugin[],
  symbols: readonly Feature<unknown>[] = FEATURES as readonly Feature<unknown>[],
): FeaturesResp {
  return {
    plugins: plugins.map((p) => ({
      name: p.name,
      version: p.version,
      path: p.path,
      status: p.status,
      error: p.error?.message ?? '',
      errorCode: p.error?.code ?? '',
      phase: p.phase ?? '',
      hint: p.error?.hint ?? '',
      role: p.definition?.role ?? '',
      requires: [...(p.definition?.requires ?? [])],
      errorCodes: Object.keys(p.definition?.errors ?? {}),
    })),
    features: symbols.map((f) => ({ symbol: f.symbol, description: f.description })),
    exports: plugins.filter((p) => p.status === 'ok').flatMap((p) => symbols.flatMap((f) => exportOf(p, f))),
    hostVersion: HOST_VERSION,
    faults: [], // the daemon adds what plugin code threw at run time
  };
}

function exportOf(plugin: LoadedPlugin, feature: Feature<unknown>): FeatureExport[] {
  const value: unknown = (plugin.definition?.features as Record<string, unknown> | undefined)?.[feature.symbol];
  if (value === undefined) return [];
  if (feature.shape.test(value)) return [{ plugin: plugin.name, symbol: feature.symbol, state: 'exported', error: '' }];
  return [{ plugin: plugin.name, symbol: feature.symbol, state: 'incompatible', error: feature.incompatible(plugin.name, value).message }];
}
