/**
 * A real npm registry on loopback for the plugin tests: Verdaccio, in this process,
 * with its storage in a temp folder and no uplink (nothing is fetched from outside:
 * what a test installs, it published here first). Packages go in with `npm publish`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runServer } from 'verdaccio';

const run = promisify(execFile);

export class TestRegistry {
  private constructor(
    readonly url: string,
    private readonly dir: string,
    private readonly server: Server,
  ) {}

  static async start(): Promise<TestRegistry> {
    const dir = await mkdtemp(join(tmpdir(), 'cedana-registry-'));
    const app = await runServer({
      self_path: dir,
      storage: join(dir, 'storage'),
      uplinks: {},
      packages: { '**': { access: '$all', publish: '$all', unpublish: '$all' } },
      log: { type: 'stdout', format: 'pretty', level: 'error' },
      auth: {},
      security: { api: { legacy: true } },
      server: { keepAliveTimeout: 0 },
    } as never);
    const server = await new Promise<Server>((resolve) => {
      const s = (app as { listen(port: number, host: string, cb: () => void): Server }).listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    // Verdaccio lets anyone publish, but npm will not publish without a token.
    await writeFile(join(dir, 'npmrc'), `//127.0.0.1:${port}/:_authToken=test\n`);
    return new TestRegistry(url, dir, server);
  }

  /** `npm publish` of a .tgz or a package folder; `tag` for a version below the `latest` one. */
  async publish(tarballOrFolder: string, tag?: string): Promise<void> {
    const args = ['publish', tarballOrFolder, '--registry', this.url, '--userconfig', join(this.dir, 'npmrc'), '--ignore-scripts'];
    await run('npm', tag ? [...args, '--tag', tag] : args, {
      env: { ...process.env, npm_config_update_notifier: 'false' },
    }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`npm publish ${tarballOrFolder} failed: ${err.stderr ?? err.message}`);
    });
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP server on loopback that accepts connections and never answers: a registry that hangs. */
export async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A loopback port nothing listens on: a registry that is down. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}
