import type { Config, Logger } from '@cedana/core';
import { pino } from 'pino';

/** The daemon's logger: JSON lines on stdout (pino), at `log_level`. */
export function createLogger(config: Config): Logger {
  return pino({ level: config.log_level, base: { pid: process.pid } }) as unknown as Logger;
}
