/**
 * The parts of the zstd frame format (RFC 8878) that the daemon writes or recognises
 * itself, without libzstd: the magic that tells an archive's format (format.ts), and the
 * raw blocks of the stored head (stored-head.ts):
 *
 *   frame  = magic(4 LE 0xFD2FB528) FHD [window descriptor 1] [dict id 0-4] [content size 0-8]  block+  [checksum 4]
 *   block  = header(3 LE: bit 0 last, bits 1-2 type raw|RLE|compressed, bits 3-23 size) content
 */
export const ZSTD_MAGIC = 0xfd2fb528;
/** No block, whatever its type, regenerates or holds more than this (Block_Maximum_Size). */
export const ZSTD_BLOCK_MAX = 128 << 10;
