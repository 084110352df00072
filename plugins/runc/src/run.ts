/** RunHandler: `cedana run runc --bundle DIR --id ID` starts the container as a managed job. */
import { rm } from 'node:fs/promises';
import { CedanaError, type RunContext, type RunReq, type RunResp, type Started } from '@cedana/plugin-sdk';
import { type OciConfig, prepareBundle } from './bundle.js';
import { requireId, runcDetails, withRuncDetails } from './details.js';
import { locateRunc } from './runc-cli.js';
import { startContainer } from './start.js';
import { containerState } from './state.js';

/**
 * Starts the bundle's container detached, its output into the job's log (or held by the
 * daemon when attachable). The bundle may be a folder or a tar of one.
 *
 * @throws CedanaError CEDANA_ERR_INVALID_ARGUMENT, CEDANA_ERR_RUNC_BUNDLE_INVALID,
 *   CEDANA_ERR_CONTAINER_UNSUPPORTED (process.terminal), CEDANA_ERR_CONTAINER_EXISTS,
 *   CEDANA_ERR_RUNC_NOT_FOUND, CEDANA_ERR_RUNC_RUN
 */
export async function runcRun(ctx: RunContext, req: RunReq, res: RunResp): Promise<Started> {
  ctx.signal.throwIfAborted();
  if (req.process?.args.length) {
    throw new CedanaError(
      'CEDANA_ERR_INVALID_ARGUMENT',
      `a runc container runs the process of its bundle's config.json; found a command too (${req.process.args.join(' ')})`,
      { hint: "give no command after `cedana run runc`: edit process.args of the bundle's config.json instead" },
    );
  }
  const d = runcDetails(req.details);
  const id = requireId(d, 'run');
  if (!d.bundle) throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', 'no bundle: give `cedana run runc --bundle DIR --id ID`');
  const root = d.root ?? '';
  const binary = await locateRunc();
  const bundle = await prepareBundle(d.bundle, id);
  let started: Started;
  try {
    assertRunnable(bundle.config, d.bundle);
    if (await containerState(binary, root, id)) {
      throw new CedanaError('CEDANA_ERR_CONTAINER_EXISTS', `a container "${id}" exists already${root ? ` under --root ${root}` : ''}`);
    }
    started = await startContainer({
      binary,
      root,
      id,
      command: ['run', '-d', '-b', bundle.dir],
      io: req.attachable ? { attach: true } : { log: req.log },
      code: 'CEDANA_ERR_RUNC_RUN',
    });
  } catch (err) {
    if (bundle.extracted) await rm(bundle.extracted, { recursive: true, force: true });
    throw err;
  }
  if (bundle.config.root?.readonly === true) res.messages.push(readOnlyWarning(id));
  if (bundle.extracted) void started.exited.then(() => rm(bundle.extracted as string, { recursive: true, force: true }));
  req.details = withRuncDetails(req.details, { id, root, bundle: d.bundle, extracted: bundle.extracted });
  res.pid = started.pid;
  ctx.log.info({ id, pid: started.pid, bundle: bundle.dir }, 'runc container started');
  return started;
}

/** A container the daemon starts must not want a terminal: it runs detached, its stdio are pipes. */
export function assertRunnable(config: OciConfig, bundlePath: string): void {
  if (config.process?.terminal === true) {
    throw new CedanaError(
      'CEDANA_ERR_CONTAINER_UNSUPPORTED',
      `the config.json of bundle ${bundlePath} sets process.terminal to true: cedana runs containers detached, without a terminal`,
      { hint: 'set "terminal": false under "process" in config.json (`runc spec` writes true)' },
    );
  }
}

export function readOnlyWarning(id: string): string {
  return `container ${id} has a read-only rootfs (root.readonly): it runs, but cannot be checkpointed, because CRIU cannot restore a read-only root; set root.readonly to false to checkpoint it`;
}
