import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { parseAddress, resolveAddress } from './address.js';
import { toGuestPath } from './details.js';
import { socatArgs } from './vsock.js';

it('parses vsock and unix addresses, and refuses others', () => {
  assert.deepEqual(parseAddress('vsock://3:1024'), { kind: 'vsock', cid: 3, port: 1024, text: 'vsock://3:1024' });
  assert.deepEqual(parseAddress('unix:///run/g.sock'), { kind: 'unix', path: '/run/g.sock', text: 'unix:///run/g.sock' });
  for (const bad of ['vsock://2:1', 'vsock://3', 'tcp://1.2.3.4:5', 'unix://rel.sock', ''])
    assert.throws(() => parseAddress(bad), { code: 'CEDANA_ERR_INVALID_ARGUMENT' }, bad);
});

it('finds a VM in the map, and says which VMs it knows when not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kata-map-'));
  try {
    const map = join(dir, 'vms.json');
    await writeFile(map, JSON.stringify({ a: 'vsock://7:9' }));
    assert.equal((await resolveAddress('a', undefined, map)).text, 'vsock://7:9');
    assert.equal((await resolveAddress('zz', 'vsock://8:1', map)).text, 'vsock://8:1', '--guest-address wins');
    await assert.rejects(resolveAddress('b', undefined, map), { code: 'CEDANA_ERR_KATA_VM_NOT_FOUND', message: /knows: a/ });
    await assert.rejects(resolveAddress('b', undefined, join(dir, 'none.json')), {
      code: 'CEDANA_ERR_KATA_VM_NOT_FOUND',
      message: /does not exist/,
    });
    await writeFile(map, '[1]');
    await assert.rejects(resolveAddress('a', undefined, map), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('maps host paths of the shared folder into the guest', () => {
  assert.equal(toGuestPath('/srv/ckpt/d1', undefined), '/srv/ckpt/d1');
  assert.equal(toGuestPath('/srv/ckpt/d1', '/srv/ckpt:/mnt/shared'), '/mnt/shared/d1');
  assert.throws(() => toGuestPath('/elsewhere/d1', '/srv/ckpt:/mnt/shared'), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
  assert.throws(() => toGuestPath('/srv/ckpt/d1', 'nocolon'), { code: 'CEDANA_ERR_INVALID_ARGUMENT' });
});

it('builds the socat bridge', () => {
  assert.deepEqual(socatArgs('/tmp/s.sock', 3, 9999), ['UNIX-LISTEN:/tmp/s.sock,fork,mode=600', 'VSOCK-CONNECT:3:9999']);
});
