import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CedanaError } from '@cedana/core';
import type { Job, ProfilingData } from '@cedana/core/proto';
import Table from 'cli-table3';
import { renderCheckpoints } from '../commands/checkpoints.js';
import { renderJobs } from '../commands/jobs.js';
import { EXIT, exitCodeFor, UsageError } from '../exit-codes.js';
import { formatError } from './errors.js';
import { toJson } from './json.js';
import { formatDuration, formatProfile } from './profiling.js';
import { formatSize, renderTable } from './table.js';

describe('tables', () => {
  it('aligns columns without borders or trailing spaces, "-" for empty cells', () => {
    assert.equal(
      renderTable(
        ['A', 'LONGER'],
        [
          ['x', 1],
          ['yyyy', undefined],
        ],
      ),
      'A      LONGER\nx      1\nyyyy   -',
    );
  });

  it('lays out one-column text as cli-table3 does, and leaves other text to it', () => {
    const viaCliTable3 = (head: string[], rows: string[][]) => {
      const none = Object.fromEntries(
        ['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right', 'left', 'left-mid']
          .concat(['mid', 'mid-mid', 'right', 'right-mid', 'middle'])
          .map((k) => [k, '']),
      );
      const t = new Table({ head, chars: none, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3 } });
      for (const r of rows) t.push(r);
      return t
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n');
    };
    const words = ['', 'x', 'criu', 'a b', '✔', '✖', '0.1.0', '91.5 KiB', '“q”', 'long words here', 'wide 名前', 'two\nlines'];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return words[seed % words.length] as string;
    };
    for (let n = 0; n < 200; n++) {
      const cols = 1 + (n % 5);
      const head = Array.from({ length: cols }, (_, i) => `H${i}${pick()}`.replace('\n', ''));
      const rows = Array.from({ length: n % 4 }, () => Array.from({ length: cols }, pick));
      const shown = rows.map((r) => r.map((c) => (c === '' ? '-' : c)));
      assert.equal(renderTable(head, rows), viaCliTable3(head, shown), JSON.stringify({ head, rows }));
    }
  });

  it('prints sizes in binary units', () => {
    assert.equal(formatSize(0), '-');
    assert.equal(formatSize(512), '512 B');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(5 * 1024 ** 3), '5.0 GiB');
  });

  const job = (over: Partial<Job>): Job => ({
    jid: 'web',
    type: 'process',
    state: { pid: 4242, status: 'running', exitSignal: '', startedAt: '', endedAt: '', host: '', startTicks: 0 },
    log: '/var/log/cedana-output-web.log',
    attachable: false,
    gpuEnabled: false,
    pidNamespace: false,
    process: undefined,
    details: undefined,
    lastCheckpoint: undefined,
    createdAt: '',
    migratedTo: '',
    ...over,
  });

  it('lists jobs with their last checkpoint, size, and the log or the attachable marker', () => {
    const text = renderJobs([
      job({
        lastCheckpoint: {
          id: 'c1',
          jid: 'web',
          type: 'process',
          path: '/ckpt/web-1.tar',
          compression: 'tar',
          size: 2048,
          createdAt: '',
          pid: 4242,
          streams: 0,
        },
      }),
      job({
        jid: 'db',
        attachable: true,
        state: { pid: 7, status: 'exited', exitCode: 3, exitSignal: '', startedAt: '', endedAt: '', host: '', startTicks: 0 },
      }),
    ]);
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^JID\s+TYPE\s+PID\s+STATUS\s+CHECKPOINT\s+SIZE\s+LOG$/);
    assert.match(lines[1] ?? '', /^web\s+process\s+4242\s+running\s+\/ckpt\/web-1.tar\s+2.0 KiB\s+\/var\/log\/cedana-output-web.log$/);
    assert.match(lines[2] ?? '', /^db\s+process\s+7\s+exited \(3\)\s+-\s+-\s+attachable$/);
  });

  it('lists checkpoints with ID, JOB, TIME, SIZE, COMPRESSION, PATH', () => {
    const text = renderCheckpoints([
      {
        id: 'c1',
        jid: 'web',
        type: 'process',
        path: '/ckpt/a.tar.lz4',
        compression: 'lz4',
        size: 1024 ** 2,
        createdAt: '',
        pid: 1,
        streams: 0,
      },
    ]);
    assert.match(text, /^ID\s+JOB\s+TIME\s+SIZE\s+COMPRESSION\s+PATH\nc1\s+web\s+-\s+1.0 MiB\s+lz4\s+\/ckpt\/a.tar.lz4$/);
  });

  it('prints JSON pretty, with bigints as strings', () => {
    assert.equal(toJson({ a: 1n, b: [1] }), '{\n  "a": "1",\n  "b": [\n    1\n  ]\n}');
  });
});

describe('profiling tree', () => {
  const tree: ProfilingData = {
    name: 'dump',
    durationNs: 12_345_678,
    components: [
      { name: 'fillDumpDefaults', durationNs: 2_000, components: [] },
      { name: 'criuDump', durationNs: 12_000_000, components: [{ name: 'plugin:gpu', durationNs: 900, components: [] }] },
    ],
  };

  it('picks a unit per value in auto precision', () => {
    assert.equal(formatDuration(900), '900 ns');
    assert.equal(formatDuration(2_000), '2.00 µs');
    assert.equal(formatDuration(12_345_678), '12.35 ms');
    assert.equal(formatDuration(2e9), '2.00 s');
  });

  it('uses the configured unit', () => {
    assert.equal(formatDuration(12_345_678, 'us'), '12345.68 µs');
    assert.equal(formatDuration(12_345_678, 'ns'), '12345678 ns');
  });

  it('draws the nesting, with total and self time right-aligned', () => {
    assert.deepEqual(formatProfile(tree, 'ms'), [
      '                        TOTAL      SELF',
      'dump                 12.35 ms   0.34 ms',
      '├─ fillDumpDefaults   0.00 ms   0.00 ms',
      '└─ criuDump          12.00 ms  12.00 ms',
      '   └─ plugin:gpu      0.00 ms   0.00 ms',
    ]);
  });
});

describe('errors', () => {
  it('prints code, message, indented details and the hint', () => {
    const err = new CedanaError('CEDANA_ERR_CRIU_DUMP', 'criu dump failed (exit 1)', {
      details: ['Error (criu/cr-dump.c:1): oops', 'line 2'],
      // as the daemon's trailer brings it: the CLI does not load the criu plugin that declares the code
      hint: 'read the CRIU log lines above; `cedana daemon check` tests the setup. The process was left running',
    });
    assert.equal(
      formatError(err),
      'Error [CEDANA_ERR_CRIU_DUMP]: criu dump failed (exit 1)\n  Error (criu/cr-dump.c:1): oops\n  line 2\nhint: read the CRIU log lines above; `cedana daemon check` tests the setup. The process was left running',
    );
  });

  it('prints an unknown error as an internal one', () => {
    assert.match(formatError(new Error('boom')), /^Error \[CEDANA_ERR_INTERNAL\]: boom\nhint: /);
  });

  it('maps errors to exit codes', () => {
    assert.equal(exitCodeFor(new UsageError('bad')), EXIT.USAGE);
    assert.equal(exitCodeFor(new CedanaError('CEDANA_ERR_DAEMON_UNREACHABLE', 'x')), EXIT.UNREACHABLE);
    assert.equal(exitCodeFor(new CedanaError('CEDANA_ERR_JOB_NOT_FOUND', 'x')), EXIT.FAILED);
    assert.equal(exitCodeFor(new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'from the daemon')), EXIT.FAILED);
    assert.equal(exitCodeFor(new Error('x')), EXIT.FAILED);
  });
});
