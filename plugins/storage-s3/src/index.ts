/**
 * @cedana/plugin-storage-s3: checkpoints in S3-compatible object storage. It plays one
 * role, CheckpointStorage for the scheme s3://: the daemon asks "who stores s3://" and
 * streams a dump's archive into it and a restore's out of it; packing, digests and
 * checkpoint.json stay the daemon's. Its code and the AWS SDK are imported when the first
 * s3:// path is opened, not when the daemon loads the plugin.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { SCHEME } from './s3-url.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'storage-s3',
  version,
  role: 'storage',
  features: {
    CheckpointStorage: {
      scheme: SCHEME,
      open: async (config) => (await import('./s3-storage.js')).s3Storage.open(config),
    },
  },
});
