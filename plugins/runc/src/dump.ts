/**
 * Dump: the middleware finds the container and records what its restore needs; the final
 * handler is `runc checkpoint`, which runs CRIU itself with everything runc knows about its
 * container (mounts, namespaces, cgroups, external descriptors).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CedanaError,
  criuErrorLines,
  criuHeadline,
  type DumpAdapter,
  type DumpContext,
  type DumpMiddleware,
  type DumpReq,
  type DumpResp,
  fdTarget,
  type StdioOwner,
  stateKey,
} from '@cedana/plugin-sdk';
import { type OciConfig, readConfig } from './bundle.js';
import { type BundleNeeds, bundleNeeds } from './bundle-match.js';
import { requireId, runcDetails } from './details.js';
import { checkpointFlags } from './flags.js';
import { mountsOf } from './proc.js';
import { describeExit, globalArgs, locateRunc, readRuncLog, runcErrors, runRunc } from './runc-cli.js';
import { containerState, runningContainer } from './state.js';
import { runcVersion } from './version.js';

/** The dumped container's config.json, kept in the checkpoint (it completes a rootfs-only tar bundle). */
export const SAVED_CONFIG = 'runc-config.json';

/** What checkpoint.json says about the container: the runc section. */
export interface DumpedContainer {
  id: string;
  root: string;
  bundle: string;
  needs: BundleNeeds;
  version?: string;
}

interface Target {
  binary: string;
  root: string;
  id: string;
  config: OciConfig | undefined;
}

/** From the middleware to the handler of the same request. */
const TARGET = stateKey<Target>('runc dump target');

/**
 * Finds the running container of `details.runc.id`, refuses one CRIU could not restore,
 * and sets `ctx.pid` to its init (so the daemon's process adapters see it) and the runc
 * section of checkpoint.json.
 */
const findRuncContainerForDump: DumpAdapter = (next) =>
  async function findRuncContainerForDump(ctx, req, res) {
    const d = runcDetails(req.details);
    const id = requireId(d, 'dump');
    const root = d.root ?? '';
    const binary = await locateRunc();
    const state = await runningContainer(binary, root, id);
    if (await rootIsReadOnly(state.pid)) {
      throw new CedanaError(
        'CEDANA_ERR_CONTAINER_UNSUPPORTED',
        `container "${id}" has a read-only rootfs: CRIU cannot restore it (it must make a folder in the container's root), so it was not dumped and goes on running`,
        { hint: `set "readonly": false under "root" in the bundle's config.json and start the container again` },
      );
    }
    const config = await readConfig(state.bundle).catch(() => undefined);
    ctx.pid = state.pid;
    const dumped: DumpedContainer = { id, root, bundle: state.bundle, needs: await bundleNeeds(state.pid, config) };
    ctx.setSection(dumped);
    ctx.stdioOwner = await stdioOwner(state.pid);
    ctx.state.set(TARGET, { binary, root, id, config });
    return next(ctx, req, res);
  };

export const dumpMiddleware: DumpMiddleware = [findRuncContainerForDump];

/**
 * `runc checkpoint --image-path ctx.imagesDir ID`: CRIU's images and dump.log land in the
 * checkpoint folder. Without --leave-running runc removes the container once dumped; on
 * failure CRIU resumes it.
 *
 * @throws CedanaError CEDANA_ERR_RUNC_DUMP (with runc's and dump.log's error lines),
 *   CEDANA_ERR_INVALID_ARGUMENT (a CRIU option runc cannot pass)
 */
export async function runcDump(ctx: DumpContext, _req: DumpReq, _res: DumpResp): Promise<void> {
  ctx.signal.throwIfAborted();
  const t = ctx.state.get(TARGET);
  const dumped = ctx.section<DumpedContainer>();
  if (!t || !dumped) throw new CedanaError('CEDANA_ERR_INTERNAL', 'the runc DumpHandler ran without its DumpMiddleware');
  const flags = checkpointFlags(ctx.criu);
  if (t.config) await writeFile(join(ctx.imagesDir, SAVED_CONFIG), `${JSON.stringify(t.config, null, 2)}\n`);
  const work = await mkdtemp(join(tmpdir(), 'cedana-runc-'));
  try {
    const runcLog = join(work, 'runc.log');
    const args = [
      ...globalArgs(t.root, runcLog),
      'checkpoint',
      '--image-path',
      ctx.imagesDir,
      '--work-path',
      ctx.imagesDir,
      ...flags,
      t.id,
    ];
    ctx.log.debug({ binary: t.binary, args }, 'running runc checkpoint');
    const run = await runRunc(t.binary, args);
    if (run.exit !== 0) {
      const runc = runcErrors(await readRuncLog(runcLog), run.stderr);
      const criu = await criuErrorLines(join(ctx.imagesDir, 'dump.log'));
      const after = await containerState(t.binary, t.root, t.id).catch(() => undefined);
      const running = after?.status === 'running';
      throw new CedanaError(
        'CEDANA_ERR_RUNC_DUMP',
        `runc checkpoint of container "${t.id}" failed (${describeExit(run)}): ${criuHeadline(criu) ?? runc.at(-1) ?? 'runc printed no error'}; ${running ? 'the container was left running' : `the container is ${after?.status ?? 'gone'} now`}`,
        {
          details: [...runc.map((l) => `runc: ${l}`), ...criu],
          ...(running ? {} : { hint: 'read the runc and CRIU lines above: the container did not survive the failed dump' }),
        },
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  dumped.version = await runcVersion(t.binary);
  ctx.log.info({ id: t.id, pid: ctx.pid, imagesDir: ctx.imagesDir }, 'runc checkpointed the container');
}

/** True when the container's root is mounted read-only (config.json root.readonly). */
export async function rootIsReadOnly(pid: number): Promise<boolean> {
  const root = (await mountsOf(pid)).filter((m) => m.mountPoint === '/').at(-1);
  return root?.options.includes('ro') ?? false;
}

/**
 * The daemon records stdio pipes as an attachable job's (checkpoint.json `io`). A
 * container's output pipe to the shim's log is not one: only a container whose stdin is a
 * pipe too (started attachable) has the daemon's stdio, and comes back attachable.
 */
async function stdioOwner(pid: number): Promise<StdioOwner> {
  return /^pipe:\[\d+\]$/.test((await fdTarget(pid, 0)) ?? '') ? 'daemon' : 'runtime';
}
