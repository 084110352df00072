/**
 * Files uploaded as they are written (a `--streams N` dump's shards to remote storage):
 * each is a FIFO in the checkpoint's folder, made before its writer starts
 * (DumpContext.pipeToStorage); the daemon reads it into the file's object, one multipart
 * upload per file, all at once. Nothing of the file lands on the local disk, and memory
 * stays at the upload's parts (read straight into them: remote-live-read.ts): when they
 * are all in flight the daemon stops reading, the pipe fills and the writer waits (and
 * CRIU behind it).
 *
 * The daemon holds a write end of each FIFO itself until the writers' step returned
 * (`endWriting`), so a reader never takes the moment before the writer's open for the
 * file's end. The first failed upload stops them all: every reader closes (the writers'
 * next write fails with EPIPE, so the dump fails and the job runs on), its uploads are
 * aborted and the objects already complete removed.
 */
import { execFile } from 'node:child_process';
import { close as closeCb, constants, open as openCb } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CedanaError, isPlainName, type ObjectUpload, type StorageClient } from '@cedana/core';
import { objectUrl } from './remote-layout.js';
import { readInto } from './remote-live-read.js';

const run = promisify(execFile);
const open = promisify(openCb);
const close = promisify(closeCb);

export interface LiveUploadOptions {
  signal?: AbortSignal | undefined;
  /** Bytes stored in the bucket so far, over every file. */
  onBytes?: ((bytes: number) => void) | undefined;
}

export interface LiveUploads {
  /** Makes `dir/name` a FIFO whose bytes go to the object `url/name`. */
  pipe(name: string): Promise<void>;
  /** Names piped so far. */
  readonly names: readonly string[];
  /** The writers are done: lets each pipe end once its writer closed it, and removes the FIFOs. */
  endWriting(): Promise<void>;
  /** Every object complete (not yet a checkpoint: checkpoint.json is not written), with its size; rejects on the first failure. */
  stored(): Promise<Record<string, { url: string; size: number }>>;
  /**
   * Stops every upload: aborts those in flight and removes the objects completed. Resolves
   * with the reason an upload failed by itself (which made the writers fail), if one did.
   */
  abort(): Promise<unknown>;
}

interface LiveFile {
  name: string;
  path: string;
  /** The daemon's own write end, closed by endWriting. */
  hold: number | undefined;
  reader: Socket;
  upload: ObjectUpload;
  done: Promise<{ url: string; size: number }>;
  completed: boolean;
}

export function liveUploads(client: StorageClient, url: string, dir: string, opts: LiveUploadOptions = {}): LiveUploads {
  const files: LiveFile[] = [];
  const sent = new Map<string, number>();
  /** The upload that failed by itself first (not stopped by stopReaders). */
  let broken: LiveFile | undefined;
  let stopping: Promise<void> | undefined;

  /** Closes every reader; a writer that is opening its FIFO right now is let through first (to fail on its write). */
  const stopReaders = () => {
    stopping ??= (async () => {
      for (const f of files) {
        f.reader.destroy();
        await wakeWriter(f.path);
        await unlink(f.path).catch(() => {});
        await releaseHold(f);
      }
    })();
    return stopping;
  };

  return {
    get names() {
      return files.map((f) => f.name);
    },
    async pipe(name) {
      if (!isPlainName(name) || files.some((f) => f.name === name)) {
        throw new CedanaError('CEDANA_ERR_INTERNAL', `cannot pipe ${JSON.stringify(name)} to storage: not a new plain file name`);
      }
      const path = join(dir, name);
      await run('mkfifo', ['-m', '600', path]);
      const readFd = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const hold = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
      const at = objectUrl(url, name);
      const upload = client.upload(at, {
        signal: opts.signal,
        onBytes: (n) => {
          sent.set(name, n);
          opts.onBytes?.([...sent.values()].reduce((a, b) => a + b, 0));
        },
      });
      const { reader, done } = readInto(readFd, upload);
      const file: LiveFile = { name, path, hold, reader, upload, completed: false, done: Promise.resolve({ url: at, size: 0 }) };
      file.done = done
        .catch((err: unknown) => {
          // One upload failed: every writer is stopped. The stream fails first (the SDK gives up
          // its body) with no reason of its own: the upload's is the one to tell.
          if (!stopping) broken ??= file;
          void stopReaders();
          return upload.finish().then(() => {
            file.completed = true; // cut short, yet complete: removed by abort()
            return Promise.reject(err);
          });
        })
        .then(() => upload.finish())
        .then(({ size }) => {
          file.completed = true;
          return { url: at, size };
        });
      file.done.catch(() => {}); // awaited by stored() or abort()
      files.push(file);
    },
    async endWriting() {
      for (const f of files) {
        await releaseHold(f);
        await unlink(f.path).catch(() => {});
      }
    },
    async stored() {
      const all = await Promise.all(files.map((f) => f.done));
      return Object.fromEntries(files.map((f, i) => [f.name, all[i] as { url: string; size: number }]));
    },
    async abort() {
      await stopReaders();
      // Each upload ends once its reader is gone: the first broken one's reason is known then.
      const settled = await Promise.allSettled(files.map((f) => f.done));
      await Promise.all(files.map((f) => f.upload.abort().catch(() => {})));
      const completed = files.filter((f) => f.completed).map((f) => objectUrl(url, f.name));
      if (completed.length > 0) await client.remove(completed).catch(() => {});
      const index = broken ? files.indexOf(broken) : -1;
      const outcome = settled[index];
      return outcome?.status === 'rejected' ? outcome.reason : undefined;
    },
  };
}

async function releaseHold(f: LiveFile): Promise<void> {
  const fd = f.hold;
  f.hold = undefined;
  if (fd !== undefined) await close(fd).catch(() => {});
}

/** A writer blocked opening a FIFO with no reader wakes when one opens: open and close one. */
async function wakeWriter(path: string): Promise<void> {
  const fd = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  if (fd !== undefined) await close(fd).catch(() => {});
}
