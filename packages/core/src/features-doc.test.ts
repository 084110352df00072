import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { FEATURES } from './features.js';

const doc = readFileSync(new URL('../../../docs/writing-plugins.md', import.meta.url), 'utf8');
const reference = doc.slice(doc.indexOf('## Feature reference'));
const entries = reference
  .split(/^### /m)
  .slice(1)
  .map((text) => ({ symbol: text.slice(0, text.indexOf('\n')).trim(), text }));

it('docs/writing-plugins.md has one entry per feature symbol, in the order of FEATURES', () => {
  assert.ok(doc.includes('## Feature reference'), 'the page has a "## Feature reference" section');
  assert.deepEqual(
    entries.map((e) => e.symbol),
    FEATURES.map((f) => f.symbol),
  );
});

it('every entry gives the contract: type, how plugins combine, when it runs, what it may change, how to fail, an example', () => {
  for (const { symbol, text } of entries) {
    for (const row of ['Type', 'Combined as', 'Runs after', 'Runs before', 'May change', 'Fails with']) {
      const cells = text
        .split('\n')
        .map((l) => l.split('|').map((c) => c.trim()))
        .find((c) => c[1] === row);
      assert.ok((cells?.[2] ?? '').length > 3, `${symbol}: the "${row}" row is missing or empty`);
    }
    assert.match(text, /```ts\n[\s\S]+?\n```/, `${symbol}: an example`);
  }
});
