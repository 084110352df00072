import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedPlugin } from '@cedana/core';
import { cli } from '../testing/fake-cli.js';

const runc: LoadedPlugin = {
  name: 'runc',
  version: '1.0.0',
  path: '/p/runc/1.0.0',
  status: 'ok',
  definition: {
    name: 'runc',
    version: '1.0.0',
    features: {
      RestoreCmd: {
        describe: 'Restore a container',
        options: {
          id: { type: 'string', alias: 'i', describe: 'container ID', demandOption: true },
          bundle: { type: 'string', describe: 'bundle', default: '/default/bundle' },
          path: { type: 'string', describe: 'clashes with the command’s own --path' },
        },
        details: (a) => Object.fromEntries(Object.entries({ id: a.id, bundle: a.bundle }).filter(([, v]) => v !== undefined)),
      },
    },
  },
};

describe('restore job', () => {
  const resp = { restore: { jid: 'web', pid: 7, messages: [] } };

  it('takes the restore flags of runtime plugins, optional there, and sends the details of those given', async () => {
    const r = await cli(['restore', 'job', 'web', '--id', 'web-2'], { plugins: [runc], responses: resp });
    assert.equal(r.code, 0, r.stderr);
    const req = r.calls[0]?.[1] as { jid: string; type: string; details: unknown };
    assert.equal(req.jid, 'web');
    assert.equal(req.type, '');
    assert.deepEqual(req.details, { runc: { id: 'web-2' } }, 'no default bundle: the job’s record has it');
  });

  it('sends no details when no plugin flag is given, and needs none of them', async () => {
    const r = await cli(['restore', 'job', 'web'], { plugins: [runc], responses: resp });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.calls[0]?.[1] as { details?: unknown } | undefined)?.details, undefined);
  });

  it('keeps its own flags when a plugin has one of the same name', async () => {
    const r = await cli(['restore', 'job', 'web', '--path', '/ckpt/x'], { plugins: [runc], responses: resp });
    const req = r.calls[0]?.[1] as { path: string; details: unknown };
    assert.equal(req.path, '/ckpt/x');
    assert.equal(req.details, undefined);
  });

  it('sends only the CRIU flags given, off as well as on: the rest are the dump’s recorded ones', async () => {
    const r = await cli(['restore', 'job', 'web', '--no-file-locks', '--tcp-close'], { plugins: [runc], responses: resp });
    assert.equal(r.code, 0, r.stderr);
    const req = r.calls[0]?.[1] as { criu?: Record<string, unknown> };
    assert.deepEqual(req.criu, { external: [], fileLocks: false, tcpClose: true });
    const plain = await cli(['restore', 'job', 'web'], { plugins: [runc], responses: resp });
    assert.equal((plain.calls[0]?.[1] as { criu?: unknown } | undefined)?.criu, undefined);
  });

  it('has no --leave-running, which only a dump takes', async () => {
    const r = await cli(['restore', 'job', 'web', '--leave-running'], { plugins: [runc], responses: resp });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /leave-running/);
  });
});

describe('restore process', () => {
  it('takes the CRIU flags of a restore', async () => {
    const r = await cli(['restore', 'process', '--path', '/ckpt/x', '--file-locks', '--external', 'mnt[data]:/srv/data'], {
      responses: { restore: { jid: 'j', pid: 7, messages: [] } },
    });
    assert.equal(r.code, 0, r.stderr);
    const req = r.calls[0]?.[1] as { criu?: Record<string, unknown> };
    assert.deepEqual(req.criu, { external: ['mnt[data]:/srv/data'], fileLocks: true });
  });
});
