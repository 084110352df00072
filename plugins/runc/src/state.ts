/** What runc knows about its containers: `runc state ID` and `runc list --format json`. */
import { CedanaError } from '@cedana/plugin-sdk';
import { assertStarted, describeExit, globalArgs, runcErrors, runRunc } from './runc-cli.js';

/** A container as runc reports it. */
export interface ContainerState {
  id: string;
  /** Init's PID; 0 once stopped. */
  pid: number;
  /** creating | created | running | paused | stopped */
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
}

/** The state of container `id` under `root`, or undefined when runc knows no such container. */
export async function containerState(binary: string, root: string, id: string): Promise<ContainerState | undefined> {
  const run = await runRunc(binary, [...globalArgs(root), 'state', id]);
  assertStarted(run, binary);
  if (run.exit === 0) return parseState(JSON.parse(run.stdout));
  const errors = runcErrors('', run.stderr);
  if (errors.some((e) => /does not exist/.test(e))) return undefined;
  throw new CedanaError('CEDANA_ERR_RUNC_FAILED', `\`runc${root ? ` --root ${root}` : ''} state ${id}\` failed (${describeExit(run)})`, {
    details: errors,
  });
}

/** Every container under `root` (runc prints `null` when there are none). */
export async function listContainers(binary: string, root: string): Promise<ContainerState[]> {
  const run = await runRunc(binary, [...globalArgs(root), 'list', '--format', 'json']);
  assertStarted(run, binary);
  if (run.exit !== 0) {
    throw new CedanaError('CEDANA_ERR_RUNC_FAILED', `\`runc${root ? ` --root ${root}` : ''} list\` failed (${describeExit(run)})`, {
      details: runcErrors('', run.stderr),
    });
  }
  const parsed: unknown = JSON.parse(run.stdout.trim() || 'null');
  return Array.isArray(parsed) ? parsed.map(parseState) : [];
}

export function parseState(raw: unknown): ContainerState {
  const s = (raw ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    id: str(s.id),
    pid: typeof s.pid === 'number' ? s.pid : 0,
    status: str(s.status),
    bundle: str(s.bundle),
    rootfs: str(s.rootfs),
    created: str(s.created),
  };
}

/** The state of a container that must exist and run; the errors say which of the two it is not. */
export async function runningContainer(binary: string, root: string, id: string): Promise<ContainerState> {
  const state = await containerState(binary, root, id);
  const where = root ? ` under --root ${root}` : " under runc's default root (/run/runc)";
  if (!state) {
    throw new CedanaError('CEDANA_ERR_CONTAINER_NOT_FOUND', `no container "${id}"${where}`, {
      hint: `list the containers with \`cedana query runc${root ? ` --root ${root}` : ''}\`; pass the --root the container was started with`,
    });
  }
  if (state.status !== 'running' || state.pid <= 0) {
    throw new CedanaError(
      'CEDANA_ERR_CONTAINER_NOT_RUNNING',
      `container "${id}" is ${state.status || 'in an unknown state'}, not running`,
      {
        hint:
          state.status === 'paused'
            ? `resume it first: \`runc${root ? ` --root ${root}` : ''} resume ${id}\``
            : 'only a running container can be dumped or managed; `cedana query runc` shows its status',
      },
    );
  }
  return state;
}
