/**
 * Plugins plug in by role, not by name: the first-party catalog (first-party.ts) is the one
 * place the daemon, the CLI and the core may name a first-party plugin. This is a lint over
 * their source because that is the stated criterion (issue 14); what the roles do is tested
 * where they are used (pipelines/dump.test.ts, the e2e tests).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIRST_PARTY } from './first-party.js';
import { ROLES } from './plugin.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const CATALOG = 'packages/core/src/first-party.ts';
const NAMES: readonly string[] = FIRST_PARTY.map((p) => p.name);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'gen' || entry === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** The string literals of `code` (comments removed), each with its line; a CLI flag's name (`.option('gpu', ...)`) is no plugin's. */
function literals(code: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const token = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g;
  for (const m of code.matchAll(token)) {
    if (m[0].startsWith('/') || code.slice(0, m.index).endsWith('.option(')) continue;
    out.push({ text: m[0].slice(1, -1), line: code.slice(0, m.index).split('\n').length });
  }
  return out;
}

/**
 * Where `code` names a first-party plugin: a string that is the name, or that holds it as
 * a word (not a part of a path, a config key or a flag such as `criu.leave_running`,
 * `@cedana/core/criu`, `--gpu-enabled`), or an object key / property of that name (the
 * request's `criu` options are CRIU's, not the plugin's, and are left alone).
 */
function namings(code: string): { name: string; line: number; what: string }[] {
  const found: { name: string; line: number; what: string }[] = [];
  for (const { text, line } of literals(code)) {
    for (const name of NAMES) {
      if (new RegExp(`(?<![\\w./@-])${name}(?![\\w./-])`).test(text)) found.push({ name, line, what: text });
    }
  }
  const stripped = code.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  for (const name of NAMES.filter((n) => n !== 'criu' && !n.includes('-'))) {
    for (const m of stripped.matchAll(new RegExp(`(?<!argv)\\.${name}\\b|\\b${name}\\s*:(?!:)`, 'g'))) {
      found.push({ name, line: stripped.slice(0, m.index).split('\n').length, what: m[0] });
    }
  }
  return found;
}

describe('first-party plugins are named only in the catalog', () => {
  it('no source of the daemon, the CLI or the core (tests aside) names one', () => {
    const files = ['packages/daemon/src', 'packages/cli/src', 'packages/core/src'].flatMap((d) => sources(join(repo, d)));
    assert.ok(files.length > 100, `found the sources (${files.length})`);
    const offences = files
      .filter((f) => relative(repo, f) !== CATALOG)
      .flatMap((f) =>
        namings(readFileSync(f, 'utf8')).map((n) => `${relative(repo, f)}:${n.line}: ${n.name} in ${JSON.stringify(n.what)}`),
      );
    assert.deepEqual(offences, [], 'find the plugin by its role (packages/daemon/src/plugins/resolver.ts) or from FIRST_PARTY');
  });

  it('the check finds a name in the ways code names a plugin', () => {
    assert.deepEqual(
      namings(`x('streamer'); y = \`cedana plugin install runc\`; z.gpu; ({ kata: 1 }); // runc in a comment`).map((n) => n.name),
      ['streamer', 'runc', 'gpu', 'kata'],
    );
    assert.deepEqual(namings(`import '@cedana/core/criu'; c['criu.leave_running']; f('--gpu-enabled'); ctx.criu.shellJob`), []);
  });

  it('each first-party plugin declares the role its catalog row says', () => {
    for (const p of FIRST_PARTY) {
      const source = readFileSync(join(repo, 'plugins', p.name, 'src/index.ts'), 'utf8');
      assert.equal(/\brole: '(\w+)'/.exec(source)?.[1], p.role, `plugins/${p.name}/src/index.ts declares role "${p.role}"`);
      assert.ok(p.role in ROLES);
    }
  });
});
