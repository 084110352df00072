/**
 * The ImageReader feature: images out of a streamed checkpoint by name, for `cedana
 * checkpoint inspect`. Only the chunks of the wanted images are read (the index says
 * where), each checked against its sha256 like a restore does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CedanaError, type ImageReaderFn, sectionOf } from '@cedana/plugin-sdk';
import { ensureAddon } from './build-addon.js';
import { DamagedChunk, decodeChunk } from './chunk.js';
import { CHUNK_HEADER } from './format.js';
import { loadAddon } from './native.js';
import { openShards, readIndex } from './serve.js';

export const readStreamedImages: ImageReaderFn = async (dir, wanted) => {
  try {
    const facts = sectionOf<{ streams?: number }>(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')), 'streamer');
    const lz4 = loadAddon(await ensureAddon());
    const index = await readIndex(dir, Number(facts?.streams ?? 0));
    const files = await openShards(dir, index);
    try {
      const out = new Map<string, Buffer>();
      for (const [i, entry] of index.images.entries()) {
        if (!wanted(entry.name)) continue;
        const parts: Buffer[] = [];
        for (const c of entry.chunks) {
          const buf = Buffer.allocUnsafe(CHUNK_HEADER + c.n);
          const { bytesRead } = await (files[c.s] as (typeof files)[number]).read(buf, 0, buf.length, c.o);
          parts.push(decodeChunk(lz4, buf, bytesRead, i, entry.name, c));
        }
        out.set(entry.name, Buffer.concat(parts));
      }
      return out;
    } finally {
      await Promise.allSettled(files.map((f) => f.close()));
    }
  } catch (err) {
    if (err instanceof DamagedChunk) throw new CedanaError('CEDANA_ERR_CHECKPOINT_INVALID', `streamed checkpoint ${dir}: ${err.message}`);
    throw err;
  }
};
