/** `cedana attach` as a user runs it: collect its stdout until a pattern shows, then detach with Ctrl+C. */
import { spawn } from 'node:child_process';
import { LAUNCHER, type TestDaemon } from './daemon.js';

export function attachUntil(d: TestDaemon, jid: string, until: RegExp, input?: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(LAUNCHER, ['attach', jid], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`attach saw no ${until} in: ${out} ${err}`));
    }, 15_000);
    p.stdout.on('data', (c) => {
      out += c;
      if (until.test(out)) p.kill('SIGINT');
    });
    p.stderr.on('data', (c) => (err += c));
    if (input !== undefined) p.stdin.write(input);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}
