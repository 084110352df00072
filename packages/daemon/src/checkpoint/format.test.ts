import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import { compressFrameSync } from 'lz4-napi';
import { Header } from 'tar';
import { formatOfHead } from './format.js';
import { ZSTD_HEAD } from './stored-head.js';

function tarHead(path: string): Buffer {
  const block = Buffer.alloc(512);
  new Header({ path, type: 'File', size: 0, mode: 0o644, mtime: new Date(0) }).encode(block, 0);
  return block;
}

describe('formatOfHead', () => {
  it('knows each format by its magic bytes', async () => {
    assert.equal(formatOfHead(compressFrameSync(Buffer.from('x'))), 'lz4');
    assert.equal(formatOfHead(gzipSync('x')), 'gzip');
    assert.equal(formatOfHead(await zstdCompress(Buffer.from('x'), 1)), 'zstd');
    assert.equal(formatOfHead(ZSTD_HEAD.encode(Buffer.from('x'))), 'zstd');
    assert.equal(formatOfHead(deflateSync('x', { level: 1 })), 'zlib');
    assert.equal(formatOfHead(deflateSync('x', { level: 9 })), 'zlib');
    assert.equal(formatOfHead(tarHead('checkpoint.json')), 'tar');
  });

  it('takes a tar whose first name looks like a zlib header for a tar', () => {
    // 'x^' is 0x78 0x5e, a valid zlib header (level 2-5); the ustar magic wins.
    assert.equal(formatOfHead(tarHead('x^pages.img')), 'tar');
  });

  it('recognises nothing in other data', () => {
    assert.equal(formatOfHead(Buffer.from('{"not": "an archive"}')), undefined);
    assert.equal(formatOfHead(Buffer.from([0x78, 0x9d])), undefined, 'zlib header with a bad check value');
    assert.equal(formatOfHead(Buffer.from([0x78, 0xbb])), undefined, 'zlib header with a preset dictionary');
    assert.equal(formatOfHead(Buffer.alloc(0)), undefined);
  });
});
