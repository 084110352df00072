import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { features } from '@cedana/core';
import plugin from './index.js';

test('loads as the criu plugin with the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(plugin.name, 'criu');
  assert.equal(plugin.version, pkg.version);
});

test('exports DumpHandler, RestoreHandler and HealthChecks in the shapes the host checks', () => {
  for (const feature of [features.DumpHandler, features.RestoreHandler, features.HealthChecks]) {
    const value = plugin.features[feature.symbol];
    assert.ok(feature.shape.test(value), `${feature.symbol} should be ${feature.shape.expected}`);
  }
});
