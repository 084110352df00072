import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessDenied, NoSuchBucket } from '@aws-sdk/client-s3';
import { storageError } from './s3-errors.js';

const endpoint = 'http://127.0.0.1:9000';

describe('storage errors', () => {
  it('names the bucket and how to create it when it is missing', () => {
    const err = storageError(
      new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: { httpStatusCode: 404 } }),
      'listing s3://ckpts/x',
      { endpoint },
    );
    assert.equal(err.code, 'CEDANA_ERR_STORAGE_BUCKET_MISSING');
    assert.match(err.message, /the bucket ckpts does not exist at http:\/\/127\.0\.0\.1:9000/);
    assert.match(err.hint, /aws s3 mb s3:\/\/ckpts.*storage\.s3\.create_bucket/);
  });

  it('tells access denied apart from refused credentials', () => {
    const err = storageError(new AccessDenied({ message: 'Access Denied', $metadata: { httpStatusCode: 403 } }), 'uploading s3://ckpts/x', {
      endpoint,
    });
    assert.equal(err.code, 'CEDANA_ERR_STORAGE_DENIED');
    assert.match(err.hint, /s3:PutObject/);
  });

  it('a refused connection is UNREACHABLE before a transfer and INTERRUPTED during one', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    assert.equal(storageError(refused, 'listing s3://ckpts/x', { endpoint }).code, 'CEDANA_ERR_STORAGE_UNREACHABLE');
    const cut = storageError(refused, 'uploading s3://ckpts/x', { endpoint, transfer: true });
    assert.equal(cut.code, 'CEDANA_ERR_STORAGE_INTERRUPTED');
    assert.match(cut.message, /uploading s3:\/\/ckpts\/x failed: lost the connection to http:\/\/127\.0\.0\.1:9000 \(ECONNREFUSED\)/);
  });
});
