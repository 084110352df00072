/** The process tree: pstree.img, and each process's comm and state from core-PID.img. */

import { coreEntry, pstreeEntry, taskKobjIdsEntry } from '@cedana/core/criu';
import type { CheckpointProcess } from '@cedana/core/proto';
import { invalid } from './image-file.js';
import type { ImageSet } from './image-set.js';
import { taskStateName } from './names.js';

export interface TreeProcess extends CheckpointProcess {
  /** Which fdinfo-N.img holds its fds (ids-PID.img), undefined when unknown. */
  filesId: number | undefined;
}

/** Every process in pstree.img, in its order (the root first). */
export function readProcesses(images: ImageSet): TreeProcess[] {
  const tree = images.entries('pstree.img', 'pstree', pstreeEntry);
  if (tree === undefined) throw invalid(images.label('pstree.img'), 'the checkpoint has no pstree.img, so it holds no CRIU process tree');
  return tree.map((p) => {
    const core = images.single(`core-${p.pid}.img`, 'core', coreEntry);
    const ids = images.single(`ids-${p.pid}.img`, 'ids', taskKobjIdsEntry) ?? core?.ids;
    return {
      pid: p.pid,
      ppid: p.ppid,
      pgid: p.pgid,
      sid: p.sid,
      comm: core?.tc?.comm ?? '',
      threads: p.threads,
      state: core?.tc ? taskStateName(core.tc.taskState) : '',
      filesId: ids?.filesId,
    };
  });
}
