/** The flags every command takes (`--address`, ...), as yargs options; GlobalArgs (session.ts) is what they parse into. */
import { CONFIG_KEYS } from '@cedana/core';

export const GLOBAL_OPTIONS = {
  config: { type: 'string', describe: 'config file (default: ~/.cedana/config.json)' },
  address: { type: 'string', describe: 'daemon address: socket path, or host:port with --protocol tcp' },
  protocol: { type: 'string', choices: CONFIG_KEYS.protocol.values, describe: 'how to reach the daemon' },
  'log-level': { type: 'string', choices: CONFIG_KEYS.log_level.values, describe: 'daemon log level' },
  profiling: { type: 'boolean', describe: 'print the time of each step of the request' },
  tls: {
    type: 'boolean',
    describe: "connect to a TCP daemon over TLS, checking its certificate against the system's CAs (or the tls-ca file)",
  },
  'tls-ca': {
    type: 'string',
    describe: "CA certificate (PEM) that signed the TCP daemon's certificate, trusted instead of the system's CAs (turns TLS on)",
  },
  'tls-server-name': { type: 'string', describe: "the name to expect in the daemon's certificate (default: the host of the address)" },
} as const;

/** The global flags that take a value, as written on the command line. */
export const GLOBAL_VALUE_FLAGS: readonly string[] = Object.entries(GLOBAL_OPTIONS)
  .filter(([, spec]) => spec.type !== 'boolean')
  .map(([name]) => `--${name}`);
