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
const mem = (t) => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const g = (k) => Number(new RegExp(k + ':\\s+(\\d+)').exec(s)[1]) >> 10;
  const m = process.memoryUsage();
  console.log(t, 'rss', g('VmRSS'), 'hwm', g('VmHWM'), 'heap', m.heapUsed >> 20, 'ext', m.external >> 20, 'ab', m.arrayBuffers >> 20);
};
mem('start');
const PART = 8 << 20;
const t0 = Date.now();
await Promise.all(
  ['a', 'b'].map(async (k) => {
    const r = await rangedReader(client, { bucket: 'exp', key: k }, { fail: (e) => e });
    const f = await open(`/tmp/s3mem-exp/${k}`, 'w');
    let next = 0;
    const worker = async () => {
      while (next < r.size) {
        const s = next;
        next = Math.min(r.size, s + PART);
        await r.readTo(s, next, async (b, at) => {
          await f.write(b, 0, b.length, at);
        });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    await f.close();
  }),
);
mem(`done ${Date.now() - t0} ms`);
await new Promise((r) => setTimeout(r, 2000));
mem('2s later');
if (global.gc) {
  global.gc();
  mem('after gc');
}
