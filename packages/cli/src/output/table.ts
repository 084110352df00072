/**
 * Tables for people: borderless, kubectl-style columns (laid out here, or by cli-table3 for
 * text of wide or several lines). Programs get the same data with --json (see json.ts).
 */
import Table from 'cli-table3';

export type Cell = string | number | undefined;

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

/** Text every terminal shows one column a character: printable ASCII and the marks our tables use. */
const ONE_COLUMN = /^[\x20-\x7e\u2714\u2716\u2018\u2019\u201c\u201d\u2013\u2014\u2026]*$/;
const GAP = 3;

/** Renders rows under a header; empty cells print as "-". Lines have no trailing spaces. */
export function renderTable(head: string[], rows: Cell[][]): string {
  const cells = rows.map((row) => row.map((c) => (c === undefined || c === '' ? '-' : String(c))));
  const all = [head, ...cells];
  // Laid out here when every cell is one line of one-column characters (cli-table3 lays out such a
  // table the same, at ~20x the cost: ~10 ms for `features`); anything else is cli-table3's.
  if (!all.every((row) => row.every((c) => ONE_COLUMN.test(c)))) return tableOf(head, cells);
  const widths: number[] = [];
  for (const row of all) for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  const line = (row: string[]) =>
    widths
      .map((w, i) => (row[i] ?? '').padEnd(w + GAP))
      .join('')
      .trimEnd();
  return all.map(line).join('\n');
}

function tableOf(head: string[], cells: string[][]): string {
  const table = new Table({ head, chars: NO_BORDERS, style: { head: [], border: [], 'padding-left': 0, 'padding-right': GAP } });
  for (const row of cells) table.push(row);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
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

/** An RFC 3339 time as "2025-01-24 13:05:09" in the local zone; empty or invalid -> "-". */
export function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (rfc3339 === '' || Number.isNaN(d.getTime())) return '-';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
