/** `cedana daemon start` (foreground, until SIGINT/SIGTERM) and `cedana daemon check` (health checks). */
import type { HealthCheckResp } from '@cedana/core/proto';
import type { Argv, CommandModule } from 'yargs';
import { EXIT } from '../exit-codes.js';
import { action, type GlobalArgs, type Session } from '../session.js';

export function renderHealth(resp: HealthCheckResp): string {
  const lines: string[] = [];
  for (const c of resp.components) {
    const mark = c.errors.length > 0 ? '✖' : c.warnings.length > 0 ? '!' : '✔';
    lines.push(`${mark} ${c.name}${c.source && c.source !== 'core' ? ` (plugin ${c.source})` : ''}`);
    const keys = Object.keys(c.data).sort();
    const width = Math.max(0, ...keys.map((k) => k.length));
    for (const k of keys) lines.push(`    ${`${k}:`.padEnd(width + 1)} ${c.data[k]}`);
    for (const w of c.warnings) lines.push(`    warning: ${w.message}`, ...(w.fix ? [`      fix: ${w.fix}`] : []));
    for (const e of c.errors) lines.push(`    error: ${e.message}`, ...(e.fix ? [`      fix: ${e.fix}`] : []));
  }
  const errors = resp.components.reduce((n, c) => n + c.errors.length, 0);
  const warnings = resp.components.reduce((n, c) => n + c.warnings.length, 0);
  lines.push(
    '',
    errors === 0
      ? `all good (${warnings} warning${warnings === 1 ? '' : 's'})`
      : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}

export function daemonCommand(session: Session): CommandModule {
  return {
    command: 'daemon',
    describe: 'Start the daemon, or check its setup',
    builder: (y: Argv) =>
      y
        .command({
          command: 'start',
          describe: 'Start the daemon in the foreground (Ctrl+C or SIGTERM stops it)',
          builder: (s: Argv) =>
            s
              .option('insecure', {
                type: 'boolean',
                describe: 'listen on TCP without auth_token: anyone who reaches the port acts as root (logs a warning)',
              })
              .option('tls-cert', { type: 'string', describe: 'serve TLS on TCP with this PEM certificate (chain); needs --tls-key' })
              .option('tls-key', {
                type: 'string',
                describe: 'the PEM private key of --tls-cert (mode 0600: a key others can read is refused)',
              })
              .example('$0 daemon start', 'as root: serve on /run/cedana.sock')
              .example(
                'CEDANA_AUTH_TOKEN=$(openssl rand -hex 32) $0 daemon start --protocol tcp --address 127.0.0.1:8080',
                'serve on TCP; clients pass the same CEDANA_AUTH_TOKEN',
              )
              .example(
                '$0 daemon start --protocol tcp --address 0.0.0.0:8080 --tls-cert /etc/cedana/tls.pem --tls-key /etc/cedana/tls.key',
                'serve TLS on TCP (token still required); clients add --tls, or --tls-ca CA.pem',
              ),
          handler: action<GlobalArgs & { insecure?: boolean }>(session, async (argv) => {
            const config = session.config(argv);
            const handle = await session.deps.startDaemon(argv.insecure ? Object.freeze({ ...config, insecure: true }) : config);
            const signal = await new Promise<string>((resolve) => {
              const offs: (() => void)[] = [];
              const stop = (sig: string) => {
                for (const off of offs) off();
                resolve(sig);
              };
              for (const sig of ['SIGINT', 'SIGTERM'] as const) offs.push(session.deps.onSignal(sig, () => stop(sig)));
            });
            session.err(`${signal}: stopping the daemon`);
            await handle.stop();
          }),
        })
        .command({
          command: 'check',
          describe: 'Run the health checks of the daemon and its plugins',
          builder: (c: Argv) => c.option('json', { type: 'boolean', describe: 'print JSON' }),
          handler: action<GlobalArgs & { json?: boolean }>(session, async (argv) => {
            const resp = await (await session.client(argv)).healthCheck({});
            if (argv.json) session.json(resp);
            else session.out(renderHealth(resp));
            if (resp.components.some((c) => c.errors.length > 0)) session.exitCode = EXIT.FAILED;
          }),
        })
        .demandCommand(1, 'name a daemon command: start or check'),
    handler: () => {},
  };
}
