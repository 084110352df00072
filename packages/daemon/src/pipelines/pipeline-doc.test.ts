/** docs/writing-plugins.md documents each pipeline's order: this keeps those lists and the code in step. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const doc = readFileSync(new URL('../../../../docs/writing-plugins.md', import.meta.url), 'utf8');

/** The steps of a ```pipeline:NAME block: the first word of each line (`-> X` for the final handler). */
function documented(name: string): string[] {
  const block = new RegExp(`\`\`\`pipeline:${name}\\n([\\s\\S]*?)\\n\`\`\``).exec(doc)?.[1];
  assert.ok(block, `docs/writing-plugins.md has a \`\`\`pipeline:${name} block`);
  return block.split('\n').map((line) => (line.startsWith('->') ? `-> ${line.split(/\s+/)[1]}` : (line.split(/\s+/)[0] ?? '')));
}

/** The arguments of the withAdapters(...) call of pipelines/NAME.ts, as step names, the final handler last. */
function coded(name: string): string[] {
  const source = readFileSync(new URL(`../../src/pipelines/${name}.ts`, import.meta.url), 'utf8').replace(/\/\/.*$/gm, '');
  const start = source.indexOf('withAdapters(') + 'withAdapters('.length;
  const args: string[] = [];
  let depth = 0;
  let arg = '';
  for (const ch of source.slice(start)) {
    if (depth === 0 && (ch === ',' || ch === ')')) {
      if (arg.trim()) args.push(arg.trim());
      arg = '';
      if (ch === ')') break;
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    arg += ch;
  }
  const [final, ...adapters] = args.map((a) => /features\.(\w+)/.exec(a)?.[1] ?? /^\w+/.exec(a)?.[0] ?? a);
  return [...adapters, `-> ${final}`];
}

for (const name of ['dump', 'restore', 'run']) {
  it(`the ${name} pipeline in docs/writing-plugins.md is the order of pipelines/${name}.ts`, () => {
    assert.deepEqual(documented(name), coded(name));
  });
}
