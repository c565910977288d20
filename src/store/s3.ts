/**
 * Blobs in S3 or an S3-compatible object store (MinIO, Ceph, Cloudflare R2, s3rver):
 * `s3://bucket/prefix` holds `<prefix>/<kind>/<ab>/<abcdef…>.<ext>`, the same layout as
 * the local store. Credentials and region come from the standard AWS sources
 * (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, `AWS_PROFILE`,
 * `AWS_REGION`, instance roles). Large blobs go up as multipart uploads; every request
 * is retried by the SDK's standard strategy (5xx, throttling, timeouts, dropped
 * connections). Writes are whole or absent: S3 shows an object only once its PUT or
 * its multipart upload completes.
 *
 * The AWS SDK is loaded on first use, so atlases on local disk never pay for it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { AtlasError, describeError } from '../errors.js';
import { checkInt } from '../validate.js';
import type { BlobKind, BlobStore } from './blobs.js';

export interface S3StoreOptions {
  /**
   * Endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`; path-style
   * addressing is used with it. Default: `$AWS_ENDPOINT_URL_S3`, `$AWS_ENDPOINT_URL`, else AWS itself.
   */
  endpoint?: string;
  /** Region. Default `$AWS_REGION`, `$AWS_DEFAULT_REGION`, the AWS config file, else 'us-east-1' with a custom endpoint. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`). Default: true with a custom endpoint, false for AWS. */
  forcePathStyle?: boolean;
  /** Attempts per request, SDK standard retry mode. Default 5; 1–20. */
  maxAttempts?: number;
  /** Blobs larger than this go up as multipart uploads of parts this size, bytes. Default 8 MiB; at least 5 MiB (S3's minimum part). */
  partSize?: number;
  /** Parts of one multipart upload sent at once. Default 4; 1–64. */
  queueSize?: number;
  /** Per-request socket timeout, ms. Default 60000. */
  requestTimeoutMs?: number;
  /** Explicit credentials. Default: the SDK's provider chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client (tests, custom middleware). Default: one built from the options above. */
  client?: S3Client;
}

/** `s3://bucket/some/prefix/` → { bucket: 'bucket', prefix: 'some/prefix' }. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)\/?([^?#]*)$/.exec(url.trim());
  // Bucket names: 3–63 lower-case letters, digits, dots and hyphens.
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) {
    throw new AtlasError('INVALID_ARGUMENT', `expected s3://bucket[/prefix] for --store but got '${url}'`, {
      value: url,
      suggestion: 'bucket names are 3–63 lower-case letters, digits, dots and hyphens',
    });
  }
  return { bucket: m[1], prefix: m[2].replace(/^\/+|\/+$/g, '') };
}

interface Sdk {
  client: S3Client;
  s3: typeof import('@aws-sdk/client-s3');
  Upload: typeof import('@aws-sdk/lib-storage').Upload;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

function suggestionFor(err: unknown): string | undefined {
  const name = (err as { name?: string })?.name ?? '';
  const msg = describeError(err);
  if (name === 'CredentialsProviderError' || /credential/i.test(msg)) {
    return 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for the S3 store';
  }
  if (/region/i.test(msg)) return 'set AWS_REGION for the S3 store';
  if (name === 'NoSuchBucket') return 'create the bucket first, or check the name in --store';
  if (name === 'AccessDenied' || name === 'Forbidden')
    return 'check the credentials have read and write access to the bucket';
  return undefined;
}

export class S3BlobStore implements BlobStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint?: string;
  private sdk?: Promise<Sdk>;
  /** Keys known to exist: a content-addressed key never changes, so one HEAD per key per process is enough. */
  private readonly known = new Set<string>();
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(
    url: string,
    private readonly options: S3StoreOptions = {},
  ) {
    const { bucket, prefix } = parseS3Url(url);
    this.bucket = bucket;
    this.prefix = prefix;
    this.url = `s3://${bucket}${prefix ? '/' + prefix : ''}`;
    this.endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    if (!(this.partSize >= 5 * 1024 * 1024)) {
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `expected a part size of at least 5 MiB but got ${this.partSize} bytes`,
      );
    }
    this.queueSize = options.queueSize ?? 4;
    const attempts = options.maxAttempts ?? 5;
    checkInt('S3 store attempts', attempts, 1, 20);
  }

  /** The object key of a blob. */
  key(kind: BlobKind, sha256: string, ext: string): string {
    const k = `${kind}/${sha256.slice(0, 2)}/${sha256}.${ext}`;
    return this.prefix ? `${this.prefix}/${k}` : k;
  }

  private load(): Promise<Sdk> {
    this.sdk ??= (async () => {
      const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
      const o = this.options;
      const custom = this.endpoint !== undefined;
      const client =
        o.client ??
        new s3.S3Client({
          endpoint: this.endpoint,
          region:
            o.region ??
            process.env.AWS_REGION ??
            process.env.AWS_DEFAULT_REGION ??
            (custom ? 'us-east-1' : undefined),
          forcePathStyle: o.forcePathStyle ?? custom,
          maxAttempts: o.maxAttempts ?? 5,
          retryMode: 'standard',
          credentials: o.credentials,
          requestHandler: { requestTimeout: o.requestTimeoutMs ?? 60_000, connectionTimeout: 10_000 },
          // S3-compatible servers often reject the newer default checksum headers; AWS does not need them.
          ...(custom
            ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
            : {}),
        });
      return { client, s3, Upload: storage.Upload };
    })();
    return this.sdk;
  }

  private fail(action: string, key: string, err: unknown): AtlasError {
    if (err instanceof AtlasError) return err;
    return new AtlasError('IO', `cannot ${action} s3://${this.bucket}/${key}: ${describeError(err)}`, {
      value: `s3://${this.bucket}/${key}`,
      suggestion: suggestionFor(err),
      cause: err,
    });
  }

  async has(kind: BlobKind, sha256: string, ext: string): Promise<boolean> {
    const key = this.key(kind, sha256, ext);
    if (this.known.has(key)) return true;
    const { client, s3 } = await this.load();
    try {
      await client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      this.known.add(key);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.fail('check', key, err);
    }
  }

  async put(kind: BlobKind, sha256: string, ext: string, data: Uint8Array): Promise<void> {
    const key = this.key(kind, sha256, ext);
    if (await this.has(kind, sha256, ext)) return;
    const { client, s3, Upload } = await this.load();
    const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      if (body.length <= this.partSize) {
        await client.send(
          new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }),
        );
      } else {
        // Parts are retried one by one by the client; a part that keeps failing aborts the whole upload.
        const upload = new Upload({
          client,
          params: { Bucket: this.bucket, Key: key, Body: body },
          partSize: this.partSize,
          queueSize: this.queueSize,
          leavePartsOnError: false,
        });
        await upload.done();
      }
    } catch (err) {
      throw this.fail('write', key, err);
    }
    this.known.add(key);
  }

  async get(kind: BlobKind, sha256: string, ext: string): Promise<Buffer> {
    const key = this.key(kind, sha256, ext);
    const { client, s3 } = await this.load();
    try {
      const res = await client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!res.Body) throw new Error('empty response');
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isNotFound(err)) {
        throw new AtlasError('NOT_FOUND', `s3://${this.bucket}/${key} is missing from the store`, {
          value: `s3://${this.bucket}/${key}`,
        });
      }
      throw this.fail('read', key, err);
    }
  }

  /** Closes the client's connections (a process exits sooner). */
  async close(): Promise<void> {
    if (!this.sdk) return;
    (await this.sdk).client.destroy();
  }
}
