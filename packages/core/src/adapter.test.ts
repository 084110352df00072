import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Adapter, type BaseContext, type HandlerFn, withAdapters } from './adapter.js';
import { Profiler } from './profiling.js';

type Ctx = BaseContext & { trail: string[] };
type H = HandlerFn<Ctx, unknown, unknown>;

const step =
  (name: string): Adapter<H> =>
  (next) => {
    const h: H = async (ctx, req, res) => {
      ctx.trail.push(`${name}>`);
      await next(ctx, req, res);
      ctx.trail.push(`<${name}`);
    };
    Object.defineProperty(h, 'name', { value: name });
    return h;
  };

const final: H = async function final(ctx) {
  ctx.trail.push('final');
};

const ctx = (profiler?: Profiler): Ctx => ({ trail: [], profiler }) as unknown as Ctx;

it('runs adapters in the order listed, the first outermost, then the handler', async () => {
  const c = ctx();
  await withAdapters(final, step('a'), step('b'))(c, {}, {});
  assert.deepEqual(c.trail, ['a>', 'b>', 'final', '<b', '<a']);
});

it('times every adapter and the handler as a nested tree when a profiler is present', async () => {
  const p = new Profiler('Dump');
  await withAdapters(final, step('a'), step('b'))(ctx(p), {}, {});
  const tree = p.finish(1);
  assert.equal(tree.components[0]?.name, 'a');
  assert.equal(tree.components[0]?.components[0]?.name, 'b');
  assert.equal(tree.components[0]?.components[0]?.components[0]?.name, 'final');
  assert.ok((tree.components[0]?.durationNs ?? 0) >= (tree.components[0]?.components[0]?.durationNs ?? 0));
});

it('an adapter may stop the chain by not calling next', async () => {
  const c = ctx();
  const stop: Adapter<H> = () => async (cx) => void cx.trail.push('stopped');
  await withAdapters(final, step('a'), stop, step('b'))(c, {}, {});
  assert.deepEqual(c.trail, ['a>', 'stopped', '<a']);
});
