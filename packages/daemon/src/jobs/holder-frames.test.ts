import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, FrameReader } from './holder-frames.js';

describe('holder frames', () => {
  it('reads back what was encoded, whatever the chunk boundaries', () => {
    const wire = Buffer.concat([encodeFrame('o', Buffer.from('out')), encodeFrame('c'), encodeFrame('e', Buffer.alloc(70_000, 'e'))]);
    const reader = new FrameReader();
    const frames = [];
    for (let at = 0; at < wire.length; at += 7) frames.push(...reader.push(wire.subarray(at, at + 7)));
    assert.deepEqual(
      frames.map((f) => [f.type, f.data.length]),
      [
        ['o', 3],
        ['c', 0],
        ['e', 70_000],
      ],
    );
    assert.equal(frames[0]?.data.toString(), 'out');
  });

  it('holds a partial frame back until the rest arrives', () => {
    const wire = encodeFrame('x', Buffer.from('{"code":3}'));
    const reader = new FrameReader();
    assert.deepEqual(reader.push(wire.subarray(0, 8)), []);
    const [frame] = reader.push(wire.subarray(8));
    assert.equal(frame?.type, 'x');
    assert.equal(frame?.data.toString(), '{"code":3}');
  });
});
