/**
 * lz4-napi's buffers are invisible to V8's accounting, and the streamer's own heap stays
 * tiny, so on its own V8 would collect them only after hundreds of MiB (a 270 MiB restore
 * peaked at 390 MiB). The streamer process runs with --expose-gc and, every few chunks,
 * each thread asks for a young-generation collection: about a millisecond, and the
 * process stays near 140 MiB whatever the checkpoint's size.
 */
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
const EVERY = 8;

/** Call once per chunk handled; `count` is this thread's running count. */
export function collectEvery(count: number): void {
  if (gc && count % EVERY === 0) gc({ type: 'minor' });
}
