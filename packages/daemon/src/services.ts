/**
 * The daemon's services, wired with tsyringe: Config, Logger, Store,
 * PluginRegistry, JobManager. Tokens are symbols so nothing depends on class
 * metadata.
 */
import 'reflect-metadata';
import type { Config, Logger } from '@cedana/core';
import { container, type DependencyContainer, instanceCachingFactory } from 'tsyringe';
import { JobManager } from './jobs/job-manager.js';
import { exitDir, ioDir } from './jobs/state-paths.js';
import { createLogger } from './log.js';
import { PluginRegistry } from './plugins/registry.js';
import { Store } from './store/store.js';

export const TOKENS = {
  Config: Symbol('Config'),
  Logger: Symbol('Logger'),
  Store: Symbol('Store'),
  PluginRegistry: Symbol('PluginRegistry'),
  JobManager: Symbol('JobManager'),
} as const;

export async function buildServices(config: Config): Promise<DependencyContainer> {
  const c = container.createChildContainer();
  const log = createLogger(config);
  c.register(TOKENS.Config, { useValue: config });
  c.register(TOKENS.Logger, { useValue: log });
  c.register(TOKENS.Store, { useValue: await Store.open(config['db.path']) });
  c.register(TOKENS.PluginRegistry, {
    useFactory: instanceCachingFactory(
      (c) => new PluginRegistry(config['plugins.dir'], c.resolve<Logger>(TOKENS.Logger).child({ component: 'plugins' })),
    ),
  });
  c.register(TOKENS.JobManager, {
    useFactory: instanceCachingFactory(
      (c) =>
        new JobManager(
          c.resolve(TOKENS.Store),
          c.resolve(TOKENS.PluginRegistry),
          c.resolve<Logger>(TOKENS.Logger).child({ component: 'jobs' }),
          exitDir(config),
          ioDir(config),
        ),
    ),
  });
  return c;
}

export type { Config, Logger };
