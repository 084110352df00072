/**
 * Dump of a Kata VM's workload: the host daemon asks the cedana daemon inside the guest to
 * dump into the host's checkpoint folder (ctx.imagesDir, which must be in a folder shared
 * with the guest), uncompressed, as the sub-folder `guest/`. The host then writes
 * checkpoint.json, packs and hashes as for any dump. This middleware is the end of the kata
 * dump: it does not call `next`, because the process adapters after it and CRIU's handler
 * would look for the process on the host, where it does not run.
 */

import { DumpReq } from '@cedana/core/proto';
import { CedanaError, type DumpAdapter, type DumpHandlerFn } from '@cedana/plugin-sdk';
import { resolveAddress } from './address.js';
import { kataDetails, requireVm, toGuestPath } from './details.js';
import { connectGuest } from './guest.js';

/** The guest's checkpoint, inside the host's checkpoint folder. */
export const GUEST_FOLDER = 'guest';

/** What checkpoint.json says under `kata`. */
export interface KataManifest {
  vm: string;
  address: string;
  guestVersion: string;
  guest: { checkpointId: string; type: string; jid: string; pid: number; folder: string };
}

export const forwardDumpToGuest: DumpAdapter = (_next: DumpHandlerFn) =>
  async function forwardDumpToGuest(ctx, req, res) {
    const d = kataDetails(req.details);
    const vm = requireVm(d);
    if (!d.jid && !d.pid)
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `nothing to dump in VM "${vm}": give --jid (a job of the guest's daemon) or --pid (a PID in the guest)`,
      );
    const guestDir = toGuestPath(ctx.imagesDir, d.share);
    const address = await resolveAddress(vm, d.address);
    const guest = await connectGuest(address);
    try {
      ctx.log.info({ vm, address: address.text, guestDir }, 'asking the guest daemon to dump');
      const r = await guest.dump(
        DumpReq.fromPartial({
          jid: d.jid ?? '',
          type: d.jid ? '' : 'process',
          pid: d.pid ?? 0,
          dir: guestDir,
          name: GUEST_FOLDER,
          compression: 'none',
          streams: 0,
          ...(req.criu ? { criu: req.criu } : {}),
        }),
        ctx.signal,
      );
      const c = r.checkpoint;
      if (!c) throw new CedanaError('CEDANA_ERR_INTERNAL', `the guest daemon at ${address.text} answered the dump without a checkpoint`);
      const manifest: KataManifest = {
        vm,
        address: address.text,
        guestVersion: guest.version,
        guest: { checkpointId: c.id, type: c.type, jid: c.jid, pid: c.pid, folder: GUEST_FOLDER },
      };
      ctx.setSection(manifest);
      res.messages.push(...r.messages.map((m) => `guest: ${m}`));
      ctx.log.info({ vm, guestCheckpoint: c.path, guestPid: c.pid }, 'the guest daemon dumped');
    } finally {
      await guest.close();
    }
  };
