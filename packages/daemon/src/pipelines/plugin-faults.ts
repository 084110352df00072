/**
 * What plugin code threw while the daemon handled requests: the last error of each plugin
 * and feature since the daemon started, with its stack and how often. Each is logged (with
 * the stack) when it happens; `cedana features --errors` and `--json` show the list (the
 * Features RPC's `faults`).
 */
import { type BaseContext, type CedanaError, isCedanaError } from '@cedana/core';
import type { PluginFault } from '@cedana/core/messages';

const faults = new Map<string, PluginFault>();

/** Records and logs `err`, which plugin code of `plugin` threw in `symbol`; `wrapped` is what the request fails with. */
export function recordPluginFault(ctx: BaseContext | undefined, plugin: string, symbol: string, err: unknown, wrapped: CedanaError): void {
  const key = `${plugin}\0${symbol}`;
  const stack = (err instanceof Error ? err.stack : undefined) ?? String(err);
  faults.set(key, {
    plugin,
    symbol,
    code: wrapped.code,
    message: wrapped.message,
    stack,
    at: new Date().toISOString(),
    count: (faults.get(key)?.count ?? 0) + 1,
  });
  // A refusal is the plugin's answer, not a fault of its code: no stack needed at warn level.
  const refused = isCedanaError(err) && err.code === 'CEDANA_ERR_PLUGIN_REFUSED';
  ctx?.log?.[refused ? 'info' : 'warn']({ plugin, feature: symbol, code: wrapped.code, err }, `plugin ${plugin} threw in ${symbol}`);
}

/** The recorded faults, by plugin then feature. */
export function pluginFaults(): PluginFault[] {
  return [...faults.values()].sort((a, b) => a.plugin.localeCompare(b.plugin) || a.symbol.localeCompare(b.symbol));
}
