/**
 * Where the cedana daemon of a Kata guest listens. The real transport is vsock
 * (`vsock://CID:PORT`); `unix:///path` dials a unix socket instead, which is how the tests
 * reach a second daemon that stands in for the guest (the client code is the same).
 * A VM ID becomes an address through `--guest-address`, else the kata VM map: a JSON object
 * `{ "<vm id>": "vsock://CID:PORT" }` in $CEDANA_KATA_VMS or /etc/cedana/kata-vms.json,
 * read by the host daemon.
 */
import { readFile } from 'node:fs/promises';
import { CedanaError } from '@cedana/plugin-sdk';

export const DEFAULT_VM_MAP = '/etc/cedana/kata-vms.json';

export type GuestAddress = { kind: 'vsock'; cid: number; port: number; text: string } | { kind: 'unix'; path: string; text: string };

/** Parses `vsock://CID:PORT` or `unix:///absolute/path`. */
export function parseAddress(text: string): GuestAddress {
  const vsock = /^vsock:\/\/(\d+):(\d+)$/.exec(text);
  if (vsock) {
    const cid = Number(vsock[1]);
    const port = Number(vsock[2]);
    if (cid > 2 && cid < 0xffffffff && port > 0 && port < 0xffffffff) return { kind: 'vsock', cid, port, text };
  }
  const unix = /^unix:\/\/(\/.+)$/.exec(text);
  if (unix) return { kind: 'unix', path: unix[1] as string, text };
  throw new CedanaError(
    'CEDANA_ERR_INVALID_ARGUMENT',
    `guest address "${text}" is neither vsock://CID:PORT (CID 3 or more) nor unix:///absolute/path`,
    { hint: "give --guest-address vsock://CID:PORT: the VM's vsock CID and the port cedana-daemon listens on in the guest" },
  );
}

/** The map file the host daemon reads. */
export function vmMapPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CEDANA_KATA_VMS || DEFAULT_VM_MAP;
}

/** The guest address of VM `vm`: the explicit one, else the VM map's entry. */
export async function resolveAddress(vm: string, explicit: string | undefined, mapPath = vmMapPath()): Promise<GuestAddress> {
  if (explicit) return parseAddress(explicit);
  let map: Record<string, unknown> = {};
  let why = `${mapPath} does not exist`;
  try {
    const parsed: unknown = JSON.parse(await readFile(mapPath, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    map = parsed as Record<string, unknown>;
    why = `${mapPath} has no entry "${vm}" (it knows: ${Object.keys(map).join(', ') || 'none'})`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `the kata VM map ${mapPath} cannot be read: ${(err as Error).message}`, {
        hint: 'it must be a JSON object of VM ID to address, e.g. {"my-vm": "vsock://3:9999"}',
      });
    }
  }
  const entry = map[vm];
  if (typeof entry !== 'string') throw new CedanaError('CEDANA_ERR_KATA_VM_NOT_FOUND', `no Kata VM "${vm}": ${why}`);
  return parseAddress(entry);
}
