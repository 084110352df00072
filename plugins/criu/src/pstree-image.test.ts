import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRootPid } from './pstree-image.js';

// pstree.img of a dump of PID 8921 with a child 8931 (CRIU 4.2.1).
const PSTREE = Buffer.from('19435654303027500e00000008d945100018d94520d94528d9450f00000008e34510d94518d94520d94528e345', 'hex');

test('reads the root PID out of pstree.img', () => {
  assert.equal(parseRootPid(PSTREE), 8921);
});

test('reads nothing out of other bytes', () => {
  assert.equal(parseRootPid(Buffer.from('not an image at all')), undefined);
  assert.equal(parseRootPid(PSTREE.subarray(0, 12)), undefined);
});
