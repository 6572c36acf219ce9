/**
 * S3 helpers every job type and the stack share: `s3://` locations and URLs,
 * an object's identity (HeadObject), and reads pinned to the version seen first.
 */
import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isTransient, LavaError, ObjectChangedError, ObjectMissingError } from "./errors";

/** `s3://bucket[/prefix]`: bucket (DNS-style name) and optional key prefix. */
export const S3_LOCATION = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** An S3 object as seen at the start of a run (HeadObject). */
export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  /** Version id where the bucket is versioned, else ETag + Last-Modified ({@link objectIdentity}). */
  readonly identity: string;
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  readonly lastModified: Date;
  readonly size: number;
  readonly contentEncoding: string | undefined;
}

/** `s3://bucket/prefix` → bucket and key prefix (no trailing slash). */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const m = S3_LOCATION.exec(location);
  if (!m?.[1]) throw new LavaError(`not an S3 location: ${location}`);
  return { bucket: m[1], prefix: (m[2] ?? "").replace(/\/+$/, "") };
}

/** Whether `s3://bucket/key` lies under an `s3://bucket[/prefix]` location (the prefix as a folder). */
export function isUnderLocation(location: string, bucket: string, key: string): boolean {
  const loc = parseS3Location(location);
  return bucket === loc.bucket && (loc.prefix === "" || key.startsWith(`${loc.prefix}/`));
}

/** `s3://bucket/key`. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

export function s3Error(what: string, err: unknown): LavaError {
  const name = (err as Error).name ?? "Error";
  return new LavaError(`${what}: ${name}: ${(err as Error).message}`, {
    cause: err,
    retryable: isTransient(err),
  });
}

/**
 * The object's identity: its version id where the bucket is versioned, else
 * ETag + Last-Modified (a duplicate event has the same; a re-upload a new one).
 */
export function objectIdentity(
  etag: string | undefined,
  lastModified: Date,
  versionId: string | undefined,
): string {
  if (versionId && versionId !== "null") return `version:${versionId}`;
  return `etag:${etag ?? ""}@${lastModified.toISOString()}`;
}

/** HeadObject; `undefined` when the object does not exist. */
export async function headObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const lastModified = out.LastModified ?? new Date(0);
    const versionId = out.VersionId && out.VersionId !== "null" ? out.VersionId : undefined;
    return {
      bucket,
      key,
      etag: out.ETag,
      versionId,
      lastModified,
      size: out.ContentLength ?? 0,
      identity: objectIdentity(out.ETag, lastModified, versionId),
      contentEncoding: out.ContentEncoding,
    };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw s3Error(`cannot read ${s3Url(bucket, key)}`, err);
  }
}

/**
 * Open the object for reading, pinned to the version (or ETag) seen by `headObject`.
 *
 * @param range an HTTP range like `bytes=0-65535`: read only those bytes
 */
export async function openObject(
  s3: S3Client,
  obj: SourceObject,
  range?: string,
): Promise<Readable> {
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: obj.bucket,
        Key: obj.key,
        ...(obj.versionId ? { VersionId: obj.versionId } : { IfMatch: obj.etag }),
        ...(range ? { Range: range } : {}),
      }),
    );
    return out.Body as Readable;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412) {
      throw new ObjectChangedError(
        `${s3Url(obj.bucket, obj.key)} was replaced during the load (before it was read); nothing loaded`,
        {
          cause: err,
        },
      );
    }
    if (isNotFound(err))
      throw new ObjectMissingError(`${s3Url(obj.bucket, obj.key)} disappeared during the load`, {
        cause: err,
      });
    throw s3Error(`cannot read ${s3Url(obj.bucket, obj.key)}`, err);
  }
}
