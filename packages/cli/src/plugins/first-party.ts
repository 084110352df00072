/**
 * The first-party plugins: the one list of them. Short names (`cedana plugin install
 * runc`), `cedana plugin list`'s rows and TYPE column all come from here; the local
 * catalog holds those of them that this build made.
 */

export interface FirstParty {
  /** Short name: the plugin's `cedana.plugin`, the request type and CLI subcommand it serves. */
  name: string;
  type: 'supported' | 'experimental';
  describe: string;
  /** A job type with subcommands of its own (`cedana dump runc ...`): named so before it is installed, it is installed on demand. */
  runtime?: true;
}

export const FIRST_PARTY = [
  { name: 'criu', type: 'supported', describe: 'CRIU engine: the final dump and restore of every type' },
  { name: 'runc', type: 'supported', describe: 'runc containers', runtime: true },
  { name: 'containerd', type: 'supported', describe: 'containerd containers', runtime: true },
  { name: 'gpu', type: 'experimental', describe: 'CUDA checkpoint/restore around CRIU' },
  { name: 'kata', type: 'experimental', describe: 'Kata VMs, through a daemon in the guest', runtime: true },
  { name: 'streamer', type: 'experimental', describe: 'parallel compressed checkpoint streams' },
  { name: 'storage-s3', type: 'experimental', describe: 'checkpoints in S3-compatible object storage (s3://)' },
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
