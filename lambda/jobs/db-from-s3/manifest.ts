/**
 * The objects a manifest load reads (docs/db-from-s3.md §7): every entry is checked before
 * anything loads — inside the realm's `s3_sources` (when it has them), not under
 * its `s3_temp` (other jobs' outputs and temporary copies), listed once, not the
 * manifest itself — then each is found (only `"mandatory": false` entries may be
 * missing) and held to `min_size`, as lava does per entry.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { ManifestError, ObjectMissingError } from "../../shared/errors";
import { headObject, isUnderLocation, type SourceObject, s3Url } from "../../shared/s3-objects";
import type { Realm } from "../../spec/realm";
import type { EventLog } from "../event-log";
import { type ManifestEntry, readManifest } from "./s3-objects";

/** Refuse, naming the entry, what a manifest may not list. */
export function checkManifestEntries(
  entries: readonly ManifestEntry[],
  manifest: { bucket: string; key: string },
  realm: Pick<Realm["top"], "s3_sources" | "s3_temp">,
  where = `manifest ${s3Url(manifest.bucket, manifest.key)}`,
): void {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const url = s3Url(e.bucket, e.key);
    const refuse = (why: string) => {
      throw new ManifestError(`${where}: entries[${i}]: ${url} ${why}`);
    };
    if (e.bucket === manifest.bucket && e.key === manifest.key) refuse("is the manifest itself");
    const first = seen.get(url);
    if (first !== undefined) refuse(`is listed twice (also entries[${first}])`);
    seen.set(url, i);
    if (realm.s3_temp && isUnderLocation(realm.s3_temp, e.bucket, e.key))
      refuse("is under the realm's s3_temp");
    const sources = realm.s3_sources;
    if (sources && !sources.some((s) => s.bucket === e.bucket && e.key.startsWith(s.prefix ?? "")))
      refuse("is outside the realm's s3_sources");
  });
}

/**
 * The entries of a manifest to load, found and checked; entries below `minSize`
 * are left out with an event (empty when every entry is below it).
 */
export async function manifestObjects(
  s3: S3Client,
  main: SourceObject,
  realm: Pick<Realm["top"], "s3_sources" | "s3_temp">,
  minSize: number | undefined,
  events: EventLog,
): Promise<SourceObject[]> {
  const entries = await readManifest(s3, main);
  checkManifestEntries(entries, main, realm);
  const found: SourceObject[] = [];
  for (const e of entries) {
    const url = s3Url(e.bucket, e.key);
    const obj = await headObject(s3, e.bucket, e.key);
    if (!obj) {
      if (e.mandatory)
        throw new ObjectMissingError(
          `${url}: manifest entry missing (manifest ${s3Url(main.bucket, main.key)}); only entries with "mandatory": false may be missing`,
        );
      events.add(`manifest entry ${url} missing, "mandatory": false: skipped`);
    } else if (minSize !== undefined && obj.size < minSize)
      events.add(`${url}: smaller than min_size ${minSize}: not loaded`);
    else found.push(obj);
  }
  events.add(`manifest lists ${entries.length} objects, ${found.length} to load`);
  return found;
}
