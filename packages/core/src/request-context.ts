/**
 * What a dump or restore context offers a plugin besides the daemon's facts: its own
 * section of checkpoint.json, and state of its own for the request (from its middleware
 * to its handler). The daemon hands each plugin function a view of the context bound to
 * the plugin (`pluginView`): in it checkpoint.json's facts are read-only, and a section is
 * written by its owner only; anything else fails with CEDANA_ERR_MANIFEST_OWNER.
 */
import { CedanaError } from './errors.js';
import type { ManifestFacts, ManifestSection } from './manifest.js';

/** A typed slot of per-request state; make one per use at module level: `stateKey<Target>('target')`. */
export interface StateKey<T> {
  readonly name: string;
  /** Never set: carries T. */
  readonly type?: T;
}

export function stateKey<T>(name: string): StateKey<T> {
  return Object.freeze({ name });
}

/** State of one request, by key object: only the module holding a key reaches its value. */
export class RequestState {
  readonly #values = new Map<StateKey<unknown>, unknown>();

  get<T>(key: StateKey<T>): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    this.#values.set(key, value);
  }
}

/** The slots of DumpContext and RestoreContext that are not facts. */
export interface ContextSlots {
  /**
   * A plugin's section of checkpoint.json: by default the calling plugin's own (mutable:
   * changes are written with the checkpoint), or another plugin's, read-only. Undefined
   * when that plugin wrote none.
   */
  section<T extends ManifestSection>(plugin?: string): T | undefined;
  /** Sets the calling plugin's own section (written into checkpoint.json with the dump). */
  setSection<T extends ManifestSection>(value: T): void;
  /** State of this request: what a plugin's middleware leaves for its handler. */
  state: RequestState;
}

interface WithManifest {
  manifest: ManifestFacts;
}

const CORE = 'the daemon';

/**
 * The slots as the daemon's own adapters see them (spread them into a new context):
 * sections are read-only to it, and it writes none.
 */
export function contextSlots(): ContextSlots {
  return {
    section<T extends ManifestSection>(this: WithManifest, plugin?: string): T | undefined {
      if (plugin === undefined) throw ownerError(CORE, 'a section of its own', 'the daemon writes top-level facts only');
      return readOnlySection<T>(this.manifest, plugin, CORE);
    },
    setSection(): void {
      throw ownerError(CORE, 'a section of its own', 'the daemon writes top-level facts only');
    },
    state: new RequestState(),
  };
}

const readOnlies = new WeakMap<object, Map<string, object>>();

/**
 * `ctx` as plugin `plugin`'s code sees it: the same context (what it sets, such as
 * `ctx.pid` or `ctx.criu`, the daemon sees), but `manifest` is read-only and `section()`
 * and `setSection()` are its own. Contexts without a manifest (run, manage) are returned as
 * they are.
 */
export function pluginView<C extends object>(ctx: C, plugin: string): C {
  if (!hasManifest(ctx)) return ctx;
  const base = baseOf(ctx);
  return new Proxy(base, {
    get(target, key) {
      if (key === BASE) return target;
      if (key === 'manifest') return readOnly(target.manifest, plugin, 'checkpoint.json');
      if (key === 'section') {
        return <T extends ManifestSection>(owner: string = plugin): T | undefined =>
          owner === plugin ? (target.manifest.sections?.[plugin] as T | undefined) : readOnlySection<T>(target.manifest, owner, plugin);
      }
      if (key === 'setSection') {
        return (value: ManifestSection) => {
          target.manifest.sections = { ...target.manifest.sections, [plugin]: value };
        };
      }
      return Reflect.get(target, key);
    },
    set(target, key, value) {
      if (key === 'manifest' || key === 'section' || key === 'setSection' || key === 'state') {
        throw ownerError(plugin, `ctx.${String(key)}`, 'the daemon sets it');
      }
      return Reflect.set(target, key, value);
    },
  }) as unknown as C;
}

/** The context a view stands for (itself when it is no view): what the daemon passes on to the next adapter. */
export function baseOf<C extends object>(ctx: C): C {
  return ((ctx as { [BASE]?: C })[BASE] ?? ctx) as C;
}

const BASE = Symbol('cedana.baseContext');

function hasManifest(ctx: object): ctx is WithManifest {
  const m = (ctx as Partial<WithManifest>).manifest;
  return typeof m === 'object' && m !== null;
}

function readOnlySection<T extends ManifestSection>(manifest: ManifestFacts, owner: string, reader: string): T | undefined {
  const section = manifest.sections?.[owner];
  return section === undefined ? undefined : (readOnly(section, reader, `the ${owner} section of checkpoint.json`) as T);
}

/** `value` behind a proxy that refuses every change (nested objects too), naming `reader` and `what`. */
function readOnly<T extends object>(value: T, reader: string, what: string): T {
  let byReader = readOnlies.get(value);
  if (!byReader) {
    byReader = new Map();
    readOnlies.set(value, byReader);
  }
  const known = byReader.get(reader);
  if (known) return known as T;
  const refuse = (key: string | symbol): never => {
    const owner = what === 'checkpoint.json' ? 'the daemon' : what.replace(/^the (.*) section of checkpoint.json$/, 'plugin $1');
    throw ownerError(reader, `${String(key)} of ${what}`, `it belongs to ${owner}`);
  };
  const proxy = new Proxy(value, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'object' && v !== null ? readOnly(v, reader, what) : v;
    },
    set: (_t, key) => refuse(key),
    deleteProperty: (_t, key) => refuse(key),
    defineProperty: (_t, key) => refuse(key),
  });
  byReader.set(reader, proxy);
  return proxy;
}

function ownerError(who: string, what: string, why: string): CedanaError {
  const subject = who === CORE ? who : `plugin ${who}`;
  return new CedanaError('CEDANA_ERR_MANIFEST_OWNER', `${subject} tried to change ${what}: ${why}`, {
    hint:
      who === CORE
        ? 'this is a bug of the daemon: report it'
        : `a plugin writes only its own section of checkpoint.json (ctx.setSection / ctx.section()) and keeps request state in ctx.state: update plugin ${who} or report it to its author`,
  });
}
