import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CriuOptions } from '@cedana/plugin-sdk';
import { checkpointFlags, restoreFlags } from './flags.js';

const none: CriuOptions = {
  leaveRunning: false,
  tcpEstablished: false,
  tcpClose: false,
  fileLocks: false,
  shellJob: false,
  extUnixSk: false,
  linkRemap: false,
  external: [],
  extraArgs: [],
};

describe('runc flags', () => {
  it('passes the options runc knows to checkpoint, and all but --leave-running to restore', () => {
    const all = { ...none, leaveRunning: true, tcpEstablished: true, fileLocks: true, shellJob: true, extUnixSk: true };
    assert.deepEqual(checkpointFlags(all), ['--leave-running', '--tcp-established', '--ext-unix-sk', '--shell-job', '--file-locks']);
    assert.deepEqual(restoreFlags(all), ['--tcp-established', '--ext-unix-sk', '--shell-job', '--file-locks']);
    assert.deepEqual(checkpointFlags(none), []);
  });

  it('refuses the options runc cannot pass to CRIU instead of dropping them', () => {
    assert.throws(() => checkpointFlags({ ...none, tcpClose: true, external: ['mnt[]:m'] }), {
      code: 'CEDANA_ERR_INVALID_ARGUMENT',
      message: /runc cannot pass --tcp-close, --external mnt\[\]:m to CRIU/,
    });
    assert.throws(() => restoreFlags({ ...none, linkRemap: true }), { message: /--link-remap/ });
  });
});
