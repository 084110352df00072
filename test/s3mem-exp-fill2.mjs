import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { rangedReader } from '../plugins/storage-s3/dist/ranged-download.js';

const port = readFileSync('/tmp/s3mem-exp/port', 'utf8').trim();
const client = new S3Client({
  endpoint: `http://127.0.0.1:${port}`,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const PART = 8 << 20;
const mode = process.argv[2];
const t0 = Date.now();
let writes = 0;
await Promise.all(
  ['a', 'b'].map(async (k) => {
    const r = await rangedReader(client, { bucket: 'exp', key: k }, { fail: (e) => e });
    const f = await open(`/tmp/s3mem-exp/${k}`, 'w');
    let next = 0;
    const worker = async () => {
      while (next < r.size) {
        const s = next;
        next = Math.min(r.size, s + PART);
        if (mode === 'each')
          await r.readTo(s, next, async (b, at) => {
            writes++;
            await f.write(b, 0, b.length, at);
          });
        else if (mode === 'none') await r.readTo(s, next, async () => {});
        else {
          let batch = [];
          let len = 0;
          let bat = 0;
          const flush = async () => {
            if (len) {
              writes++;
              await f.writev(batch, bat);
            }
            batch = [];
            len = 0;
          };
          await r.readTo(s, next, async (b, at) => {
            if (len === 0) bat = at;
            batch.push(b);
            len += b.length;
            if (len >= 1 << 20) await flush();
          });
          await flush();
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    await f.close();
  }),
);
const s = readFileSync('/proc/self/status', 'utf8');
console.log(
  mode,
  Date.now() - t0,
  'ms',
  writes,
  'writes',
  'hwm',
  Number(/VmHWM:\s+(\d+)/.exec(s)[1]) >> 10,
  'cpu',
  JSON.stringify(process.cpuUsage()),
);
