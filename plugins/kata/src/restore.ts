/**
 * Restore into a Kata VM: the host daemon verifies (and unpacks) the checkpoint as for any
 * restore, then asks the guest's daemon to restore the `guest/` folder of it, which the guest
 * sees through the shared folder. Like the dump, this middleware ends the pipeline (no CRIU
 * on the host). The host's job stands for the guest's: its exit is learnt by asking the guest.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestoreReq } from '@cedana/core/proto';
import { CedanaError, type ExitStatus, type RestoreAdapter } from '@cedana/plugin-sdk';
import { type GuestAddress, resolveAddress } from './address.js';
import { kataDetails, requireVm, toGuestPath } from './details.js';
import type { KataManifest } from './dump.js';
import { connectGuest, type Guest } from './guest.js';

const POLL_MS = 1000;

export const forwardRestoreToGuest: RestoreAdapter = (_next) =>
  async function forwardRestoreToGuest(ctx, req, res) {
    const d = kataDetails(req.details);
    const vm = requireVm(d);
    const m = ctx.section<KataManifest>();
    if (!m?.guest?.folder)
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `checkpoint ${req.path} has no guest checkpoint: it was not made by \`cedana dump kata\``,
      );
    const guestPath = toGuestPath(join(ctx.imagesDir, m.guest.folder), d.share);
    const address = await resolveAddress(vm, d.address);
    const guest = await connectGuest(address);
    let pid: number;
    let jid: string;
    try {
      ctx.log.info({ vm, address: address.text, guestPath }, 'asking the guest daemon to restore');
      const r = await guest.restore(
        RestoreReq.fromPartial({ path: guestPath, type: m.guest.type, jid: d.jid ?? '', ...(req.criu ? { criu: req.criu } : {}) }),
        ctx.signal,
      );
      pid = r.pid;
      jid = r.jid;
      res.messages.push(...r.messages.map((msg) => `guest: ${msg}`), `restored in VM "${vm}" as guest job ${jid} (guest PID ${pid})`);
    } finally {
      await guest.close();
    }
    return { pid, exited: watchGuestJob(address, jid, ctx.log) };
  };

/**
 * Settles when the guest's job is no longer running, asking the guest every second. While
 * the guest cannot be reached it keeps asking (the VM may be paused); it gives up, as exited
 * with no code, only once the guest says it no longer knows the job.
 */
async function watchGuestJob(address: GuestAddress, jid: string, log: { warn(o: object, m: string): void }): Promise<ExitStatus> {
  let guest: Guest | undefined;
  for (;;) {
    await sleep(POLL_MS, undefined, { ref: false });
    try {
      guest ??= await connectGuest(address);
      const { jobs } = await guest.list({ jids: [jid], type: '' });
      const job = jobs.find((j) => j.jid === jid);
      if (job?.state?.status !== 'running') {
        await guest.close();
        return { code: job?.state?.exitCode ?? null, signal: job?.state?.exitSignal || null };
      }
    } catch (err) {
      log.warn({ err, jid, address: address.text }, 'cannot ask the guest daemon about its job; asking again');
      await guest?.close().catch(() => {});
      guest = undefined;
      await sleep(POLL_MS * 4, undefined, { ref: false });
    }
  }
}
