/** The small images of one checkpoint, by file name, with the decoding and the errors that name the file. */
import { type Decoder, type ImageKind, readEntries, readSingle } from './image-file.js';

export class ImageSet {
  /** The images decoded so far, in order. */
  readonly used: string[] = [];

  /** `source` (the checkpoint's path) is named in errors after the image's name. */
  constructor(
    private readonly images: ReadonlyMap<string, Uint8Array>,
    private readonly source?: string,
  ) {}

  has(name: string): boolean {
    return this.images.has(name);
  }

  /** Every entry of image `name`, or undefined when the checkpoint has no such image. */
  entries<T>(name: string, kind: ImageKind, decoder: Decoder<T>): T[] | undefined {
    const bytes = this.images.get(name);
    if (bytes === undefined) return undefined;
    this.used.push(name);
    return readEntries(this.label(name), bytes, kind, decoder);
  }

  /** The one entry of image `name`, or undefined when the checkpoint has no such image. */
  single<T>(name: string, kind: ImageKind, decoder: Decoder<T>): T | undefined {
    const bytes = this.images.get(name);
    if (bytes === undefined) return undefined;
    this.used.push(name);
    return readSingle(this.label(name), bytes, kind, decoder);
  }

  /** How errors name image `name`. */
  label(name: string): string {
    return this.source === undefined ? name : `${name} in ${this.source}`;
  }
}
