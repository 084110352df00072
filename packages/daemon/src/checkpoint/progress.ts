import { Transform, type TransformCallback } from 'node:stream';

export type OnProgress = (bytesDone: number, bytesTotal: number) => void;

/** A pass-through stage that reports how many bytes went through it, out of `total`. */
export function progressStage(total: number, onProgress: OnProgress): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      done += chunk.length;
      onProgress(Math.min(done, total), total);
      callback(null, chunk);
    },
  });
}
