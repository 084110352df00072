/**
 * What a lazy restore (`restore ... --lazy`) can use: CRIU's lazy-pages daemon reads the
 * pages straight from pages-*.img while the process runs, so the checkpoint must be an
 * uncompressed local folder of CRIU images. Anything else is refused before it is
 * fetched, unpacked or touched.
 */
import { stat } from 'node:fs/promises';
import { CedanaError, type PluginSource } from '@cedana/core';
import type { RestoreReq } from '@cedana/core/proto';
import { detectFormat } from '../checkpoint/format.js';
import { readManifest } from '../checkpoint/manifest.js';
import { streamsOf } from '../pipelines/stream-adapters.js';
import { isRemote } from '../storage/remote-storage.js';

const AGAIN = 'restore it without --lazy, or dump the job again with `--compression none` (no --streams) to a local folder';

/** @throws CedanaError CEDANA_ERR_LAZY_CHECKPOINT, or CEDANA_ERR_INVALID_ARGUMENT for a type other than process */
export async function assertLazyRestorable(plugins: PluginSource, req: RestoreReq): Promise<void> {
  if (req.type !== 'process' && req.type !== '') {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `--lazy restores processes; a checkpoint of type "${req.type}" cannot be restored lazily`,
      {
        hint: `restore it without --lazy: \`cedana restore ${req.type} --path ${req.path}\``,
      },
    );
  }
  if (isRemote(req.path)) throw refused(`${req.path} is in remote storage`);
  const info = await stat(req.path).catch(() => undefined);
  if (!info) return; // prepareRestoreDir says it is missing
  if (!info.isDirectory()) {
    const format = await detectFormat(req.path).catch(() => 'an unknown format');
    throw refused(`${req.path} is an archive (${format === 'none' ? 'tar' : format})`);
  }
  const streams = streamsOf(plugins, await readManifest(req.path));
  if (streams > 0) throw refused(`${req.path} was written as ${streams} streams (--streams), which only CRIU's --stream mode reads`);
}

function refused(found: string): CedanaError {
  return new CedanaError('CEDANA_ERR_LAZY_CHECKPOINT', `a lazy restore needs an uncompressed local checkpoint folder, found: ${found}`, {
    hint: AGAIN,
  });
}
