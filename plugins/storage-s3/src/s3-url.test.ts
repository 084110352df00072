import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseS3Url, s3Url } from './s3-url.js';

describe('s3:// URLs', () => {
  it('reads the bucket and the key, without the trailing slash', () => {
    assert.deepEqual(parseS3Url('s3://ckpts/train/run-1/'), { bucket: 'ckpts', key: 'train/run-1' });
    assert.deepEqual(parseS3Url('s3://ckpts'), { bucket: 'ckpts', key: '' });
    assert.equal(s3Url({ bucket: 'ckpts', key: 'a/b' }), 's3://ckpts/a/b');
  });

  it('refuses bucket names S3 refuses and keys that leave their prefix, naming the URL', () => {
    for (const url of ['s3://ck/x', 's3://Upper/x', 'http://ckpts/x', 's3:///x']) {
      assert.throws(
        () => parseS3Url(url),
        (err: Error & { code?: string }) => err.code === 'CEDANA_ERR_INVALID_ARGUMENT' && err.message.includes(url),
      );
    }
    for (const url of ['s3://ckpts/a/../b', 's3://ckpts/a//b', 's3://ckpts/./a']) {
      assert.throws(() => parseS3Url(url), /has an empty, "\." or "\.\." part/);
    }
  });
});
