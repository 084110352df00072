/** The error codes of the runc plugin only (definePlugin's `errors`); rows in docs/errors.md, runc section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const RUNC_ERRORS = {
  CEDANA_ERR_RUNC_BUNDLE_INVALID: {
    status: 'INVALID_ARGUMENT',
    hint: "give --bundle a folder with config.json and the rootfs, or a tar of one (a `docker export` tar of the rootfs works when the checkpoint holds the container's config.json)",
  },
  CEDANA_ERR_RUNC_NOT_FOUND: {
    status: 'FAILED_PRECONDITION',
    hint: "install runc (Debian: `apt-get install runc`) and make sure it is on the daemon's PATH",
  },
  CEDANA_ERR_RUNC_FAILED: {
    status: 'INTERNAL',
    hint: 'run the runc command named above by hand to see why it fails; check that --root is the one the containers use',
  },
  CEDANA_ERR_RUNC_RUN: {
    status: 'FAILED_PRECONDITION',
    hint: 'fix what runc says about the bundle (its config.json or rootfs); nothing was left behind',
  },
  CEDANA_ERR_RUNC_DUMP: {
    status: 'INTERNAL',
    hint: 'read the runc and CRIU lines above; `cedana daemon check` tests the setup. The container was left running',
  },
  CEDANA_ERR_RUNC_RESTORE: {
    status: 'INTERNAL',
    hint: 'read the runc and CRIU lines above; the checkpoint is intact and no container was left behind, so the restore can be retried',
  },
} as const satisfies Record<`CEDANA_ERR_RUNC_${string}`, ErrorSpec>;
