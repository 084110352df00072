import { readFile } from 'node:fs/promises';
import type { DumpAdapter } from '@cedana/core';
import { openFds } from '@cedana/core';

const TCP_ESTABLISHED = '01';

/** A process with established TCP connections is dumped with --tcp-established, unless the request said otherwise. */
export const detectNetworkOptionsForDump: DumpAdapter = (next) =>
  async function detectNetworkOptionsForDump(ctx, req, res) {
    if (req.criu?.tcpEstablished === undefined && !ctx.criu.tcpClose) {
      // A process without sockets has no TCP connection: its netns's tables are not read.
      const sockets = [...(await openFds(ctx.pid)).values()].flatMap((t) => /^socket:\[(\d+)\]$/.exec(t)?.[1] ?? []);
      const established = sockets.length ? await establishedTcpInodes(ctx.pid) : new Set<string>();
      const has = sockets.some((inode) => established.has(inode));
      if (has) {
        ctx.log.info({ pid: ctx.pid }, 'process has established TCP connections: dumping with --tcp-established');
        ctx.criu.tcpEstablished = true;
      }
    }
    return next(ctx, req, res);
  };

async function establishedTcpInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const tables = await Promise.all(['tcp', 'tcp6'].map((file) => readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '')));
  for (const text of tables) {
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === TCP_ESTABLISHED && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}
