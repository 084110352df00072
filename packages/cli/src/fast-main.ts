/**
 * What the launcher runs for the command lines that have a fast path (fast-path/ps.ts), bundled
 * on its own as CommonJS (fast-main.cjs: ~20% faster to start than the same as ES modules on
 * Node 20): that path, else the full CLI in this same process (fast-fallback.ts).
 */
import { fastPs, isFastPs } from './fast-path/ps.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const fast = isFastPs(args) ? await fastPs(process.env) : undefined;
  if (fast?.stdout !== undefined) {
    process.stdout.write(fast.stdout);
    return 0;
  }
  const { runFull } = await import('./fast-fallback.js');
  return runFull(args, fast?.timedOut);
}

void main().then((code) => process.exit(code));
