/** The checkpoint archive module: what the rest of the daemon imports. */
export { readManifestFromArchive } from './archive-manifest.js';
export { type ArchiveSink, fileSink, type OpenSink } from './archive-sink.js';
export { archivePath } from './codecs.js';
export { detectFormat } from './format.js';
export { type ArchiveOptions, type PackedCheckpoint, type PackOptions, packCheckpoint } from './pack.js';
export type { OnProgress } from './progress.js';
export { checkpointSize } from './size.js';
export { type ArchiveSource, type UnpackOptions, unpackCheckpoint, unpackStream } from './unpack.js';
