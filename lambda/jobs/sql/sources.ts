/**
 * Where a SQL job's statements come from (docs/sql-jobs.md §1): sqli's payload
 * elements, or the SQL files under `s3_payloads` (one key, or every object under a
 * prefix in lexicographic order), read whole (a bounded size), pinned to the
 * version first seen.
 */
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { LavaError, ObjectMissingError } from "../../shared/errors";
import { headObject, openObject, s3Url } from "../../shared/s3-objects";
import { payloadKeys } from "../exe/payload";
import { MAX_SQL_FILE_BYTES, type SqlPayloadRef } from "./params";

export interface SqlSource {
  /** For messages and results: `payload[<m>]` or the file's S3 URL. */
  readonly url: string;
  /** lava's output name: `<m>` (sqli) or the file's base name (sql). */
  readonly name: string;
  readonly text: string;
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const url = s3Url(bucket, key);
  const obj = await headObject(s3, bucket, key);
  if (!obj) throw new ObjectMissingError(`payload ${url} does not exist`);
  if (obj.size > MAX_SQL_FILE_BYTES)
    throw new LavaError(
      `payload ${url}: ${obj.size} bytes, more than the ${MAX_SQL_FILE_BYTES} a SQL file may have`,
      { retryable: false },
    );
  const body: Readable = await openObject(s3, obj);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  try {
    return text.decode(bytes);
  } catch {
    throw new LavaError(`payload ${url}: not UTF-8 text`, { retryable: false });
  }
}

/** The job's sources, in the order they run. */
export async function readSqlSources(
  s3: S3Client,
  p: { readonly payload: readonly string[] | SqlPayloadRef },
): Promise<SqlSource[]> {
  if (Array.isArray(p.payload))
    return (p.payload as readonly string[]).map((text, m) => ({
      url: `payload[${m}]`,
      name: String(m),
      text,
    }));
  const ref = p.payload as SqlPayloadRef;
  const keys = await payloadKeys(s3, ref);
  const sources: SqlSource[] = [];
  for (const key of keys)
    sources.push({
      url: s3Url(ref.bucket, key),
      name: key.slice(key.lastIndexOf("/") + 1),
      text: await readText(s3, ref.bucket, key),
    });
  return sources;
}
