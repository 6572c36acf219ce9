/**
 * S3 side of a load: object identity (HeadObject), reads pinned to the
 * version seen first, manifests (docs/db-from-s3.md §7), and the end-of-load check that
 * the object was not replaced meanwhile.
 */

import type { S3Client } from "@aws-sdk/client-s3";
import { LavaError, ObjectChangedError } from "../../shared/errors";
import { headObject, openObject, type SourceObject, s3Url } from "../../shared/s3-objects";

/** The load's error for an object deleted or replaced (`now`) since it was first seen. */
function changedError(obj: SourceObject, now: SourceObject | undefined): ObjectChangedError {
  const url = s3Url(obj.bucket, obj.key);
  return new ObjectChangedError(
    now
      ? `${url} was replaced during the load (ETag ${obj.etag} → ${now.etag}); nothing loaded`
      : `${url} was deleted during the load; nothing loaded`,
  );
}

/** Fail if the object now differs from what was loaded (checked before commit). */
export async function checkUnchanged(
  s3: S3Client,
  obj: SourceObject,
  changed: (now: SourceObject | undefined) => Error = (now) => changedError(obj, now),
): Promise<void> {
  const now = await headObject(s3, obj.bucket, obj.key);
  if (!now || now.identity !== obj.identity) throw changed(now);
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
