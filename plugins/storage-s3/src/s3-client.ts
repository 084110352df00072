/**
 * The S3Client of a daemon's config: endpoint, region and path style from the
 * `storage.s3.*` keys, falling back on the SDK's standard chain (AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles), so
 * AWS S3, MinIO, Ceph RGW and R2 differ only in config. Path style is on by default
 * whenever an endpoint is set: MinIO and most self-hosted servers need it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '@cedana/plugin-sdk';

export interface S3Settings {
  client: S3Client;
  /** Named in errors: the endpoint set, or "AWS S3". */
  endpoint: string;
  partSize: number;
  queue: number;
  createBucket: boolean;
}

/**
 * A part's or object's body is not hashed into the request's signature (the SDK does for a
 * Buffer body: one more sha256 pass over every byte). The headers still are; the bytes
 * are checked by the checkpoint's digests on restore, and by TLS on the way for https.
 */
function unsignedBodies(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (BODY_COMMANDS.has(context.commandName ?? '') && request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'cedanaUnsignedBodies' },
  );
}
const BODY_COMMANDS = new Set(['UploadPartCommand', 'PutObjectCommand']);

export function s3Settings(config: Config): S3Settings {
  const endpoint = config['storage.s3.endpoint'] || process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || '';
  const pathStyle = config['storage.s3.force_path_style'];
  const region = config['storage.s3.region'] || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
  const client = new S3Client({
    region,
    ...(config['storage.s3.endpoint'] && { endpoint: config['storage.s3.endpoint'] }),
    forcePathStyle: pathStyle === 'auto' ? endpoint !== '' : pathStyle === 'true',
    maxAttempts: 3,
    // No CRC32 of every part up and down (the SDK's default): a checkpoint's files carry their
    // own sha256 digests, checked on restore, and the CPU goes to the dump instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  unsignedBodies(client);
  return {
    client,
    endpoint: endpoint || `AWS S3 (${region})`,
    partSize: config['storage.s3.part_size_mib'] * (1 << 20),
    queue: config['storage.s3.queue'],
    createBucket: config['storage.s3.create_bucket'],
  };
}
