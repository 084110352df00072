/**
 * Borderless, kubectl-style columns for text every terminal shows one column a character: the
 * layout of table.ts, without cli-table3 (which lays out the rest), so that the fast path of
 * `cedana ps` (fast-path/ps.ts) prints the same table without loading it.
 */

export type Cell = string | number | undefined;

/** Text every terminal shows one column a character: printable ASCII and the marks our tables use. */
const ONE_COLUMN = /^[\x20-\x7e\u2714\u2716\u2018\u2019\u201c\u201d\u2013\u2014\u2026]*$/;
export const GAP = 3;

/** The cells as printed: empty ones as "-". */
export function cellsOf(rows: Cell[][]): string[][] {
  return rows.map((row) => row.map((c) => (c === undefined || c === '' ? '-' : String(c))));
}

/** The table, each column as wide as its widest cell plus GAP, lines without trailing spaces; undefined when a cell is not one-column text on one line. */
export function layOutColumns(head: string[], cells: string[][]): string | undefined {
  const all = [head, ...cells];
  if (!all.every((row) => row.every((c) => ONE_COLUMN.test(c)))) return undefined;
  const widths: number[] = [];
  for (const row of all) for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  const line = (row: string[]) =>
    widths
      .map((w, i) => (row[i] ?? '').padEnd(w + GAP))
      .join('')
      .trimEnd();
  return all.map(line).join('\n');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; 0 or less -> "-" (unknown). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
