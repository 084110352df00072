/**
 * Error codes a plugin declares (definePlugin's `errors`): registered when the plugin
 * loads, so that a CedanaError of such a code gets its hint and the daemon's edge its
 * gRPC status. A plugin may only declare codes named after it (CEDANA_ERR_<PLUGIN>_...),
 * never one core or another plugin owns.
 */
import { ERROR_CODE_PATTERN, ERRORS, type ErrorSpec, type GrpcStatusName, PLUGIN_ERRORS } from './errors.js';
import { GRPC_STATUS } from './wire.js';

/** gRPC statuses no error code answers with. */
const NOT_ERRORS = ['OK', 'CANCELLED', 'UNKNOWN', 'DEADLINE_EXCEEDED'];

/** The prefix of the codes `plugin` may declare: CEDANA_ERR_RUNC_ for runc. */
export function errorPrefixOf(plugin: string): string {
  return `CEDANA_ERR_${plugin.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/**
 * Registers the codes `plugin` declares, replacing those it declared before (a reload).
 * Returns what is wrong, naming the code, and registers nothing then.
 */
export function registerPluginErrors(plugin: string, errors: unknown): string | undefined {
  if (errors === undefined) errors = {};
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors)) {
    return `"errors" is ${JSON.stringify(errors)}, expected { CODE: { status, hint } }`;
  }
  const prefix = errorPrefixOf(plugin);
  const specs: [string, ErrorSpec][] = [];
  for (const [code, spec] of Object.entries(errors)) {
    if (code in ERRORS) return `error code ${code} belongs to cedana's core`;
    const owner = PLUGIN_ERRORS.get(code)?.plugin;
    if (owner !== undefined && owner !== plugin) return `error code ${code} belongs to the plugin "${owner}"`;
    if (!code.startsWith(prefix) || !ERROR_CODE_PATTERN.test(code)) {
      return `error code ${code} is not named after the plugin: expected ${prefix}<WHAT> (capitals, digits and _)`;
    }
    const { status, hint } = (spec ?? {}) as Partial<ErrorSpec>;
    if (typeof status !== 'string' || !(status in GRPC_STATUS) || NOT_ERRORS.includes(status)) {
      return `error code ${code} has status ${JSON.stringify(status)}, expected a gRPC status name such as FAILED_PRECONDITION`;
    }
    if (typeof hint !== 'string' || hint.trim() === '') return `error code ${code} has no hint (what the user should do next)`;
    specs.push([code, { status: status as GrpcStatusName, hint }]);
  }
  for (const [code, spec] of PLUGIN_ERRORS) if (spec.plugin === plugin) PLUGIN_ERRORS.delete(code);
  for (const [code, spec] of specs) PLUGIN_ERRORS.set(code, { ...spec, plugin });
  return undefined;
}

/** The codes `plugin` declared and registered, sorted. */
export function pluginErrorCodes(plugin: string): string[] {
  return [...PLUGIN_ERRORS]
    .filter(([, s]) => s.plugin === plugin)
    .map(([code]) => code)
    .sort();
}
