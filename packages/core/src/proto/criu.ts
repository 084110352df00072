/**
 * CRIU's image messages (`@cedana/core/criu`): the ts-proto decoders of the subset of
 * CRIU's images/*.proto in proto/criu, for the daemon's checkpoint inspector. 64-bit
 * fields are bigint. Names are CRIU's (pstree_entry -> pstreeEntry).
 */
export { coreEntry, taskKobjIdsEntry } from './gen/criu/core.js';
export { fdinfoEntry, fdTypes, fileEntry } from './gen/criu/fdinfo.js';
export { fifoEntry } from './gen/criu/fifo.js';
export { mmEntry, vmaEntry } from './gen/criu/mm.js';
export { pagemapEntry, pagemapHead } from './gen/criu/pagemap.js';
export { pipeEntry } from './gen/criu/pipe.js';
export { pstreeEntry } from './gen/criu/pstree.js';
export { regFileEntry } from './gen/criu/regfile.js';
export { inetSkEntry } from './gen/criu/sk-inet.js';
export { unixSkEntry } from './gen/criu/sk-unix.js';
