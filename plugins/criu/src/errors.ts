/** The error codes of the criu plugin only (definePlugin's `errors`); rows in docs/errors.md, criu section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const CRIU_ERRORS = {
  CEDANA_ERR_CRIU_NOT_FOUND: {
    status: 'FAILED_PRECONDITION',
    hint: 'install CRIU >= 4.2 (scripts/install-criu.sh), or set criu.binary_path',
  },
  CEDANA_ERR_CRIU_TOO_OLD: {
    status: 'FAILED_PRECONDITION',
    hint: 'install CRIU >= 4.2 (scripts/install-criu.sh): older versions fail on this kernel',
  },
  CEDANA_ERR_CRIU_DUMP: {
    status: 'INTERNAL',
    hint: 'read the CRIU log lines above; `cedana daemon check` tests the setup. The process was left running',
  },
  CEDANA_ERR_CRIU_RESTORE: {
    status: 'INTERNAL',
    hint: 'read the CRIU log lines above; the checkpoint was left intact, so the restore can be retried',
  },
  CEDANA_ERR_CRIU_LAZY_DUMP: {
    status: 'FAILED_PRECONDITION',
    hint: 'raise fs.pipe-max-size on the source (`sysctl -w fs.pipe-max-size=4194304`); nothing was frozen',
  },
  CEDANA_ERR_CRIU_LAZY_PAGES: {
    status: 'INTERNAL',
    hint: 'read the lazy-pages log lines above; `criu check --feature uffd-noncoop` must say supported. The checkpoint was left intact: restore it again, or without --lazy',
  },
} as const satisfies Record<`CEDANA_ERR_CRIU_${string}`, ErrorSpec>;
