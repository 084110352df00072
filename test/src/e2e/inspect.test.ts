/**
 * `cedana checkpoint inspect` on real dumps of every compression: a perl job with a
 * regular file, a pipe and a listening TCP socket open; inspect must show them, read
 * from the checkpoint's CRIU images without unpacking it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMPRESSIONS } from '@cedana/core';
import type { Checkpoint, CheckpointSummary } from '@cedana/core/proto';
import { TestDaemon, waitFor } from '../harness/daemon.js';

/** Opens DATA for append, a pipe and a TCP listener on 127.0.0.1, writes the port to READY, then sleeps. */
const SUBJECT = `
use strict; use Socket;
my ($data, $ready) = @ARGV;
open(my $fh, '>>', $data) or die "open: $!"; print $fh "x" x 10; $fh->flush;
pipe(my $r, my $w) or die "pipe: $!";
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
bind($s, sockaddr_in(0, inet_aton('127.0.0.1'))) or die "bind: $!";
listen($s, 16) or die "listen: $!";
my ($port) = sockaddr_in(getsockname($s));
open(my $out, '>', "$ready.tmp") or die; print $out $port; close $out; rename("$ready.tmp", $ready);
sleep 1 while 1;
`;

interface Inspected {
  checkpoint: Checkpoint;
  manifest: { files: Record<string, unknown> };
  summary: CheckpointSummary;
}

describe('checkpoint inspect shows what a checkpoint holds', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d.stop();
  });

  for (const compression of COMPRESSIONS) {
    it(`--compression ${compression}: processes, the open file, the pipe, the TCP listener and the memory`, async () => {
      const jid = `inspect-${compression}`;
      const data = join(d.dir, `${jid}.data`);
      const ready = join(d.dir, `${jid}.ready`);
      await d.ok(['run', 'process', '--jid', jid, '--', 'perl', '-e', SUBJECT, data, ready]);
      const port = await waitFor(`${ready} written`, async () => Number(await readFile(ready, 'utf8').catch(() => '')) || undefined);
      const pid = (await d.json<{ jid: string; state: { pid: number } }[]>(['ps'])).find((j) => j.jid === jid)?.state.pid;

      await d.ok(['dump', 'job', jid, '--compression', compression]);
      const [ck] = await d.json<Checkpoint[]>(['checkpoints', jid]);
      assert.ok(ck, 'the dump made a checkpoint');
      assert.equal(ck.compression, compression);

      const out = await d.json<Inspected>(['checkpoint', 'inspect', ck.id]);
      assert.equal(out.checkpoint.id, ck.id);
      assert.ok(out.manifest.files['pstree.img'], 'checkpoint.json is there too');
      const s = out.summary;
      assert.deepEqual(
        s.processes.map((p) => [p.pid, p.comm, p.threads.length, p.state]),
        [[pid, 'perl', 1, 'alive']],
      );
      const file = s.files.find((f) => f.path === data);
      assert.equal(file?.type, 'reg', JSON.stringify(s.files));
      assert.equal(file?.pos, 10);
      const pipes = s.files.filter((f) => f.type === 'pipe' && f.fd > (file?.fd ?? 0));
      assert.equal(pipes.length, 2, JSON.stringify(s.files));
      assert.equal(pipes[0]?.path, pipes[1]?.path, 'both ends of one pipe');
      const tcp = s.sockets.find((k) => k.proto === 'tcp');
      assert.deepEqual(tcp && [tcp.family, tcp.state, tcp.srcAddr, tcp.srcPort], ['inet', 'listen', '127.0.0.1', port]);
      assert.ok(s.dumpedBytes > 0 && s.mappedBytes >= s.dumpedBytes, `mapped ${s.mappedBytes}, dumped ${s.dumpedBytes}`);
      assert.ok(!s.images.some((n) => n.startsWith('pages-')), 'the pages are never read');

      const text = await d.ok(['checkpoint', 'inspect', ck.id]);
      assert.match(text, new RegExp(`PROCESSES\\n.*\\n${pid} +0 .* alive +perl`));
      assert.match(text, new RegExp(`${pid} +${file?.fd} +reg +w +${data.replace(/[.]/g, '\\.')}`));
      assert.match(text, new RegExp(`${pid} +${pipes[0]?.fd} +pipe +r +pipe:\\[\\d+\\]`));
      assert.match(text, new RegExp(`${pid} +${tcp?.fd} +tcp +inet +listen +127\\.0\\.0\\.1:${port} +\\*:\\*`));
      assert.match(text, /MEMORY \(mapped [\d.]+ [KMG]iB, dumped [\d.]+ [KMG]iB\)/);
      await d.ok(['job', 'delete', jid]);
    });
  }

  it('names the damaged image of a checkpoint folder', async () => {
    const jid = 'inspect-damaged';
    const ready = join(d.dir, `${jid}.ready`);
    await d.ok(['run', 'process', '--jid', jid, '--', 'perl', '-e', SUBJECT, join(d.dir, `${jid}.data`), ready]);
    await waitFor(`${ready} written`, async () => Number(await readFile(ready, 'utf8').catch(() => '')) || undefined);
    await d.ok(['dump', 'job', jid, '--compression', 'none']);
    const [ck] = await d.json<Checkpoint[]>(['checkpoints', jid]);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(ck?.path ?? '', 'files.img'), Buffer.from('not a criu image'));
    const r = await d.cli(['checkpoint', 'inspect', ck?.id ?? '']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CEDANA_ERR_CHECKPOINT_INVALID/);
    assert.match(r.stderr, /files\.img in .* is damaged: expected a CRIU files image/);
  });
});
