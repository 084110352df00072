/**
 * Plugin subcommands: a plugin that exports DumpCmd gets `cedana dump <plugin>`
 * (likewise RestoreCmd, RunCmd, ManageCmd, QueryCmd), with its own flags next to
 * the common ones; its `details(argv)` becomes `details[<plugin>]` of the request.
 * HelperCmds become top-level commands. A plugin that failed to load, or exports a
 * wrong shape, simply adds nothing: `cedana features --errors` tells why.
 */
import {
  type Feature,
  features,
  type HelperCommand,
  type LoadedPlugin,
  type OptionSpec,
  type PluginCommand,
  wrapPluginError,
} from '@cedana/core';
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
  try {
    return { [pc.plugin]: pc.cmd.details?.(argv) ?? {} };
  } catch (err) {
    throw wrapPluginError(err, pc.plugin, symbol);
  }
}
