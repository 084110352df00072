/**
 * The plugin's part of a request: `details.runc` (a google.protobuf.Struct), built by
 * the CLI from `--id`, `--root`, `--bundle` (commands.ts) or kept in a job's record.
 */
import { CedanaError } from '@cedana/plugin-sdk';

/** What a runc request or job carries. Paths are absolute (the CLI resolves them). */
export interface RuncDetails {
  /** Container ID. */
  id?: string;
  /** runc's --root; empty: runc's default (/run/runc). */
  root?: string;
  /** Bundle folder, or a tar of one (or of a rootfs). */
  bundle?: string;
  /** Where a tar bundle was unpacked for the running container (removed when it ends). */
  extracted?: string;
}

const KEYS = ['id', 'root', 'bundle', 'extracted'] as const;
/** runc's own rule for container IDs. */
const ID = /^[\w+.-]+$/;

/** `details.runc` of a request, checked: every field a string. */
export function runcDetails(details: Record<string, unknown> | undefined): RuncDetails {
  const raw = details?.runc;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.runc must be an object, found ${JSON.stringify(raw)}`);
  const out: RuncDetails = {};
  for (const key of KEYS) {
    const v = (raw as Record<string, unknown>)[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string')
      throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `details.runc.${key} must be a string, found ${JSON.stringify(v)}`);
    out[key] = v;
  }
  if (out.id !== undefined) assertContainerId(out.id);
  return out;
}

export function assertContainerId(id: string): void {
  if (!ID.test(id)) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `"${id}" is not a valid container ID: runc allows letters, digits and _ + - .`);
  }
}

/** The container ID, or a clear error naming the flag. */
export function requireId(d: RuncDetails, command: string): string {
  if (!d.id) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `no container ID: give \`cedana ${command} runc --id ID\``);
  return d.id;
}

/** `details` with `details.runc` replaced by `runc` (what the daemon keeps in the job's record). */
export function withRuncDetails(details: Record<string, unknown> | undefined, runc: RuncDetails): Record<string, unknown> {
  const clean = Object.fromEntries(Object.entries(runc).filter(([, v]) => v !== undefined && v !== ''));
  return { ...details, runc: clean };
}
