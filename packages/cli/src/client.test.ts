import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig, wire } from '@cedana/core';
import { type AttachReq, type AttachResp, DaemonService, type KillReq, type ListReq, ProfilingData } from '@cedana/core/proto';
import { Metadata, Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { connect } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'cedana-client-test-'));
const socket = join(dir, 'daemon.sock');
const emptyConfig = join(dir, 'config.json');
writeFileSync(emptyConfig, '{}');

const configFor = (overrides: Record<string, unknown>): Config =>
  loadConfig({ path: emptyConfig, env: {}, overrides: { address: socket, ...overrides } });

/** What the stub daemon saw in the last call's metadata. */
let seen: Record<string, unknown> = {};

const stub = {
  list(call: ServerUnaryCall<ListReq, unknown>, cb: sendUnaryData<unknown>) {
    seen = { profiling: call.metadata.get(wire.PROFILING_REQUEST_KEY)[0], auth: call.metadata.get(wire.AUTH_KEY)[0] };
    const trailer = new Metadata();
    trailer.set(wire.PROFILING_KEY, Buffer.from(ProfilingData.encode({ name: 'list', durationNs: 1500, components: [] }).finish()));
    cb(null, { jobs: [{ jid: 'web', type: 'process' }] }, trailer);
  },
  kill(_call: ServerUnaryCall<KillReq, unknown>, cb: sendUnaryData<unknown>) {
    const md = new Metadata();
    md.set(wire.ERROR_CODE_KEY, 'CEDANA_ERR_JOB_NOT_FOUND');
    md.set(wire.ERROR_HINT_KEY, 'list jobs with `cedana ps`');
    md.set(wire.ERROR_DETAILS_KEY, JSON.stringify(['searched 3 jobs']));
    cb({ code: 5, details: 'no job "nope"', metadata: md });
  },
  delete(_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) {
    cb({ code: 13, details: 'disk 100% full: café ✗' }); // grpc-message travels percent-encoded
  },
  attach(call: ServerDuplexStream<AttachReq, AttachResp>) {
    let first = true;
    call.on('data', (req: AttachReq) => {
      if (first) {
        first = false;
        call.write({ output: { $case: 'stdout', value: Buffer.from(`hello ${req.jid}\n`) } });
      } else if (req.closeStdin) {
        call.write({ output: { $case: 'exitCode', value: 3 } });
        call.end();
      } else {
        call.write({ output: { $case: 'stderr', value: req.stdin } });
      }
    });
  },
};

describe('gRPC client (against a stub daemon on a unix socket)', () => {
  const server = new Server();
  before(async () => {
    server.addService(DaemonService, stub as never);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  });
  after(() => server.forceShutdown());

  it('calls an RPC, sends the profiling and auth metadata, and reads the profiling trailer', async () => {
    const profiles: ProfilingData[] = [];
    const api = await connect(configFor({ 'profiling.enabled': true, auth_token: 's3cret' }), { onProfile: (p) => profiles.push(p) });
    try {
      const resp = await api.list({ jids: [], type: '' });
      assert.equal(resp.jobs[0]?.jid, 'web');
      assert.deepEqual(seen, { profiling: '1', auth: 'Bearer s3cret' });
      assert.deepEqual(profiles, [{ name: 'list', durationNs: 1500, components: [] }]);
    } finally {
      api.close();
    }
  });

  it('sends neither when profiling is off and there is no token', async () => {
    const api = await connect(configFor({}));
    await api.list({ jids: [], type: '' });
    api.close();
    assert.deepEqual(seen, { profiling: undefined, auth: undefined });
  });

  it('turns a failed call into the CedanaError of its trailer', async () => {
    const api = await connect(configFor({}));
    try {
      await assert.rejects(
        api.kill({ jids: ['nope'], signal: '' }),
        (err: { code: string; message: string; hint: string; details: string[] }) => {
          assert.deepEqual(
            [err.code, err.message, err.hint, err.details],
            ['CEDANA_ERR_JOB_NOT_FOUND', 'no job "nope"', 'list jobs with `cedana ps`', ['searched 3 jobs']],
          );
          return true;
        },
      );
    } finally {
      api.close();
    }
  });

  it('streams Attach both ways', async () => {
    const api = await connect(configFor({}));
    const call = await api.attach();
    const got: string[] = [];
    const exit = new Promise<number>((resolve) =>
      call.on('data', (resp) => {
        if (resp.output?.$case === 'exitCode') resolve(resp.output.value);
        else if (resp.output) got.push(`${resp.output.$case}:${resp.output.value.toString()}`);
      }),
    );
    call.write({ jid: 'web', pid: 0, stdin: Buffer.alloc(0), closeStdin: false });
    call.write({ jid: '', pid: 0, stdin: Buffer.from('ping'), closeStdin: false });
    call.write({ jid: '', pid: 0, stdin: Buffer.alloc(0), closeStdin: true });
    assert.equal(await exit, 3);
    call.end();
    api.close();
    assert.deepEqual(got, ['stdout:hello web\n', 'stderr:ping']);
  });

  it('says DAEMON_UNREACHABLE, fast, when no socket exists', async () => {
    await assert.rejects(connect(configFor({ address: join(dir, 'missing.sock') })), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'CEDANA_ERR_DAEMON_UNREACHABLE');
      assert.match(err.message, /cannot reach the daemon at unix:\/\/.*missing\.sock: no socket at/);
      return true;
    });
  });

  it('says DAEMON_UNREACHABLE, fast, when nothing listens on the socket path', async () => {
    const stale = join(dir, 'stale.sock');
    writeFileSync(stale, '');
    const started = Date.now();
    await assert.rejects(connect(configFor({ address: stale }), { timeoutMs: 4000 }), { code: 'CEDANA_ERR_DAEMON_UNREACHABLE' });
    assert.ok(Date.now() - started < 2000, 'did not wait for the timeout');
  });

  it('says DAEMON_UNREACHABLE over TCP when the port is closed', async () => {
    await assert.rejects(connect(configFor({ protocol: 'tcp', address: '127.0.0.1:1' })), { code: 'CEDANA_ERR_DAEMON_UNREACHABLE' });
  });
  it('says which RPC a daemon does not implement (UNIMPLEMENTED)', async () => {
    const api = await connect(configFor({}));
    try {
      await assert.rejects(api.query({ type: '', pids: [] } as never), (err: { code: string; message: string; hint: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_INTERNAL');
        assert.match(err.message, /does not implement this call/);
        assert.match(err.hint, /older than this CLI/);
        return true;
      });
    } finally {
      api.close();
    }
  });

  it('reads a status message that is not plain ASCII as the daemon wrote it', async () => {
    const api = await connect(configFor({}));
    try {
      await assert.rejects(api.delete({ jids: ['x'] } as never), { code: 'CEDANA_ERR_INTERNAL', message: 'disk 100% full: café ✗' });
    } finally {
      api.close();
    }
  });

  it('makes several calls on one connection', async () => {
    const api = await connect(configFor({}));
    try {
      const all = await Promise.all([1, 2, 3].map(() => api.list({ jids: [], type: '' })));
      assert.deepEqual(
        all.map((r) => r.jobs[0]?.jid),
        ['web', 'web', 'web'],
      );
    } finally {
      api.close();
    }
  });
});

/** An HTTP/2 server on a unix socket that answers each call with `answer` (a daemon gone wrong). */
async function rawServer(name: string, answer: (stream: ServerHttp2Stream) => void): Promise<{ path: string; server: Http2Server }> {
  const path = join(dir, name);
  const server = createHttp2Server();
  server.on('stream', answer);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

describe('gRPC client (against peers that are not a working daemon)', () => {
  it('says DAEMON_UNREACHABLE at the deadline when the socket accepts but never speaks HTTP/2', async () => {
    const path = join(dir, 'mute.sock');
    const mute: NetServer = createNetServer(() => {});
    await new Promise<void>((resolve) => mute.listen(path, resolve));
    try {
      const started = Date.now();
      await assert.rejects(connect(configFor({ address: path }), { timeoutMs: 300 }), (err: { code: string; message: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_DAEMON_UNREACHABLE');
        assert.match(err.message, /no answer within 300 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 3000, 'gave up at the deadline');
    } finally {
      mute.close();
    }
  });

  it('says DAEMON_UNREACHABLE when the daemon drops the connection during a call', async () => {
    const { path, server } = await rawServer('drops.sock', (stream) => stream.session?.destroy());
    try {
      const api = await connect(configFor({ address: path }));
      await assert.rejects(api.list({ jids: [], type: '' }), (err: { code: string; message: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_DAEMON_UNREACHABLE');
        assert.match(err.message, /cannot reach the daemon at unix:\/\/.*drops\.sock: connection dropped/);
        return true;
      });
      api.close();
    } finally {
      server.close();
    }
  });

  it('maps an answer without a gRPC status by its HTTP status (401: UNAUTHENTICATED)', async () => {
    const { path, server } = await rawServer('http401.sock', (stream) => stream.respond({ ':status': 401 }, { endStream: true }));
    try {
      const api = await connect(configFor({ address: path }));
      await assert.rejects(api.list({ jids: [], type: '' }), (err: { code: string; message: string }) => {
        assert.equal(err.code, 'CEDANA_ERR_UNAUTHENTICATED');
        assert.match(err.message, /refused the call: Received HTTP status code 401/);
        return true;
      });
      api.close();
    } finally {
      server.close();
    }
  });

  it('refuses an OK answer without a message, or a cut-off one', async () => {
    let body = Buffer.alloc(0);
    const { path, server } = await rawServer('short.sock', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(body);
    });
    try {
      const api = await connect(configFor({ address: path }));
      await assert.rejects(api.list({ jids: [], type: '' }), {
        code: 'CEDANA_ERR_INTERNAL',
        message: /does not implement this call: No message received/,
      });
      body = Buffer.from([0, 0, 0, 0, 9, 1, 2]); // 9 bytes announced, 2 sent
      await assert.rejects(api.list({ jids: [], type: '' }), { code: 'CEDANA_ERR_INTERNAL', message: /ended after 2 of 9 bytes/ });
      api.close();
    } finally {
      server.close();
    }
  });
});
