import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refuseEntry } from './tar-extract.js';

describe('refuseEntry', () => {
  it('accepts files, folders and links that stay inside', () => {
    for (const entry of [
      { path: 'pages-1.img', type: 'File' },
      { path: 'sub/', type: 'Directory' },
      { path: './checkpoint.json', type: 'OldFile' },
      { path: 'sub/link', type: 'SymbolicLink', linkpath: 'target.img' },
      { path: 'hard', type: 'Link', linkpath: 'sub/pages-1.img' },
    ]) {
      assert.equal(refuseEntry(entry), undefined, entry.path);
    }
  });

  it('refuses paths that leave the destination', () => {
    assert.match(refuseEntry({ path: '../evil', type: 'File' }) ?? '', /'\.\.'/);
    assert.match(refuseEntry({ path: 'a/../../evil', type: 'File' }) ?? '', /'\.\.'/);
    assert.match(refuseEntry({ path: '/etc/passwd', type: 'File' }) ?? '', /absolute/);
  });

  it('refuses links that point outside, or through ..', () => {
    assert.match(refuseEntry({ path: 'l', type: 'SymbolicLink', linkpath: '/etc/passwd' }) ?? '', /absolute path \/etc\/passwd/);
    assert.match(refuseEntry({ path: 'a/l', type: 'SymbolicLink', linkpath: '../../x' }) ?? '', /points outside/);
    assert.match(refuseEntry({ path: 'h', type: 'Link', linkpath: '../x' }) ?? '', /hard link to \.\.\/x, which points outside/);
    assert.match(refuseEntry({ path: 'a/l', type: 'SymbolicLink', linkpath: '../x' }) ?? '', /link targets with '\.\.' are refused/);
  });

  it('refuses device files and FIFOs', () => {
    assert.match(refuseEntry({ path: 'null', type: 'CharacterDevice' }) ?? '', /device/);
    assert.match(refuseEntry({ path: 'sda', type: 'BlockDevice' }) ?? '', /device/);
    assert.match(refuseEntry({ path: 'fifo', type: 'FIFO' }) ?? '', /FIFO/);
  });
});
