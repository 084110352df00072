/**
 * The gRPC client of the cedana daemon inside a Kata guest: the same DaemonClient the CLI
 * uses, over a unix socket (directly, or socat's bridge to vsock). Before any request the
 * guest must answer a HealthCheck whose "daemon" component reports a version of at least
 * MIN_GUEST_VERSION. A failed call keeps the guest's own error code, named after the guest.
 */

import { stat } from 'node:fs/promises';
import {
  credentials,
  DaemonClient,
  type DumpReq,
  type DumpResp,
  type HealthCheckResp,
  type ListReq,
  type ListResp,
  type RestoreReq,
  type RestoreResp,
} from '@cedana/core/proto';
import { atLeastVersion, CedanaError, errorFromTrailer, type FailedCall, isCedanaError } from '@cedana/plugin-sdk';
import type { GuestAddress } from './address.js';
import { openVsockBridge } from './vsock.js';

/** The oldest guest daemon whose Dump and Restore do what this plugin asks (a folder in the shared dir, compression none). */
export const MIN_GUEST_VERSION = '0.1.0';
const CONNECT_TIMEOUT_MS = 5000;

export interface Guest {
  address: string;
  version: string;
  dump(req: Partial<DumpReq>, signal?: AbortSignal): Promise<DumpResp>;
  restore(req: Partial<RestoreReq>, signal?: AbortSignal): Promise<RestoreResp>;
  list(req: Partial<ListReq>): Promise<ListResp>;
  close(): Promise<void>;
}

/** gRPC status of a call that found nobody listening. */
const GRPC_UNAVAILABLE = 14;

type Unary<Req, Resp> = (req: Req, cb: (err: FailedCall | null, resp: Resp) => void) => { cancel(): void };

/** Connects, and refuses a guest daemon that is not there or too old. */
export async function connectGuest(address: GuestAddress, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Guest> {
  if (
    address.kind === 'unix' &&
    !(await stat(address.path).then(
      (s) => s.isSocket(),
      () => false,
    ))
  ) {
    throw new CedanaError(
      'CEDANA_ERR_KATA_GUEST_UNREACHABLE',
      `cannot reach the guest daemon at ${address.text}: no socket at ${address.path}`,
    );
  }
  const bridge = address.kind === 'vsock' ? await openVsockBridge(address.cid, address.port, address.text) : undefined;
  const target = `unix://${bridge?.socket ?? (address as { path: string }).path}`;
  const client = new DaemonClient(target, credentials.createInsecure(), { 'grpc.enable_http_proxy': 0 });
  const close = async () => {
    client.close();
    await bridge?.close();
  };
  try {
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (!err) return resolve();
        reject(
          new CedanaError(
            'CEDANA_ERR_KATA_GUEST_UNREACHABLE',
            `cannot reach the guest daemon at ${address.text}${bridge ? ` (through the socat bridge ${bridge.socket})` : ''} within ${timeoutMs / 1000} s: ${err.message}`,
          ),
        );
      }),
    );
    const call = <Req, Resp>(method: Unary<Req, Resp>, req: Req, signal?: AbortSignal): Promise<Resp> =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const c = method.call(client, req, (err, resp) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(guestError(err, address.text));
          else resolve(resp);
        });
        const onAbort = () => c.cancel();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    const health = await call(client.healthCheck as unknown as Unary<object, HealthCheckResp>, {});
    const version =
      health.components.find((c) => c.name === 'daemon' && c.source === 'core')?.data.version ??
      health.components.find((c) => c.name === 'daemon')?.data.version;
    if (!version || !atLeastVersion(version, MIN_GUEST_VERSION)) {
      throw new CedanaError(
        'CEDANA_ERR_KATA_GUEST_TOO_OLD',
        `the guest daemon at ${address.text} is ${version ? `version ${version}` : 'of an unknown version (its HealthCheck reports none)'}; the kata plugin needs ${MIN_GUEST_VERSION} or newer`,
      );
    }
    return {
      address: address.text,
      version,
      dump: (req, signal) => call(client.dump as unknown as Unary<Partial<DumpReq>, DumpResp>, req, signal),
      restore: (req, signal) => call(client.restore as unknown as Unary<Partial<RestoreReq>, RestoreResp>, req, signal),
      list: (req) => call(client.list as unknown as Unary<Partial<ListReq>, ListResp>, req),
      close,
    };
  } catch (err) {
    await close();
    if (isCedanaError(err) && err.code === 'CEDANA_ERR_INTERNAL' && /UNAVAILABLE|unavailable/i.test(err.message))
      throw new CedanaError('CEDANA_ERR_KATA_GUEST_UNREACHABLE', err.message);
    throw err;
  }
}

/** A failed guest call as a CedanaError: the guest's code when it sent one, its message prefixed with the guest. */
export function guestError(call: FailedCall, address: string): CedanaError {
  const message = `guest daemon at ${address}: ${call.details || 'the call failed'}`;
  const fromGuest = errorFromTrailer(call, message);
  if (fromGuest) return fromGuest;
  if (call.code === GRPC_UNAVAILABLE) return new CedanaError('CEDANA_ERR_KATA_GUEST_UNREACHABLE', message);
  return new CedanaError('CEDANA_ERR_INTERNAL', message);
}
