import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FoundPlugin, InstalledRecord } from './installed.js';
import { pluginRows } from './status.js';

const dir = mkdtempSync(join(tmpdir(), 'cedana-status-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'tag', '1.0.0', 'node_modules', 'dep'), { recursive: true });
writeFileSync(join(dir, 'tag', '1.0.0', 'package.json'), '{}'); // 2 bytes
writeFileSync(join(dir, 'tag', '1.0.0', 'node_modules', 'dep', 'index.js'), 'x'.repeat(1000));

const record: InstalledRecord = {
  plugin: 'tag',
  name: 'cedana-plugin-tag',
  version: '1.0.0',
  source: 'catalog',
  resolved: '/catalog/tag.tgz',
  integrity: 'sha512-x',
  installedAt: '2026-01-01T00:00:00.000Z',
};
const found = (r?: InstalledRecord): FoundPlugin[] => [
  { plugin: 'tag', version: '1.0.0', versions: ['1.0.0'], dir: join(dir, 'tag'), name: 'cedana-plugin-tag', ...(r ? { record: r } : {}) },
];
const sizeOf = async (f: FoundPlugin[]) => (await pluginRows(f, [], async () => undefined)).find((r) => r.plugin === 'tag')?.size;

describe('plugin list sizes', () => {
  it('shows the size recorded at install time for the installed version', async () => {
    assert.equal(await sizeOf(found({ ...record, size: 4242 })), 4242);
  });
  it('sums the folder, dependencies included, when the record has no size or is of another version', async () => {
    assert.equal(await sizeOf(found()), 1002);
    assert.equal(await sizeOf(found(record)), 1002);
    assert.equal(await sizeOf(found({ ...record, version: '0.9.0', size: 4242 })), 1002);
  });
});
