/**
 * A real S3-compatible server for tests: s3rver, in-process on 127.0.0.1, its objects in a
 * temp folder. It speaks the S3 wire protocol (multipart, ranged GETs, ListObjectsV2) and
 * checks signatures against its one account (S3RVER / S3RVER); clients need path style.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export const S3_KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export class TestS3 {
  private server: S3rver | undefined;

  private constructor(
    readonly dir: string,
    public port: number,
  ) {}

  static async start(buckets: string[]): Promise<TestS3> {
    const dir = await mkdtemp('/tmp/cedana-s3-');
    const s = new TestS3(dir, 0);
    await s.run(buckets);
    return s;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The daemon's environment for this server. */
  get env(): NodeJS.ProcessEnv {
    return { ...S3_KEYS, CEDANA_STORAGE_S3_ENDPOINT: this.endpoint };
  }

  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  }

  /** Starts (again, on the same port and folder after stop()). */
  async run(buckets: string[] = []): Promise<void> {
    this.server = new S3rver({
      port: this.port,
      address: '127.0.0.1',
      silent: true,
      directory: this.dir,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    const address = (await this.server.run()) as AddressInfo;
    this.port = address.port;
  }

  /** Stops serving: open connections are cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
    const closing = server.close();
    http?.closeAllConnections?.();
    await closing;
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
