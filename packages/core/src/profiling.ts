/**
 * Request profiling: `with()` wraps every adapter in a timer when the request's
 * context carries a Profiler, so no adapter times itself. The tree mirrors the
 * nesting of the adapters: each node's time includes the nodes below it.
 */
export interface ProfileNode {
  name: string;
  durationNs: number;
  components: ProfileNode[];
}

export class Profiler {
  readonly root: ProfileNode;
  private current: ProfileNode;

  constructor(name: string) {
    this.root = { name, durationNs: 0, components: [] };
    this.current = this.root;
  }

  /** Runs `fn` as a child of the node that is running now. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const parent = this.current;
    const node: ProfileNode = { name, durationNs: 0, components: [] };
    parent.components.push(node);
    this.current = node;
    const start = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      node.durationNs = Number(process.hrtime.bigint() - start);
      this.current = parent;
    }
  }

  /** Closes the root with the total time of the request. */
  finish(totalNs: number): ProfileNode {
    this.root.durationNs = totalNs;
    return this.root;
  }
}
