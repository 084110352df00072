/**
 * The image decoder against real CRIU dumps: a perl process with a two-threaded child, a regular
 * file, a pipe, a FIFO, a listening TCP socket and a listening abstract unix socket is dumped
 * with criu once; the tests read the images from the folder and from every archive
 * format, and damage copies of them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import type { CheckpointSummary } from '@cedana/core/proto';
import { packCheckpoint } from '../archive.js';
import { CODECS } from '../codecs.js';
import { inspectCheckpointPath } from '../inspect.js';
import { isSummaryImage, loadImagesFromArchive, loadImagesFromFolder, summarizeCheckpoint, summarizeImages } from './index.js';
import { formatAddress, unixName } from './names.js';

const CRIU = process.env.CEDANA_TEST_CRIU ?? 'criu';

/** Opens what inspect must find, forks a child with a second thread, prints "PORT CHILD" and closes stdout, then sleeps. */
const SUBJECT = `
use strict; use Socket;
my ($data, $abstract, $fifo) = @ARGV;
open(my $fh, '>>', $data) or die "open: $!"; print $fh "hello\\n"; $fh->flush;
open(my $ff, '+<', $fifo) or die "open fifo: $!";
pipe(my $r, my $w) or die "pipe: $!";
socket(my $tcp, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
bind($tcp, sockaddr_in(0, inet_aton('127.0.0.1'))) or die "bind: $!";
listen($tcp, 7) or die "listen: $!";
socket(my $unix, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($unix, pack_sockaddr_un("\\0$abstract")) or die "bind unix: $!";
listen($unix, 3) or die "listen unix: $!";
my ($port) = sockaddr_in(getsockname($tcp));
pipe(my $sr, my $sw) or die "pipe: $!";
my $child = fork() // die "fork: $!";
if ($child == 0) {
  close STDOUT; close $sr;
  require threads; threads->create(sub { sleep 1 while 1 })->detach;
  print $sw "ok\\n"; close $sw;
  sleep 1 while 1;
}
close $sw; my $ok = <$sr>; close $sr; # the child's second thread runs
print "$port $child\\n"; close STDOUT;
sleep 1 while 1;
`;

interface Dump {
  dir: string;
  pid: number;
  child: number;
  port: number;
  data: string;
  abstract: string;
  fifo: string;
}

/** Runs the subject in its own session and dumps it with criu into `dir` (the subject is gone after). */
async function dumpSubject(root: string): Promise<Dump> {
  const data = join(root, 'data.txt');
  const abstract = `cedana-inspect-${process.pid}`;
  const fifo = join(root, 'fifo');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, 'mkfifo');
  const proc = spawn('perl', ['-e', SUBJECT, data, abstract, fifo], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const [port, child] = (await text(proc.stdout)).trim().split(' ').map(Number);
  assert.ok(port && child && proc.pid, 'the subject started');
  const dir = join(root, 'images');
  await mkdir(dir);
  const r = spawnSync(CRIU, ['dump', '-t', String(proc.pid), '-D', dir, '-o', 'dump.log', '-v4'], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.kill(-proc.pid, 'SIGKILL');
    const log = await readFile(join(dir, 'dump.log'), 'utf8').catch(() => '');
    assert.fail(`criu dump failed (${r.status}): ${r.stderr}\n${log.split('\n').slice(-20).join('\n')}`);
  }
  await exited;
  await rm(join(dir, 'dump.log'));
  return { dir, pid: proc.pid, child, port, data, abstract, fifo };
}

describe('CRIU image decoder on a real dump', { skip: process.getuid?.() !== 0 && 'criu dump needs root' }, () => {
  let root: string;
  let dump: Dump;
  let summary: CheckpointSummary;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cedana-images-'));
    dump = await dumpSubject(root);
    summary = summarizeImages(await loadImagesFromFolder(dump.dir), { source: dump.dir });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('shows the process tree with comm, state and threads', () => {
    const [parent, child] = summary.processes;
    assert.deepEqual(parent, { pid: dump.pid, ppid: 0, pgid: dump.pid, sid: dump.pid, comm: 'perl', threads: [dump.pid], state: 'alive' });
    assert.equal(child?.pid, dump.child);
    assert.equal(child?.ppid, dump.pid);
    assert.equal(child?.comm, 'perl');
    assert.equal(child?.threads.length, 2, 'the child runs two threads');
    assert.equal(child?.threads[0], dump.child, 'the main thread first');
  });

  it('shows the open regular file with its path and offset, and both ends of the pipe', () => {
    const mine = summary.files.filter((f) => f.pid === dump.pid);
    const data = mine.find((f) => f.path === dump.data);
    assert.equal(data?.type, 'reg');
    assert.equal(data?.pos, 'hello\n'.length);
    // the pipe made after the file: its two ends share one pipe:[ID]
    const first = mine.find((f) => f.type === 'pipe' && f.fd > (data?.fd ?? 0));
    assert.match(first?.path ?? '', /^pipe:\[\d+\]$/, JSON.stringify(mine));
    const pipes = mine.filter((f) => f.path === first?.path);
    assert.equal(pipes.length, 2, JSON.stringify(mine));
    assert.deepEqual(
      pipes.map((p) => p.flags & 3),
      [0, 1],
      'the read end (O_RDONLY), then the write end (O_WRONLY)',
    );
    const fifo = mine.find((f) => f.type === 'fifo');
    assert.deepEqual(fifo && [fifo.path, fifo.flags & 3], [dump.fifo, 2], 'the FIFO by its path, open O_RDWR');
  });

  it('shows the listening TCP socket and the abstract unix socket', () => {
    const tcp = summary.sockets.find((s) => s.pid === dump.pid && s.proto === 'tcp');
    assert.deepEqual(
      tcp && { family: tcp.family, type: tcp.type, state: tcp.state, src: `${tcp.srcAddr}:${tcp.srcPort}`, backlog: tcp.backlog },
      { family: 'inet', type: 'stream', state: 'listen', src: `127.0.0.1:${dump.port}`, backlog: 7 },
    );
    const unix = summary.sockets.find((s) => s.pid === dump.pid && s.family === 'unix');
    assert.deepEqual(unix && { type: unix.type, state: unix.state, name: unix.name }, {
      type: 'stream',
      state: 'listen',
      name: `@${dump.abstract}`,
    });
    const fds = summary.files.filter((f) => f.pid === dump.pid && (f.type === 'inet' || f.type === 'unix'));
    assert.deepEqual(fds.map((f) => f.fd).sort(), [tcp?.fd, unix?.fd].sort());
  });

  it('counts the mapped memory and exactly the bytes of pages-*.img', async () => {
    let pages = 0;
    for (const name of await readdir(dump.dir)) if (name.startsWith('pages-')) pages += (await stat(join(dump.dir, name))).size;
    assert.equal(summary.dumpedBytes, pages);
    assert.deepEqual(
      summary.memory.map((m) => m.pid),
      [dump.pid, dump.child],
    );
    for (const m of summary.memory) {
      assert.ok(m.vmas > 5, `pid ${m.pid} has mappings`);
      assert.ok(m.mappedBytes >= m.dumpedBytes && m.dumpedBytes > 0, `pid ${m.pid}: mapped ${m.mappedBytes}, dumped ${m.dumpedBytes}`);
    }
    assert.equal(
      summary.mappedBytes,
      summary.memory.reduce((n, m) => n + m.mappedBytes, 0),
    );
  });

  it('reads only the small images', () => {
    assert.ok(summary.images.includes('pstree.img') && summary.images.includes('files.img'));
    assert.ok(summary.images.every(isSummaryImage));
    assert.ok(!summary.images.some((n) => n.startsWith('pages-')));
  });

  for (const compression of Object.keys(CODECS) as (keyof typeof CODECS)[]) {
    it(`${compression}: gives the same summary from the archive, without keeping the pages`, async () => {
      const dir = join(root, `ck-${compression}`);
      await cp(dump.dir, dir, { recursive: true });
      const packed = await packCheckpoint(dir, compression, { manifest: { id: compression, compression } });
      const files = Object.keys(packed.manifest?.files ?? {});
      const images = await loadImagesFromArchive(packed.path, compression, { files });
      assert.deepEqual([...images.keys()].sort(), files.filter(isSummaryImage).sort());
      assert.deepEqual(summarizeImages(images), summary);
      assert.deepEqual(await summarizeCheckpoint(packed.path), summary, 'without the file list too');
      assert.deepEqual((await inspectCheckpointPath(packed.path)).summary, summary, 'as the daemon answers inspect');
    });
  }

  it('stops reading an archive before the pages, which the packer puts last', async () => {
    const dir = join(root, 'ck-cut');
    await cp(dump.dir, dir, { recursive: true });
    const packed = await packCheckpoint(dir, 'tar', { manifest: { id: 'cut', compression: 'tar' } });
    const tar = await readFile(packed.path);
    // tar headers: 512-byte blocks with "ustar" at 257 and the name first
    const headers: [string, number][] = [];
    for (let at = 0; at + 512 <= tar.length; at += 512) {
      if (tar.toString('latin1', at + 257, at + 262) === 'ustar')
        headers.push([tar.toString('latin1', at, at + 100).replace(/\0.*$/s, ''), at]);
    }
    const firstPages = headers.find(([name]) => name.startsWith('pages-'))?.[1] ?? -1;
    assert.ok(firstPages > 0, JSON.stringify(headers));
    const before = headers.filter(([, at]) => at < firstPages).map(([name]) => name);
    for (const name of Object.keys(packed.manifest?.files ?? {}).filter(isSummaryImage))
      assert.ok(before.includes(name), `${name} comes before the pages`);
    await truncate(packed.path, firstPages + 100); // the pages are cut: reading them would fail
    const files = Object.keys(packed.manifest?.files ?? {});
    assert.deepEqual(summarizeImages(await loadImagesFromArchive(packed.path, 'tar', { files })), summary);
    assert.deepEqual(await summarizeCheckpoint(packed.path), summary, 'without the list it reads on, past the cut pages it does not keep');
    const pstree = headers.find(([name]) => name === 'pstree.img')?.[1] ?? -1;
    await truncate(packed.path, pstree + 512 + 10); // inside pstree.img's data
    await assert.rejects(
      loadImagesFromArchive(packed.path, 'tar'),
      (err: Error & { code?: string }) => err.code === 'CEDANA_ERR_CHECKPOINT_INVALID' && /ck-cut\.tar is truncated/.test(err.message),
    );
  });

  it('is what a streamed checkpoint gets from the images it hands over', async () => {
    const handed: string[] = [];
    const got = await summarizeCheckpoint('stream://x', {
      readImages: async (_path, wanted) => {
        const all = await readdir(dump.dir);
        const images = new Map<string, Buffer>();
        for (const name of all.filter(wanted)) {
          handed.push(name);
          images.set(name, await readFile(join(dump.dir, name)));
        }
        return images;
      },
    });
    assert.deepEqual(got, summary);
    assert.ok(!handed.some((n) => n.startsWith('pages-')));
  });

  describe('damaged images', () => {
    async function damaged(name: string, damage: (path: string) => Promise<void>): Promise<string> {
      const dir = await mkdtemp(join(root, 'bad-'));
      await cp(dump.dir, dir, { recursive: true });
      await damage(join(dir, name));
      return dir;
    }
    const refuses = (what: RegExp) => (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_CHECKPOINT_INVALID');
      assert.match(err.message ?? '', what);
      return true;
    };

    it('names a truncated image and its checkpoint', async () => {
      const dir = await damaged('files.img', async (p) => truncate(p, (await stat(p)).size - 3));
      await assert.rejects(
        summarizeCheckpoint(dir),
        refuses(new RegExp(`files\\.img in ${dir} is damaged: entry \\d+ .* only \\d+ follow`)),
      );
    });

    it('names an image with the wrong magic', async () => {
      const dir = await damaged('pstree.img', async (p) => {
        const b = await readFile(p);
        b.writeUInt32LE(0xdeadbeef, 4);
        await writeFile(p, b);
      });
      await assert.rejects(
        summarizeCheckpoint(dir),
        refuses(/pstree\.img in .* is damaged: expected a CRIU pstree image \(magic 0x50273030\), found 19435654efbeadde/),
      );
    });

    it('names an image whose entry is not a valid message', async () => {
      const dir = await damaged(`mm-${dump.pid}.img`, async (p) => {
        const b = await readFile(p);
        b.fill(0xff, 12, 40); // inside the entry: varints that never end
        await writeFile(p, b);
      });
      await assert.rejects(summarizeCheckpoint(dir), refuses(new RegExp(`mm-${dump.pid}\\.img in .* is not a valid mm message`)));
    });

    it('an empty image', async () => {
      const dir = await damaged(`core-${dump.pid}.img`, (p) => writeFile(p, ''));
      await assert.rejects(summarizeCheckpoint(dir), refuses(new RegExp(`core-${dump.pid}\\.img in .* found an empty file`)));
    });

    it('says a folder without pstree.img holds no process tree, and inspect answers without a summary', async () => {
      const dir = await damaged('pstree.img', (p) => rm(p));
      await assert.rejects(summarizeCheckpoint(dir), refuses(/pstree\.img in .* the checkpoint has no pstree\.img/));
      await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ format: 1, files: {} }));
      assert.equal((await inspectCheckpointPath(dir).catch(() => ({ summary: 'threw' }))).summary, undefined);
    });

    it('names an archive that ends before an image its checkpoint.json lists', async () => {
      const dir = join(root, 'ck-short');
      await cp(dump.dir, dir, { recursive: true });
      const packed = await packCheckpoint(dir, 'tar', { manifest: { id: 'short', compression: 'tar' } });
      const files = [...Object.keys(packed.manifest?.files ?? {}), 'pagemap-999.img'];
      await assert.rejects(loadImagesFromArchive(packed.path, 'tar', { files }), refuses(/ends before pagemap-999\.img/));
    });
  });
});

describe('socket names', () => {
  it('formats IPv4, IPv6 and v4-mapped addresses from CRIU words', () => {
    const words = (hex: string) =>
      Array.from({ length: hex.length / 8 }, (_, i) => Buffer.from(hex.slice(i * 8, i * 8 + 8), 'hex').readUInt32LE(0));
    assert.equal(formatAddress(words('7f000001'), 2), '127.0.0.1');
    assert.equal(formatAddress(words('00000000000000000000000000000001'), 10), '::1');
    assert.equal(formatAddress(words('20010db8000000000000000000000042'), 10), '2001:db8::42');
    assert.equal(formatAddress(words('00000000000000000000ffff0a000001'), 10), '::ffff:10.0.0.1');
    assert.equal(formatAddress([], 2), '');
  });

  it('shows abstract unix names with @ and relative ones under their folder', () => {
    assert.equal(unixName(Buffer.from('\0x\0y')), '@x@y');
    assert.equal(unixName(Buffer.from('/run/a.sock')), '/run/a.sock');
    assert.equal(unixName(Buffer.from('a.sock'), '/srv'), '/srv/a.sock');
    assert.equal(unixName(Buffer.alloc(0)), '');
  });
});
