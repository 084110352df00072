import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { TestS3 } from '/work/wt/s3mem/test/dist/harness/s3.js';

const s3 = await TestS3.start(['exp']);
const c = s3.client();
for (const k of ['a', 'b']) await c.send(new PutObjectCommand({ Bucket: 'exp', Key: k, Body: randomBytes(256 << 20) }));
console.log(s3.port);
