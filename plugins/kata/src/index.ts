/**
 * @cedana/plugin-kata: workloads in Kata VMs. The host daemon forwards dumps and restores
 * to a cedana daemon inside the guest (vsock, through socat), which checkpoints there into a
 * folder shared with the host; the host keeps, packs and hashes the checkpoint as usual.
 * The middleware imports its module (and with it the daemon's gRPC client and protobuf code)
 * at its first call (`adapterOnDemand`), not with the plugin.
 */
import { readFileSync } from 'node:fs';
import { adapterOnDemand, definePlugin } from '@cedana/plugin-sdk';
import { dumpCmd, restoreCmd } from './commands.js';
import { KATA_ERRORS } from './errors.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'kata',
  version,
  role: 'runtime',
  errors: KATA_ERRORS,
  features: {
    DumpCmd: dumpCmd,
    RestoreCmd: restoreCmd,
    DumpMiddleware: [adapterOnDemand('forwardDumpToGuest', async () => (await import('./dump.js')).forwardDumpToGuest)],
    RestoreMiddleware: [adapterOnDemand('forwardRestoreToGuest', async () => (await import('./restore.js')).forwardRestoreToGuest)],
  },
});
