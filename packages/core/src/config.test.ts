import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CONFIG_KEYS, envName, loadConfig, pluginConfig } from './config.js';
import { isCedanaError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cedana-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const none = join(dir, 'missing.json');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('has a default for every key', () => {
    const c = loadConfig({ path: file('empty.json', '{}'), env: {} });
    for (const [k, spec] of Object.entries(CONFIG_KEYS)) assert.equal(c[k as keyof typeof c], spec.default);
  });

  it('takes the file, then CEDANA_* environment, then flags', () => {
    const path = file('c.json', JSON.stringify({ checkpoint: { dir: '/from-file', compression: 'gzip' }, log_level: 'debug' }));
    const c = loadConfig({
      path,
      env: { CEDANA_CHECKPOINT_DIR: '/from-env', CEDANA_CHECKPOINT_STREAMS: '2' },
      overrides: { 'checkpoint.compression': 'lz4' },
    });
    assert.equal(c['checkpoint.dir'], '/from-env');
    assert.equal(c['checkpoint.compression'], 'lz4');
    assert.equal(c['checkpoint.streams'], 2);
    assert.equal(c.log_level, 'debug');
  });

  it('gives each plugin its own "plugins.<name>" section, and {} to a plugin without one', () => {
    const path = file('sections.json', JSON.stringify({ plugins: { dir: '/p', hook: { pre_dump: ['sync'], quiet: true } } }));
    const c = loadConfig({ path, env: {} });
    assert.equal(c['plugins.dir'], '/p');
    assert.deepEqual(pluginConfig(c, 'hook'), { pre_dump: ['sync'], quiet: true });
    assert.deepEqual(pluginConfig(c, 'other'), {});
    assert.ok(!Object.keys(c).some((k) => k.startsWith('plugins.hook')), 'a section is not a config key');
  });

  it('still refuses an unknown key that is not a plugin section', () => {
    const path = file('unknown.json', JSON.stringify({ plugins: { hook: 'not an object' } }));
    assert.throws(() => loadConfig({ path, env: {} }), /unknown key "plugins.hook"/);
  });

  it('derives environment names from the keys', () => {
    assert.equal(envName('db.path'), 'CEDANA_DB_PATH');
    assert.equal(envName('address'), 'CEDANA_ADDRESS');
    assert.equal(envName('plugins.dir'), 'CEDANA_PLUGINS_DIR');
  });

  it('a missing default file is fine, a missing named file is not', () => {
    assert.doesNotThrow(() => loadConfig({ env: { HOME: dir } }));
    assert.throws(() => loadConfig({ path: none, env: {} }), /CEDANA_ERR_CONFIG_PARSE|cannot read config file/);
  });

  it('names the file when it does not parse', () => {
    const path = file('bad.json', '{ "log_level": ');
    assert.throws(
      () => loadConfig({ path, env: {} }),
      (e: unknown) => isCedanaError(e) && e.code === 'CEDANA_ERR_CONFIG_PARSE' && e.message.includes(path),
    );
  });

  it('names the key, the source and the allowed values for a bad value', () => {
    assert.throws(
      () => loadConfig({ path: file('ok.json', '{}'), env: { CEDANA_CHECKPOINT_COMPRESSION: 'rar' } }),
      (e: unknown) =>
        isCedanaError(e) &&
        e.code === 'CEDANA_ERR_CONFIG_VALUE' &&
        /checkpoint\.compression.*CEDANA_CHECKPOINT_COMPRESSION.*one of none, tar, lz4/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ path: file('n.json', '{"checkpoint": {"streams": "four"}}'), env: {} }),
      /checkpoint\.streams.*an integer/,
    );
    assert.throws(() => loadConfig({ path: file('u.json', '{"checkpoints": {}}'), env: {} }), /unknown key "checkpoints"/);
  });
});

it('docs/configuration.md lists every key with its environment name and default', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = new Map(
    doc
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split(' | ').map((c) => c.replace(/^\|/, '').trim()))
      .map((cells) => [cells[0] as string, cells]),
  );
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    const row = rows.get(`\`${key}\``);
    assert.ok(row, `docs/configuration.md lacks ${key}: run node scripts/gen-config-doc.mjs`);
    assert.equal(row[1], `\`${envName(key as keyof typeof CONFIG_KEYS)}\``);
    assert.equal(row[3], `\`${JSON.stringify(spec.default)}\``, `default of ${key}`);
  }
});
