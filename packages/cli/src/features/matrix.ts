/**
 * Reading the feature matrix (core's featureMatrix, the Features RPC's answer):
 * the state of a cell, and every error in it.
 */
import { ERRORS, type ErrorCode, type LoadedPlugin } from '@cedana/core';
import type { FeaturesResp } from '@cedana/core/proto';

export { featureMatrix } from '@cedana/core';

/** The state of one cell: plugin x feature. */
export type CellState = 'exported' | 'missing' | 'incompatible' | 'failed';

export function cellState(matrix: FeaturesResp, plugin: string, symbol: string): CellState {
  if (matrix.plugins.find((p) => p.name === plugin)?.status !== 'ok') return 'failed';
  const exp = matrix.exports.find((e) => e.plugin === plugin && e.symbol === symbol);
  if (!exp) return 'missing';
  return exp.state === 'exported' ? 'exported' : 'incompatible';
}

/** One problem found while loading plugins or checking their exports. */
export interface MatrixError {
  plugin: string;
  phase: string;
  code: string;
  message: string;
  hint: string;
}

/**
 * Every load failure and every wrong-shaped export. The hint comes from the
 * plugin record when there is one (local loading), else from the code's default.
 */
export function matrixErrors(matrix: FeaturesResp, loaded: readonly LoadedPlugin[] = []): MatrixError[] {
  const hintOf = (code: string) => (code in ERRORS ? ERRORS[code as ErrorCode].hint : '');
  const loadErrors = matrix.plugins
    .filter((p) => p.status !== 'ok')
    .map((p) => ({
      plugin: p.name,
      phase: p.phase || 'import',
      code: p.errorCode || 'CEDANA_ERR_PLUGIN_IMPORT',
      message: p.error,
      hint: p.hint || loaded.find((l) => l.name === p.name)?.error?.hint || hintOf(p.errorCode || 'CEDANA_ERR_PLUGIN_IMPORT'),
    }));
  const shapeErrors = matrix.exports
    .filter((e) => e.state === 'incompatible')
    .map((e) => ({
      plugin: e.plugin,
      phase: 'shape',
      code: 'CEDANA_ERR_PLUGIN_SHAPE',
      message: e.error,
      hint: hintOf('CEDANA_ERR_PLUGIN_SHAPE'),
    }));
  return [...loadErrors, ...shapeErrors];
}
