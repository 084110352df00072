import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { JobIo } from './job-io.js';

const SCROLLBACK = 64 * 1024;

type Chunk = { stream: 'stdout' | 'stderr'; text: string };

/** One incarnation's streams, as a run or restore handler hands them over. */
function streams() {
  return { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
}

function collect(io: JobIo): { got: Chunk[]; unsubscribe: () => void } {
  const got: Chunk[] = [];
  const unsubscribe = io.subscribe((stream, chunk) => got.push({ stream, text: chunk.toString() }));
  return { got, unsubscribe };
}

/** Waits until the log file holds `expected` (the log is written asynchronously). */
async function logHolds(path: string, expected: string): Promise<void> {
  const deadline = Date.now() + 2000;
  let text = '';
  while (Date.now() < deadline) {
    text = await readFile(path, 'utf8').catch(() => '');
    if (text === expected) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(text, expected);
}

describe('JobIo', () => {
  let root: string;
  let n = 0;
  const logPath = () => join(root, `job-${++n}.log`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-job-io-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('fans output out to every subscriber and appends it to the log file', async () => {
    const log = logPath();
    const io = new JobIo(log);
    const s = streams();
    io.connect(s);
    const a = collect(io);
    const b = collect(io);
    s.stdout.write('out 1\n');
    s.stderr.write('err 1\n');
    s.stdout.write('out 2\n');
    await tick();
    const expected: Chunk[] = [
      { stream: 'stdout', text: 'out 1\n' },
      { stream: 'stderr', text: 'err 1\n' },
      { stream: 'stdout', text: 'out 2\n' },
    ];
    assert.deepEqual(a.got, expected);
    assert.deepEqual(b.got, expected);
    io.close();
    await logHolds(log, 'out 1\nerr 1\nout 2\n');
  });

  it('appends to an existing log file rather than replacing it', async () => {
    const log = logPath();
    const first = new JobIo(log);
    const s1 = streams();
    first.connect(s1);
    s1.stdout.write('before restart\n');
    await tick();
    first.close();
    await logHolds(log, 'before restart\n');
    const second = new JobIo(log);
    const s2 = streams();
    second.connect(s2);
    s2.stdout.write('after restart\n');
    await tick();
    second.close();
    await logHolds(log, 'before restart\nafter restart\n');
  });

  it('replays the scrollback to a late subscriber, bounded at 64 KiB and ending with the newest bytes', async () => {
    const io = new JobIo(logPath());
    const s = streams();
    io.connect(s);
    const chunkSize = 1000;
    const written: string[] = [];
    for (let i = 0; i < 100; i++) {
      const chunk = `${String(i).padStart(3, '0')}:`.padEnd(chunkSize, String.fromCharCode(97 + (i % 26)));
      written.push(chunk);
      s.stdout.write(chunk);
    }
    await tick();
    const late = collect(io);
    const replay = late.got.map((c) => c.text).join('');
    const all = written.join('');
    assert.ok(all.length > SCROLLBACK, 'more was written than the scrollback holds');
    assert.ok(replay.length <= SCROLLBACK + chunkSize, `replayed ${replay.length} bytes`);
    assert.ok(replay.length >= SCROLLBACK - chunkSize, `replayed only ${replay.length} bytes`);
    assert.ok(all.endsWith(replay), 'the replay is the newest bytes, in order');
    assert.equal(late.got.at(-1)?.text, written.at(-1));
    io.close();
  });

  it('keeps the newest chunk in the scrollback even when it alone is larger than 64 KiB', async () => {
    const io = new JobIo(logPath());
    const s = streams();
    io.connect(s);
    s.stdout.write('old');
    s.stdout.write(Buffer.alloc(SCROLLBACK + 10, 'x'));
    await tick();
    const late = collect(io);
    assert.deepEqual(
      late.got.map((c) => c.text.length),
      [SCROLLBACK + 10],
    );
    io.close();
  });

  it('replays the scrollback first, then delivers live output to a late subscriber', async () => {
    const io = new JobIo(logPath());
    const s = streams();
    io.connect(s);
    s.stderr.write('early\n');
    await tick();
    const late = collect(io);
    s.stdout.write('live\n');
    await tick();
    assert.deepEqual(late.got, [
      { stream: 'stderr', text: 'early\n' },
      { stream: 'stdout', text: 'live\n' },
    ]);
    io.close();
  });

  it('stops delivering to a subscriber once it unsubscribes', async () => {
    const io = new JobIo(logPath());
    const s = streams();
    io.connect(s);
    const gone = collect(io);
    const stays = collect(io);
    s.stdout.write('one\n');
    await tick();
    gone.unsubscribe();
    s.stdout.write('two\n');
    await tick();
    assert.deepEqual(
      gone.got.map((c) => c.text),
      ['one\n'],
    );
    assert.deepEqual(
      stays.got.map((c) => c.text),
      ['one\n', 'two\n'],
    );
    io.close();
  });

  it('writes stdin data to the connected stdin stream and ends it on closeStdin', async () => {
    const io = new JobIo(logPath());
    const s = streams();
    io.connect(s);
    io.write(Buffer.from('hello\n'));
    io.write(Buffer.from('world\n'));
    io.closeStdin();
    const received: Buffer[] = [];
    for await (const chunk of s.stdin) received.push(chunk as Buffer);
    assert.equal(Buffer.concat(received).toString(), 'hello\nworld\n');
    io.close();
  });

  it('keeps delivering after connect() with the streams of a restored incarnation', async () => {
    const log = logPath();
    const io = new JobIo(log);
    const first = streams();
    io.connect(first);
    const sub = collect(io);
    first.stdout.write('before dump\n');
    await tick();
    // The dump ended the first incarnation; restore hands over new streams.
    first.stdout.end();
    first.stderr.end();
    const second = streams();
    io.connect(second);
    second.stdout.write('after restore\n');
    second.stderr.write('restored err\n');
    await tick();
    assert.deepEqual(sub.got, [
      { stream: 'stdout', text: 'before dump\n' },
      { stream: 'stdout', text: 'after restore\n' },
      { stream: 'stderr', text: 'restored err\n' },
    ]);
    const firstStdin: Buffer[] = [];
    first.stdin.on('data', (c: Buffer) => firstStdin.push(c));
    io.write(Buffer.from('to the new process\n'));
    io.closeStdin();
    const received: Buffer[] = [];
    for await (const chunk of second.stdin) received.push(chunk as Buffer);
    assert.equal(Buffer.concat(received).toString(), 'to the new process\n');
    assert.deepEqual(firstStdin, [], 'the old stdin gets nothing');
    io.close();
    await logHolds(log, 'before dump\nafter restore\nrestored err\n');
  });
});
