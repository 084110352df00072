/**
 * The plugin's part of a request: `details.containerd` (a google.protobuf.Struct), built by
 * the CLI from the flags (commands.ts) or kept in a job's record.
 */
import { CedanaError } from '@cedana/plugin-sdk';
import { DEFAULT_NAMESPACE, defaultAddress } from './socket.js';

/** What a containerd request or job carries. */
export interface ContainerdDetails {
  /** containerd's socket (default /run/containerd/containerd.sock). */
  address?: string;
  /** containerd namespace (default "default"). */
  namespace?: string;
  /** Container ID. */
  id?: string;
  /** Image reference (run). */
  image?: string;
  /** Snapshotter of a new container (default overlayfs). */
  snapshotter?: string;
  /** Dump: take the container's writable layer into the checkpoint. */
  rootfs?: boolean;
}

const STRINGS = ['address', 'namespace', 'id', 'image', 'snapshotter'] as const;
/** containerd's identifier rule (namespaces, container IDs). */
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$/;

/** `details.containerd` of a request, checked. */
export function containerdDetails(details: Record<string, unknown> | undefined): ContainerdDetails {
  const raw = details?.containerd;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.containerd must be an object, found ${JSON.stringify(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const out: ContainerdDetails = {};
  for (const key of STRINGS) {
    const v = r[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.containerd.${key} must be a string, found ${JSON.stringify(v)}`);
    }
    out[key] = v;
  }
  if (r.rootfs !== undefined && r.rootfs !== null) {
    if (typeof r.rootfs !== 'boolean') {
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `details.containerd.rootfs must be true or false, found ${JSON.stringify(r.rootfs)}`,
      );
    }
    out.rootfs = r.rootfs;
  }
  if (out.id !== undefined) assertIdentifier(out.id, 'container ID');
  if (out.namespace !== undefined) assertIdentifier(out.namespace, 'namespace');
  return out;
}

export function assertIdentifier(value: string, what: string): void {
  if (!IDENTIFIER.test(value) || value.length > 76) {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `"${value}" is not a valid ${what}: containerd allows letters and digits, joined by single . _ or -, up to 76 characters`,
    );
  }
}

/** The container ID, or a clear error naming the flag. */
export function requireId(d: ContainerdDetails, command: string): string {
  if (!d.id) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `no container ID: give \`cedana ${command} containerd --id ID\``);
  return d.id;
}

export const addressOf = (d: ContainerdDetails) => d.address ?? defaultAddress();
export const namespaceOf = (d: ContainerdDetails) => d.namespace ?? DEFAULT_NAMESPACE;

/** `details` with `details.containerd` replaced (what the daemon keeps in the job's record). */
export function withContainerdDetails(details: Record<string, unknown> | undefined, d: ContainerdDetails): Record<string, unknown> {
  const clean = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined && v !== ''));
  return { ...details, containerd: clean };
}
