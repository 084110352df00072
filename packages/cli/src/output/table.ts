/**
 * Tables for people: borderless, kubectl-style columns (laid out here, or by cli-table3 for
 * text of wide or several lines). Programs get the same data with --json (see json.ts).
 */
import Table from 'cli-table3';
import { type Cell, cellsOf, GAP, layOutColumns } from './columns.js';

export { type Cell, formatSize } from './columns.js';

/** Renders rows under a header; empty cells print as "-". Lines have no trailing spaces. */
export function renderTable(head: string[], rows: Cell[][]): string {
  const cells = cellsOf(rows);
  // Laid out by columns.ts when every cell is one line of one-column characters (cli-table3 lays
  // out such a table the same, at ~20x the cost: ~10 ms for `features`); anything else is cli-table3's.
  return layOutColumns(head, cells) ?? tableOf(head, cells);
}

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
};

function tableOf(head: string[], cells: string[][]): string {
  const table = new Table({ head, chars: NO_BORDERS, style: { head: [], border: [], 'padding-left': 0, 'padding-right': GAP } });
  for (const row of cells) table.push(row);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** An RFC 3339 time as "2025-01-24 13:05:09" in the local zone; empty or invalid -> "-". */
export function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (rfc3339 === '' || Number.isNaN(d.getTime())) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
