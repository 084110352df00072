import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERRORS } from './errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map(
  doc
    .split('\n')
    .filter((l) => l.startsWith('| CEDANA_'))
    .map((l) => l.split('|').map((c) => c.trim()))
    .map((cells) => [cells[1] as string, cells]),
);

it('docs/errors.md has a row with a status, a meaning and a hint for every error code', () => {
  for (const [code, e] of Object.entries(ERRORS)) {
    const row = rows.get(code);
    assert.ok(row, `docs/errors.md has no row for ${code}`);
    assert.equal(row[2], e.status, `status of ${code}`);
    assert.ok((row[3] ?? '').length > 10, `${code} says what it means`);
    assert.ok((row[4] ?? '').length > 10, `${code} says what to do`);
  }
});

it('docs/errors.md lists no code that does not exist', () => {
  for (const code of rows.keys()) assert.ok(code in ERRORS, `${code} is documented but not in errors.ts`);
});
