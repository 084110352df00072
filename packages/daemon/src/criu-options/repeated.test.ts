import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CriuOptions, ManifestFacts } from '@cedana/core';
import { recordCriuOptions, recordedCriuOptions, repeatCriuOptions } from './repeated.js';

const none = (): CriuOptions => ({
  leaveRunning: false,
  tcpEstablished: false,
  tcpClose: false,
  fileLocks: false,
  shellJob: false,
  extUnixSk: false,
  linkRemap: false,
  external: [],
  extraArgs: [],
});

describe('recordCriuOptions', () => {
  it('records the flags a restore repeats and the external mounts, nothing of the dump only', () => {
    const dumped = {
      ...none(),
      leaveRunning: true,
      linkRemap: true,
      fileLocks: true,
      tcpEstablished: true,
      external: ['mnt[/mnt/data]:data', 'unix[4711]', 'file[1f:2a]'],
      extraArgs: ['--stream'],
    };
    assert.deepEqual(recordCriuOptions(dumped), { tcpEstablished: true, fileLocks: true, external: ['mnt[/mnt/data]:data'] });
    assert.deepEqual(recordCriuOptions(none()), {});
  });
});

describe('repeatCriuOptions', () => {
  it('turns on what the dump recorded when the request left it out', () => {
    const criu = none();
    const added = repeatCriuOptions(criu, undefined, { fileLocks: true, shellJob: true });
    assert.equal(criu.fileLocks, true);
    assert.equal(criu.shellJob, true);
    assert.deepEqual(added, ['fileLocks', 'shellJob']);
  });

  it("lets the request's own flags win, off as well as on, and keeps what it adds", () => {
    const criu = { ...none(), tcpClose: true, extUnixSk: true };
    repeatCriuOptions(criu, { fileLocks: false, tcpClose: true, extUnixSk: true }, { fileLocks: true, tcpEstablished: true });
    assert.equal(criu.fileLocks, false, '--no-file-locks wins over the recorded --file-locks');
    assert.equal(criu.tcpEstablished, true);
    assert.equal(criu.tcpClose, true);
    assert.equal(criu.extUnixSk, true);
  });

  it('maps a dumped mount back to its path unless the request maps the same key', () => {
    const criu = { ...none(), external: ['mnt[logs]:/srv/logs'] };
    repeatCriuOptions(criu, { external: criu.external }, { external: ['mnt[/mnt/data]:data', 'mnt[/var/log]:logs'] });
    assert.deepEqual(criu.external, ['mnt[logs]:/srv/logs', 'mnt[data]:/mnt/data']);
  });
});

describe('recordedCriuOptions', () => {
  it('reads the criuOptions section of checkpoint.json', () => {
    const m: ManifestFacts = JSON.parse('{"criuOptions":{"fileLocks":true,"tcpEstablished":false,"external":["mnt[/a]:a",42,"unix[1]"]}}');
    assert.deepEqual(recordedCriuOptions(m), { fileLocks: true, external: ['mnt[/a]:a'] });
  });

  it('reads the top-level facts of a checkpoint made before the section existed', () => {
    assert.deepEqual(recordedCriuOptions({ tcpEstablished: true, shellJob: true, pid: 7 }), { tcpEstablished: true, shellJob: true });
    assert.deepEqual(recordedCriuOptions({ pid: 7 }), {});
  });
});
