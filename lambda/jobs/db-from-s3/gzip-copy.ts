/**
 * Aurora's `aws_s3` only decompresses objects whose Content-Encoding is gzip.
 * Lava rewrites the source object in place to set it, which fires the
 * bucket's trigger again; we never touch the source: the object is copied
 * server-side into the realm's temporary location with the header set, the
 * copy is imported, and deleted whatever happens.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { isTransient, LavaError, ObjectChangedError } from "../../shared/errors";
import { headObject, type SourceObject, s3Url } from "../../shared/s3-objects";
import { checkUnchanged } from "./s3-objects";

/** CopyObject's limit; bigger objects are copied in parts. */
export const SINGLE_COPY_MAX = 5 * 1024 ** 3;
/** Part size for multipart copies (S3 allows 5 MiB – 5 GiB; 10,000 parts at most). */
export const COPY_PART_SIZE = 1024 ** 3;

/** A temporary, gzip-encoded copy of an object, and how to remove it. */
export interface TempCopy {
  /** The copy, pinned to the ETag S3 gave it when it was made. */
  readonly object: SourceObject;
  /** Fail unless the copy is still the one made (s3_temp is writable by others); call before commit. */
  check(): Promise<void>;
  remove(): Promise<void>;
}

function serverCopyError(obj: SourceObject, err: unknown): LavaError {
  const name = (err as Error).name ?? "Error";
  return new LavaError(
    `cannot copy ${s3Url(obj.bucket, obj.key)} for a gzip import: ${name}: ${(err as Error).message}`,
    {
      cause: err,
      retryable: isTransient(err),
    },
  );
}

async function multipartCopy(
  s3: S3Client,
  source: SourceObject,
  target: { Bucket: string; Key: string },
  copySource: string,
): Promise<string | undefined> {
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      ...target,
      ContentEncoding: "gzip",
      ContentType: "application/octet-stream",
    }),
  );
  try {
    const parts = [];
    for (let start = 0, n = 1; start < source.size; start += COPY_PART_SIZE, n++) {
      const end = Math.min(start + COPY_PART_SIZE, source.size) - 1;
      const out = await s3.send(
        new UploadPartCopyCommand({
          ...target,
          UploadId,
          PartNumber: n,
          CopySource: copySource,
          CopySourceRange: `bytes=${start}-${end}`,
          ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
        }),
      );
      parts.push({ PartNumber: n, ETag: out.CopyPartResult?.ETag });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        ...target,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return done.ETag;
  } catch (err) {
    await s3.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
    throw err;
  }
}

/**
 * Copy `source` (pinned to the version or ETag seen first) to
 * `<temp>/<jobId>/<runId>/<n>-<basename>` with Content-Encoding gzip.
 */
export async function gzipEncodedCopy(
  s3: S3Client,
  source: SourceObject,
  temp: { bucket: string; prefix: string },
  name: string,
): Promise<TempCopy> {
  const target = { Bucket: temp.bucket, Key: [temp.prefix, name].filter(Boolean).join("/") };
  const copySource = `${source.bucket}/${encodeURIComponent(source.key).replace(/%2F/g, "/")}${source.versionId ? `?versionId=${encodeURIComponent(source.versionId)}` : ""}`;
  const remove = async () => {
    await s3.send(new DeleteObjectCommand(target));
  };
  let etag: string | undefined;
  try {
    if (source.size > SINGLE_COPY_MAX) etag = await multipartCopy(s3, source, target, copySource);
    else {
      const out = await s3.send(
        new CopyObjectCommand({
          ...target,
          CopySource: copySource,
          MetadataDirective: "REPLACE",
          ContentEncoding: "gzip",
          ContentType: "application/octet-stream",
          ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
        }),
      );
      etag = out.CopyObjectResult?.ETag;
    }
  } catch (err) {
    await remove().catch(() => undefined);
    throw serverCopyError(source, err);
  }
  const url = s3Url(target.Bucket, target.Key);
  const replaced = (now: SourceObject | undefined) =>
    new ObjectChangedError(
      `the gzip copy ${url} of ${s3Url(source.bucket, source.key)} was ${now ? `replaced (ETag ${etag} → ${now.etag})` : "deleted"} before it was imported; nothing loaded`,
    );
  const seen = await headObject(s3, target.Bucket, target.Key);
  // Pinned to the ETag of the copy we made, not to whatever the first HEAD sees.
  if (!seen || !etag || seen.etag !== etag) {
    await remove().catch(() => undefined);
    throw replaced(seen);
  }
  return {
    object: seen,
    remove,
    check: () => checkUnchanged(s3, seen, replaced),
  };
}
