/** The gRPC server on a unix socket (mode 0600) or TCP, plain or TLS (`tls`: serverTlsOf's certificate and key). */
import { chmod, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { CedanaError, type Config, type ServerTls } from '@cedana/core';
import { type DaemonServer, DaemonService } from '@cedana/core/proto';
import { Server, ServerCredentials } from '@grpc/grpc-js';

export async function listen(config: Config, service: DaemonServer, tls?: ServerTls): Promise<Server> {
  const server = new Server({ 'grpc.max_receive_message_length': 64 << 20 });
  server.addService(DaemonService, service);
  const unix = config.protocol === 'unix';
  if (unix) await removeStaleSocket(config.address);
  const target = unix ? `unix://${config.address}` : config.address;
  const creds = tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
    : ServerCredentials.createInsecure();
  await new Promise<number>((resolve, reject) => server.bindAsync(target, creds, (err, port) => (err ? reject(err) : resolve(port)))).catch(
    (err: Error) => {
      throw new CedanaError('CEDANA_ERR_CONFIG_VALUE', `cannot listen on ${target}: ${err.message}`, {
        hint: 'check `address` (CEDANA_ADDRESS): is the folder there, or the port taken?',
      });
    },
  );
  if (unix) await chmod(config.address, 0o600);
  return server;
}

/** A socket file left by a daemon that died is removed; a live daemon on it is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive)
    throw new CedanaError('CEDANA_ERR_CONFIG_VALUE', `another daemon is already listening on ${path}`, {
      hint: 'stop it first, or start this one with another --address',
    });
  await unlink(path).catch(() => {});
}

export function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
