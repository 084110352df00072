/**
 * `s3://BUCKET/KEY`: the one way checkpoint URLs of this plugin are read and written.
 * Bucket names follow S3's rules (3-63 characters of a-z, 0-9, '.', '-'); a key never
 * holds an empty, '.' or '..' component, so a checkpoint's objects stay under its prefix.
 */
import { CedanaError } from '@cedana/plugin-sdk';

export const SCHEME = 's3';

export interface S3Location {
  bucket: string;
  /** The object key or prefix, without a leading or trailing '/'. */
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(url);
  const bucket = match?.[1] ?? '';
  const key = (match?.[2] ?? '').replace(/\/+$/, '');
  if (!match || !BUCKET.test(bucket)) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `${JSON.stringify(url)} is not an s3:// URL with a valid bucket name`, {
      hint: 'write s3://BUCKET/PREFIX; a bucket name is 3-63 characters of a-z, 0-9, "." and "-"',
    });
  }
  if (key !== '' && key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new CedanaError('CEDANA_ERR_INVALID_ARGUMENT', `${url} has an empty, "." or ".." part in its key`, {
      hint: 'write the prefix as plain names separated by single "/"',
    });
  }
  return { bucket, key };
}

export function s3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}
