import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CedanaError, ERRORS, type ErrorSpec, errorSpec, isCedanaError, PLUGIN_ERRORS } from './errors.js';
import { errorPrefixOf, registerPluginErrors } from './plugin-errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
/** The rows of a table of docs/errors.md: under `## The NAME plugin` for a plugin's, above every such heading for core's. */
function rowsOf(section: string | undefined): Map<string, string[]> {
  const parts = doc.split(/^## The (\S+) plugin$/m);
  const text = section === undefined ? (parts[0] as string) : (parts[parts.indexOf(section) + 1] ?? '');
  return new Map(
    text
      .split('\n')
      .filter((l) => l.startsWith('| CEDANA_'))
      .map((l) => l.split('|').map((c) => c.trim()))
      .map((cells) => [cells[1] as string, cells]),
  );
}

/** Every first-party plugin's declared codes, from its built errors module. */
const pluginsRoot = new URL('../../../plugins/', import.meta.url);
const declared = await Promise.all(
  readdirSync(pluginsRoot).map(async (name) => {
    const mod = (await import(new URL(`${name}/dist/errors.js`, pluginsRoot).href).catch(() => ({}))) as Record<string, unknown>;
    return { name, errors: (Object.values(mod)[0] ?? {}) as Record<string, ErrorSpec> };
  }),
);

function assertDocumented(where: string, table: Map<string, string[]>, codes: Record<string, ErrorSpec>): void {
  for (const [code, e] of Object.entries(codes)) {
    const row = table.get(code);
    assert.ok(row, `docs/errors.md has no row for ${code} in ${where}`);
    assert.equal(row[2], e.status, `status of ${code}`);
    assert.ok((row[3] ?? '').length > 10, `${code} says what it means`);
    assert.ok((row[4] ?? '').length > 10, `${code} says what to do`);
  }
  for (const code of table.keys()) assert.ok(code in codes, `${code} is documented in ${where} but not declared there`);
}

it('docs/errors.md has a row with a status, a meaning and a hint for every core error code, and no other', () => {
  assertDocumented('the core table', rowsOf(undefined), ERRORS);
});

it('docs/errors.md has a section per plugin with a row for each code it declares, and no other', () => {
  assert.ok(declared.filter((p) => Object.keys(p.errors).length > 0).length >= 6, 'the six first-party plugins declare their codes');
  for (const { name, errors } of declared) {
    if (Object.keys(errors).length === 0) continue;
    assertDocumented(`"## The ${name} plugin"`, rowsOf(name), errors);
    for (const code of Object.keys(errors)) assert.ok(code.startsWith(errorPrefixOf(name)), `${code} is named after ${name}`);
  }
});

describe('plugin error codes', () => {
  it('gives a registered code its hint and status, and an unknown one INTERNAL with no hint', () => {
    assert.equal(registerPluginErrors('acme', { CEDANA_ERR_ACME_JAMMED: { status: 'ABORTED', hint: 'clear the jam' } }), undefined);
    const err = new CedanaError('CEDANA_ERR_ACME_JAMMED', 'the machine jammed');
    assert.deepEqual([err.hint, err.status, isCedanaError(err)], ['clear the jam', 'ABORTED', true]);
    const unknown = new CedanaError('CEDANA_ERR_NOBODY_X', 'x');
    assert.deepEqual([unknown.hint, unknown.status, isCedanaError(unknown)], ['', 'INTERNAL', true]);
    assert.equal(isCedanaError(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
  });

  it("replaces a plugin's codes on a new registration, and refuses another's or core's", () => {
    registerPluginErrors('acme', { CEDANA_ERR_ACME_JAMMED: { status: 'ABORTED', hint: 'clear the jam' } });
    assert.equal(registerPluginErrors('acme', { CEDANA_ERR_ACME_EMPTY: { status: 'FAILED_PRECONDITION', hint: 'refill it' } }), undefined);
    assert.equal(errorSpec('CEDANA_ERR_ACME_JAMMED'), undefined);
    assert.equal(PLUGIN_ERRORS.get('CEDANA_ERR_ACME_EMPTY')?.plugin, 'acme');
    assert.match(
      registerPluginErrors('acme-empty', { CEDANA_ERR_ACME_EMPTY: { status: 'INTERNAL', hint: 'xxxxx' } }) ?? '',
      /belongs to the plugin "acme"/,
    );
    assert.match(
      registerPluginErrors('job', { CEDANA_ERR_JOB_NOT_FOUND: { status: 'INTERNAL', hint: 'xxxxx' } }) ?? '',
      /belongs to cedana's core/,
    );
    assert.match(
      registerPluginErrors('acme', { CEDANA_ERR_ACME_lower: { status: 'INTERNAL', hint: 'xxxxx' } }) ?? '',
      /not named after the plugin/,
    );
    assert.match(registerPluginErrors('acme', { CEDANA_ERR_ACME_X: { status: 'OK', hint: 'xxxxx' } }) ?? '', /expected a gRPC status name/);
    assert.match(registerPluginErrors('acme', { CEDANA_ERR_ACME_X: { status: 'INTERNAL', hint: ' ' } }) ?? '', /has no hint/);
    assert.equal(PLUGIN_ERRORS.get('CEDANA_ERR_ACME_EMPTY')?.plugin, 'acme', 'a refused registration changes nothing');
  });
});
