/**
 * Feature<T>: a typed symbol a plugin may export, the one mechanism that joins
 * the core and plugins (as Cedana's pkg/features). The symbols themselves are
 * declared in features.ts and nowhere else.
 */
import { CedanaError, isCedanaError } from './errors.js';
import type { LoadedPlugin } from './plugin.js';
import { describeValue, type Shape } from './shape.js';

/** Where features find the loaded plugins; the daemon and the CLI each set one. */
export interface PluginSource {
  plugins(): readonly LoadedPlugin[];
}

let source: PluginSource = { plugins: () => [] };

export function setPluginSource(s: PluginSource): void {
  source = s;
}

/** The plugins the current source holds (loaded or not). */
export function loadedPlugins(): readonly LoadedPlugin[] {
  return source.plugins();
}

export class Feature<T, S extends string = string> {
  constructor(
    readonly symbol: S,
    readonly description: string,
    readonly shape: Shape<T>,
  ) {}

  /**
   * Runs `use` for every loaded plugin that exports this feature, or only for the
   * plugins named in `filter`. Wrong shapes, plugins in `filter` that are missing or
   * do not export the feature, and errors thrown by `use` are all collected and
   * thrown together as one CedanaError after every plugin was visited.
   */
  async ifAvailable(use: (pluginName: string, value: T) => unknown, ...filter: string[]): Promise<void> {
    const errors: CedanaError[] = [];
    for (const name of filter) {
      const plugin = source.plugins().find((p) => p.name === name);
      if (!plugin) {
        errors.push(
          new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `plugin "${name}" is not installed, so ${this.symbol} is not available for it`, {
            hint: `install it with \`cedana plugin install ${name}\``,
          }),
        );
      } else if (plugin.status !== 'ok') {
        errors.push(
          new CedanaError('CEDANA_ERR_PLUGIN_IMPORT', `plugin "${name}" failed to load: ${plugin.error?.message}`, {
            hint: 'run `cedana features --errors` for details',
          }),
        );
      } else if (plugin.definition?.features[this.symbol as never] === undefined) {
        errors.push(this.missing(name));
      }
    }
    for (const plugin of this.exporters(filter)) {
      const value: unknown = plugin.definition?.features[this.symbol as never];
      if (!this.shape.test(value)) {
        errors.push(this.incompatible(plugin.name, value));
        continue;
      }
      try {
        await use(plugin.name, value);
      } catch (err) {
        errors.push(wrapPluginError(err, plugin.name, this.symbol));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new CedanaError(commonCode(errors), errors.map((e) => e.message).join('; '), {
        hint: errors[0]?.hint,
        details: errors.flatMap((e) => e.details),
      });
    }
  }

  /** True when some loaded plugin (or one of `filter`) exports this feature with the right shape. */
  isAvailable(...filter: string[]): boolean {
    return this.exporters(filter).some((p) => this.shape.test(p.definition?.features[this.symbol as never]));
  }

  /** The error for a plugin that does not export this feature. */
  missing(pluginName: string): CedanaError {
    return new CedanaError('CEDANA_ERR_FEATURE_MISSING', `plugin "${pluginName}" does not export ${this.symbol} (${this.description})`);
  }

  /** The error for a plugin that exports this feature with a wrong shape. */
  incompatible(pluginName: string, value: unknown): CedanaError {
    return new CedanaError(
      'CEDANA_ERR_PLUGIN_SHAPE',
      `plugin "${pluginName}" exports ${this.symbol} as ${describeValue(value)}, expected ${this.shape.expected}`,
    );
  }

  private exporters(filter: string[]): LoadedPlugin[] {
    return source
      .plugins()
      .filter((p) => p.status === 'ok' && (filter.length === 0 || filter.includes(p.name)))
      .filter((p) => p.definition?.features[this.symbol as never] !== undefined);
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

function commonCode(errors: CedanaError[]): CedanaError['code'] {
  const first = errors[0]?.code ?? 'CEDANA_ERR_INTERNAL';
  return errors.every((e) => e.code === first) ? first : 'CEDANA_ERR_PLUGIN_FAILED';
}
