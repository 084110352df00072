/**
 * @cedana/plugin-streamer: `--streams N` writes CRIU's images as N parallel lz4 shards
 * while CRIU dumps (CRIU's --stream mode), and restore reads them back in parallel.
 * The images are never written uncompressed nor held whole in memory. Layout:
 * format.ts; the CRIU side: control.ts; why a process of its own: main.ts.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { STREAMER_ERRORS } from './errors.js';
import { streamerHealthCheck } from './health.js';
import { streamDump, streamRestore } from './middleware.js';
import { readStreamedImages } from './read-images.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'streamer',
  version,
  role: 'streams',
  requires: ['engine'],
  errors: STREAMER_ERRORS,
  features: {
    DumpMiddleware: [streamDump],
    RestoreMiddleware: [streamRestore],
    ImageReader: readStreamedImages,
    HealthChecks: [streamerHealthCheck],
  },
});
