import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criuFlags } from './flags.js';
import { criuOptions } from './testing/context.js';

test('gives no flags when every option is off', () => {
  assert.deepEqual(criuFlags(criuOptions(), 'dump'), []);
  assert.deepEqual(criuFlags(undefined, 'restore'), []);
});

test('turns every boolean option into its flag, in a fixed order', () => {
  const all = criuOptions({
    leaveRunning: true,
    tcpEstablished: true,
    tcpClose: true,
    fileLocks: true,
    shellJob: true,
    extUnixSk: true,
    linkRemap: true,
  });
  assert.deepEqual(criuFlags(all, 'dump'), [
    '--leave-running',
    '--tcp-established',
    '--tcp-close',
    '--file-locks',
    '--shell-job',
    '--ext-unix-sk',
    '--link-remap',
  ]);
});

test('leaves --leave-running out of a restore', () => {
  assert.deepEqual(criuFlags(criuOptions({ leaveRunning: true, shellJob: true }), 'restore'), ['--shell-job']);
});

test('passes each external as --external X, then the extra args as given', () => {
  const opts = criuOptions({
    fileLocks: true,
    external: ['mnt[/data]:data', 'file[1f:2a]'],
    extraArgs: ['--skip-in-flight', '--timeout', '10'],
  });
  assert.deepEqual(criuFlags(opts, 'dump'), [
    '--file-locks',
    '--external',
    'mnt[/data]:data',
    '--external',
    'file[1f:2a]',
    '--skip-in-flight',
    '--timeout',
    '10',
  ]);
});
