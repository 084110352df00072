/** The hook's own configuration (`plugins.hook` in cedana's config file) and the commands it runs. */
import { execFile } from 'node:child_process';
import { CedanaError } from '@cedana/plugin-sdk';

export interface HookSettings {
  /** Command and arguments run before CRIU dumps; a failure refuses the dump. */
  preDump?: string[];
  /** Command and arguments run after the process is restored. */
  postRestore?: string[];
}

/** `{"plugins": {"hook": {"pre_dump": ["sync"], "post_restore": [...]}}}` read and checked. */
export function settingsOf(section: Readonly<Record<string, unknown>>): HookSettings {
  const command = (key: string): string[] | undefined => {
    const v = section[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string')) {
      throw new CedanaError(
        'CEDANA_ERR_CONFIG_VALUE',
        `config plugins.hook.${key} must be a command as a list of strings, found ${JSON.stringify(v)}`,
        {
          hint: `write it as "${key}": ["sync"] in the "plugins": { "hook": { ... } } section of the config file`,
        },
      );
    }
    return v as string[];
  };
  return { preDump: command('pre_dump'), postRestore: command('post_restore') };
}

/** Runs a hook command with CEDANA_HOOK and `env` set; refuses the request (CEDANA_ERR_PLUGIN_REFUSED) when it fails. */
export function runHookCommand(hook: string, [program, ...args]: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program as string, args, { env: { ...process.env, ...env, CEDANA_HOOK: hook }, timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = typeof err.code === 'number' ? `exited ${err.code}` : (err.code ?? err.signal ?? err.message);
      reject(
        new CedanaError(
          'CEDANA_ERR_PLUGIN_REFUSED',
          `the ${hook} command ${JSON.stringify(program)} ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`,
          {
            hint: `fix the command in plugins.hook.${hook.replace('-', '_')} of the config file (it runs as the daemon, with CEDANA_PID set), or remove it`,
          },
        ),
      );
    });
  });
}
