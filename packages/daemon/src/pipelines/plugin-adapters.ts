/**
 * Plugin code inside a pipeline: its errors are named after the plugin and the
 * feature, while errors that merely pass through it from later adapters keep
 * their own names. It sees the request's context as its own (pluginView: checkpoint.json
 * read-only but for its section), and the next adapter gets the daemon's context back.
 */
import {
  type Adapter,
  appliesToType,
  type BaseContext,
  baseOf,
  CedanaError,
  type Feature,
  type HandlerFn,
  type PluginSource,
  pluginView,
  wrapPluginError,
} from '@cedana/core';
import { requireRole } from '../plugins/resolver.js';
import { recordPluginFault } from './plugin-faults.js';

type AnyHandler = HandlerFn<never, never, never, unknown>;

const passedThrough = new WeakSet<object>();

/**
 * The middleware plugins export for requests of `type`, outermost first: the type's own
 * plugin's (none for the core's own "process"), then that of every other loaded plugin whose
 * `appliesTo` covers the type ('*' or a list naming it), by plugin name. The type's plugin
 * need not export middleware, but it must be installed and loaded: a type nobody serves is
 * refused (CEDANA_ERR_UNSUPPORTED_TYPE), not handed to the engine alone.
 */
export function pluginMiddleware<H extends AnyHandler>(from: PluginSource, feature: Feature<Adapter<H>[]>, type: string): Adapter<H>[] {
  const own = type === 'process' ? [] : ownMiddleware(from, feature, servingPlugin(from, type).name);
  const others = from
    .plugins()
    .filter((p) => p.status === 'ok' && p.name !== type && appliesToType(p.definition, type))
    .flatMap((p) => ownMiddleware(from, feature, p.name));
  return [...own, ...others];
}

/** The middleware `plugin` itself exports, each adapter named after it (none when it exports none). */
export function ownMiddleware<H extends AnyHandler>(from: PluginSource, feature: Feature<Adapter<H>[]>, plugin: string): Adapter<H>[] {
  return (feature.get(from, plugin) ?? []).map((a) => namedAdapter(a, plugin, feature.symbol));
}

/** The final handler for `type`: the type's own plugin's if it exports one, else the engine's (the plugin in role "engine"). */
export function pluginHandler<H extends AnyHandler>(from: PluginSource, feature: Feature<H>, type: string): H {
  if (type !== 'process') {
    const own = feature.get(from, servingPlugin(from, type).name);
    if (own) return namedHandler(own, type, feature.symbol);
  }
  const engine = requireRole(from, 'engine', `a ${feature.symbol === 'RestoreHandler' ? 'restore' : 'dump'} of type "${type}"`);
  const handler = feature.get(from, engine.name);
  if (!handler) {
    throw new CedanaError('CEDANA_ERR_FEATURE_MISSING', `the engine plugin "${engine.name}" exports no ${feature.symbol}`, {
      hint: '`cedana features` shows who exports what',
    });
  }
  return namedHandler(handler, engine.name, feature.symbol);
}

/** The final handler `type`'s own plugin exports (RunHandler: no engine runs jobs); CEDANA_ERR_FEATURE_MISSING when it exports none. */
export function ownHandler<H extends AnyHandler>(from: PluginSource, feature: Feature<H>, type: string): H {
  const own = feature.get(from, servingPlugin(from, type).name);
  if (!own) {
    throw new CedanaError('CEDANA_ERR_FEATURE_MISSING', `plugin "${type}" exports no ${feature.symbol}`, {
      hint: '`cedana features` shows who exports what',
    });
  }
  return namedHandler(own, type, feature.symbol);
}

/** The plugin a request of `type` (not "process") is for: installed and loaded, or a coded refusal. */
export function servingPlugin(from: PluginSource, type: string) {
  const plugin = from.plugins().find((p) => p.name === type);
  if (!plugin) {
    throw new CedanaError('CEDANA_ERR_UNSUPPORTED_TYPE', `plugin "${type}" is not installed, so jobs of type "${type}" cannot be served`, {
      hint: `install it with \`cedana plugin install ${type}\``,
    });
  }
  if (plugin.status !== 'ok') {
    throw new CedanaError('CEDANA_ERR_PLUGIN_IMPORT', `plugin "${type}" failed to load: ${plugin.error?.message}`, {
      hint: 'run `cedana features --errors` for details',
    });
  }
  return plugin;
}

function namedAdapter<H extends AnyHandler>(adapter: Adapter<H>, plugin: string, symbol: string): Adapter<H> {
  const wrapped: Adapter<H> = (next) => {
    const marked = (async (...[ctx, req, res]: Parameters<H>) => {
      try {
        return await (next as AnyHandler)(baseOf(ctx as object) as never, req, res);
      } catch (err) {
        if (typeof err === 'object' && err !== null) passedThrough.add(err);
        throw err;
      }
    }) as unknown as H;
    const inner = adapter(marked);
    return namedHandler(inner, plugin, symbol, `${plugin}:${adapter.name || 'adapter'}`);
  };
  Object.defineProperty(wrapped, 'name', { value: `${plugin}:${adapter.name || 'adapter'}` });
  return wrapped;
}

function namedHandler<H extends AnyHandler>(h: H, plugin: string, symbol: string, name = `${plugin}:${h.name || symbol}`): H {
  const wrapped = async (...args: Parameters<H>) => {
    try {
      const [ctx, req, res] = args;
      return await (h as AnyHandler)(pluginView(ctx as object, plugin) as never, req, res);
    } catch (err) {
      if (typeof err === 'object' && err !== null && passedThrough.has(err)) throw err;
      const wrapped = wrapPluginError(err, plugin, symbol);
      recordPluginFault(args[0] as BaseContext | undefined, plugin, symbol, err, wrapped);
      throw wrapped;
    }
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped as unknown as H;
}

/** A single adapter a plugin exports (e.g. GPUInterceptor), named after the plugin; undefined when it exports none. */
export function pluginAdapter<H extends AnyHandler>(
  from: PluginSource,
  feature: Feature<Adapter<H>>,
  plugin: string,
): Adapter<H> | undefined {
  const found = feature.get(from, plugin);
  return found && namedAdapter(found, plugin, feature.symbol);
}
