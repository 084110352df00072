/**
 * Restore: the middleware checks everything it can before anything is touched (the
 * checkpoint is a runc one, the ID is free, the bundle exists and fits the checkpoint),
 * and afterwards removes whatever a failed restore left; the final handler is
 * `runc restore -d`, which registers the restored container in runc's state.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CedanaError,
  type RestoreAdapter,
  type RestoreContext,
  type RestoreMiddleware,
  type RestoreReq,
  type RestoreResp,
  type Started,
  stateKey,
} from '@cedana/plugin-sdk';
import { type OciConfig, type PreparedBundle, prepareBundle } from './bundle.js';
import { checkBundle } from './bundle-match.js';
import { assertContainerId, runcDetails, withRuncDetails } from './details.js';
import { type DumpedContainer, SAVED_CONFIG } from './dump.js';
import { restoreFlags } from './flags.js';
import { assertRunnable } from './run.js';
import { globalArgs, locateRunc, runRunc } from './runc-cli.js';
import { startContainer } from './start.js';
import { containerState } from './state.js';

interface Target {
  binary: string;
  root: string;
  id: string;
  bundle: PreparedBundle;
}

/** From the middleware to the handler of the same request. */
const TARGET = stateKey<Target>('runc restore target');

const prepareRuncRestore: RestoreAdapter = (next) =>
  async function prepareRuncRestore(ctx, req, res) {
    const dumped = ctx.section<DumpedContainer>();
    if (!dumped?.id) {
      const type = ctx.manifest.type && ctx.manifest.type !== 'runc' ? ctx.manifest.type : 'process';
      throw new CedanaError(
        'CEDANA_ERR_INVALID_ARGUMENT',
        `checkpoint ${req.path} holds no runc container: it was made by \`cedana dump ${type}\``,
        {
          hint: `restore it with \`cedana restore ${type} --path ${req.path}\``,
        },
      );
    }
    const d = runcDetails(req.details);
    const id = d.id ?? dumped.id;
    assertContainerId(id);
    const root = d.root ?? '';
    const bundlePath = d.bundle ?? dumped.bundle;
    const binary = await locateRunc();
    if (await containerState(binary, root, id)) {
      throw new CedanaError(
        'CEDANA_ERR_CONTAINER_EXISTS',
        `a container "${id}" exists already${root ? ` under --root ${root}` : ''}: nothing was restored`,
        {
          hint: `restore under another ID (--id NEW_ID), or remove the old container first (\`runc${root ? ` --root ${root}` : ''} delete ${id}\`)`,
        },
      );
    }
    const bundle = await prepareBundle(bundlePath, id, await savedConfig(ctx.imagesDir));
    let started: Started;
    try {
      assertRunnable(bundle.config, bundlePath);
      await checkBundle(bundle, dumped.needs, bundlePath);
      ctx.state.set(TARGET, { binary, root, id, bundle });
      started = await next(ctx, req, res);
    } catch (err) {
      if (bundle.extracted) await rm(bundle.extracted, { recursive: true, force: true });
      await removeHalfMade(binary, root, id, ctx);
      throw err;
    }
    if (bundle.extracted) void started.exited.then(() => rm(bundle.extracted as string, { recursive: true, force: true }));
    req.details = withRuncDetails(req.details, { id, root, bundle: bundlePath, extracted: bundle.extracted });
    return started;
  };

export const restoreMiddleware: RestoreMiddleware = [prepareRuncRestore];

/**
 * `runc restore -d --image-path ctx.imagesDir -b BUNDLE ID` through the shim: the restored
 * container's output goes to the job's log (or to the daemon, when attachable).
 *
 * @throws CedanaError CEDANA_ERR_RUNC_RESTORE (with runc's and restore.log's error lines)
 */
export async function runcRestore(ctx: RestoreContext, req: RestoreReq, res: RestoreResp): Promise<Started> {
  ctx.signal.throwIfAborted();
  const t = ctx.state.get(TARGET);
  if (!t) throw new CedanaError('CEDANA_ERR_INTERNAL', 'the runc RestoreHandler ran without its RestoreMiddleware');
  const jobLog = ctx.manifest.job?.log;
  const log = req.log || jobLog || `/var/log/cedana-output-${res.jid}.log`;
  const started = await startContainer({
    binary: t.binary,
    root: t.root,
    id: t.id,
    command: ['restore', '-d', '--image-path', ctx.imagesDir, '--work-path', ctx.imagesDir, '-b', t.bundle.dir, ...restoreFlags(ctx.criu)],
    io: req.attachable ? { attach: true } : { log },
    code: 'CEDANA_ERR_RUNC_RESTORE',
    criuLog: join(ctx.imagesDir, 'restore.log'),
  });
  res.pid = started.pid;
  ctx.log.info({ id: t.id, pid: started.pid, bundle: t.bundle.dir }, 'runc restored the container');
  return started;
}

/** The config.json the dump saved, if any. */
async function savedConfig(imagesDir: string): Promise<OciConfig | undefined> {
  const text = await readFile(join(imagesDir, SAVED_CONFIG), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as OciConfig);
}

/** The ID was free before the restore: a container with it now is the failed restore's. */
async function removeHalfMade(binary: string, root: string, id: string, ctx: RestoreContext): Promise<void> {
  try {
    if (!(await containerState(binary, root, id))) return;
    const run = await runRunc(binary, [...globalArgs(root), 'delete', '--force', id]);
    ctx.log.warn({ id, exit: run.exit, stderr: run.stderr }, 'removed the container a failed restore left');
  } catch (err) {
    ctx.log.error({ err, id }, 'could not check for a container left by the failed restore');
  }
}
