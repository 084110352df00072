/**
 * The benches' subject: a node script (`node -e SCRIPT READY_FILE`) that fills `mib` MiB of
 * memory, each 4 KiB page half random and half zeros (about 2:1 for lz4), writes READY_FILE,
 * then idles touching one byte a second.
 */
export function memoryHog(mib: number): string {
  return `
const crypto = require('node:crypto');
const b = Buffer.alloc(${mib} * 1024 * 1024);
const half = Buffer.alloc(2048);
for (let o = 0; o < b.length; o += 4096) { crypto.randomFillSync(half); half.copy(b, o); }
require('node:fs').writeFileSync(process.argv[1], 'ready');
setInterval(() => { b[0]++; }, 1000);
`;
}
