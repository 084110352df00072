/**
 * cedana-plugin-tag: an example third-party plugin, written only against
 * @cedana/plugin-sdk. It adds
 *   - `cedana dump tag --pid PID --label LABEL` (DumpCmd): checkpoints a process of type
 *     "tag" and records the label in the checkpoint's checkpoint.json,
 *   - the DumpMiddleware that does the recording (and takes the PID from the request),
 *   - `cedana tag-show CHECKPOINT` (HelperCmds): prints the label of a checkpoint folder.
 * CRIU still does the dump: the criu plugin's DumpHandler is the final handler.
 */
import { readFileSync } from 'node:fs';
import { definePlugin } from '@cedana/plugin-sdk';
import { tagDumpCommand } from './dump-command.js';
import { tagCheckpoint } from './dump-middleware.js';
import { tagShow } from './tag-show.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export default definePlugin({
  name: 'tag',
  version,
  features: {
    DumpCmd: tagDumpCommand,
    DumpMiddleware: [tagCheckpoint],
    HelperCmds: [tagShow],
  },
});
