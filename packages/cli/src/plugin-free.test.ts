import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedPlugin } from '@cedana/core';
import { RESTORE_JOB_FLAGS } from './commands/restore.js';
import { needsPlugins } from './plugin-free.js';
import { cli } from './testing/fake-cli.js';

describe('needsPlugins', () => {
  it('skips plugin loading for commands no plugin can extend', () => {
    assert.equal(needsPlugins(['ps']), false);
    assert.equal(needsPlugins(['--address', '/tmp/s.sock', 'job', 'list']), false);
    assert.equal(needsPlugins(['--profiling', 'kill', 'web']), false);
    assert.equal(needsPlugins(['--version']), false);
    assert.equal(needsPlugins(['plugin', 'install', 'runc']), false);
    assert.equal(needsPlugins(['exec', '--', 'sleep', '1']), false);
  });

  it('skips it for the built-in subcommands beside plugin ones', () => {
    assert.equal(needsPlugins(['dump', 'job', 'web', '--compression', 'lz4', '--streams', '2']), false);
    assert.equal(needsPlugins(['--address', '/tmp/s.sock', 'dump', 'process', '4242', '--help']), false);
    assert.equal(needsPlugins(['restore', 'process', '--path', '/ckpt/x']), false);
    assert.equal(needsPlugins(['run', 'process', '--', 'sleep', '1']), false);
    assert.equal(needsPlugins(['manage', 'process', '-p', '1']), false);
  });

  it('skips it for restore job with only flags of its own', () => {
    assert.equal(needsPlugins(['restore', 'job', 'web']), false);
    assert.equal(needsPlugins(['--log-level', 'debug', 'restore', 'job', 'web', '-a', '--path=/ckpt/x', '--no-progress', '--json']), false);
    assert.equal(needsPlugins(['restore', 'job', 'web', '--log', 'out.log', '--', '--id']), false);
  });

  it('loads plugins where their subcommands, flags or help may be used, and for unknown commands (helper commands)', () => {
    assert.equal(needsPlugins(['dump', 'runc']), true);
    assert.equal(needsPlugins(['dump']), true);
    assert.equal(needsPlugins(['dump', '--help']), true);
    assert.equal(needsPlugins(['dump', '--compression', 'lz4', 'job', 'web']), true); // not sure which word is the subcommand
    assert.equal(needsPlugins(['restore', 'job', 'web', '--id', 'web2']), true);
    assert.equal(needsPlugins(['restore', 'job', 'web', '-i', 'web2']), true);
    assert.equal(needsPlugins(['restore', 'job', '--help']), true);
    assert.equal(needsPlugins(['--help', 'restore', 'job', 'web']), true);
    assert.equal(needsPlugins(['restore', 'job', 'web', '-h']), true);
    assert.equal(needsPlugins(['restore', 'job', 'web', '-ab']), true);
    assert.equal(needsPlugins(['query', 'runc']), true);
    assert.equal(needsPlugins(['--config', 'ps', 'features']), true);
    assert.equal(needsPlugins(['k8s-helper']), true);
    assert.equal(needsPlugins(['--help']), true);
  });
});

/** A plugin with every command feature, whose flags try to take the built-in names. */
const greedy: LoadedPlugin = {
  name: 'greedy',
  version: '1.0.0',
  path: '/p/greedy/1.0.0',
  status: 'ok',
  definition: {
    name: 'greedy',
    version: '1.0.0',
    features: Object.fromEntries(
      ['DumpCmd', 'RestoreCmd', 'RunCmd', 'ManageCmd', 'QueryCmd'].map((f) => [
        f,
        {
          describe: `greedy ${f}`,
          options: Object.fromEntries(
            ['id', 'json', 'log', 'address', 'path', 'streams', 'print-stats'].map((name) => [
              name,
              { type: 'string', describe: `greedy --${name}` },
            ]),
          ),
          details: (a: Record<string, unknown>) => ({ id: a.id }),
        },
      ]),
    ),
  },
};

/** The run, and what yargs printed through console.log (--help). */
async function withConsole<T>(run: () => Promise<T>): Promise<{ run: T; console: string }> {
  const log = console.log;
  let printed = '';
  console.log = (...a: unknown[]) => {
    printed += `${a.join(' ')}\n`;
  };
  try {
    return { run: await run(), console: printed };
  } finally {
    console.log = log;
  }
}

describe('plugin-free command lines', () => {
  const responses = { dump: { messages: [] }, restore: { jid: 'web', pid: 7, messages: [] } };

  for (const args of [
    ['dump', 'job', 'web', '--json', '--streams', '2'],
    ['dump', 'process', '42', '--print-stats', '--log-level', 'debug'],
    ['restore', 'job', 'web', '--json', '--log', 'out.log', '--path', '/ckpt/x', '--streams', '2', '--no-progress'],
    ['restore', 'process', '--path', '/ckpt/x', '--json'],
    ['dump', 'job', '--help'],
    ['dump', 'process', '--help'],
    ['restore', 'process', '--help'],
    ['run', 'process', '--help'],
    ['manage', 'process', '--help'],
  ]) {
    it(`cedana ${args.join(' ')}: the same with the plugins as without`, async () => {
      assert.equal(needsPlugins(args), false);
      const without = await withConsole(() => cli(args, { responses }));
      // The plugins loaded all the same, as `features` or a flag of theirs would make them:
      const withPlugins = await withConsole(() => cli(args, { responses, plugins: [greedy], forcePlugins: true }));
      assert.deepEqual(withPlugins, without);
    });
  }
});

describe('RESTORE_JOB_FLAGS', () => {
  it('are the flags `restore job --help` lists, --help aside', async () => {
    const { console: help } = await withConsole(() => cli(['restore', 'job', '--help']));
    const listed = [...help.matchAll(/^ +(?:-(\w), )?--([\w-]+)/gm)].flatMap(([, alias, name]) => (alias ? [name, alias] : [name]));
    assert.deepEqual([...listed, 'jid'].filter((f) => f !== 'help' && f !== 'h').sort(), [...RESTORE_JOB_FLAGS].sort());
  });
});
