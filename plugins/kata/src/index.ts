/**
 * @cedana/plugin-kata: workloads in Kata VMs. The host daemon forwards dumps and restores
 * to a cedana daemon inside the guest (vsock, through socat), which checkpoints there into a
 * folder shared with the host; the host keeps, packs and hashes the checkpoint as usual.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { dumpCmd, restoreCmd } from './commands.js';
import { dumpMiddleware } from './dump.js';
import { KATA_ERRORS } from './errors.js';
import { restoreMiddleware } from './restore.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'kata',
  version,
  role: 'runtime',
  errors: KATA_ERRORS,
  features: {
    DumpCmd: dumpCmd,
    RestoreCmd: restoreCmd,
    DumpMiddleware: dumpMiddleware,
    RestoreMiddleware: restoreMiddleware,
  },
});
