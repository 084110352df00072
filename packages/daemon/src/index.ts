/** @cedana/daemon: `startDaemon(config)` serves the Daemon API until stopped. */
import { type Config, clientTlsOf, type Logger, serverTlsOf } from '@cedana/core';
import { coreChecks } from './health/core-checks.js';
import type { JobManager } from './jobs/job-manager.js';
import { removeIncomingLeftovers } from './migrate/migrate-dir.js';
import type { PluginRegistry } from './plugins/registry.js';
import { refuseOpenTcp, warnIfOpenTcp, warnIfPlainTcp } from './server/auth.js';
import { listen, shutdown } from './server/server.js';
import { daemonService } from './server/service.js';
import { buildServices, TOKENS } from './services.js';
import type { Store } from './store/store.js';

export interface RunningDaemon {
  stop(): Promise<void>;
}

export async function startDaemon(config: Config): Promise<RunningDaemon> {
  refuseOpenTcp(config);
  // A bad certificate, a public key or an unreadable tls.ca (read again by each migration) stops the start before anything opens.
  const tls = serverTlsOf(config);
  clientTlsOf(config);
  const c = await buildServices(config);
  const log = c.resolve<Logger>(TOKENS.Logger);
  warnIfOpenTcp(config, log);
  warnIfPlainTcp(config, tls, log);
  const plugins = c.resolve<PluginRegistry>(TOKENS.PluginRegistry);
  const store = c.resolve<Store>(TOKENS.Store);
  const jobs = c.resolve<JobManager>(TOKENS.JobManager);
  await plugins.reload();
  await jobs.init();
  await removeIncomingLeftovers(config, log);
  const server = await listen(config, daemonService({ config, log, jobs, store, plugins, coreChecks: coreChecks(plugins) }), tls);
  log.info({ address: config.address, protocol: config.protocol, tls: tls !== undefined }, 'daemon listening');
  return {
    async stop() {
      await shutdown(server);
      await store.close();
      log.info('daemon stopped');
    },
  };
}

export { loadPlugins } from './plugins/loader.js';
