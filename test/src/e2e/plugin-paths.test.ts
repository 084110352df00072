/**
 * Issue 13, item 1: a plugin package's name and version become folders of the plugins
 * dir, so a tarball whose package.json names a path (`"version": "../../../../victim"`,
 * `"name": "@evil/../.."`) is refused before anything is written, and a folder outside
 * the plugins dir is left untouched.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../harness/daemon.js';

const run = promisify(execFile);

/** A tarball made by tar (npm pack would refuse such a package.json), as npm lays it out: package/... */
async function tarball(dir: string, file: string, pkg: Record<string, unknown>): Promise<string> {
  const root = join(dir, `src-${file}`);
  await mkdir(join(root, 'package'), { recursive: true });
  await writeFile(join(root, 'package', 'package.json'), JSON.stringify({ type: 'module', main: 'index.js', ...pkg }));
  await writeFile(join(root, 'package', 'index.js'), 'export default { name: "tv", features: {} };\n');
  const out = join(dir, file);
  await run('tar', ['czf', out, '-C', root, 'package']);
  return out;
}

describe('plugin install refuses package names and versions that are paths', () => {
  let work: string;
  let pluginsDir: string;
  let victim: string;
  let env: NodeJS.ProcessEnv;
  const install = (tgz: string) => runCli(['plugin', 'install', tgz], env);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'cedana-plugin-paths-'));
    // <work>/a/plugins: the version below climbs from the staging folder to <work>/victim.
    pluginsDir = join(work, 'a', 'plugins');
    victim = join(work, 'victim');
    await mkdir(victim, { recursive: true });
    await writeFile(join(victim, 'precious.txt'), 'keep me\n');
    env = { ...process.env, CEDANA_PLUGINS_DIR: pluginsDir, CEDANA_PLUGINS_REGISTRY: '', CEDANA_ADDRESS: join(work, 'no-daemon.sock') };
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('gh-13: a "version" of ../../../../victim is refused and the folder it names is untouched', async () => {
    const tgz = await tarball(work, 'tv.tgz', {
      name: 'cedana-plugin-tv',
      version: '../../../../victim',
      cedana: { plugin: 'tv', engines: '*' },
    });
    const r = await install(tgz);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CEDANA_ERR_PLUGIN_MANIFEST/);
    assert.match(r.stderr, /"version": "\.\.\/\.\.\/\.\.\/\.\.\/victim" of cedana-plugin-tv is not a semver version/);
    assert.deepEqual(await readdir(victim), ['precious.txt']);
    assert.equal(await readFile(join(victim, 'precious.txt'), 'utf8'), 'keep me\n');
    assert.deepEqual((await readdir(work)).sort(), ['a', 'src-tv.tgz', 'tv.tgz', 'victim']);
    assert.ok(!(await readdir(pluginsDir)).includes('tv'), 'nothing installed');
  });

  for (const name of ['../../x', '@evil/../..']) {
    it(`gh-13: a package named ${name} is refused, naming the field`, async () => {
      const tgz = await tarball(work, `named-${name.replace(/\W/g, '_')}.tgz`, {
        name,
        version: '1.0.0',
        cedana: { plugin: 'tv', engines: '*' },
      });
      const r = await install(tgz);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /CEDANA_ERR_PLUGIN_MANIFEST/);
      assert.ok(r.stderr.includes(`"name": ${JSON.stringify(name)} is not an npm package name`), r.stderr);
      assert.ok(!(await readdir(pluginsDir)).includes('tv'), 'nothing installed');
    });
  }
});
