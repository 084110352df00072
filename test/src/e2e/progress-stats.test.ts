/** --progress and --print-stats of dump and restore, through the Progress RPC and CRIU's stats images. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, waitFor } from '../harness/daemon.js';

/** 16 MiB of random bytes and 16 MiB of one letter in memory, then sleep: about 2:1 compressible. */
const BIG = [
  'perl',
  '-e',
  'open my $f, "<", "/dev/urandom"; read $f, my $r, 16 << 20; my $a = "a" x (16 << 20); close $f; sleep 1 while 1',
];

interface Stats {
  frozenNs: number;
  memdumpNs: number;
  criuNs: number;
  writeNs: number;
  bytesRaw: number;
  bytesStored: number;
  compression: string;
  pagesWritten: number;
}

describe('progress and stats of a dump and a restore', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  it('shows bytes done / total with --progress and the figures with --print-stats', async () => {
    await d.ok(['run', 'process', '--jid', 'big', '--', ...BIG]);
    await waitFor('memory filled', async () => {
      const r = await d.json<{ jid: string; state: { pid: number } }[]>(['ps']);
      const pid = r.find((j) => j.jid === 'big')?.state.pid;
      const { readFile } = await import('node:fs/promises');
      const status = pid ? await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '') : '';
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return rss > 30 << 10 ? true : undefined;
    });

    const json = await d.json<{ checkpoint: { path: string }; stats: Stats }>([
      'dump',
      'job',
      'big',
      '--leave-running',
      '--compression',
      'zstd',
    ]);
    const s = json.stats;
    assert.equal(s.compression, 'zstd');
    assert.ok(s.bytesRaw > 32 << 20, `raw ${s.bytesRaw}`);
    assert.ok(s.bytesStored < s.bytesRaw * 0.75 && s.bytesStored > 16 << 20, `stored ${s.bytesStored} of ${s.bytesRaw}`);
    for (const key of ['frozenNs', 'memdumpNs', 'criuNs', 'writeNs', 'pagesWritten'] as const) assert.ok(s[key] > 0, `${key}: ${s[key]}`);

    const dump = await d.cli(['dump', 'job', 'big', '--compression', 'lz4', '--progress', '--print-stats']);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stderr, /^dumping job big: pack 100% \d+\.\d MiB \/ \d+\.\d MiB$/m);
    assert.match(dump.stderr, /^ {2}frozen +\d/m);
    assert.match(dump.stderr, /^ {2}memory dump +\d/m);
    assert.match(dump.stderr, /^ {2}write +\S+ \S+ \(lz4, /m);
    assert.match(dump.stderr, /^ {2}bytes +\d+\.\d MiB raw -> \d+\.\d MiB stored \(\d\.\d\d:1\)$/m);

    const restore = await d.cli(['restore', 'job', 'big', '--progress', '--print-stats']);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stderr, /^restoring job big: unpack 100% \d+\.\d MiB \/ \d+\.\d MiB$/m);
    assert.match(restore.stderr, /^ {2}CRIU run +\d/m);
    assert.match(restore.stderr, /^ {2}write +\S+ \S+ \(lz4, /m);
    await d.ok(['job', 'kill', 'big']);
  });
});
