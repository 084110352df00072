/** The error codes of the containerd plugin only (definePlugin's `errors`); rows in docs/errors.md, containerd section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const CONTAINERD_ERRORS = {
  CEDANA_ERR_CONTAINERD_IMAGE_NOT_FOUND: {
    status: 'NOT_FOUND',
    hint: 'list the images with `cedana query containerd --namespace NS`; import or pull the image into that namespace first',
  },
  CEDANA_ERR_CONTAINERD_UNREACHABLE: {
    status: 'UNAVAILABLE',
    hint: 'start containerd, or point --containerd-address at the socket it listens on (default /run/containerd/containerd.sock)',
  },
  CEDANA_ERR_CONTAINERD_FAILED: {
    status: 'INTERNAL',
    hint: "read containerd's message above; `cedana daemon check` tests containerd, runc and CRIU",
  },
  CEDANA_ERR_CONTAINERD_DUMP: {
    status: 'INTERNAL',
    hint: 'read the CRIU lines above; `cedana daemon check` tests the setup. The task was left running',
  },
  CEDANA_ERR_CONTAINERD_RESTORE: {
    status: 'INTERNAL',
    hint: 'read the CRIU lines above; the checkpoint is intact and the half-made container was removed, so the restore can be retried',
  },
} as const satisfies Record<`CEDANA_ERR_CONTAINERD_${string}`, ErrorSpec>;
