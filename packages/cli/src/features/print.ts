/** `cedana features` for people: the matrix with its legend, and the error list of --errors. */
import type { FeaturesResp, PluginFault } from '@cedana/core/proto';
import { renderTable } from '../output/table.js';
import { type CellState, cellState, type MatrixError } from './matrix.js';

const MARK: Record<CellState, string> = { exported: '✔', missing: '✖', incompatible: '!', failed: '—' };

export const LEGEND = `${MARK.exported} exported   ${MARK.missing} not exported   ${MARK.incompatible} incompatible (wrong shape)   ${MARK.failed} plugin failed to load (see --errors)`;

export function renderMatrix(matrix: FeaturesResp): string {
  const plugins = matrix.plugins.map((p) => p.name);
  const rows = matrix.features.map((f) => [f.symbol, f.description, ...plugins.map((p) => MARK[cellState(matrix, p, f.symbol)])]);
  const roles = matrix.plugins.map((p) => [p.name, p.role || '-', p.requires.join(', ') || '-', p.errorCodes.join(', ') || '-']);
  return `${renderTable(['FEATURE', 'DESCRIPTION', ...plugins], rows)}\n\n${LEGEND}\n\n${renderTable(['PLUGIN', 'ROLE', 'REQUIRES', 'ERROR CODES'], roles)}`;
}

export function renderErrors(errors: readonly MatrixError[]): string {
  if (errors.length === 0) return 'no errors';
  return errors.map((e) => `${e.plugin} (${e.phase}) [${e.code}]: ${e.message}\n  hint: ${e.hint}`).join('\n');
}

/** The faults the daemon recorded, each with the first lines of its stack. */
export function renderFaults(faults: readonly PluginFault[]): string {
  return faults
    .map((f) => {
      const stack = f.stack
        .split('\n')
        .slice(1, 4)
        .map((l) => `    ${l.trim()}`);
      return [`${f.plugin} ${f.symbol} [${f.code}] x${f.count}, last ${f.at}: ${f.message}`, ...stack].join('\n');
    })
    .join('\n');
}
