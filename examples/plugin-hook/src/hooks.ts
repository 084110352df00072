/** The two hooks: a DumpMiddleware before CRIU dumps, a RestoreMiddleware around the restore. */
import { hostname } from 'node:os';
import { type DumpAdapter, pluginConfig, type RestoreAdapter } from '@cedana/plugin-sdk';
import { type HookSettings, runHookCommand, settingsOf } from './hook-command.js';

/** What the pre-dump hook leaves in checkpoint.json, under `hook`. */
export interface HookFacts {
  preDumpAt: string;
  host: string;
  pid: number;
  type: string;
  command?: string;
}

export const preDumpHook: DumpAdapter = (next) =>
  async function preDumpHook(ctx, req, res) {
    const settings: HookSettings = settingsOf(pluginConfig(ctx.config, 'hook'));
    // By now the request type's own plugin (if any) has set ctx.pid.
    const facts: HookFacts = { preDumpAt: new Date().toISOString(), host: hostname(), pid: ctx.pid, type: req.type || 'process' };
    if (settings.preDump) {
      await runHookCommand('pre-dump', settings.preDump, {
        CEDANA_PID: String(ctx.pid),
        CEDANA_JOB_TYPE: facts.type,
        CEDANA_IMAGES_DIR: ctx.imagesDir,
      });
      facts.command = settings.preDump[0];
    }
    ctx.setSection(facts);
    res.messages.push(`hook: pre-dump of PID ${ctx.pid} (${facts.type})`);
    return next(ctx, req, res);
  };

export const postRestoreHook: RestoreAdapter = (next) =>
  async function postRestoreHook(ctx, req, res) {
    const started = await next(ctx, req, res);
    const facts = ctx.section<Partial<HookFacts>>();
    const settings = settingsOf(pluginConfig(ctx.config, 'hook'));
    if (settings.postRestore) await runHookCommand('post-restore', settings.postRestore, { CEDANA_PID: String(started.pid) });
    res.messages.push(`hook: restored PID ${started.pid}${facts?.preDumpAt ? ` (dumped ${facts.preDumpAt} on ${facts.host})` : ''}`);
    return started;
  };
