/**
 * What a checkpoint holds, from CRIU's small images only (never pages-*.img): the
 * process tree, every open fd, memory sizes and sockets. The images come as a map of
 * file name to bytes, whoever read them: a folder, an archive (load.ts) or a stream.
 */
import type { CheckpointSummary } from '@cedana/core/proto';
import { readFds, readFileTable } from './files.js';
import { ImageSet } from './image-set.js';
import { readMemory } from './memory.js';
import { readProcesses } from './processes.js';

export interface SummarizeOptions {
  /** The checkpoint's path or name, named in errors after the image. */
  source?: string;
}

/**
 * The summary of the images in `images` (file name -> bytes; other files are ignored).
 * Throws CEDANA_ERR_CHECKPOINT_INVALID naming the image when one is damaged or
 * pstree.img is missing.
 */
export function summarizeImages(images: ReadonlyMap<string, Uint8Array>, opts: SummarizeOptions = {}): CheckpointSummary {
  const set = new ImageSet(images, opts.source);
  const tree = readProcesses(set);
  const table = readFileTable(set);
  const summary: CheckpointSummary = { processes: [], files: [], memory: [], sockets: [], mappedBytes: 0, dumpedBytes: 0, images: [] };
  const seenFiles = new Set<number>();
  for (const { filesId, ...process } of tree) {
    summary.processes.push(process);
    // processes that share their fd table (CLONE_FILES) share one fdinfo image
    if (filesId === undefined || !seenFiles.has(filesId)) {
      if (filesId !== undefined) seenFiles.add(filesId);
      const { files, sockets } = readFds(set, table, process.pid, filesId);
      summary.files.push(...files);
      summary.sockets.push(...sockets);
    }
    const memory = readMemory(set, process.pid);
    if (memory) {
      summary.memory.push(memory);
      summary.mappedBytes += memory.mappedBytes;
      summary.dumpedBytes += memory.dumpedBytes;
    }
  }
  summary.images = [...set.used];
  return summary;
}
