/**
 * S3 side of a load: object identity (HeadObject), reads pinned to the
 * version seen first, manifests (SPEC §5.4), and the end-of-load check that
 * the object was not replaced meanwhile.
 */

import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  isTransient,
  LavaError,
  ObjectChangedError,
  ObjectMissingError,
} from "../../shared/errors";
import type { LedgerObject } from "./ledger";

/** An S3 object as seen at the start of the run. */
export interface SourceObject extends LedgerObject {
  readonly contentEncoding: string | undefined;
}

/** `s3://bucket/key`. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

function s3Error(what: string, err: unknown): LavaError {
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

/** Open the object for reading, pinned to the version (or ETag) seen by `headObject`. */
export async function openObject(s3: S3Client, obj: SourceObject): Promise<Readable> {
  try {
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: obj.bucket,
        Key: obj.key,
        ...(obj.versionId ? { VersionId: obj.versionId } : { IfMatch: obj.etag }),
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

/** Fail if the object now differs from what was loaded (checked before commit). */
export async function checkUnchanged(s3: S3Client, obj: SourceObject): Promise<void> {
  const now = await headObject(s3, obj.bucket, obj.key);
  if (!now)
    throw new ObjectChangedError(
      `${s3Url(obj.bucket, obj.key)} was deleted during the load; nothing loaded`,
    );
  if (now.identity !== obj.identity) {
    throw new ObjectChangedError(
      `${s3Url(obj.bucket, obj.key)} was replaced during the load (ETag ${obj.etag} → ${now.etag}); nothing loaded`,
    );
  }
}

/** Largest manifest read (they list URLs; a bigger one is not a manifest). */
const MAX_MANIFEST_BYTES = 10 * 1024 * 1024;

export interface ManifestEntry {
  readonly bucket: string;
  readonly key: string;
  readonly mandatory: boolean;
}

/** Parse a Redshift-style manifest: `{"entries":[{"url":"s3://b/k","mandatory":true}]}`. */
export function parseManifest(text: string, where: string): ManifestEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LavaError(`${where}: manifest is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const entries = (doc as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new LavaError(`${where}: manifest has no "entries" list`);
  return entries.map((e, i) => {
    const url = (e as { url?: unknown })?.url;
    const m = typeof url === "string" ? /^s3:\/\/([^/]+)\/(.+)$/.exec(url) : null;
    if (!m?.[1] || !m[2])
      throw new LavaError(
        `${where}: entries[${i}].url: expected s3://bucket/key, got ${JSON.stringify(url)}`,
      );
    const mandatory = (e as { mandatory?: unknown }).mandatory;
    if (mandatory !== undefined && typeof mandatory !== "boolean") {
      throw new LavaError(`${where}: entries[${i}].mandatory: expected true or false`);
    }
    // Lava loads every entry: only an explicit `"mandatory": false` may be missing.
    return { bucket: m[1], key: m[2], mandatory: mandatory !== false };
  });
}

/** Read and parse a manifest object (pinned like any other read). */
export async function readManifest(s3: S3Client, obj: SourceObject): Promise<ManifestEntry[]> {
  const where = s3Url(obj.bucket, obj.key);
  if (obj.size > MAX_MANIFEST_BYTES)
    throw new LavaError(`${where}: ${obj.size} bytes is too big for a manifest`);
  const chunks: Buffer[] = [];
  for await (const chunk of await openObject(s3, obj)) chunks.push(chunk as Buffer);
  return parseManifest(Buffer.concat(chunks).toString("utf8"), where);
}
