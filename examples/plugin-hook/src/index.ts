/**
 * cedana-plugin-hook: an example third-party plugin, built outside the cedana repository
 * from the packed SDK alone (`npm install --save-dev "$(cedana plugin sdk)"`). With
 * `appliesTo: '*'` its middleware runs for dumps and restores of every job type, plain
 * `process` jobs included:
 *   - before CRIU dumps: records `hook` facts in checkpoint.json, and runs the command of
 *     config `plugins.hook.pre_dump` if there is one (its failure refuses the dump);
 *   - after the process is restored: says so, and runs `plugins.hook.post_restore`.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { postRestoreHook, preDumpHook } from './hooks.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'hook',
  version,
  appliesTo: '*',
  features: {
    DumpMiddleware: [preDumpHook],
    RestoreMiddleware: [postRestoreHook],
  },
});
