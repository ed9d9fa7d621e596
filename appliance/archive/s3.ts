// The S3 side of archiving and backups (ARC-1, ARC-4): any S3-compatible endpoint (R2, AWS, MinIO).
// Checksums only when required: R2 and s3rver store streamed uploads corrupted otherwise
// (ARCHITECTURE, measured facts). Uploads stream through lib-storage (multipart above 5 MB).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageSettings, StorageTestResult } from '../contract/storage.ts';
import { ErrorCodes } from '../core/errors.ts';
import { missingFields } from './settings.ts';

/** The S3 minimum part size: the least memory held per part in flight. */
export const PART_SIZE = 5 * 1024 * 1024;

/**
 * Every S3 request is bounded, so a lost response fails the run instead of hanging it. The SDK's
 * `requestTimeout` alone only logs a warning (unless `throwOnRequestTimeout`), and without a
 * `socketTimeout` a request whose body was accepted but never answered waits forever.
 */
export interface S3Timeouts {
  /** TCP (and TLS) connect. */
  connectMs: number;
  /** No byte sent or received on the socket for this long fails the request (a lost response). */
  idleMs: number;
  /** Whole request until the response starts, body included: a 5 MB part needs ≥ 17 KB/s. */
  requestMs: number;
  /** Tries per request (the SDK retries timeouts and 5xx with backoff). */
  attempts: number;
}
export const S3_TIMEOUTS: S3Timeouts = { connectMs: 10_000, idleMs: 60_000, requestMs: 300_000, attempts: 3 };

/**
 * The AWS SDK is loaded at the first request, not at start: it is the largest part of the bundle
 * (a third of the appliance's start time and tens of MB of heap, PKG-1) and many boxes never
 * configure storage.
 */
let sdkLoading: Promise<[typeof import('@aws-sdk/client-s3'), typeof import('@aws-sdk/lib-storage')]> | null = null;
const loadSdk = () => (sdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]));

export function createS3(settings: StorageSettings, timeouts: Partial<S3Timeouts> = {}) {
  const limits = { ...S3_TIMEOUTS, ...timeouts };
  let client: S3Client | null = null;
  let sdk: Awaited<ReturnType<typeof loadSdk>> | null = null;
  async function connect() {
    sdk ??= await loadSdk();
    client ??= new sdk[0].S3Client({
      endpoint: settings.endpoint || undefined,
      region: settings.region || 'auto',
      forcePathStyle: settings.force_path_style,
      credentials: { accessKeyId: settings.access_key_id, secretAccessKey: settings.secret_access_key ?? '' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: limits.attempts,
      requestHandler: {
        connectionTimeout: limits.connectMs,
        socketTimeout: limits.idleMs,
        requestTimeout: limits.requestMs,
        throwOnRequestTimeout: true,
      },
    });
    return { client, commands: sdk[0], Upload: sdk[1].Upload };
  }
  const Bucket = settings.bucket;
  const fullKey = (key: string) => `${settings.prefix}${key}`;

  return {
    fullKey,
    /** Streams `body` to the bucket; aborting `signal` stops it; `onPart` hears each stored part. */
    async upload(key: string, body: Readable, options: { contentType: string; metadata?: Record<string, string>; signal?: AbortSignal; onPart?: () => void }) {
      const { client, commands, Upload } = await connect();
      const upload = new Upload({
        client,
        params: { Bucket, Key: fullKey(key), Body: body, ContentType: options.contentType, Metadata: options.metadata },
        partSize: PART_SIZE,
        queueSize: 2,
        // The clean-up is ours (below): lib-storage's would replace the upload's error with the
        // clean-up's own (e.g. a part's timeout reported as the endpoint's 405 for the abort).
        leavePartsOnError: true,
      });
      if (options.onPart) upload.on('httpUploadProgress', options.onPart);
      const onAbort = () => void upload.abort().catch(() => {});
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } catch (err) {
        // The stored parts of a failed multipart upload are removed, best effort; the error that
        // failed the upload is the one reported.
        const { uploadId } = upload;
        if (uploadId) await client.send(new commands.AbortMultipartUploadCommand({ Bucket, Key: fullKey(key), UploadId: uploadId })).catch(() => {});
        throw err;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    },
    /** Size and metadata, or null when the object does not exist. */
    async head(key: string): Promise<{ bytes: number; metadata: Record<string, string> } | null> {
      const { client, commands } = await connect();
      try {
        const head = await client.send(new commands.HeadObjectCommand({ Bucket, Key: fullKey(key) }));
        return { bytes: head.ContentLength ?? -1, metadata: head.Metadata ?? {} };
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return null;
        throw err;
      }
    },
    async get(key: string): Promise<Readable> {
      const { client, commands } = await connect();
      const object = await client.send(new commands.GetObjectCommand({ Bucket, Key: fullKey(key) }));
      return object.Body as Readable;
    },
    /** Reads the object back and hashes it: the end-to-end check of ARC-2. */
    async sha256(key: string): Promise<{ sha256: string; bytes: number }> {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of await this.get(key)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      return { sha256: hash.digest('hex'), bytes };
    },
    async put(key: string, body: string) {
      const { client, commands } = await connect();
      await client.send(new commands.PutObjectCommand({ Bucket, Key: fullKey(key), Body: body, ContentType: 'text/plain' }));
    },
    async delete(key: string) {
      const { client, commands } = await connect();
      await client.send(new commands.DeleteObjectCommand({ Bucket, Key: fullKey(key) }));
    },
    /** Keys under a prefix (one page: enough for listing what the log does not know). */
    async list(prefix: string): Promise<{ key: string; bytes: number }[]> {
      const { client, commands } = await connect();
      const page = await client.send(new commands.ListObjectsV2Command({ Bucket, Prefix: fullKey(prefix), MaxKeys: 1000 }));
      return (page.Contents ?? []).map((o) => ({ key: (o.Key ?? '').slice(settings.prefix.length), bytes: o.Size ?? 0 }));
    },
    destroy: () => client?.destroy(),
  };
}
export type S3 = ReturnType<typeof createS3>;

/** A short, non-leaking description of an S3 failure for logs, archive_log and the API. */
export function describeS3Error(err: unknown): string {
  const e = err as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? e.code ?? e.name;
  return [code, status ? `HTTP ${status}` : '', e.message].filter(Boolean).join(': ').slice(0, 500);
}

/** ARC-1 "test connection": writes, reads back and deletes a small object; 60001 when any step fails. */
export async function testConnection(settings: StorageSettings, now: () => number = Date.now): Promise<StorageTestResult> {
  const started = now();
  const failed = (step: StorageTestResult['step'], message: string): StorageTestResult => ({
    ok: false, code: ErrorCodes.ARCHIVE_CONFIG_INVALID.code, step, message, duration_ms: now() - started,
  });
  const missing = missingFields(settings);
  if (missing.length) return failed('config', `storage settings incomplete: ${missing.join('; ')}`);
  const s3 = createS3(settings);
  const key = `.mcs-edge-test/${started}-${Math.random().toString(36).slice(2)}.txt`;
  const body = `mcs-edge connection test ${new Date(started).toISOString()}`;
  let step: StorageTestResult['step'] = 'write';
  try {
    await s3.put(key, body);
    step = 'read';
    const back = Buffer.concat(await (await s3.get(key)).toArray()).toString('utf8');
    if (back !== body) return failed('read', 'the object read back differs from what was written');
    step = 'delete';
    await s3.delete(key);
    return { ok: true, message: `wrote, read and deleted ${s3.fullKey(key)} in bucket ${settings.bucket}`, duration_ms: now() - started };
  } catch (err) {
    return failed(step, `${step} failed: ${describeS3Error(err)}`);
  } finally {
    s3.destroy();
  }
}
