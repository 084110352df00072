import type { Config } from './config.js';
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
 * under their function names.
 */
export function withAdapters<Ctx extends BaseContext, Req, Res, Out>(
  handler: HandlerFn<Ctx, Req, Res, Out>,
  ...adapters: Adapter<HandlerFn<Ctx, Req, Res, Out>>[]
): HandlerFn<Ctx, Req, Res, Out> {
  let h = timed(handler.name || 'handler', handler);
  for (const adapter of [...adapters].reverse()) {
    const inner = adapter(h);
    h = timed(inner.name || adapter.name || 'adapter', inner);
  }
  return h;
}

function timed<Ctx extends BaseContext, Req, Res, Out>(name: string, h: HandlerFn<Ctx, Req, Res, Out>): HandlerFn<Ctx, Req, Res, Out> {
  return (ctx, req, res) => (ctx.profiler ? ctx.profiler.time(name, () => h(ctx, req, res)) : h(ctx, req, res));
}

/** A handler that can be wrapped with `.with(...adapters)`, as in Cedana. */
export interface Handler<Ctx extends BaseContext, Req, Res, Out = void> extends HandlerFn<Ctx, Req, Res, Out> {
  with(...adapters: Adapter<HandlerFn<Ctx, Req, Res, Out>>[]): Handler<Ctx, Req, Res, Out>;
}

/** Gives `fn` a `.with()`; the function keeps its name for profiling. */
export function handler<Ctx extends BaseContext, Req, Res, Out = void>(fn: HandlerFn<Ctx, Req, Res, Out>): Handler<Ctx, Req, Res, Out> {
  const h = ((ctx: Ctx, req: Req, res: Res) => fn(ctx, req, res)) as Handler<Ctx, Req, Res, Out>;
  Object.defineProperty(h, 'name', { value: fn.name });
  h.with = (...adapters) => handler(nameAs(fn.name, withAdapters(fn, ...adapters)));
  return h;
}

function nameAs<F extends (...args: never[]) => unknown>(name: string, f: F): F {
  Object.defineProperty(f, 'name', { value: name });
  return f;
}
