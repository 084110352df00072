/**
 * The source side of a post-copy migration (`cedana migrate job J --to ADDRESS --lazy`):
 *
 *   1. ask the target (MigratePrepare, lazy): a refusal stops here, nothing froze.
 *   2. `criu dump --lazy-pages` (through the ordinary dump pipeline, with a page channel): every
 *      image but the lazy pages lands in migrate.dir; the tree stays frozen and criu serves the
 *      pages over the channel, which page-relay.ts joins to the target's MigratePages call.
 *   3. send those images (MigrateReceive); the target restores with `--lazy-pages`, its
 *      `criu lazy-pages` pulling the pages from this criu, and answers once the job runs there.
 *   4. wait until this criu has served every page (it then kills the frozen tree), record the
 *      job as migrated to "ADDRESS JID" and drop the images.
 *
 * Until 3 answers, any failure kills this criu, and the tree, frozen but whole, resumes here:
 * the job runs on as it was. After it, the job's memory is split between the two hosts until
 * the copy ends: a source that dies then loses the job (the target's process is killed when its
 * lazy-pages fails), the price of post-copy.
 */
import type { Socket } from 'node:net';
import { type BaseContext, CedanaError, clientTlsOf, fileNameFor, type Measured } from '@cedana/core';
import type { Job, MigrateReq, MigrateResp } from '@cedana/core/proto';
import { type StatusObject, status } from '@grpc/grpc-js';
import { CheckpointSender } from './checkpoint-sender.js';
import { openChannel } from './data-link.js';
import { bootId, pidNamespace } from './host-identity.js';
import { migrateDir } from './migrate-dir.js';
import { askTarget, dropCheckpoint, jobLogOf, type MigrateDeps } from './migrate-out.js';
import { joinRaw, PageSlot, type PagesEnd, relay } from './page-relay.js';
import { dialTarget, type TargetDaemon } from './target-client.js';

export async function migrateLazily(d: MigrateDeps, ctx: BaseContext & Measured, req: MigrateReq, job: Job): Promise<MigrateResp> {
  const t0 = performance.now();
  const targetJid = req.targetJid || job.jid;
  const tls = clientTlsOf(d.config);
  const target = await dialTarget(req.to, req.token, tls);
  try {
    const prep = await askTarget(target, req, job, { jid: targetJid, streams: 0, lazy: true });
    // The frozen tree keeps its PIDs until the copy ends: a target sharing this PID space could
    // not restore a job of the host's PID namespace beside it.
    if (!job.pidNamespace && prep.bootId === (await bootId()) && prep.pidNs === (await pidNamespace()))
      throw new CedanaError(
        'CEDANA_ERR_MIGRATE_REFUSED',
        `job "${job.jid}" runs in the host's PID namespace and the target ${req.to} shares it (one machine): with --lazy the source keeps the PIDs until the copy ends, so the target cannot restore them; nothing froze`,
        { hint: 'run the job with `cedana run process --pid-ns`, or migrate without --lazy' },
      );
    // Both channels open before anything freezes; either that does not goes over gRPC.
    const files = await openChannel(req.to, prep, 'files', d.config, ctx.log);
    const pagesData = await openChannel(req.to, prep, 'pages', d.config, ctx.log);
    const t1 = performance.now();

    const pages = new SourcePages(target, prep.id, pagesData.socket);
    const name = `migrate-${fileNameFor(job.jid)}-${Date.now()}`;
    const dumped = await d.jobs
      .dump(
        { ...ctx, pageChannel: pages.slot },
        {
          jid: job.jid,
          type: '',
          pid: 0,
          dir: await migrateDir(d.config),
          name,
          compression: 'none',
          streams: 0,
          criu: undefined,
          details: undefined,
        },
      )
      .catch((err) => {
        files.socket?.destroy();
        pages.abort(); // a dump that failed before serving left the job running
        throw err;
      });
    const checkpoint = dumped.checkpoint;
    if (!checkpoint) {
      files.socket?.destroy();
      pages.abort();
      throw new CedanaError('CEDANA_ERR_INTERNAL', `the lazy dump of job "${job.jid}" made no checkpoint`);
    }
    const t2 = performance.now();
    ctx.log.info({ jid: job.jid, to: req.to, path: checkpoint.path }, 'migration (lazy): dumped all but the pages, sending the images');

    let restored: { jid: string; pid: number };
    try {
      restored = await new CheckpointSender(target, prep.id, files.socket).finish(checkpoint.path, await jobLogOf(job));
    } catch (err) {
      const why = err as Error & { remoteCode?: string };
      await pages.abort();
      await dropCheckpoint(d.store, checkpoint);
      const pid = await d.jobs.resumedAfterLazyDump(job.jid);
      throw new CedanaError(
        'CEDANA_ERR_MIGRATE_FAILED',
        `migrating job "${job.jid}" to ${req.to} (--lazy) failed before it ran there: ${why.message}${why.remoteCode ? ` (${why.remoteCode})` : ''}; the job runs here again (PID ${pid})`,
      );
    }
    const t3 = performance.now();
    pages.resumed();
    ctx.log.info(
      { jid: job.jid, to: req.to, targetPid: restored.pid, downtimeMs: Math.round(t3 - t1) },
      'migration (lazy): the job runs on the target, its memory follows',
    );
    const end = await pages.ended();
    const t4 = performance.now();
    await d.jobs.markMigrated(job.jid, `${req.to} ${restored.jid}`, false);
    await dropCheckpoint(d.store, checkpoint);
    if (!end.ok)
      throw new CedanaError(
        'CEDANA_ERR_MIGRATE_FAILED',
        `job "${job.jid}" ran on ${req.to} as "${restored.jid}" but its memory did not all arrive (${end.why}): the job is lost (the target kills a process whose memory is incomplete)`,
        { hint: 'post-copy cannot come back once the target runs the job (docs/migration.md); migrate without --lazy where that matters' },
      );
    return {
      target: req.to,
      targetJid: restored.jid,
      targetPid: restored.pid,
      messages: [
        ...dumped.messages,
        ...[files.warning, pagesData.warning].filter((w): w is string => !!w),
        `post-copy: the whole memory reached the target in ${Math.round(t4 - t3)} ms after it resumed`,
      ],
      times: {
        prepareMs: t1 - t0,
        dumpMs: t2 - t1,
        transferAndRestoreMs: t3 - t2,
        downtimeMs: t3 - t1,
        totalMs: t4 - t0,
        pagesMs: t4 - t3,
      },
    };
  } finally {
    target.close();
  }
}

/** This side's criu and its relay to the target: killed, not closed, until the target runs the job. */
class SourcePages {
  readonly slot = new PageSlot();
  private running = false;
  /** The target's status said its lazy-pages pulled every page. */
  private complete = false;
  /** The data connection ended before the target ran the job or said the copy was complete. */
  private dataEnded = false;

  constructor(
    target: TargetDaemon,
    id: string,
    private readonly data?: Socket,
  ) {
    void this.slot.attached.then(({ socket }) => {
      const call = target.pages();
      call.write({ id, data: Buffer.alloc(0), overData: !!data });
      if (!data) {
        // Before the target runs the job, only a target whose lazy-pages pulled every page may end the
        // call cleanly (then this criu ends by itself); anything else kills criu, so the tree resumes.
        relay(socket, call, { onRemoteEnd: (err) => (this.running || !err ? socket.end() : this.kill()) });
        return;
      }
      // The bytes go over the data connection; the call's status alone says how the copy ended (the
      // connection's end may come before or after it: the target ends it once its lazy-pages closed).
      joinRaw(socket, data, {
        onDataEnd: () => {
          if (this.running || this.complete) socket.end();
          else this.dataEnded = true;
        },
      });
      call.on('data', () => {});
      const ended = (err?: Error) => {
        if (!err) {
          this.complete = true;
          if (this.dataEnded) socket.end();
        } else if (!this.running) this.kill();
      };
      call.on('status', (st: StatusObject) => ended(st.code === status.OK ? undefined : new Error(st.details)));
      call.on('error', (err: Error) => ended(err));
      call.resume();
    });
  }

  /** The target runs the job: from now on the relay's end is the copy's end. */
  resumed(): void {
    this.running = true;
    if (this.dataEnded) this.slot.current?.socket.end();
  }

  /** Before the target runs the job: kill criu (the frozen tree resumes) and wait for it to end. */
  async abort(): Promise<void> {
    this.data?.destroy();
    if (!this.slot.current) return;
    this.kill();
    await this.slot.current.ended;
  }

  /** How this criu ended: once it served every page (it kills the tree then), or failed. */
  async ended(): Promise<PagesEnd> {
    return this.slot.current?.ended ?? { ok: false, why: 'the engine never served the pages' };
  }

  private kill(): void {
    const pid = this.slot.current?.criuPid;
    if (!pid) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
