import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '@cedana/core';
import { DataListener, dialData } from './data-link.js';

const dir = await mkdtemp(join(tmpdir(), 'cedana-data-link-'));
after(() => rm(dir, { recursive: true, force: true }));
const empty = join(dir, 'config.json');
await writeFile(empty, '{}');
const tcp = loadConfig({ path: empty, env: { CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: '127.0.0.1:0', CEDANA_AUTH_TOKEN: 't' } });
const unix = loadConfig({ path: empty, env: { CEDANA_ADDRESS: join(dir, 'd.sock') } });

/** What the listener does with bytes that are not a proof: closes without an answer. */
function answerTo(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1', () => s.write(bytes));
    const got: Buffer[] = [];
    s.on('data', (b) => got.push(b));
    s.on('close', () => resolve(Buffer.concat(got)));
    s.on('error', reject);
  });
}

test('a TCP channel opens for the secret only, once, and the listener closes when every channel came', async () => {
  const l = await DataListener.open(tcp, join(dir, 'in-tcp'), ['files']);
  const port = Number(l.address);
  assert.ok(port > 0, `a port is announced: ${l.address}`);
  assert.equal((await answerTo(port, Buffer.alloc(33, 0x46))).length, 0, 'a wrong secret gets no answer');
  const wrong = `${l.secretHex.slice(0, -2)}${l.secretHex.endsWith('00') ? '01' : '00'}`;
  await assert.rejects(dialData('127.0.0.1:1', l.address, wrong, 'files'), /CEDANA_ERR_MIGRATE_REFUSED|data connection/);
  await assert.rejects(dialData('127.0.0.1:1', l.address, l.secretHex, 'pages'), /data connection/, 'a channel the migration has not');

  const [source, target] = await Promise.all([dialData('127.0.0.1:1', l.address, l.secretHex, 'files'), l.channel('files')]);
  const arrived = new Promise<Buffer>((resolve) => target.once('data', resolve));
  target.resume();
  source.write('bytes after the proof');
  assert.equal((await arrived).toString(), 'bytes after the proof');
  await assert.rejects(dialData('127.0.0.1:1', l.address, l.secretHex, 'files'), /ECONNREFUSED/, 'nothing listens once every channel came');
  source.destroy();
  target.destroy();
});

test('a unix target announces a socket beside the incoming folder, removed on close', async () => {
  const l = await DataListener.open(unix, join(dir, 'in-unix'), ['files', 'pages']);
  assert.equal(l.address, join(dir, 'in-unix.sock'));
  const [s, t] = await Promise.all([dialData('/x.sock', l.address, l.secretHex, 'pages'), l.channel('pages')]);
  s.destroy();
  t.destroy();
  await l.close();
  await assert.rejects(stat(l.address), { code: 'ENOENT' });
});
