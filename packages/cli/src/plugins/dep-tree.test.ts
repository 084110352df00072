import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { dependencyTree, renderTree } from './dep-tree.js';

it('builds the dependency tree from npm’s hidden lockfile, following Node’s lookup', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cedana-deps-'));
  await mkdir(join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'node_modules', '.package-lock.json'),
    JSON.stringify({
      packages: {
        'node_modules/a': { version: '1.0.0', dependencies: { b: '^2', c: '^1' } },
        'node_modules/a/node_modules/b': { version: '2.0.0', dependencies: { c: '^1' } },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/c': { version: '1.2.0' },
      },
    }),
  );
  const tree = await dependencyTree(dir, ['a', 'b', 'gone']);
  assert.deepEqual(renderTree(tree), [
    '├─ a@1.0.0',
    '│  ├─ b@2.0.0',
    '│  │  └─ c@1.2.0',
    '│  └─ c@1.2.0 (deduped)',
    '├─ b@1.0.0',
    '└─ gone@? (missing)',
  ]);
  assert.deepEqual(await dependencyTree(join(dir, 'nothing'), []), []);
  await rm(dir, { recursive: true, force: true });
});
