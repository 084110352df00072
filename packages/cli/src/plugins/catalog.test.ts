import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Catalog, latestInCatalog, pickFromCatalog, readCatalog } from './catalog.js';

const entry = (version: string) => ({
  name: '@cedana/plugin-criu',
  plugin: 'criu',
  version,
  file: `criu-${version}.tgz`,
  integrity: 'sha512-x',
});
const catalog: Catalog = { dir: '/c', entries: [entry('0.1.0'), entry('0.3.0'), entry('0.2.5'), entry('1.0.0-rc.1')] };

describe('the local catalog', () => {
  it('picks the highest version that satisfies the range; prereleases only when asked', () => {
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-criu', '*')?.version, '0.3.0');
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-criu', '~0.2.0')?.version, '0.2.5');
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-criu', 'latest')?.version, '0.3.0');
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-criu', '^1.0.0-rc.0')?.version, '1.0.0-rc.1');
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-criu', '^2'), undefined);
    assert.equal(pickFromCatalog(catalog, '@cedana/plugin-runc', '*'), undefined);
    assert.equal(latestInCatalog(catalog, '@cedana/plugin-criu'), '0.3.0');
  });

  it('reads catalog.json, and says why when there is none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-catalog-'));
    assert.match((await readCatalog(dir)).problem ?? '', /no catalog at .*pnpm build/);
    await writeFile(join(dir, 'catalog.json'), JSON.stringify({ plugins: [entry('0.1.0')] }));
    assert.deepEqual((await readCatalog(dir)).entries, [entry('0.1.0')]);
    await writeFile(join(dir, 'catalog.json'), '{ nope');
    assert.match((await readCatalog(dir)).problem ?? '', /not valid JSON/);
    await rm(dir, { recursive: true, force: true });
  });
});
