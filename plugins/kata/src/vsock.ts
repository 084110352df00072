/**
 * Node has no AF_VSOCK sockets, so a vsock address is reached through socat: it listens on
 * a private unix socket and connects each client there to `VSOCK-CONNECT:CID:PORT`. The
 * gRPC client dials that unix socket, exactly as it dials a unix address (the tests' stand-in
 * guest). socat (>= 1.7.4, VSOCK support) is a Debian package; a native addon would need a
 * compiler at install and install scripts, which `cedana plugin install` turns off.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CedanaError, spawnClean } from '@cedana/plugin-sdk';

export interface Bridge {
  socket: string;
  close(): Promise<void>;
}

/** socat's arguments for a bridge from `socket` to the guest's vsock port. */
export function socatArgs(socket: string, cid: number, port: number): string[] {
  return [`UNIX-LISTEN:${socket},fork,mode=600`, `VSOCK-CONNECT:${cid}:${port}`];
}

export async function openVsockBridge(
  cid: number,
  port: number,
  address: string,
  binary = process.env.CEDANA_SOCAT || 'socat',
): Promise<Bridge> {
  const dir = await mkdtemp(join(tmpdir(), 'cedana-kata-'));
  const socket = join(dir, 'guest.sock');
  let proc: ChildProcess | undefined;
  const close = async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let failed: Error | undefined;
    let stderr = '';
    proc = spawnClean(binary, socatArgs(socket, cid, port), { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    proc.on('error', (err) => {
      failed = err;
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++) {
      if (failed || proc.exitCode !== null) break;
      await sleep(20);
    }
    if (failed && (failed as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CedanaError(
        'CEDANA_ERR_KATA_GUEST_UNREACHABLE',
        `cannot reach the guest daemon at ${address}: socat (the vsock bridge) is not on the daemon's PATH`,
        {
          hint: 'install socat 1.7.4 or newer (Debian: `apt-get install socat`): Node has no vsock sockets of its own',
        },
      );
    }
    if (!existsSync(socket)) {
      throw new CedanaError(
        'CEDANA_ERR_KATA_GUEST_UNREACHABLE',
        `cannot reach the guest daemon at ${address}: the socat vsock bridge did not start${stderr ? `: ${stderr.trim()}` : failed ? `: ${failed.message}` : ''}`,
        {
          hint: 'socat must be 1.7.4 or newer (VSOCK-CONNECT) and the host needs the vhost_vsock module',
        },
      );
    }
    return { socket, close };
  } catch (err) {
    await close();
    throw err;
  }
}
