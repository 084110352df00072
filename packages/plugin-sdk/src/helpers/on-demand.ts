/**
 * Features whose code is imported at their first call. A plugin's index is imported by every
 * daemon start and by every CLI command line that reads plugin flags, but most of its code
 * (a gRPC client, generated protobuf types) only runs for a dump or a restore of its kind:
 * `onDemand(name, () => import('./dump.js').then((m) => m.dump))` keeps that import off the
 * start. The wrapper keeps `name` (the daemon's profile tree names handlers by it); a failed
 * import is tried again at the next call.
 */

/** A function of the module `load` imports, imported at the first call. */
export function onDemand<A extends unknown[], R>(
  name: string,
  load: () => Promise<(...args: A) => Promise<R>>,
): (...args: A) => Promise<R> {
  let loaded: Promise<(...args: A) => Promise<R>> | undefined;
  const fn = async (...args: A): Promise<R> => {
    loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    });
    return (await loaded)(...args);
  };
  return Object.defineProperty(fn, 'name', { value: name });
}

/** A middleware adapter (`next => handler`) of the module `load` imports, imported at the first call of its handler. */
export function adapterOnDemand<H extends (...args: never[]) => Promise<unknown>>(
  name: string,
  load: () => Promise<(next: H) => H>,
): (next: H) => H {
  const adapter = (next: H): H => onDemand(name, async () => (await load())(next)) as unknown as H;
  return Object.defineProperty(adapter, 'name', { value: name });
}
