/** Memory of each process: its mappings (mm-PID.img) and the pages CRIU wrote (pagemap-PID.img). */

import { mmEntry, pagemapEntry, pagemapHead } from '@cedana/core/criu';
import type { CheckpointMemory } from '@cedana/core/proto';
import { type Decoder, invalid } from './image-file.js';
import type { ImageSet } from './image-set.js';

/** Pagemap flags (criu/include/pagemap.h). */
const PE_PARENT = 1;
const PE_LAZY = 2;
const PE_PRESENT = 4;
/** CRIU's PAGE_SIZE on x86_64, the size of a page in pages-*.img. */
export const PAGE_SIZE = 4096;

/** A pagemap image is a pagemap_head, then pagemap_entry messages. */
type PagemapRecord = { head: pagemapHead } | { entry: pagemapEntry };

export function readMemory(images: ImageSet, pid: number): CheckpointMemory | undefined {
  const mm = images.single(`mm-${pid}.img`, 'mm', mmEntry);
  const pagemap = readPagemap(images, `pagemap-${pid}.img`);
  if (mm === undefined && pagemap === undefined) return undefined; // a zombie, or a thread
  const memory: CheckpointMemory = { pid, vmas: 0, mappedBytes: 0, dumpedBytes: 0, lazyBytes: 0, parentBytes: 0 };
  let mapped = 0n;
  for (const vma of mm?.vmas ?? []) {
    if (vma.end < vma.start) throw invalid(images.label(`mm-${pid}.img`), `a mapping ends (0x${vma.end.toString(16)}) before it starts`);
    mapped += vma.end - vma.start;
  }
  memory.vmas = mm?.vmas.length ?? 0;
  memory.mappedBytes = Number(mapped);
  for (const e of pagemap ?? []) {
    const pages = e.nrPages ?? BigInt(e.compatNrPages);
    const bytes = Number(pages) * PAGE_SIZE;
    // as criu/pagemap.c reads an entry: in_parent means PE_PARENT; no flags means PE_PRESENT
    const flags = e.inParent ? (e.flags ?? 0) | PE_PARENT : (e.flags ?? PE_PRESENT);
    if (flags & PE_PARENT) memory.parentBytes += bytes;
    else if (flags & PE_PRESENT) memory.dumpedBytes += bytes;
    if (flags & PE_LAZY) memory.lazyBytes += bytes;
  }
  return memory;
}

function readPagemap(images: ImageSet, name: string): pagemapEntry[] | undefined {
  let first = true;
  const decoder: Decoder<PagemapRecord> = {
    decode(bytes) {
      if (!first) return { entry: pagemapEntry.decode(bytes) };
      first = false;
      return { head: pagemapHead.decode(bytes) };
    },
  };
  const records = images.entries(name, 'pagemap', decoder);
  if (records === undefined) return undefined;
  if (records.length === 0) throw invalid(images.label(name), 'it has no pagemap_head');
  return records.flatMap((r) => ('entry' in r ? [r.entry] : []));
}
