/** `cedana tag-show CHECKPOINT`: the label of a checkpoint folder (made with `--compression none`). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, type HelperCommand, sectionOf } from '@cedana/plugin-sdk';
import pc from 'picocolors';

export const tagShow: HelperCommand = {
  command: 'tag-show <checkpoint>',
  describe: 'Print the label of a checkpoint folder',
  handler: async (argv) => {
    const dir = String(argv.checkpoint);
    let tag: { label?: string; taggedAt?: string; host?: string } | undefined;
    try {
      tag = sectionOf(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')), 'tag');
    } catch (err) {
      throw new CedanaError('CEDANA_ERR_CHECKPOINT_NOT_FOUND', `cannot read ${join(dir, 'checkpoint.json')}: ${(err as Error).message}`, {
        hint: 'give the folder of a checkpoint dumped with `cedana dump tag ... --compression none`',
      });
    }
    if (!tag?.label) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `${dir} has no tag: it was not dumped with \`cedana dump tag\``);
    process.stdout.write(`${pc.bold(tag.label)} (tagged ${tag.taggedAt} on ${tag.host})\n`);
  },
};
