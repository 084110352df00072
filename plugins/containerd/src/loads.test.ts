import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { features } from '@cedana/core';
import plugin from './index.js';

test('loads as the containerd plugin with the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
    cedana: { plugin: string };
  };
  assert.equal(plugin.name, 'containerd');
  assert.equal(pkg.cedana.plugin, 'containerd');
  assert.equal(plugin.version, pkg.version);
});

test('exports the command, pipeline and health-check features in the shapes the host checks', () => {
  const exported = [
    features.DumpCmd,
    features.RestoreCmd,
    features.RunCmd,
    features.ManageCmd,
    features.QueryCmd,
    features.DumpMiddleware,
    features.DumpHandler,
    features.RestoreMiddleware,
    features.RestoreHandler,
    features.RunHandler,
    features.ManageHandler,
    features.KillSignal,
    features.Cleanup,
    features.QueryHandler,
    features.HealthChecks,
  ];
  for (const feature of exported) {
    const value = plugin.features[feature.symbol];
    assert.ok(feature.shape.test(value), `${feature.symbol} should be ${feature.shape.expected}`);
  }
});
