/** The error codes of the streamer plugin only (definePlugin's `errors`); rows in docs/errors.md, streamer section. */
import type { ErrorSpec } from '@cedana/plugin-sdk';

export const STREAMER_ERRORS = {
  CEDANA_ERR_STREAMER_UNAVAILABLE: {
    status: 'FAILED_PRECONDITION',
    hint: "the streamer builds a small native helper with a C compiler and Node's headers on first use: install them (Debian: apt-get install gcc libnode-dev), or dump with --streams 0",
  },
  CEDANA_ERR_STREAMER_FAILED: {
    status: 'INTERNAL',
    hint: 'the streamer failed or died while CRIU streamed the images; the job was left as it was and no checkpoint was recorded: see the message, then retry',
  },
} as const satisfies Record<`CEDANA_ERR_STREAMER_${string}`, ErrorSpec>;
