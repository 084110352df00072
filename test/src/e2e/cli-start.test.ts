/**
 * How `cedana` starts: from the CLI's startup snapshot through the launcher (falling back to
 * main.js when the blob is missing, damaged or not this node's), and without importing the
 * plugins for the command lines that only describe them (help, features, plugin list).
 * What a user sees must be the same on every path.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CLI, LAUNCHER, TestDaemon } from '../harness/daemon.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const r = spawnSync(file, args, { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A plugin whose import leaves a line in $SIDEFX_MARK, with a `dump sidefx` subcommand described as `describe`. */
function writeSideEffectPlugin(pluginsDir: string, version: string, describe: string): void {
  const dir = join(pluginsDir, 'sidefx', version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'cedana-plugin-sidefx', version, type: 'module', main: 'index.js', cedana: { plugin: 'sidefx', engines: '*' } }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `import { appendFileSync } from 'node:fs';
appendFileSync(process.env.SIDEFX_MARK, 'imported\\n');
export default {
  name: 'sidefx',
  version: ${JSON.stringify(version)},
  features: { DumpCmd: { describe: ${JSON.stringify(describe)}, options: { thing: { type: 'string', describe: 'which thing' } }, details: (a) => ({ thing: a.thing }) } },
};
`,
  );
}

const imports = (mark: string): number => {
  try {
    return readFileSync(mark, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('command lines that only describe plugins', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let mark: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'cedana-cli-start-'));
    mark = join(work, 'imports');
    env = {
      ...process.env,
      HOME: work,
      CEDANA_PLUGINS_DIR: join(work, 'plugins'),
      CEDANA_ADDRESS: join(work, 'none.sock'),
      SIDEFX_MARK: mark,
    };
    writeSideEffectPlugin(join(work, 'plugins'), '1.0.0', 'Checkpoint a sidefx thing');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('run no plugin code while the plugins are unchanged, and print what a full load prints', () => {
    const first = run(LAUNCHER, ['dump', '--help'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /dump sidefx +Checkpoint a sidefx thing/);
    assert.equal(imports(mark), 1, 'the first run loads the plugin');
    for (const args of [
      ['dump', '--help'],
      ['dump', 'sidefx', '--help'],
      ['--help'],
      ['features'],
      ['features', '--errors', '--json'],
      ['plugin', 'list'],
    ]) {
      const loaded = imports(mark);
      const described = run(LAUNCHER, args, env);
      assert.equal(imports(mark), loaded, `cedana ${args.join(' ')} imported the plugin`);
      // The plain bundle, told nothing is kept, loads the plugin and must print the same.
      rmSync(join(work, 'plugins', '.described.json'), { force: true });
      const full = run(process.execPath, [CLI, ...args], env);
      assert.equal(imports(mark), loaded + 1);
      assert.deepEqual(described, full, `cedana ${args.join(' ')}`);
    }
  });

  it('see a changed plugin at once', () => {
    run(LAUNCHER, ['dump', '--help'], env);
    writeSideEffectPlugin(join(work, 'plugins'), '1.0.1', 'Checkpoint a newer sidefx thing');
    const loaded = imports(mark);
    const r = run(LAUNCHER, ['dump', '--help'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dump sidefx +Checkpoint a newer sidefx thing/);
    assert.equal(imports(mark), loaded + 1);
    // The code of an installed version changed in place (by hand): its entry file's stamp tells.
    appendFileSync(join(work, 'plugins', 'sidefx', '1.0.1', 'index.js'), '\n// edited\n');
    run(LAUNCHER, ['features'], env);
    assert.equal(imports(mark), loaded + 2);
  });

  it('load the plugins as before when the description is damaged', () => {
    run(LAUNCHER, ['features'], env);
    writeFileSync(join(work, 'plugins', '.described.json'), '{"format":1,"key":');
    const loaded = imports(mark);
    const r = run(LAUNCHER, ['dump', '--help'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dump sidefx/);
    assert.equal(imports(mark), loaded + 1);
  });
});

describe('the startup snapshot', () => {
  let d: TestDaemon;
  let copy: string;

  before(async () => {
    d = await TestDaemon.start({ CEDANA_LOG_LEVEL: 'warn' });
    // A copy of the bundle folder with its own launcher: what the build made, to damage at will.
    copy = mkdtempSync(join(tmpdir(), 'cedana-bundle-'));
    cpSync(dirname(CLI), copy, { recursive: true });
    const launcher = readFileSync(LAUNCHER, 'utf8').replace(/^d=.*$/m, `d='${copy}'`);
    writeFileSync(join(copy, 'cedana'), launcher, { mode: 0o755 });
  });
  after(async () => {
    await d.stop();
    rmSync(copy, { recursive: true, force: true });
  });

  /** The stamp the build writes: node's identity and the blob's, as `stat -L -c '%d:%i:%s:%Y:%Z'` prints them. */
  const stampOf = (paths: string[]): string =>
    paths
      .map((p) => {
        const s = statSync(p, { bigint: true });
        return `${[s.dev, s.ino, s.size, s.mtimeMs / 1000n, s.ctimeMs / 1000n].join(':')}\n`;
      })
      .join('');
  const node = (): string => spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
  /** The launcher's run, with the node command line it chose (sh -x prints it). */
  const launch = (args: string[]): Run & { snapshot: boolean } => {
    const r = run('sh', ['-x', join(copy, 'cedana'), ...args], d.env);
    const exec = r.stderr.split('\n').filter((l) => l.startsWith('+ exec'));
    return { ...r, stderr: r.stderr.replace(/^\+.*\n/gm, ''), snapshot: exec.some((l) => l.includes('--snapshot-blob')) };
  };

  it('prints what main.js prints', () => {
    for (const args of [
      ['--version'],
      ['ps'],
      ['ps', '--json'],
      [],
      ['--help'],
      ['dump', '--help'],
      ['restore', 'job', '--help'],
      ['features'],
      ['plugin', 'list'],
      ['nosuch'],
      ['exec', '--', 'true', '--version'],
      ['dump', 'job', 'no-such-job'],
    ]) {
      const snap = run(LAUNCHER, args, d.env);
      const plain = run(process.execPath, [CLI, ...args], d.env);
      // A job's ID and PID differ from run to run; the rest of what exec prints must not.
      const same = (r: Run) => ({ ...r, stdout: r.stdout.replace(/[0-9a-f-]{8,}|\b\d+\b/g, 'N') });
      assert.deepEqual(same(snap), same(plain), `cedana ${args.join(' ')}`);
    }
  });

  it('is used while its stamp matches node and the blob', () => {
    writeFileSync(join(copy, 'main.blob.stamp'), stampOf([node(), join(copy, 'main.blob')]));
    const r = launch(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.snapshot, true);
    assert.equal(r.stdout.trim(), run(process.execPath, [CLI, '--version'], d.env).stdout.trim());
  });

  it('is left for main.js when the blob is damaged after the build', () => {
    writeFileSync(join(copy, 'main.blob.stamp'), stampOf([node(), join(copy, 'main.blob')]));
    const blob = readFileSync(join(copy, 'main.blob'));
    blob.fill(0x5a, 0, 64);
    writeFileSync(join(copy, 'main.blob'), blob);
    const r = launch(['ps', '--json']); // not `ps` alone: that has a fast path of its own, without the snapshot
    assert.equal(r.snapshot, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[/);
  });

  it('is left for main.js when it was made by another node, or is missing', () => {
    writeFileSync(join(copy, 'main.blob.stamp'), `0:0:0:0:0\n${stampOf([join(copy, 'main.blob')])}`);
    let r = launch(['--version']);
    assert.equal(r.snapshot, false);
    assert.equal(r.code, 0, r.stderr);
    rmSync(join(copy, 'main.blob'));
    r = launch(['dump', 'job', '--help']);
    assert.equal(r.snapshot, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cedana dump job/);
    rmSync(join(copy, 'main.blob.stamp'));
    r = launch(['--version']);
    assert.equal(r.snapshot, false);
    assert.deepEqual([r.code, r.stderr], [0, '']);
  });
});

describe('the fast path of `cedana ps`', () => {
  let d: TestDaemon;
  let copy: string;

  before(async () => {
    d = await TestDaemon.start({ CEDANA_LOG_LEVEL: 'warn' });
    await d.ok(['run', 'process', '--jid', 'fast-sleeper', '--', 'sleep', '60']);
    await d.ok(['run', 'process', '--jid', 'fast-done', '--', 'true']);
    copy = mkdtempSync(join(tmpdir(), 'cedana-bundle-'));
    cpSync(dirname(CLI), copy, { recursive: true });
  });
  after(async () => {
    await d.cli(['kill', 'fast-sleeper']);
    await d.stop();
    rmSync(copy, { recursive: true, force: true });
  });

  it('prints what main.js prints, without the rest of the CLI', () => {
    for (const args of [['ps'], ['jobs']]) {
      const fast = run(LAUNCHER, args, d.env);
      assert.equal(fast.code, 0, fast.stderr);
      assert.match(fast.stdout, /^JID +TYPE .*\n(.*\n)*fast-done +process +\d+ +exited \(0\)/);
      assert.deepEqual(fast, run(process.execPath, [CLI, ...args], d.env), `cedana ${args.join(' ')}`);
    }
    // Without the full CLI's code, the fast path still serves `ps`: it needs none of it.
    rmSync(join(copy, 'fast-fallback.js'));
    assert.deepEqual(run(process.execPath, [join(copy, 'fast-main.cjs'), 'ps'], d.env), run(LAUNCHER, ['ps'], d.env));
  });

  it('leaves what it does not serve to the full CLI, which prints what main.js prints', () => {
    const none = { ...d.env, CEDANA_ADDRESS: join(d.dir, 'none.sock') };
    const configured = join(d.dir, 'bad.json');
    writeFileSync(configured, '{"address":');
    for (const env of [
      none,
      { ...d.env, CEDANA_CONFIG: configured },
      { ...d.env, CEDANA_PROTOCOL: 'tcp', CEDANA_ADDRESS: '127.0.0.1:1' },
    ]) {
      const fast = run(LAUNCHER, ['ps'], env);
      assert.notEqual(fast.code, 0);
      assert.match(fast.stderr, /^Error \[CEDANA_ERR_/);
      assert.deepEqual(fast, run(process.execPath, [CLI, 'ps'], env));
    }
  });

  it('says that a daemon that never answers is unreachable, as main.js does at the same deadline', async () => {
    const path = join(d.dir, 'silent.sock');
    const silent = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer(() => {}).listen(${JSON.stringify(path)}, () => console.log('up'))`,
    ]);
    try {
      await new Promise((resolve) => silent.stdout.once('data', resolve));
      const env = { ...d.env, CEDANA_ADDRESS: path };
      const exec = promisify(execFile);
      const [fast, full] = await Promise.all(
        [
          [LAUNCHER, 'ps'],
          [process.execPath, CLI, 'ps'],
        ].map(([file, ...args]) =>
          exec(file as string, args, { env }).then(
            () => assert.fail('ps succeeded'),
            (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
          ),
        ),
      );
      assert.match(fast?.stderr ?? '', /cannot reach the daemon at unix:\/\/.*silent\.sock: no answer within 5000 ms/);
      assert.deepEqual(fast, full);
    } finally {
      silent.kill();
    }
  });
});
