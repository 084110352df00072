import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCriuStats } from './criu-stats.js';

describe('CRIU stats images', () => {
  it('reads a stats-dump written by CRIU 4.2', () => {
    const image = Buffer.from(
      '4059105506330957220000000a2008de0110fb2e18b40620ab012866300038' + '3b4000480050' + '0c580c6000680070' + '00',
      'hex',
    );
    assert.deepEqual(parseCriuStats(image), {
      freezingNs: 222_000,
      frozenNs: 6_011_000,
      memdumpNs: 820_000,
      memwriteNs: 171_000,
      pagesWritten: 59,
    });
  });

  it('reads a stats-restore', () => {
    // restore = 2 { pages_compared 0, forking_time 1500, restore_time 90000, pages_restored 300 }
    const inner = Buffer.from([0x08, 0x00, 0x18, 0xdc, 0x0b, 0x20, 0x90, 0xbf, 0x05, 0x28, 0xac, 0x02]);
    const message = Buffer.concat([Buffer.from([0x12, inner.length]), inner]);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(0x55105940, 0);
    head.writeUInt32LE(0x57093306, 4);
    head.writeUInt32LE(message.length, 8);
    assert.deepEqual(parseCriuStats(Buffer.concat([head, message])), { forkingNs: 1_500_000, restoreNs: 90_000_000, pagesRestored: 300 });
  });

  it('gives nothing for other files', () => {
    assert.deepEqual(parseCriuStats(Buffer.from('not an image')), {});
    assert.deepEqual(parseCriuStats(Buffer.alloc(0)), {});
  });
});
