import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProgressEvent } from '@cedana/core/proto';
import { ProgressHub } from './progress-hub.js';

/** A hub on a clock the test moves. */
function hubAt(start = 1000) {
  const clock = { t: start };
  return { hub: new ProgressHub({ now: () => clock.t }), clock };
}

describe('ProgressHub', () => {
  it('delivers the reports of a request to a watcher that came first, then ends it', () => {
    const { hub, clock } = hubAt();
    const seen: ProgressEvent[] = [];
    let ended = 0;
    hub.watch(
      'r1',
      (e) => seen.push(e),
      () => ended++,
    );
    const { progress, end } = hub.open('r1');
    progress(0, 100, 'pack');
    clock.t += 200;
    progress(40.7, 100, 'pack');
    end();
    assert.deepEqual(seen, [
      { phase: 'pack', bytesDone: 0, bytesTotal: 100 },
      { phase: 'pack', bytesDone: 40, bytesTotal: 100 },
    ]);
    assert.equal(ended, 1);
    assert.equal(hub.size, 0, 'nothing is left behind');
  });

  it('forwards at most one report per 100 ms, but always a phase’s first and its last', () => {
    const { hub, clock } = hubAt();
    const seen: string[] = [];
    hub.watch(
      'r2',
      (e) => seen.push(`${e.phase} ${e.bytesDone}/${e.bytesTotal}`),
      () => {},
    );
    const { progress, end } = hub.open('r2');
    for (let done = 0; done <= 10; done++) progress(done, 10, 'pack'); // same instant: first and last only
    clock.t += 50;
    progress(0, 0, 'stream'); // a new phase, total unknown
    progress(5, 0, 'stream');
    clock.t += 100;
    progress(6, 0, 'stream');
    end();
    assert.deepEqual(seen, ['pack 0/10', 'pack 10/10', 'stream 0/0', 'stream 6/0']);
  });

  it('gives a late watcher the last report, and ends a watch of a finished request at once', () => {
    const { hub } = hubAt();
    const { progress, end } = hub.open('r3');
    progress(3, 9, 'unpack');
    const seen: ProgressEvent[] = [];
    hub.watch(
      'r3',
      (e) => seen.push(e),
      () => {},
    );
    assert.deepEqual(seen, [{ phase: 'unpack', bytesDone: 3, bytesTotal: 9 }]);
    end();
    let ended = false;
    hub.watch(
      'r3',
      () => assert.fail('no report after the end'),
      () => (ended = true),
    );
    assert.ok(ended);
  });

  it('forgets a watcher that leaves before its request came', () => {
    const { hub } = hubAt();
    const stop = hub.watch(
      'never',
      () => {},
      () => {},
    );
    assert.equal(hub.size, 1);
    stop();
    assert.equal(hub.size, 0);
  });

  it('reports without watchers cost nothing and keep nothing once ended', () => {
    const { hub } = hubAt();
    const { progress, end } = hub.open('r4');
    for (let i = 0; i < 1000; i++) progress(i, 1000, 'pack');
    end();
    assert.equal(hub.size, 0);
  });
});
