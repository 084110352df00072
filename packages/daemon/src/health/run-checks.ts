import { type Config, features, type HealthCheck, type HealthResult, type Logger, type PluginSource } from '@cedana/core';

/** Runs the core's checks and every plugin's; a check that throws is reported, not raised. */
export async function runHealthChecks(
  core: HealthCheck[],
  plugins: PluginSource,
  config: Config,
  log: Logger,
  signal: AbortSignal,
): Promise<(HealthResult & { source: string })[]> {
  const out: (HealthResult & { source: string })[] = [];
  const run = async (source: string, check: HealthCheck) => {
    try {
      out.push({ ...(await check({ config, log, signal })), source });
    } catch (err) {
      out.push({
        name: check.name || 'check',
        source,
        data: {},
        warnings: [],
        errors: [{ message: `the check itself failed: ${(err as Error).message}`, fix: `report it to the author of ${source}` }],
      });
    }
  };
  for (const check of core) await run('core', check);
  for (const plugin of plugins.plugins()) {
    try {
      for (const check of features.HealthChecks.get(plugins, plugin.name) ?? []) await run(plugin.name, check);
    } catch (err) {
      out.push({
        name: 'plugins',
        source: 'core',
        data: {},
        warnings: [],
        errors: [{ message: (err as Error).message, fix: 'run `cedana features --errors`' }],
      });
    }
  }
  return out;
}
