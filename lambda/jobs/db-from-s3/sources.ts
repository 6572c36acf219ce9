/**
 * What a load reads (docs/db-from-s3.md §7): the object itself, a manifest's
 * entries, or — with `glob` and a `key` ending in `/` — the objects under that
 * prefix. Every part is found, checked and held to `min_size` before anything
 * loads; the run is skipped when nothing is left.
 */
import { createHash } from "node:crypto";
import {
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ObjectMissingError, SpecError } from "../../shared/errors";
import { fnmatchAny } from "../../shared/fnmatch";
import { headObject, type SourceObject, s3Error, s3Url } from "../../shared/s3-objects";
import type { Realm } from "../../spec/realm";
import type { EventLog } from "../event-log";
import type { JobOutcome } from "../types";
import { checkManifestEntries, manifestObjects } from "./manifest";
import type { LoadParams } from "./params";

/** The most parts one load may have (a manifest's entries or a prefix's objects). */
export const MAX_PARTS = 10_000;

/** HeadObject requests in flight at once when finding a prefix's parts. */
const HEAD_CONCURRENCY = 16;

export interface LoadSources {
  /** The object, the manifest, or the listing of a prefix (`listing`). */
  readonly main: SourceObject;
  /** The objects to load, in order. */
  readonly objects: readonly SourceObject[];
  /** The manifest's key or the prefix, for the ledger rows of the parts; undefined for one object. */
  readonly via: string | undefined;
  /**
   * `main` is a prefix's listing, not an S3 object: its identity is a digest of the
   * parts' identities (the same listing is a duplicate), its Last-Modified the newest
   * part's; the parts themselves are re-checked before commit, the listing is not.
   */
  readonly listing: boolean;
}

/** A prefix's listing as the ledger keeps it: one identity for one set of parts. */
export function listingObject(bucket: string, prefix: string, parts: readonly SourceObject[]) {
  const digest = createHash("sha256");
  for (const o of [...parts].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)))
    digest.update(`${o.key}\n${o.identity}\n`);
  return {
    bucket,
    key: prefix,
    identity: `listing:${digest.digest("hex")}`,
    etag: undefined,
    versionId: undefined,
    lastModified: new Date(Math.max(0, ...parts.map((o) => o.lastModified.getTime()))),
    size: parts.reduce((n, o) => n + o.size, 0),
    contentEncoding: undefined,
  } satisfies SourceObject;
}

/** Run `fn` over `items`, at most `limit` at once, results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The objects under `prefix` whose rest of key matches a glob (Python's fnmatch: `*` crosses `/`). */
async function prefixObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  globs: readonly string[],
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
    } catch (err) {
      throw s3Error(`cannot list ${s3Url(bucket, prefix)}`, err);
    }
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? "";
      // Folder markers (`x/`, size 0) are not data.
      if (key.endsWith("/") || !fnmatchAny(key.slice(prefix.length), globs)) continue;
      keys.push(key);
      if (keys.length > MAX_PARTS)
        throw new SpecError([
          `${s3Url(bucket, prefix)}: more than ${MAX_PARTS} objects match ${globs.join(", ")}: narrow the glob or the prefix`,
        ]);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** A prefix's parts, found, checked like a manifest's entries and held to min_size. */
async function prefixSources(
  s3: S3Client,
  bucket: string,
  prefix: string,
  p: LoadParams,
  realm: Pick<Realm["top"], "s3_sources" | "s3_temp">,
  events: EventLog,
): Promise<SourceObject[] | "missing"> {
  const globs = p.glob ?? [];
  const keys = await prefixObjects(s3, bucket, prefix, globs);
  checkManifestEntries(
    keys.map((key) => ({ bucket, key, mandatory: true })),
    { bucket, key: prefix },
    realm,
    `prefix ${s3Url(bucket, prefix)}`,
  );
  if (keys.length === 0) return "missing";
  const found = await mapLimit(keys, HEAD_CONCURRENCY, (key) => headObject(s3, bucket, key));
  const parts: SourceObject[] = [];
  found.forEach((obj, i) => {
    // Deleted between the listing and its HeadObject: not there, as if not listed.
    if (!obj) events.add(`${s3Url(bucket, keys[i] as string)} disappeared after the listing`);
    else if (p.minSize !== undefined && obj.size < p.minSize)
      events.add(`${s3Url(bucket, obj.key)}: smaller than min_size ${p.minSize}: not loaded`);
    else parts.push(obj);
  });
  events.add(
    `${s3Url(bucket, prefix)} ${globs.join(", ")}: ${keys.length} objects, ${parts.length} to load`,
  );
  return parts;
}

/**
 * Find what the run loads; `skip` when there is nothing to (missing with
 * `skip_missing`, or below `min_size`).
 */
export async function loadSources(
  s3: S3Client,
  p: LoadParams,
  names: { bucket: string; key: string },
  realm: Pick<Realm["top"], "s3_sources" | "s3_temp">,
  events: EventLog,
): Promise<{ sources: LoadSources } | { skip: JobOutcome["reason"] }> {
  const { bucket, key } = names;
  const url = s3Url(bucket, key);
  if (p.glob) {
    if (!key.endsWith("/"))
      throw new SpecError([
        `parameters.key: with glob the key is a prefix ending in "/", got ${JSON.stringify(key)}`,
      ]);
    const parts = await prefixSources(s3, bucket, key, p, realm, events);
    if (parts === "missing") {
      if (p.skipMissing) {
        events.add(`${url}: no object matches ${p.glob.join(", ")}: skipped (skip_missing)`);
        return { skip: "missing" };
      }
      throw new ObjectMissingError(`${url}: no object matches ${p.glob.join(", ")}`);
    }
    if (parts.length === 0) {
      events.add(`${url}: every object is smaller than min_size ${p.minSize}: skipped`);
      return { skip: "below_min_size" };
    }
    return {
      sources: { main: listingObject(bucket, key, parts), objects: parts, via: key, listing: true },
    };
  }
  const main = await headObject(s3, bucket, key);
  if (!main) {
    if (p.skipMissing) {
      events.add(`${url} does not exist: skipped (skip_missing)`);
      return { skip: "missing" };
    }
    throw new ObjectMissingError(`${url} does not exist`);
  }
  events.add(`${url}: ${main.size} bytes, ${main.identity}`);
  if (p.copy.manifest) {
    // min_size applies to each manifest entry, not to the manifest (lava's rule).
    const objects = await manifestObjects(s3, main, realm, p.minSize, events);
    if (p.minSize !== undefined && objects.length === 0) {
      events.add(`${url}: every entry is smaller than min_size ${p.minSize}: skipped`);
      return { skip: "below_min_size" };
    }
    return { sources: { main, objects, via: main.key, listing: false } };
  }
  if (p.minSize !== undefined && main.size < p.minSize) {
    events.add(`${url}: smaller than min_size ${p.minSize}: skipped`);
    return { skip: "below_min_size" };
  }
  return { sources: { main, objects: [main], via: undefined, listing: false } };
}
