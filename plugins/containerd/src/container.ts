/**
 * Containers and their tasks through containerd's API: create a container (its rootfs
 * snapshot prepared from the image's layers, under a lease), start its task (fresh, or
 * restored from raw CRIU images), watch the task's end, and remove what cedana made.
 * Containers cedana makes carry the label `io.cedana.instance`, a token of their
 * incarnation: a watcher removes only the container it started, never a newer one that
 * took the same ID.
 */
import { randomBytes } from 'node:crypto';
import { CedanaError, type ExitStatus, type Logger, processStartTime, type Started, untilGone } from '@cedana/plugin-sdk';
import { Containerd, isNotFound } from './client.js';
import { type ResolvedImage, unpackImage } from './image.js';
import { Options } from './proto/gen/containerd/runc/options.js';
import { type Container, ContainersService } from './proto/gen/containerd/services/containers.js';
import { SnapshotsService } from './proto/gen/containerd/services/snapshots.js';
import { TasksService } from './proto/gen/containerd/services/tasks.js';
import type { Mount } from './proto/gen/containerd/types/mount.js';
import { Status } from './proto/gen/containerd/types/task.js';
import { type OciSpec, SPEC_TYPE_URL } from './spec.js';
import { closeStdio, type TaskStdio } from './stdio.js';
import { exitStatusOf } from './watch.js';

export const RUNTIME = 'io.containerd.runc.v2';
export const DEFAULT_SNAPSHOTTER = 'overlayfs';
export const INSTANCE_LABEL = 'io.cedana.instance';
/** The Any type URLs of the runc shim's options: the bare message names (containerd's typeurl). */
export const RUNC_OPTIONS_URL = 'containerd.runc.v1.Options';
export const RUNC_CHECKPOINT_OPTIONS_URL = 'containerd.runc.v1.CheckpointOptions';

export interface NewContainer {
  id: string;
  image: ResolvedImage;
  snapshotter: string;
  spec: OciSpec;
}

/**
 * Makes the container and its rootfs snapshot; returns the snapshot's mounts and the
 * container's instance token.
 *
 * @throws CedanaError CEDANA_ERR_CONTAINER_EXISTS (the ID, or a snapshot of that key, is taken)
 */
export async function createContainer(cd: Containerd, c: NewContainer): Promise<{ mounts: Mount[]; instance: string }> {
  const instance = randomBytes(8).toString('hex');
  return cd.withLease(async () => {
    if (!c.image.unpacked) await unpackImage(cd, c.image, c.snapshotter);
    const prepared = await cd
      .call(
        SnapshotsService.prepare,
        { snapshotter: c.snapshotter, key: c.id, parent: c.image.chainId, labels: {} },
        `prepare the rootfs of ${c.id}`,
      )
      .catch((err) => {
        throw taken(err, c.id, cd.namespace, `a snapshot "${c.id}" exists already in snapshotter ${c.snapshotter}`);
      });
    try {
      await cd.call(
        ContainersService.create,
        {
          container: {
            id: c.id,
            labels: { [INSTANCE_LABEL]: instance },
            image: c.image.name,
            runtime: { name: RUNTIME, options: undefined },
            spec: { typeUrl: SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(c.spec)) },
            snapshotter: c.snapshotter,
            snapshotKey: c.id,
            createdAt: undefined,
            updatedAt: undefined,
            extensions: {},
          },
        },
        `create container ${c.id}`,
      );
    } catch (err) {
      await cd.call(SnapshotsService.remove, { snapshotter: c.snapshotter, key: c.id }, 'remove the snapshot').catch(() => {});
      throw taken(err, c.id, cd.namespace, `a container "${c.id}" exists already`);
    }
    return { mounts: prepared.mounts, instance };
  });
}

function taken(err: unknown, id: string, namespace: string, what: string): unknown {
  if ((err as CedanaError).code !== 'CEDANA_ERR_CONTAINER_EXISTS') return err;
  return new CedanaError('CEDANA_ERR_CONTAINER_EXISTS', `${what} in containerd namespace ${namespace}: nothing was changed`, {
    hint: `choose another --id, or remove the old container first (\`ctr -n ${namespace} container rm ${id}\`)`,
  });
}

export interface StartTask {
  id: string;
  mounts: Mount[];
  /** Where the task's stdin, stdout and stderr go (stdio.ts). */
  stdio: TaskStdio;
  /** Restore from these raw CRIU images (runc's criu_image_path), with CRIU's logs in `criuWorkPath`. */
  criuImagePath?: string;
  criuWorkPath?: string;
}

/** Tasks.Create + Tasks.Start: the task's PID (for a restore, once CRIU has restored it). */
export async function startTask(cd: Containerd, t: StartTask): Promise<number> {
  const options = t.criuImagePath
    ? {
        typeUrl: RUNC_OPTIONS_URL,
        value: Buffer.from(
          Options.encode(Options.fromPartial({ criuImagePath: t.criuImagePath, criuWorkPath: t.criuWorkPath ?? '' })).finish(),
        ),
      }
    : undefined;
  await cd.call(
    TasksService.create,
    {
      containerId: t.id,
      rootfs: t.mounts,
      stdin: t.stdio.stdin,
      stdout: t.stdio.stdout,
      stderr: t.stdio.stderr,
      terminal: false,
      checkpoint: undefined,
      options,
      runtimePath: '',
    },
    t.criuImagePath ? `create the restored task of ${t.id}` : `create the task of ${t.id}`,
  );
  const started = await cd.call(
    TasksService.start,
    { containerId: t.id, execId: '' },
    t.criuImagePath ? `restore ${t.id}` : `start ${t.id}`,
  );
  return started.pid;
}

/** The container, or undefined when containerd has none of that ID. */
export async function getContainer(cd: Containerd, id: string): Promise<Container | undefined> {
  try {
    return (await cd.call(ContainersService.get, { id }, `get container ${id}`)).container;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The container's task (status, PID), or undefined when it has none. */
export async function getTask(cd: Containerd, id: string) {
  try {
    return (await cd.call(TasksService.get, { containerId: id, execId: '' }, `get the task of ${id}`)).process;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const STATUS_NAMES: Record<number, string> = {
  [Status.CREATED]: 'created',
  [Status.RUNNING]: 'running',
  [Status.STOPPED]: 'stopped',
  [Status.PAUSED]: 'paused',
  [Status.PAUSING]: 'pausing',
};

export const statusName = (s: Status | undefined): string => STATUS_NAMES[s ?? Status.UNKNOWN] ?? 'unknown';

/**
 * Removes the task (killed first if it still runs), the container and its snapshot;
 * with `instance`, only when the container is still that incarnation. What is already
 * gone is no error.
 */
export async function removeContainer(cd: Containerd, id: string, instance?: string): Promise<void> {
  const c = await getContainer(cd, id);
  if (!c || (instance !== undefined && c.labels[INSTANCE_LABEL] !== instance)) return;
  const task = await getTask(cd, id);
  if (task && task.status !== Status.STOPPED && task.status !== Status.CREATED) {
    await cd.call(TasksService.kill, { containerId: id, execId: '', signal: 9, all: true }, `kill the task of ${id}`).catch(() => {});
    await cd.call(TasksService.wait, { containerId: id, execId: '' }, `wait for ${id}`).catch(() => {});
  }
  if (task) {
    await cd.call(TasksService.delete, { containerId: id }, `delete the task of ${id}`).catch(async (err) => {
      // Deleted meanwhile (the dump and the task's watcher both clean up after a dump): no error.
      if (isNotFound(err) || !(await getTask(cd, id).catch(() => undefined))) return;
      throw err;
    });
  }
  await cd.call(ContainersService.delete, { id }, `delete container ${id}`).catch(ignoreNotFound);
  if (c.snapshotKey) {
    await cd
      .call(SnapshotsService.remove, { snapshotter: c.snapshotter, key: c.snapshotKey }, `remove the snapshot of ${id}`)
      .catch(ignoreNotFound);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}

/**
 * The task's end, from Tasks.Wait on a connection of its own (or /proc when that fails);
 * `onExit` runs before the exit is reported (a container cedana made is removed then); an
 * attachable task's streams are handed to the daemon, and closed once the task has ended.
 */
export async function watchTask(
  address: string,
  namespace: string,
  id: string,
  pid: number,
  log: Logger,
  onExit?: (cd: Containerd) => Promise<void>,
  stdio?: TaskStdio,
): Promise<Started> {
  const start = await processStartTime(pid);
  const exited = (async (): Promise<ExitStatus> => {
    let cd: Containerd | undefined;
    try {
      cd = await Containerd.connect(address, namespace);
      const res = await cd.call(TasksService.wait, { containerId: id, execId: '' }, `wait for ${id}`, undefined, { noDeadline: true });
      const status = exitStatusOf(res.exitStatus);
      if (onExit) await onExit(cd).catch((err) => log.warn({ err, id }, 'could not remove the exited container'));
      return status;
    } catch (err) {
      log.debug({ err, id }, 'Tasks.Wait failed: watching the PID instead');
      await untilGone(pid, start);
      return { code: null, signal: null };
    } finally {
      cd?.close();
      // The shim has copied the last output by now; a moment for the daemon to read it.
      if (stdio?.ends) setTimeout(() => void closeStdio(stdio), 500).unref();
    }
  })();
  return { pid, exited, ...(stdio?.ends ? { stdio: stdio.ends } : {}) };
}
