import type { Config } from './config.js';
import type { PluginSource } from './feature.js';
import type { Profiler } from './profiling.js';

/** The smallest logger a handler needs; pino's loggers fit it. */
export interface Logger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** What every handler receives besides its request and response. */
export interface BaseContext {
  log: Logger;
  config: Config;
  /** Aborted when the client cancels or the daemon shuts down. */
  signal: AbortSignal;
  /** Present when the request asked for profiling. */
  profiler?: Profiler;
  /** The loaded plugins (the daemon's registry): where features and roles are looked up. */
  plugins: PluginSource;
}

/**
 * A request handler: reads `req`, fills `res`. `Out` is what it hands back to the
 * caller, e.g. a handle on a process it started.
 */
export type HandlerFn<Ctx, Req, Res, Out = void> = (ctx: Ctx, req: Req, res: Res) => Promise<Out>;

/** An adapter wraps a handler in another: it may act before, after, or instead of `next`. */
export type Adapter<H> = (next: H) => H;

/** Middleware is an ordered list of adapters; the first one listed runs first. */
export type Middleware<H> = Adapter<H>[];

/**
 * Wraps `handler` in `adapters`, the first adapter outermost (so it runs first).
 * With a profiler in the context, each adapter and the final handler are timed
 * under their function names. An adapter may splice more adapters around its `next`
 * the same way: `next` is timed already, so it is not timed twice.
 */
export function withAdapters<Ctx extends BaseContext, Req, Res, Out>(
  handler: HandlerFn<Ctx, Req, Res, Out>,
  ...adapters: Adapter<HandlerFn<Ctx, Req, Res, Out>>[]
): HandlerFn<Ctx, Req, Res, Out> {
  let h = isTimed.has(handler) ? handler : timed(handler.name || 'handler', handler);
  for (const adapter of [...adapters].reverse()) {
    const inner = adapter(h);
    h = timed(inner.name || adapter.name || 'adapter', inner);
  }
  return h;
}

const isTimed = new WeakSet<object>();

function timed<Ctx extends BaseContext, Req, Res, Out>(name: string, h: HandlerFn<Ctx, Req, Res, Out>): HandlerFn<Ctx, Req, Res, Out> {
  const t: HandlerFn<Ctx, Req, Res, Out> = (ctx, req, res) =>
    ctx.profiler ? ctx.profiler.time(name, () => h(ctx, req, res)) : h(ctx, req, res);
  isTimed.add(t);
  return t;
}
