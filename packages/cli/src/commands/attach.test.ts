import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { CedanaError } from '@cedana/core';
import type { AttachReq, AttachResp } from '@cedana/core/proto';
import type { AttachCall } from '../daemon-api.js';
import { pumpAttach } from './attach.js';

function fakeCall() {
  const ee = new EventEmitter();
  const sent: AttachReq[] = [];
  const state = { cancelled: false, ended: false };
  const call = {
    write: (req: AttachReq) => sent.push(req),
    end: () => {
      state.ended = true;
    },
    cancel: () => {
      state.cancelled = true;
    },
    on: (event: string, listener: (...args: unknown[]) => void) => ee.on(event, listener),
  } as unknown as AttachCall;
  const send = (output: AttachResp['output']) => ee.emit('data', { output });
  return { call, sent, state, ee, send };
}

function fakeIo() {
  const stdin = Object.assign(new EventEmitter(), { pause: () => {} });
  const out: string[] = [];
  const err: string[] = [];
  let sigint: (() => void) | undefined;
  return {
    io: {
      stdin,
      stdout: { write: (b: string | Uint8Array) => out.push(Buffer.from(b).toString()) },
      stderr: { write: (b: string | Uint8Array) => err.push(Buffer.from(b).toString()) },
      onSignal: (_sig: string, l: () => void) => {
        sigint = l;
        return () => {
          sigint = undefined;
        };
      },
    },
    stdin,
    out,
    err,
    sigint: () => sigint?.(),
  };
}

describe('pumpAttach', () => {
  it('names the job first, forwards stdin, closes it at end, and returns the exit code', async () => {
    const { call, sent, send, state } = fakeCall();
    const f = fakeIo();
    const done = pumpAttach(call, { jid: 'web' }, f.io);
    f.stdin.emit('data', Buffer.from('hello\n'));
    f.stdin.emit('end');
    send({ $case: 'stdout', value: Buffer.from('out') });
    send({ $case: 'stderr', value: Buffer.from('err') });
    send({ $case: 'exitCode', value: 7 });
    assert.deepEqual(await done, { exitCode: 7 });
    assert.equal(sent[0]?.jid, 'web');
    assert.equal(sent[1]?.stdin.toString(), 'hello\n');
    assert.equal(sent[2]?.closeStdin, true);
    assert.deepEqual([f.out, f.err], [['out'], ['err']]);
    assert.equal(state.ended, true);
    assert.equal(f.stdin.listenerCount('data'), 0);
  });

  it('attaches by PID', async () => {
    const { call, sent, send } = fakeCall();
    const done = pumpAttach(call, { pid: 4242 }, fakeIo().io);
    send({ $case: 'exitCode', value: 0 });
    await done;
    assert.deepEqual([sent[0]?.jid, sent[0]?.pid], ['', 4242]);
  });

  it('detaches on SIGINT: cancels the call, the job goes on', async () => {
    const { call, state, ee } = fakeCall();
    const f = fakeIo();
    const done = pumpAttach(call, { jid: 'web' }, f.io);
    f.sigint();
    ee.emit('error', new Error('cancelled')); // what grpc-js emits after cancel(): ignored
    assert.deepEqual(await done, { detached: true });
    assert.equal(state.cancelled, true);
  });

  it('fails with the daemon error, e.g. a job that is not attachable', async () => {
    const { call, ee } = fakeCall();
    const done = pumpAttach(call, { jid: 'web' }, fakeIo().io);
    ee.emit('error', new CedanaError('CEDANA_ERR_NOT_ATTACHABLE', 'job "web" is not attachable'));
    await assert.rejects(done, { code: 'CEDANA_ERR_NOT_ATTACHABLE' });
  });

  it('fails when the stream ends without an exit code', async () => {
    const { call, ee } = fakeCall();
    const done = pumpAttach(call, { jid: 'web' }, fakeIo().io);
    ee.emit('end');
    await assert.rejects(done, /without an exit code/);
  });
});
