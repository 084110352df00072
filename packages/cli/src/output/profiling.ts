/**
 * Prints the profiling tree the daemon sends back in the `profiling-bin` trailer:
 * one line per adapter, nested as they ran, with its total duration (which includes
 * the adapters below it) and its self time (without them: where the time went), in
 * the unit of config `profiling.precision`.
 */
import type { ProfilingData } from '@cedana/core/proto';

export type Precision = 'auto' | 'ns' | 'us' | 'ms' | 's';

const UNIT_NS = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 } as const;
const LABEL = { ns: 'ns', us: 'µs', ms: 'ms', s: 's' } as const;

/** 1_500_000 ns -> "1.50 ms" (auto), "1500.00 µs" (us), "1500000 ns" (ns). */
export function formatDuration(ns: number, precision: Precision = 'auto'): string {
  const unit = precision === 'auto' ? autoUnit(ns) : precision;
  if (unit === 'ns') return `${Math.round(ns)} ns`;
  return `${(ns / UNIT_NS[unit]).toFixed(2)} ${LABEL[unit]}`;
}

function autoUnit(ns: number): keyof typeof UNIT_NS {
  if (ns < 1e3) return 'ns';
  if (ns < 1e6) return 'us';
  if (ns < 1e9) return 'ms';
  return 's';
}

/** The tree as lines: names drawn as a tree on the left, then TOTAL and SELF right-aligned. */
export function formatProfile(root: ProfilingData, precision: Precision = 'auto'): string[] {
  const rows: [string, string, string][] = [['', 'TOTAL', 'SELF']];
  const walk = (node: ProfilingData, prefix: string, childPrefix: string) => {
    const self = node.durationNs - node.components.reduce((sum, c) => sum + c.durationNs, 0);
    rows.push([prefix + node.name, formatDuration(node.durationNs, precision), formatDuration(Math.max(0, self), precision)]);
    node.components.forEach((child, i) => {
      const last = i === node.components.length - 1;
      walk(child, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '));
    });
  };
  walk(root, '', '');
  const width = (i: 0 | 1 | 2) => Math.max(...rows.map((r) => r[i].length));
  return rows.map(([name, total, self]) => `${name.padEnd(width(0))}  ${total.padStart(width(1))}  ${self.padStart(width(2))}`);
}
