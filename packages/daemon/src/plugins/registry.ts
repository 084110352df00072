import type { LoadedPlugin, Logger, PluginSource } from '@cedana/core';
import { loadPlugins } from './loader.js';

/** The daemon's set of loaded plugins; the features read it, ReloadPlugins renews it. */
export class PluginRegistry implements PluginSource {
  private loaded: LoadedPlugin[] = [];

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  plugins(): readonly LoadedPlugin[] {
    return this.loaded;
  }

  async reload(): Promise<readonly LoadedPlugin[]> {
    this.loaded = await loadPlugins(this.dir);
    for (const p of this.loaded) {
      if (p.status === 'ok') this.log.info({ plugin: p.name, version: p.version, ms: p.loadMs }, 'plugin loaded');
      else this.log.warn({ plugin: p.name, phase: p.phase, err: p.error?.message }, 'plugin failed to load');
    }
    return this.loaded;
  }
}
