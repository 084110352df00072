/**
 * @cedana/plugin-criu: the CRIU engine. Exports the final dump and restore handlers
 * (criu dump / criu restore) and the `criu` health check.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { criuDump } from './dump.js';
import { CRIU_ERRORS } from './errors.js';
import { criuHealthCheck } from './health.js';
import { criuRestore } from './restore.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'criu',
  version,
  role: 'engine',
  errors: CRIU_ERRORS,
  features: {
    DumpHandler: criuDump,
    RestoreHandler: criuRestore,
    HealthChecks: [criuHealthCheck],
  },
});
