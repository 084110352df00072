/**
 * The first-party plugins: the one table of them, and the only place in the daemon, the
 * CLI and the core that names them (a test checks). Everything else finds a plugin by its
 * role (plugin.ts ROLES): short names (`cedana plugin install runc`), `cedana plugin list`'s
 * rows, "which plugin could fill this role" in errors and on-demand installs of a runtime
 * all come from here; the local catalog holds those of them that this build made.
 */
import type { Role } from './plugin.js';

export interface FirstParty {
  /** Short name: the plugin's `cedana.plugin`, the request type and CLI subcommand it serves. */
  name: string;
  type: 'supported' | 'experimental';
  describe: string;
  /** The role its definition declares (a test checks the two agree). */
  role: Role;
}

export const FIRST_PARTY = [
  { name: 'criu', type: 'supported', role: 'engine', describe: 'CRIU engine: the final dump and restore of every type' },
  { name: 'runc', type: 'supported', role: 'runtime', describe: 'runc containers' },
  { name: 'containerd', type: 'supported', role: 'runtime', describe: 'containerd containers' },
  { name: 'gpu', type: 'experimental', role: 'accelerator', describe: 'CUDA checkpoint/restore around CRIU' },
  { name: 'kata', type: 'experimental', role: 'runtime', describe: 'Kata VMs, through a daemon in the guest' },
  { name: 'streamer', type: 'experimental', role: 'streams', describe: 'parallel compressed checkpoint streams' },
  { name: 'storage-s3', type: 'experimental', role: 'storage', describe: 'checkpoints in S3-compatible object storage (s3://)' },
] as const satisfies readonly FirstParty[];

const SCOPE = '@cedana/plugin-';

/** The npm package of a first-party plugin: `runc` -> `@cedana/plugin-runc`. */
export function packageOf(name: string): string {
  return `${SCOPE}${name}`;
}

/** The first-party plugin a short name or package name stands for. */
export function firstParty(nameOrPackage: string): FirstParty | undefined {
  const name = nameOrPackage.startsWith(SCOPE) ? nameOrPackage.slice(SCOPE.length) : nameOrPackage;
  return FIRST_PARTY.find((p) => p.name === name);
}

/** The first-party plugins that fill `role`, by name. */
export function firstPartyFor(role: Role): string[] {
  return FIRST_PARTY.filter((p) => p.role === role).map((p) => p.name);
}
