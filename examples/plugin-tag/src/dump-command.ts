/** `cedana dump tag`: its flags, and the request details they become (`details.tag`). */
import type { PluginCommand } from '@cedana/plugin-sdk';

export interface TagDetails {
  pid: number;
  label: string;
}

export const tagDumpCommand: PluginCommand = {
  describe: 'Checkpoint a process and label the checkpoint (example plugin)',
  options: {
    pid: { type: 'number', describe: 'PID of the process to checkpoint', demandOption: true },
    label: { type: 'string', describe: 'label recorded in checkpoint.json (letters, digits, . _ -)', demandOption: true },
  },
  // The middleware validates these: a request may come from any client, not only this CLI.
  details: (argv) => ({ pid: argv.pid, label: argv.label }),
};
