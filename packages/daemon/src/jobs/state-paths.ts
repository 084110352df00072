/** The daemon's folders beside its database (db.path), derived in one place. */
import type { Config } from '@cedana/core';

/** Exit statuses that restore shims and I/O holders leave for a daemon that restarted. */
export function exitDir(config: Config): string {
  return `${config['db.path']}-exits`;
}

/** The sockets of attachable jobs' I/O holders (0700). */
export function ioDir(config: Config): string {
  return `${config['db.path']}-io`;
}
