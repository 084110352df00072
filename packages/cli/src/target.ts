/** The gRPC target of the configured daemon address, as errors name it: `unix:///run/cedana.sock`, or host:port. */
import { resolve } from 'node:path';
import type { Config } from '@cedana/core';

export function targetOf(config: Config): string {
  if (config.protocol === 'unix') return `unix://${resolve(config.address)}`;
  return config.address;
}
