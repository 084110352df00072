import { readFile } from 'node:fs/promises';
import type { DumpAdapter } from '@cedana/core';
import { openFds } from '@cedana/core';

const TCP_ESTABLISHED = '01';

/** A process with established TCP connections is dumped with --tcp-established, unless the request said otherwise. */
export const detectNetworkOptionsForDump: DumpAdapter = (next) =>
  async function detectNetworkOptionsForDump(ctx, req, res) {
    if (req.criu?.tcpEstablished === undefined && !ctx.criu.tcpClose) {
      const established = await establishedTcpInodes(ctx.pid);
      const fds = await openFds(ctx.pid);
      const has = [...fds.values()].some((t) => established.has(t.replace(/^socket:\[(\d+)\]$/, '$1')));
      if (has) {
        ctx.log.info({ pid: ctx.pid }, 'process has established TCP connections: dumping with --tcp-established');
        ctx.criu.tcpEstablished = true;
      }
    }
    return next(ctx, req, res);
  };

async function establishedTcpInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const file of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === TCP_ESTABLISHED && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}
