import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Arrivals, ArrivalsStopped } from './arrivals.js';

const settled = async (p: Promise<void>) => {
  let state = 'pending';
  p.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

it('a chunk is waited for until every byte of its range is present, and asked for once missing', async () => {
  const wants: [string, number, number][] = [];
  const a = new Arrivals(2, (file, start, end) => wants.push([file, start, end]));
  const wait = a.until(1, 100, 300);
  assert.deepEqual(wants, [['img-1.lz4', 100, 300]], 'asks for the missing range');
  a.take({ present: ['img-1.lz4', 0, 200] });
  a.take({ present: ['img-0.lz4', 0, 1000] });
  assert.equal(await settled(wait), 'pending', 'half of it, or another shard, is not enough');
  a.take({ present: ['img-1.lz4', 200, 400] });
  assert.equal(await settled(wait), 'resolved', 'adjacent ranges merge');
  assert.equal(await settled(a.until(0, 10, 20)), 'resolved');
  assert.equal(wants.length, 1, 'present bytes are not asked for');
});

it('the download failing fails every wait, and CRIU being done ends them as stopped', async () => {
  const a = new Arrivals(1, () => {});
  const wait = a.until(0, 0, 10);
  a.take({ failed: 's3://b/k/img-0.lz4 is missing' });
  await assert.rejects(wait, /download of the checkpoint failed: s3:\/\/b\/k\/img-0\.lz4 is missing/);
  await assert.rejects(a.until(0, 0, 1), /is missing/, 'later waits fail too');

  const b = new Arrivals(1, () => {});
  const pending = b.until(0, 0, 10);
  b.stop();
  await assert.rejects(pending, (err) => err instanceof ArrivalsStopped);
});
