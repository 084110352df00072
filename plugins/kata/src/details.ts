/** `details.kata` of a request, as the CLI sends it; checked again in the daemon (any client may send one). */
import { CedanaError } from '@cedana/plugin-sdk';

export interface KataDetails {
  /** VM (sandbox) ID. */
  vm?: string;
  /** Guest daemon address; else the VM map's. */
  address?: string;
  /** What to dump in the guest: a guest job... */
  jid?: string;
  /** ...or a guest PID. */
  pid?: number;
  /** The shared folder as `HOST:GUEST` paths, when the guest mounts it elsewhere (default: the same path). */
  share?: string;
}

export function kataDetails(details: Record<string, unknown> | undefined): KataDetails {
  const d = (details?.kata ?? {}) as Record<string, unknown>;
  const out: KataDetails = {};
  for (const k of ['vm', 'address', 'jid', 'share'] as const) {
    if (d[k] === undefined || d[k] === '') continue;
    if (typeof d[k] !== 'string') throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.kata.${k} must be a string`);
    out[k] = d[k];
  }
  if (d.pid !== undefined && d.pid !== 0) {
    if (typeof d.pid !== 'number' || !Number.isInteger(d.pid) || d.pid < 1)
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.kata.pid must be a positive integer, found ${JSON.stringify(d.pid)}`);
    out.pid = d.pid;
  }
  return out;
}

export function requireVm(d: KataDetails): string {
  if (!d.vm) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no VM: give --vm ID');
  return d.vm;
}

/** Maps a host path into the guest through `share` (`HOST:GUEST`). */
export function toGuestPath(hostPath: string, share: string | undefined): string {
  if (!share) return hostPath;
  const i = share.indexOf(':');
  const host = share.slice(0, i).replace(/\/+$/, '');
  const guest = share.slice(i + 1).replace(/\/+$/, '');
  if (i < 1 || !guest.startsWith('/') || !host.startsWith('/'))
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `--share "${share}" is not HOST_PATH:GUEST_PATH (both absolute)`);
  if (hostPath !== host && !hostPath.startsWith(`${host}/`))
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `${hostPath} is not inside the shared folder ${host}: the guest could not see it`,
      {
        hint: `dump with --dir inside ${host}`,
      },
    );
  return guest + hostPath.slice(host.length);
}
