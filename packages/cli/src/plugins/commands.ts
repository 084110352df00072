/**
 * Plugin subcommands: a plugin that exports DumpCmd gets `cedana dump <plugin>`
 * (likewise RestoreCmd, RunCmd, ManageCmd, QueryCmd), with its own flags next to
 * the common ones; its `details(argv)` becomes `details[<plugin>]` of the request.
 * HelperCmds become top-level commands. A plugin that failed to load, or exports a
 * wrong shape, simply adds nothing: `cedana features --errors` tells why.
 */
import { type Feature, features, type HelperCommand, inPlugin, type LoadedPlugin, type OptionSpec, type PluginCommand } from '@cedana/core';
import type { Argv, Options } from 'yargs';

export interface PluginCmd {
  plugin: string;
  cmd: PluginCommand;
}

export interface PluginHelper {
  plugin: string;
  helper: HelperCommand;
}

/** Plugins that export `feature` with the right shape, minus names the CLI already uses there. */
export function pluginCommands(
  plugins: readonly LoadedPlugin[],
  feature: Feature<PluginCommand>,
  reserved: readonly string[],
): PluginCmd[] {
  return plugins.flatMap((p) => {
    const value: unknown = featureValue(p, feature.symbol);
    if (p.status !== 'ok' || reserved.includes(p.name) || !feature.shape.test(value)) return [];
    return [{ plugin: p.name, cmd: value }];
  });
}

export function pluginHelpers(plugins: readonly LoadedPlugin[], reserved: readonly string[]): PluginHelper[] {
  const taken = new Set(reserved);
  return plugins.flatMap((p) => {
    const value: unknown = featureValue(p, features.HelperCmds.symbol);
    if (p.status !== 'ok' || !features.HelperCmds.shape.test(value)) return [];
    return value.flatMap((helper) => {
      const name = helper.command.split(/\s+/)[0] ?? '';
      if (taken.has(name)) return [];
      taken.add(name);
      return [{ plugin: p.name, helper }];
    });
  });
}

function featureValue(plugin: LoadedPlugin, symbol: string): unknown {
  return (plugin.definition?.features as Record<string, unknown> | undefined)?.[symbol];
}

/** A plugin's OptionSpec as a yargs option. */
export function toYargsOption(spec: OptionSpec): Options {
  const opt: Options = { type: spec.type, describe: spec.describe };
  if (spec.alias !== undefined) opt.alias = spec.alias;
  if (spec.demandOption !== undefined) opt.demandOption = spec.demandOption;
  if (spec.default !== undefined) opt.default = spec.default;
  if (spec.choices !== undefined) opt.choices = [...spec.choices];
  if (spec.type === 'array') opt.string = true;
  return opt;
}

export function addPluginOptions(y: Argv, options: Record<string, OptionSpec> | undefined): Argv {
  let out = y;
  for (const [name, spec] of Object.entries(options ?? {})) out = out.option(name, toYargsOption(spec));
  return out;
}

/** `details` of the request: `{ [plugin]: cmd.details(argv) }`; a throwing plugin is named in the error. */
export function pluginDetails(pc: PluginCmd, symbol: string, argv: Record<string, unknown>): Record<string, unknown> {
  return { [pc.plugin]: inPlugin(pc.plugin, symbol, () => pc.cmd.details?.(argv) ?? {}) };
}

/**
 * The flags of every plugin's `cmd`, on a command that serves the jobs of any plugin
 * (`restore job JID --id NEW`): none required and none defaulted (the job's record has
 * the rest), grouped under the plugin's name, and never replacing a flag of the command
 * (`taken`, aliases included). A flag several plugins declare (runc's and containerd's
 * `--id`) is added once, under the first, and given to each of them: the daemon hands a
 * job's plugin its own details.
 */
export function addOptionalPluginOptions(y: Argv, pcs: readonly PluginCmd[], taken: readonly string[]): Argv {
  let out = y;
  const added = new Set<string>();
  for (const [pc, names] of optionalFlags(pcs, taken)) {
    const own = names.filter((name) => !added.has(name));
    for (const name of own) {
      const spec = pc.cmd.options?.[name];
      if (!spec) continue;
      const { demandOption: _required, default: _default, ...optional } = spec;
      out = out.option(name, toYargsOption(optional));
      added.add(name);
    }
    if (own.length > 0) out = out.group(own, `${pc.plugin} options (for ${pc.plugin} jobs):`);
  }
  return out;
}

/** `details` from the plugins one of whose flags (as addOptionalPluginOptions added them) was given; undefined when none was. */
export function givenPluginDetails(
  pcs: readonly PluginCmd[],
  symbol: string,
  argv: Record<string, unknown>,
  taken: readonly string[],
): Record<string, unknown> | undefined {
  const given = [...optionalFlags(pcs, taken)].filter(([, names]) => names.some((name) => argv[name] !== undefined)).map(([pc]) => pc);
  if (given.length === 0) return undefined;
  return Object.assign({}, ...given.map((pc) => pluginDetails(pc, symbol, argv)));
}

/** Each plugin's flags that the command does not take itself (`taken`, aliases included); a flag may belong to several plugins. */
function optionalFlags(pcs: readonly PluginCmd[], taken: readonly string[]): Map<PluginCmd, string[]> {
  const reserved = new Set(taken);
  const out = new Map<PluginCmd, string[]>();
  for (const pc of pcs) {
    const names = Object.entries(pc.cmd.options ?? {})
      .filter(([name, spec]) => !reserved.has(name) && (spec.alias === undefined || !reserved.has(spec.alias)))
      .map(([name]) => name);
    out.set(pc, names);
  }
  return out;
}
