/**
 * `--print-stats`: what a dump or restore took (DumpResp/RestoreResp.stats), as lines for
 * stderr. Rows the daemon left at zero (not measured for this request) are left out.
 */
import type { CheckpointStats } from '@cedana/core/proto';
import { formatDuration as duration } from './profiling.js';
import { formatSize } from './table.js';

function rate(bytes: number, ns: number): string {
  return ns > 0 && bytes > 0 ? `${formatSize((bytes / ns) * 1e9)}/s` : '';
}

export function formatStats(stats: CheckpointStats): string[] {
  const rows: [string, string][] = [];
  const time = (name: string, ns: number, extra = '') => {
    if (ns > 0) rows.push([name, `${duration(ns)}${extra}`]);
  };
  time('freezing', stats.freezingNs);
  time('frozen', stats.frozenNs);
  time('memory dump', stats.memdumpNs);
  time('memory write', stats.memwriteNs);
  if (stats.pagesWritten > 0) rows.push(['pages written', `${stats.pagesWritten} (${formatSize(stats.pagesWritten * 4096)})`]);
  time('forking', stats.forkingNs);
  time('CRIU restore', stats.restoreNs);
  if (stats.pagesRestored > 0) rows.push(['pages restored', `${stats.pagesRestored} (${formatSize(stats.pagesRestored * 4096)})`]);
  time('CRIU run', stats.criuNs);
  const how = [stats.compression, rate(stats.bytesRaw, stats.writeNs)].filter(Boolean).join(', ');
  time('write', stats.writeNs, how ? ` (${how})` : '');
  if (stats.bytesRaw > 0 || stats.bytesStored > 0) {
    const ratio = stats.bytesRaw > 0 && stats.bytesStored > 0 ? ` (${(stats.bytesRaw / stats.bytesStored).toFixed(2)}:1)` : '';
    rows.push(['bytes', `${formatSize(stats.bytesRaw)} raw -> ${formatSize(stats.bytesStored)} stored${ratio}`]);
  }
  for (const s of stats.streams) {
    const ratio = s.bytesRaw > 0 && s.bytesStored > 0 ? ` (${(s.bytesRaw / s.bytesStored).toFixed(2)}:1)` : '';
    const busy = s.writeNs > 0 ? `, ${[duration(s.writeNs), rate(s.bytesRaw, s.writeNs)].filter(Boolean).join(', ')}` : '';
    rows.push([
      `stream ${s.index}`,
      `${formatSize(s.bytesRaw)} -> ${formatSize(s.bytesStored)}${ratio}${busy}${s.path ? ` ${s.path}` : ''}`,
    ]);
  }
  if (stats.streamsPeakRssBytes > 0) rows.push(['streams memory', `${formatSize(stats.streamsPeakRssBytes)} peak`]);
  if (rows.length === 0) return ['stats: none measured'];
  const width = Math.max(...rows.map(([name]) => name.length));
  return ['stats:', ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)];
}
