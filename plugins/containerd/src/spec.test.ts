import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointOptions, restoreCriuConfig } from './flags.js';
import { chainIdOf, normalizeRef } from './image.js';
import { CRIU_CONFIG_ANNOTATION, commandOf, makeSpec, specForRestore, withCriuConfig } from './spec.js';
import { exitStatusOf } from './watch.js';

const image = { config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], WorkingDir: '/w' } };

describe('spec', () => {
  it('runs the given command, else the image’s entrypoint and command', () => {
    assert.deepEqual(commandOf(image, ['sleep', '1']), ['sleep', '1']);
    assert.deepEqual(commandOf(image, []), ['/bin/sh', '-c', 'echo hi']);
  });

  it('makes a writable, terminal-less spec in the cgroup /NAMESPACE/ID, with the image’s environment and folder', () => {
    const spec = makeSpec({ namespace: 'ns', id: 'c1', image, env: ['A=1'] });
    assert.equal(spec.root?.readonly, false);
    assert.equal(spec.process?.terminal, false);
    assert.deepEqual(spec.process?.env, ['PATH=/bin', 'A=1']);
    assert.equal(spec.process?.cwd, '/w');
    assert.equal(spec.linux?.cgroupsPath, '/ns/c1');
    assert.equal(specForRestore(spec, 'ns2', 'c2').linux?.cgroupsPath, '/ns2/c2', 'a restored container gets a cgroup of its own');
  });
});

describe('image', () => {
  it('computes the OCI chain ID of the layers', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    assert.equal(chainIdOf([a]), a);
    assert.match(chainIdOf([a, b]), /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(chainIdOf([a, b]), chainIdOf([b, a]));
  });
});

describe('image references', () => {
  it('reads short names as docker does', () => {
    assert.equal(normalizeRef('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeRef('me/app:1'), 'docker.io/me/app:1');
    assert.equal(normalizeRef('cedana.test/busybox:1'), 'cedana.test/busybox:1');
    assert.equal(normalizeRef('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizeRef('ghcr.io/a/b@sha256:abc'), 'ghcr.io/a/b@sha256:abc');
  });
});

describe('checkpoint options', () => {
  const criu = {
    leaveRunning: false,
    tcpEstablished: true,
    tcpClose: false,
    fileLocks: false,
    shellJob: false,
    extUnixSk: false,
    linkRemap: false,
    external: [],
    extraArgs: [],
  };

  it('exits the task unless --leave-running, and sends the images to the checkpoint folder', () => {
    const o = checkpointOptions(criu, '/ck', '/ck');
    assert.equal(o.exit, true);
    assert.equal(o.openTcp, true);
    assert.equal(o.imagePath, '/ck');
    assert.equal(checkpointOptions({ ...criu, leaveRunning: true }, '/ck', '/ck').exit, false);
  });

  it('refuses the CRIU options the runc shim cannot pass', () => {
    assert.throws(() => checkpointOptions({ ...criu, tcpClose: true }, '/ck', '/ck'), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
    assert.throws(() => checkpointOptions({ ...criu, external: ['x'] }, '/ck', '/ck'), /--external x/);
  });
});

describe('restore options', () => {
  const none = {
    leaveRunning: true,
    tcpEstablished: false,
    tcpClose: false,
    fileLocks: false,
    shellJob: false,
    extUnixSk: false,
    linkRemap: false,
    external: [],
    extraArgs: [],
  };

  it('are the lines of a CRIU config file, none for a plain restore', () => {
    assert.deepEqual(restoreCriuConfig({ ...none, fileLocks: true, tcpEstablished: true }), ['tcp-established', 'file-locks']);
    assert.deepEqual(restoreCriuConfig(none), [], '--leave-running means nothing at restore');
    assert.throws(() => restoreCriuConfig({ ...none, external: ['mnt[a]:/a'] }), /cannot pass --external mnt\[a\]:\/a/);
  });

  it('name the config file in the org.criu.config annotation, or drop an earlier restore’s', () => {
    const spec = { annotations: { keep: 'me', [CRIU_CONFIG_ANNOTATION]: '/tmp/gone/criu.conf' } };
    assert.deepEqual(withCriuConfig(spec, '/tmp/w/criu.conf').annotations, { keep: 'me', [CRIU_CONFIG_ANNOTATION]: '/tmp/w/criu.conf' });
    assert.deepEqual(withCriuConfig(spec, undefined).annotations, { keep: 'me' });
  });
});

describe('exit status', () => {
  it('reads 128+N as signal N, the rest as an exit code', () => {
    assert.deepEqual(exitStatusOf(137), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(exitStatusOf(3), { code: 3, signal: null });
  });
});
