/**
 * A job that keeps state in memory and a listening socket: a TCP server on 127.0.0.1:PORT
 * that answers each connection with how many it has had. A migration test asks it here,
 * moves it, and asks it again inside the target's network namespace: the count goes on.
 */
import { connect } from 'node:net';
import type { TargetHost } from './target-host.js';

export interface CountingServer {
  /** The job's command line (`run process ... -- ARGV`); its env wants UV_USE_IO_URING=0 (CRIU and io_uring). */
  argv: string[];
  /** The count the server answers on this host, or undefined when nothing listens. */
  askHere(): Promise<string | undefined>;
  /** The same, asked inside the target host's namespaces. */
  askThere(t: TargetHost): Promise<string | undefined>;
}

export function countingServer(port: number): CountingServer {
  const server = `let n = 0; require('net').createServer((s) => { n++; s.end(String(n)); }).listen(${port}, '127.0.0.1');`;
  const client = `const s = require('net').connect(${port}, '127.0.0.1'); let g = ''; s.on('data', (d) => (g += d)); s.on('end', () => process.stdout.write(g)); s.on('error', () => process.exit(1));`;
  return {
    argv: [process.execPath, '-e', server],
    askHere: () =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('end', () => resolve(got));
        s.on('error', () => resolve(undefined));
      }),
    askThere: async (t) => {
      const r = await t.inside([process.execPath, '-e', client]);
      return r.code === 0 ? r.stdout : undefined;
    },
  };
}
