/**
 * The AWS SDK's failures as Cedana's storage errors: each says what was asked, what the
 * storage answered and what to do. `during` tells a failure before anything was moved
 * (the endpoint never answered: UNREACHABLE) from one in the middle (INTERRUPTED).
 */
import { CedanaError, isCedanaError } from '@cedana/plugin-sdk';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const CREDENTIAL_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** `what`: the action and object, e.g. "uploading s3://b/k". `transfer`: bytes had started to move. */
export function storageError(err: unknown, what: string, opts: { endpoint: string; transfer?: boolean }): CedanaError {
  if (isCedanaError(err)) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const said = `${name || 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  const bucket = /^s3:\/\/([^/]+)/.exec(what.split(' ').at(-1) ?? '')?.[1] ?? 'BUCKET';
  if (name === 'NoSuchBucket') {
    return new CedanaError('CEDANA_ERR_STORAGE_BUCKET_MISSING', `${what} failed: the bucket ${bucket} does not exist at ${opts.endpoint}`, {
      hint: `create it (\`aws s3 mb s3://${bucket}\`, or \`mc mb ALIAS/${bucket}\` for MinIO), or set storage.s3.create_bucket to true`,
      cause: err,
    });
  }
  if (CREDENTIAL_NAMES.has(name)) {
    return new CedanaError('CEDANA_ERR_STORAGE_CREDENTIALS', `${what} failed: ${opts.endpoint} refused the credentials (${said})`, {
      cause: err,
    });
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403) {
    return new CedanaError('CEDANA_ERR_STORAGE_DENIED', `${what} failed: access denied by ${opts.endpoint} (${said})`, { cause: err });
  }
  if (isNetworkError(e)) {
    const code = opts.transfer ? 'CEDANA_ERR_STORAGE_INTERRUPTED' : 'CEDANA_ERR_STORAGE_UNREACHABLE';
    const how = opts.transfer ? `lost the connection to ${opts.endpoint}` : `cannot reach ${opts.endpoint}`;
    return new CedanaError(code, `${what} failed: ${how} (${networkCode(e) ?? said})`, { cause: err });
  }
  return new CedanaError('CEDANA_ERR_STORAGE_INTERRUPTED', `${what} failed: ${opts.endpoint} answered ${said}`, { cause: err });
}

/** Whether an object or bucket is missing (HeadObject answers a bare 404). */
export function isNotFound(err: unknown): boolean {
  const e = (err ?? {}) as SdkError;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function isNetworkError(e: SdkError): boolean {
  return networkCode(e) !== undefined || e.name === 'TimeoutError' || e.name === 'AbortError' || e.name === 'RequestTimeout';
}

function networkCode(e: SdkError): string | undefined {
  for (let cur: SdkError | undefined = e, depth = 0; cur && depth < 4; cur = cur.cause as SdkError | undefined, depth++) {
    if (cur.code && NETWORK_CODES.has(cur.code)) return cur.code;
    const errors = (cur as { errors?: SdkError[] }).errors;
    const inner = errors?.find((x) => x.code && NETWORK_CODES.has(x.code));
    if (inner?.code) return inner.code;
  }
  return undefined;
}
