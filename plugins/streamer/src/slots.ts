/**
 * Chunk buffers shared by the streamer's main thread and its codec workers: capture
 * reads CRIU's pipes into a slot and a worker compresses from it; serve has a worker
 * decompress into a slot and vmsplices it into CRIU's pipe. Slots are SharedArrayBuffers,
 * reused from chunk to chunk: no chunk is copied between threads, and no memory is
 * allocated (zeroed, faulted in, collected) per chunk, which for 1 GiB was a quarter
 * of a million page faults and a GiB of memset. The pool grows to what is in flight
 * at once and is freed with the streamer.
 */
import { CHUNK_SIZE } from './format.js';

export interface Slot {
  id: number;
  buffer: SharedArrayBuffer;
}

export class SlotPool {
  private readonly all: Slot[] = [];
  private readonly free: Slot[] = [];

  /** A slot of CHUNK_SIZE bytes, an idle one when there is one. */
  take(): Slot {
    const slot = this.free.pop();
    if (slot) return slot;
    const made = { id: this.all.length, buffer: new SharedArrayBuffer(CHUNK_SIZE) };
    this.all.push(made);
    return made;
  }

  give(slot: Slot): void {
    this.free.push(slot);
  }

  /** How many slots exist (the most that were in use at once). */
  get size(): number {
    return this.all.length;
  }
}

/** The first `length` bytes of `slot`, as a Buffer. */
export const slotBytes = (slot: Slot, length = CHUNK_SIZE): Buffer => Buffer.from(slot.buffer, 0, length);
