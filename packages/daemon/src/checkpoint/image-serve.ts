/**
 * Restores an archive (tar, lz4, zstd...) without unpacking it first: CRIU restores in
 * --stream mode while this server decodes the archive once, front to back. Every image
 * but the page contents (pages-*.img, which pack.ts puts last) is unpacked into the
 * restore's folder and checked against checkpoint.json before CRIU starts; CRIU then gets
 * those from their files, and each page file straight from the archive into its pipe as
 * it asks for it, hashed on the way (and copied to its file, for a CRIU run again). The restored tasks are held stopped until the whole
 * archive matched (RestoreContext.resumeGate): a damaged byte anywhere fails the restore
 * before any restored task runs, with the error naming the file, and the archive is only
 * ever read.
 *
 * A page file that comes before the one CRIU is waiting for (several processes) is
 * unpacked into the folder instead, and served from there when CRIU asks for it.
 */
import { randomBytes } from 'node:crypto';
import { close as closeCb, createReadStream, write as writeCb } from 'node:fs';
import { type FileHandle, mkdir, open, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { FdPass } from '@cedana/plugin-sdk/native';
import { type ControlEvent, followCriu, listenForCriu, stopControl } from './image-serve-control.js';
import type { CheckpointManifest } from './manifest.js';
import { HELPER_ADDON, helperReady } from './native-codec.js';
import { isPagesImage } from './piece-digests.js';
import type { OnProgress } from './progress.js';
import type { EntryRoute } from './tar-extract.js';
import { unpackCheckpoint } from './unpack.js';

const close = promisify(closeCb);
const write = promisify(writeCb);

export { isPagesImage };

/**
 * CRIU's pipes are made this big: CRIU reads pages 4 MiB at a time in --stream mode, and a
 * pipe that holds a whole read lets it and the daemon copy at the same time. 1 GiB lz4
 * archive restore, quiet 2-core VM: 1 MiB 3.4-4.0 s, 4 MiB 2.5 s, 8 MiB 2.7 s.
 */
const PIPE_SIZE = 4 << 20;

export interface ArchiveServeOptions {
  /** The archive. */
  archive: string;
  /** The restore's folder (made here): the unpacked images, CRIU's log and figures. */
  dir: string;
  /** checkpoint.json as read from the archive's head: which images there are. */
  listed: CheckpointManifest;
  signal: AbortSignal;
  onProgress?: OnProgress | undefined;
}

export interface ServedArchive {
  /** The folder to give CRIU with --stream (a short name of `dir`: a unix socket's path is short). */
  criuDir: string;
  /** Resolves once every image but the pages is unpacked and checked: CRIU may start. */
  small: Promise<void>;
  /** Resolves with the verified manifest once the whole archive matched checkpoint.json. */
  verified: Promise<CheckpointManifest>;
  /** Why the archive's reading failed before stop() (a damaged or missing file), if it did. */
  failure(): unknown;
  /** Stops serving (CRIU is done), and waits for the archive's reading to end. */
  stop(): Promise<void>;
}

/** Whether the stream socket's addon is (or can be) built; a restore without it unpacks first. */
export async function canServeArchives(): Promise<boolean> {
  return helperReady().then(
    () => true,
    () => false,
  );
}

export async function serveArchive(opts: ArchiveServeOptions): Promise<ServedArchive> {
  const addon = await helperReady();
  await mkdir(opts.dir, { mode: 0o700 });
  const criuDir = join(tmpdir(), `cedana-serve-${randomBytes(6).toString('hex')}`);
  await symlink(opts.dir, criuDir, 'dir');
  try {
    const listenFd = listenForCriu(addon, criuDir); // the short name: a socket's path must fit sun_path
    return new ArchiveServer(addon, listenFd, criuDir, opts).served();
  } catch (err) {
    await rm(criuDir, { force: true });
    throw err;
  }
}

class ArchiveServer {
  readonly #fds: number[];
  readonly #abort = new AbortController();
  /** Per image: resolves once it is whole in its file (a page file sent into a pipe is copied there too), rejects on a failure. */
  readonly #ready = new Map<string, Deferred<boolean>>();
  /** CRIU's pipes of page files the reading has not reached yet. */
  readonly #waiting = new Map<string, number>();
  /** The page file the reading is stopped at, waiting for CRIU to ask for it or for another. */
  #atPages: { name: string; go(fd: number | undefined): void } | undefined;
  readonly #small = deferred<void>();
  readonly #verified: Promise<CheckpointManifest>;
  #failed = false;
  #failure: unknown;

  constructor(
    readonly addon: FdPass,
    listenFd: number,
    readonly criuDir: string,
    readonly opts: ArchiveServeOptions,
  ) {
    this.#fds = [listenFd];
    for (const name of Object.keys(opts.listed.files)) this.#ready.set(name, deferred());
    const route: EntryRoute = { open: (name) => this.#open(name), done: (name) => this.#done(name) };
    const signal = AbortSignal.any([opts.signal, this.#abort.signal]);
    this.#verified = unpackCheckpoint(opts.archive, opts.dir, {
      signal,
      verify: true,
      onProgress: opts.onProgress,
      route,
      removeOnFailure: false,
      pieceAddon: HELPER_ADDON,
    });
    this.#verified.then(
      () => this.#small.resolve(),
      (err: unknown) => this.#fail(err),
    );
    const images = Object.keys(opts.listed.files);
    followCriu({ listenFd, addonPath: HELPER_ADDON, images }, (e) => this.#onControl(e));
  }

  served(): ServedArchive {
    return {
      criuDir: this.criuDir,
      small: this.#small.promise,
      verified: this.#verified,
      failure: () => this.#failure,
      stop: async () => {
        this.#abort.abort(new Error('the restore no longer reads the archive'));
        this.#shut();
        await this.#verified.catch(() => {});
        await rm(this.criuDir, { force: true });
      },
    };
  }

  #onControl(e: ControlEvent): void {
    if (e.type === 'connected') this.#fds.push(e.fd);
    else if (e.type === 'open') this.#serve(e.name, e.fd).catch(() => {});
    else if (e.type === 'error' && !this.#abort.signal.aborted)
      this.#fail(new Error(`talking to CRIU over its stream socket: ${e.message}`));
  }

  /** CRIU opened `name` (listed): its bytes into `fd`, from the archive (a page file not reached yet) or from its file. */
  async #serve(name: string, fd: number): Promise<void> {
    this.addon.setPipeSize(fd, PIPE_SIZE);
    const ready = this.#ready.get(name) as Deferred<boolean>;
    if (isPagesImage(name) && !ready.settled) {
      this.#waiting.set(name, fd);
      if (this.#atPages) {
        const at = this.#atPages;
        this.#atPages = undefined;
        const mine = at.name === name;
        if (mine) this.#waiting.delete(name);
        at.go(mine ? fd : undefined); // another page file: CRIU waits for a later one, so this one goes to its file
      }
      return;
    }
    const inFile = await ready.promise.catch(() => false);
    if (!inFile || this.#failed) {
      await close(fd).catch(() => {}); // CRIU reads a short image and fails; the reason is the archive's
      return;
    }
    const out = new PipeOut(fd);
    await pipeline(createReadStream(join(this.opts.dir, name), { highWaterMark: PIPE_SIZE }), out).catch(() => {});
  }

  /** The reading reached `name`: where its bytes go. */
  async #open(name: string): Promise<PipeOut | undefined> {
    if (!isPagesImage(name)) return undefined;
    this.#small.resolve();
    let fd = this.#waiting.get(name);
    if (fd === undefined && this.#waiting.size === 0 && !this.#failed) {
      fd = await new Promise<number | undefined>((go) => {
        this.#atPages = { name, go };
        this.#abort.signal.addEventListener('abort', () => go(undefined), { once: true });
      });
    }
    if (fd === undefined) return undefined;
    this.#waiting.delete(name);
    // A copy goes to its file too: a CRIU run that fails after reading it (a PID the kernel
    // still held, retried by the restore) gets it again from there.
    return new PipeOut(fd, await open(join(this.opts.dir, name), 'wx', 0o600));
  }

  #done(name: string): void {
    this.#ready.get(name)?.resolve(true); // a routed page file was copied to its file on the way
    // CRIU asked for it while it was being written to its file.
    const fd = this.#waiting.get(name);
    if (fd === undefined) return;
    this.#waiting.delete(name);
    this.#serve(name, fd).catch(() => {});
  }

  #fail(err: unknown): void {
    if (!this.#failed && !this.#abort.signal.aborted) this.#failure = err;
    this.#failed = true;
    this.#small.reject(err);
    for (const ready of this.#ready.values()) ready.reject(err);
    this.#shut();
  }

  /** CRIU's next request fails, and its pipes not written yet end: it stops, and says why. */
  #shut(): void {
    stopControl(this.addon, this.#fds);
    for (const fd of this.#waiting.values()) void close(fd).catch(() => {});
    this.#waiting.clear();
    const at = this.#atPages;
    this.#atPages = undefined;
    at?.go(undefined);
  }
}

/**
 * Writes into one of CRIU's pipes (blocking writes, on libuv's pool), closing it at the
 * end. Should CRIU close it early (it needs no more, or it failed and says why), the rest
 * is dropped: the archive's reading goes on, and its check still decides.
 */
class PipeOut extends Writable {
  bytesWritten = 0;
  #gone = false;

  /** `copy`: a file that gets every byte too, whatever CRIU does with its pipe (closed at the end). */
  constructor(
    readonly fd: number,
    readonly copy?: FileHandle,
  ) {
    super({ highWaterMark: PIPE_SIZE });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const copied = this.copy ? this.copy.write(chunk).then(() => {}) : Promise.resolve();
    const piped = this.#gone
      ? Promise.resolve()
      : this.#writeAll(chunk).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EPIPE') throw err;
          this.#gone = true;
        });
    Promise.all([copied, piped]).then(
      () => callback(),
      (err: Error) => callback(err),
    );
  }

  async #writeAll(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const { bytesWritten } = await write(this.fd, chunk, at, chunk.length - at);
      at += bytesWritten;
      this.bytesWritten += bytesWritten;
    }
  }

  override _final(callback: (err?: Error | null) => void): void {
    Promise.all([close(this.fd), this.copy?.close()]).then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.writableFinished) callback(err);
    else
      Promise.all([close(this.fd).catch(() => {}), this.copy?.close().catch(() => {})]).then(
        () => callback(err),
        () => callback(err),
      );
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  settled: boolean;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve: (value) => {
      if (d.settled) return;
      d.settled = true;
      resolve(value);
    },
    reject: (err) => {
      if (d.settled) return;
      d.settled = true;
      reject(err);
    },
  };
  return d;
}
