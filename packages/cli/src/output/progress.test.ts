import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckpointStats, StreamStats } from '@cedana/core/proto';
import { renderProgress, startProgress } from './progress.js';
import { formatStats } from './stats.js';

const GiB = 1 << 30;

describe('progress', () => {
  it('renders a spinner before any report, then a bar with bytes done / total', () => {
    assert.equal(renderProgress('dumping job a', undefined, 1234, 0), '⠋ dumping job a 1.2s');
    assert.equal(
      renderProgress('dumping job a', { phase: 'pack', bytesDone: GiB / 4, bytesTotal: GiB }, 2000, 1),
      '⠙ dumping job a · pack ██████░░░░░░░░░░░░░░░░░░  25% 256.0 MiB / 1.0 GiB 2.0s',
    );
    assert.match(renderProgress('x', { phase: 'unpack', bytesDone: 2 * GiB, bytesTotal: GiB }, 0, 2), /████████████████████████ 100%/);
    assert.equal(renderProgress('x', { phase: 'stream', bytesDone: 3 << 20, bytesTotal: 0 }, 500, 3), '⠸ x · stream 3.0 MiB 0.5s');
  });

  it('redraws one line in place on a terminal once the delay has passed, and clears it at the end', () => {
    const out: string[] = [];
    let now = 0;
    const display = startProgress({ isTTY: true, write: (s) => out.push(s) }, 'restoring job a', { now: () => now });
    display.update({ phase: 'unpack', bytesDone: 1, bytesTotal: 4 });
    assert.deepEqual(out, [], 'nothing in the first moment');
    now = 1000;
    display.update({ phase: 'unpack', bytesDone: 2, bytesTotal: 4 });
    display.stop();
    assert.equal(out.length, 2);
    const line = String(out[0]);
    assert.ok(line.startsWith('\r') && line.endsWith('\x1b[K'), 'redrawn in place');
    assert.match(line, / restoring job a · unpack .* 50% 2 B \/ 4 B 1\.0s/);
    assert.equal(out[1], '\r\x1b[K');
  });

  it('is silent off a terminal unless forced, then prints a line per phase and tenth', () => {
    const quiet: string[] = [];
    const silent = startProgress({ write: (s) => quiet.push(s) }, 'dumping');
    silent.update({ phase: 'pack', bytesDone: 1, bytesTotal: 2 });
    silent.stop();
    assert.deepEqual(quiet, []);

    const lines: string[] = [];
    const forced = startProgress({ write: (s) => lines.push(s) }, 'dumping job a', { force: true });
    for (let done = 0; done <= 100; done += 5) forced.update({ phase: 'pack', bytesDone: done, bytesTotal: 100 });
    forced.update({ phase: 'stream', bytesDone: 7, bytesTotal: 0 });
    forced.stop();
    assert.equal(lines.length, 12);
    assert.equal(lines[0], 'dumping job a: pack 0% 0 B / 100 B\n');
    assert.equal(lines[10], 'dumping job a: pack 100% 100 B / 100 B\n');
    assert.equal(lines[11], 'dumping job a: stream 7 B\n');
  });
});

describe('--print-stats', () => {
  it('prints the measured figures and leaves out the rest', () => {
    const stats = CheckpointStats.create({
      freezingNs: 222_000,
      frozenNs: 1_500_000_000,
      memdumpNs: 800_000_000,
      memwriteNs: 600_000_000,
      pagesWritten: 262_144,
      criuNs: 1_600_000_000,
      writeNs: 1_000_000_000,
      bytesRaw: GiB,
      bytesStored: GiB / 2,
      compression: 'zstd',
      streams: [StreamStats.create({ index: 0, bytesRaw: GiB / 2, bytesStored: GiB / 4, writeNs: 500_000_000, path: '/c/img-0.lz4' })],
    });
    assert.deepEqual(formatStats(stats), [
      'stats:',
      '  freezing       222.00 µs',
      '  frozen         1.50 s',
      '  memory dump    800.00 ms',
      '  memory write   600.00 ms',
      '  pages written  262144 (1.0 GiB)',
      '  CRIU run       1.60 s',
      '  write          1.00 s (zstd, 1.0 GiB/s)',
      '  bytes          1.0 GiB raw -> 512.0 MiB stored (2.00:1)',
      '  stream 0       512.0 MiB -> 256.0 MiB (2.00:1), 500.00 ms, 1.0 GiB/s /c/img-0.lz4',
    ]);
    assert.deepEqual(formatStats(CheckpointStats.create()), ['stats: none measured']);
  });
});
