/**
 * The paths of this host that a restore binds as a checkpoint's external mounts
 * (`mnt[KEY]:PATH`): a job run with --pid-ns names every mount of its namespace, the host's
 * own, and gets them back from the host it is restored on. Each PATH must exist there. A
 * missing one fails only deep in the restore of the mount namespace, naming a folder of the
 * engine's own temporary tree (`Can't stat mountpoint /tmp/.criu.mntns.X/mnt-N/cpu`); checked
 * first, it is named as the user knows it.
 */
import { stat } from 'node:fs/promises';
import { EXTERNAL_MOUNT } from './repeated.js';

export interface MountSource {
  key: string;
  path: string;
}

/** The restore's external mounts (`mnt[KEY]:PATH` among `external`) whose PATH does not exist here. */
export async function missingMountSources(external: readonly string[]): Promise<MountSource[]> {
  const sources = external.flatMap((e) => {
    const m = EXTERNAL_MOUNT.exec(e);
    return m ? [{ key: m[1] as string, path: m[2] as string }] : [];
  });
  const found = await Promise.all(
    sources.map((s) =>
      stat(s.path).then(
        () => true,
        () => false,
      ),
    ),
  );
  return sources.filter((_, i) => !found[i]);
}
