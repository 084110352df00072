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
  isCedanaError,
  loadedPlugins,
  pluginView,
  wrapPluginError,
} from '@cedana/core';
import { recordPluginFault } from './plugin-faults.js';

type AnyHandler = HandlerFn<never, never, never, unknown>;

const passedThrough = new WeakSet<object>();

/**
 * The middleware plugins export for requests of `type`, outermost first: the type's own
 * plugin's (none for the core's own "process"), then that of every other loaded plugin whose
 * `appliesTo` covers the type ('*' or a list naming it), by plugin name. The type's plugin
 * need not export middleware, but it must be installed and loaded: a type nobody serves is
 * refused (CEDANA_ERR_UNSUPPORTED_TYPE), not handed to the fallback alone.
 */
export async function pluginMiddleware<H extends AnyHandler>(feature: Feature<Adapter<H>[]>, type: string): Promise<Adapter<H>[]> {
  const out: Adapter<H>[] = [];
  const collect = (plugin: string, middleware: Adapter<H>[]) => {
    out.push(...middleware.map((a) => namedAdapter(a, plugin, feature.symbol)));
  };
  if (type !== 'process') {
    await feature.ifAvailable(collect, type).catch((err: unknown) => {
      if (!isCedanaError(err) || err.code !== 'CEDANA_ERR_FEATURE_MISSING') throw err;
    });
  }
  const others = loadedPlugins()
    .filter((p) => p.status === 'ok' && p.name !== type && appliesToType(p.definition, type))
    .map((p) => p.name)
    .filter((name) => feature.isAvailable(name));
  if (others.length > 0) await feature.ifAvailable(collect, ...others);
  return out;
}

/** The final handler for `type`: the type's own plugin if it exports one, else the fallback plugin's (CRIU). */
export async function pluginHandler<H extends AnyHandler>(feature: Feature<H>, type: string, fallback: string): Promise<H> {
  const candidates = type === 'process' ? [fallback] : [type, fallback];
  for (const name of candidates) {
    if (feature.isAvailable(name)) {
      let found: H | undefined;
      await feature.ifAvailable((_, h) => {
        found = h;
      }, name);
      if (found) return namedHandler(found, name, feature.symbol);
    }
  }
  throw new CedanaError(
    'CEDANA_ERR_FEATURE_MISSING',
    `no plugin exports ${feature.symbol} for type "${type}" (looked for: ${candidates.join(', ')})`,
    {
      hint: `install the ${fallback} plugin (\`cedana plugin install ${fallback}\`); \`cedana features\` shows who exports what`,
    },
  );
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
export async function pluginAdapter<H extends AnyHandler>(feature: Feature<Adapter<H>>, plugin: string): Promise<Adapter<H> | undefined> {
  if (!feature.isAvailable(plugin)) return undefined;
  let found: Adapter<H> | undefined;
  await feature.ifAvailable((_, a) => {
    found = namedAdapter(a, plugin, feature.symbol);
  }, plugin);
  return found;
}

/** Wraps `next` in `adapters` (first outermost), each timed under its own name when profiling. */
export function splice<Ctx extends BaseContext, Req, Res, Out>(
  next: HandlerFn<Ctx, Req, Res, Out>,
  adapters: Adapter<HandlerFn<Ctx, Req, Res, Out>>[],
): HandlerFn<Ctx, Req, Res, Out> {
  let h = next;
  for (const adapter of [...adapters].reverse()) {
    const inner = adapter(h);
    const name = inner.name || adapter.name || 'adapter';
    h = (ctx, req, res) => (ctx.profiler ? ctx.profiler.time(name, () => inner(ctx, req, res)) : inner(ctx, req, res));
  }
  return h;
}
