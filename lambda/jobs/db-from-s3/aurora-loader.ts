/**
 * Aurora / RDS loads (docs/db-from-s3.md §8.1): the database pulls each object itself with
 * `aws_s3.table_import_from_s3`, every argument a query parameter except the
 * `s3_conn_id` credentials, which reach it as COPY data (import-credentials.ts):
 * lava pastes the keys into the SQL text, and bind parameters are logged too. Each import
 * runs under a SAVEPOINT so an empty object (Aurora: "0 rows were copied
 * successfully") is recorded and the rest of the transaction carries on.
 */
import { basename } from "node:path/posix";
import type { AwsCredentials } from "../../connectors/types";
import {
  DatabaseServerError,
  LavaError,
  ObjectChangedError,
  ObjectMissingError,
} from "../../shared/errors";
import { s3Url } from "../../shared/s3-objects";
import type { EventLog } from "../event-log";
import { gzipEncodedCopy, type TempCopy } from "./gzip-copy";
import { forgetCredentials, IMPORT_WITH_STORED_KEYS, storeCredentials } from "./import-credentials";
import type { Loader, LoadRequest } from "./loader";
import { copyError } from "./stream-loader";

export interface AuroraLoaderOptions {
  /** Region of the objects: the aws connection's, else the s3_sources entry's, else the realm's. */
  readonly region: string;
  /** Keys from `s3_conn_id`; without them the cluster's S3-import role is used. */
  readonly credentials?: () => Promise<AwsCredentials>;
  /** Where GZIP objects without `Content-Encoding: gzip` are copied: `<s3_temp>/<job>/<run>`. */
  readonly temp: { bucket: string; prefix: string } | undefined;
  readonly events: EventLog;
}

// AWS documents the cluster role only for the form without credentials.
const IMPORT_WITH_ROLE = "SELECT aws_s3.table_import_from_s3($1, $2, $3, $4, $5, $6) AS result";
const SAVEPOINT = "lava_import";

/** Rows from aws_s3's answer: `2 rows imported into relation "t" from file k of 17 bytes`. */
export function importedRows(result: unknown): number {
  const m = typeof result === "string" ? /^(\d+) rows? imported/.exec(result) : null;
  if (!m?.[1])
    throw new DatabaseServerError(
      `unexpected answer from aws_s3.table_import_from_s3: ${JSON.stringify(result)}`,
      { retryable: false },
    );
  return Number(m[1]);
}

/** Whether an import failed only because the object holds no rows. */
export function isEmptyImport(err: unknown): boolean {
  return /0 rows were copied successfully/.test((err as Error)?.message ?? "");
}

/** Aurora reports S3 trouble as "HTTP <status>. …" errors; name the object. */
export function importError(err: unknown, url: string): Error {
  const message = (err as Error)?.message ?? String(err);
  const status = /^HTTP (\d{3})\b/.exec(message)?.[1];
  if (status === "412")
    return new ObjectChangedError(`${url} was replaced during the load; nothing loaded`, {
      cause: err,
    });
  if (status === "404")
    return new ObjectMissingError(`${url} does not exist (aws_s3: ${message})`, { cause: err });
  if (status === "403") {
    return new LavaError(
      `${url}: the database may not read it (aws_s3: ${message}); check the cluster's S3-import role or s3_conn_id`,
      { cause: err },
    );
  }
  return copyError(err, url);
}

/** A loader importing through `aws_s3`; one per run. */
export function auroraLoader(options: AuroraLoaderOptions): Loader {
  let copies = 0;
  const { events } = options;
  return {
    name: "aws_s3 import",
    async load(req: LoadRequest): Promise<number> {
      const url = s3Url(req.object.bucket, req.object.key);
      let copy: TempCopy | undefined;
      if (req.gzip && req.object.contentEncoding?.toLowerCase() !== "gzip") {
        if (!options.temp) {
          throw new LavaError(
            `${url}: GZIP through aws_s3 needs Content-Encoding: gzip; the object has none and the realm has no s3_temp to copy it to`,
          );
        }
        copies += 1;
        copy = await gzipEncodedCopy(
          req.s3,
          req.object,
          options.temp,
          `${copies}-${basename(req.object.key)}`,
        );
        events.add(
          `${url} has no Content-Encoding: gzip; importing a copy, ${s3Url(copy.object.bucket, copy.object.key)}`,
        );
      }
      const source = copy?.object ?? req.object;
      try {
        const creds = await options.credentials?.();
        const args = [
          req.table,
          req.columns?.join(", ") ?? "",
          req.options,
          source.bucket,
          source.key,
          options.region,
        ];
        // Inside the savepoint: rolling back to it (an empty object) removes the credentials too.
        await req.client.query(`SAVEPOINT ${SAVEPOINT}`);
        try {
          if (creds) await storeCredentials(req.client, creds);
          const { rows } = await req.client.query(
            creds ? IMPORT_WITH_STORED_KEYS : IMPORT_WITH_ROLE,
            args,
          );
          if (creds) await forgetCredentials(req.client);
          await req.client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
          // The database read the copy by name: make sure it read the copy we made.
          await copy?.check();
          const imported = importedRows(rows[0]?.result);
          // The database read it all; its row count is known only now.
          req.onBytes?.(req.object.size, req.countRows ? imported : undefined);
          return imported;
        } catch (err) {
          if (!isEmptyImport(err)) throw importError(err, url);
          await req.client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
          events.add(`${url} is empty: nothing imported`);
          return 0;
        }
      } finally {
        await copy
          ?.remove()
          .catch((err: Error) => events.add(`could not delete the gzip copy: ${err.name}`));
      }
    },
  };
}
