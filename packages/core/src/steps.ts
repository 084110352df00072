/**
 * Milliseconds per step of one dump or restore (or any operation), logged as one line when it ends: the
 * adapters' profile (--profiling) stops at the handler, and a small job's time above raw
 * CRIU is in the handler's own steps (the checks before criu, the shim, criu itself).
 */
export class Steps {
  private last = performance.now();
  private readonly started = this.last;
  readonly ms: Record<string, number> = {};

  /** Ends step `name`: the time since the previous mark (or the start) is its. */
  mark(name: string): void {
    const now = performance.now();
    this.ms[name] = Math.round((this.ms[name] ?? 0) + now - this.last);
    this.last = now;
  }

  /** Time since the start, in ms. */
  total(): number {
    return Math.round(performance.now() - this.started);
  }
}
