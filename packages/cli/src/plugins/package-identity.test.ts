import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPackageIdentity } from './package-identity.js';

describe('checkPackageIdentity', () => {
  it('passes an npm name and a semver version', () => {
    assert.deepEqual(checkPackageIdentity({ name: '@cedana/plugin-criu', version: '1.2.3-rc.1' }, 'x'), {
      name: '@cedana/plugin-criu',
      version: '1.2.3-rc.1',
    });
  });
  it('refuses a version that is a path, naming the field', () => {
    assert.throws(
      () => checkPackageIdentity({ name: 'tv', version: '../../../../tmp/victim' }, './tv.tgz'),
      (err: Error & { code?: string }) =>
        err.code === 'CEDANA_ERR_PLUGIN_MANIFEST' && /\.\/tv\.tgz: "version": "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/victim"/.test(err.message),
    );
    assert.throws(() => checkPackageIdentity({ name: 'tv', version: 'v1.0.0' }, 'x'), /"version": "v1.0.0"/);
    assert.throws(() => checkPackageIdentity({ name: 'tv' }, 'x'), /"version": undefined/);
  });
  it('refuses names that are paths: ../../x, @evil/../.., @evil/..', () => {
    for (const name of ['../../x', '@evil/../..', '@evil/..', '..', '']) {
      assert.throws(() => checkPackageIdentity({ name, version: '1.0.0' }, 'x'), /"name": .* is not an npm package name \(/, name);
    }
  });
  it('refuses a dependency whose name is a path', () => {
    assert.throws(
      () => checkPackageIdentity({ name: 'tv', version: '1.0.0', dependencies: { '@evil/../..': '1' } }, 'x'),
      /"dependencies" of tv names "@evil\/\.\.\/\.\."/,
    );
  });
});
