/**
 * Where packCheckpoint writes an archive: a file next to the folder (fileSink: written as
 * NAME.partial, fsynced and renamed, so a crash never leaves a truncated archive under its
 * name), or any other stream a caller gives (an object in remote storage). Either way the
 * archive's first `reserve` bytes (its head, checkpoint.json) are handed over last.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';

export interface ArchiveSink {
  /** The archive's path or URL, as registered and named in errors. */
  path: string;
  /** Receives the archive from byte `reserve` on. */
  stream: Writable;
  /** Bytes written to `stream` so far. */
  written(): number;
  /** Once `stream` finished: puts `head` in front and makes the archive durable; resolves with its size. */
  commit(head: Buffer): Promise<number>;
  /** Gives up: nothing of the archive remains. */
  abort(): Promise<void>;
}

/** Opens the sink of an archive whose first `reserve` bytes come last. */
export type OpenSink = (reserve: number) => ArchiveSink;

export function fileSink(target: string): OpenSink {
  return (reserve) => {
    const partial = `${target}.partial`;
    const out = createWriteStream(partial, { mode: 0o600, start: reserve, highWaterMark: 1 << 20 });
    let written = partial;
    return {
      path: target,
      stream: out,
      written: () => out.bytesWritten,
      async commit(head) {
        await writeHead(partial, head, reserve);
        await rename(partial, target);
        written = target;
        await syncFolder(dirname(target));
        return reserve + out.bytesWritten;
      },
      async abort() {
        // Closed before it is removed: no fd keeps a deleted file's space.
        await (out.closed || new Promise<void>((resolve) => out.destroy().once('close', () => resolve())));
        await rm(written, { force: true });
      },
    };
  };
}

/** Fills the space reserved at the start of the archive, and makes the whole file durable. */
async function writeHead(path: string, head: Buffer, reserved: number): Promise<void> {
  if (head.length !== reserved) throw new Error(`the archive head came out ${head.length} bytes long, not the ${reserved} reserved`);
  const file = await open(path, 'r+');
  try {
    await file.write(head, 0, head.length, 0);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
