/**
 * Feature<T>: a typed symbol a plugin may export, the one mechanism that joins
 * the core and plugins (as Cedana's pkg/features). The symbols themselves are
 * declared in features.ts and nowhere else. A feature reads its values out of an
 * explicit PluginSource (the daemon's PluginRegistry, the CLI's loaded plugins).
 */
import { CedanaError, isCedanaError } from './errors.js';
import type { LoadedPlugin } from './plugin.js';
import { describeValue, type Shape } from './shape.js';

/** Where features find the loaded plugins: the daemon's registry, the CLI's loaded list. */
export interface PluginSource {
  plugins(): readonly LoadedPlugin[];
}

/** A PluginSource over a fixed list (the CLI's loaded plugins, tests). */
export function pluginSource(plugins: readonly LoadedPlugin[]): PluginSource {
  return { plugins: () => plugins };
}

/** One plugin's value of a feature. */
export interface Exported<T> {
  plugin: string;
  value: T;
}

export class Feature<T, S extends string = string> {
  constructor(
    readonly symbol: S,
    readonly description: string,
    readonly shape: Shape<T>,
  ) {}

  /**
   * The value `plugin` exports, when it is loaded and exports this feature; a value of
   * the wrong shape fails (CEDANA_ERR_PLUGIN_SHAPE) rather than reach the caller.
   */
  get(from: PluginSource, plugin: string): T | undefined {
    const p = from.plugins().find((l) => l.name === plugin && l.status === 'ok');
    return p ? this.valueOf(p) : undefined;
  }

  /** Every loaded plugin's value of this feature, in the source's order (by plugin name). */
  all(from: PluginSource): Exported<T>[] {
    return from.plugins().flatMap((p) => {
      const value = p.status === 'ok' ? this.valueOf(p) : undefined;
      return value === undefined ? [] : [{ plugin: p.name, value }];
    });
  }

  /** The error for a plugin that exports this feature with a wrong shape. */
  incompatible(pluginName: string, value: unknown): CedanaError {
    return new CedanaError(
      'CEDANA_ERR_PLUGIN_SHAPE',
      `plugin "${pluginName}" exports ${this.symbol} as ${describeValue(value)}, expected ${this.shape.expected}`,
    );
  }

  private valueOf(plugin: LoadedPlugin): T | undefined {
    const value: unknown = (plugin.definition?.features as Record<string, unknown> | undefined)?.[this.symbol];
    if (value === undefined) return undefined;
    if (!this.shape.test(value)) throw this.incompatible(plugin.name, value);
    return value;
  }
}

/**
 * Runs plugin code (`run`, sync or async): what it throws comes out named after the
 * plugin and feature (wrapPluginError). The one way the core and the CLI call into a plugin.
 */
export function inPlugin<R>(plugin: string, symbol: string, run: () => R): R {
  try {
    const out = run();
    if (out instanceof Promise) {
      return out.catch((err: unknown) => {
        throw wrapPluginError(err, plugin, symbol);
      }) as R;
    }
    return out;
  } catch (err) {
    throw wrapPluginError(err, plugin, symbol);
  }
}

/** An error thrown by plugin code, named after the plugin and feature. CedanaErrors keep their code. */
export function wrapPluginError(err: unknown, pluginName: string, symbol: string): CedanaError {
  if (isCedanaError(err)) {
    const prefix = `${pluginName}: `;
    if (err.message.startsWith(prefix)) return err;
    return new CedanaError(err.code, prefix + err.message, { hint: err.hint, details: err.details, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CedanaError('CEDANA_ERR_PLUGIN_FAILED', `plugin "${pluginName}" failed in ${symbol}: ${message}`, { cause: err });
}
