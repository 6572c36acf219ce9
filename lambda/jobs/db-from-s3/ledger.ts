/**
 * The load ledger (docs/db-from-s3.md §11): one row per object loaded into a logical table,
 * written in the same transaction as the data, so duplicate S3 events and
 * retried runs are harmless and late (stale) objects cannot overwrite newer data.
 */
import type { ClientBase } from "pg";
import type { SourceObject } from "../../shared/s3-objects";
import {
  ensureLavaTable,
  type LavaTable,
  type LavaTableAccess,
  tableAccess,
  tableGrants,
} from "../lava-table";

/** Where the ledger lives in the target database. */
export const LEDGER_TABLE = "lava.load_ledger";

/** The ledger's DDL, for a DBA to run where the loading user may not create it. */
export const LEDGER_DDL = `CREATE SCHEMA IF NOT EXISTS lava;
CREATE TABLE IF NOT EXISTS lava.load_ledger (
  target_table    text        NOT NULL,  -- logical table, "schema"."table"
  bucket          text        NOT NULL,
  key             text        NOT NULL,
  object_identity text        NOT NULL,  -- version id, else ETag + Last-Modified
  etag            text,
  version_id      text,
  last_modified   timestamptz NOT NULL,
  size_bytes      bigint      NOT NULL,
  via_manifest    text,                  -- manifest key for manifest entries
  loaded_table    text        NOT NULL,  -- physical table (switch: _a / _b)
  job_id          text        NOT NULL,
  run_id          uuid        NOT NULL,
  rows_loaded     bigint      NOT NULL,
  loaded_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT load_ledger_object_uq UNIQUE (target_table, bucket, key, object_identity)
);
CREATE INDEX IF NOT EXISTS load_ledger_newest_ix
  ON lava.load_ledger (target_table, last_modified DESC) WHERE via_manifest IS NULL;`;

/** An S3 object as the ledger knows it. */
export type LedgerObject = Omit<SourceObject, "contentEncoding">;

/** The ledger as one of the project's tables (lava-table.ts). */
export const LEDGER: LavaTable = {
  relname: "load_ledger",
  what: "ledger",
  privileges: ["SELECT", "INSERT", "UPDATE"],
  ddl: LEDGER_DDL,
};

/** What the session may do with the ledger, read from the catalogs (which need no privileges). */
export type LedgerAccess = LavaTableAccess;

export const ledgerAccess = (client: ClientBase): Promise<LedgerAccess> =>
  tableAccess(client, LEDGER);

/** The GRANTs that let `user` use the ledger, identifiers quoted. */
export const ledgerGrants = (user: string): string[] => tableGrants(user, LEDGER);

/**
 * Create the ledger if it is missing. Runs outside the load transaction. When
 * the user may not create it, or it exists but the user may not use it, the
 * error says so, with the SQLSTATE and what to run.
 */
export const ensureLedger = (client: ClientBase, connId: string): Promise<"exists" | "created"> =>
  ensureLavaTable(client, connId, LEDGER);

/** When and by which run an object was already loaded into the table, if it was. */
export async function findLoaded(
  client: ClientBase,
  table: string,
  obj: LedgerObject,
): Promise<{ runId: string; loadedAt: Date } | undefined> {
  const { rows } = await client.query<{ run_id: string; loaded_at: Date }>(
    `SELECT run_id, loaded_at FROM ${LEDGER_TABLE}
      WHERE target_table = $1 AND bucket = $2 AND key = $3 AND object_identity = $4`,
    [table, obj.bucket, obj.key, obj.identity],
  );
  const row = rows[0];
  return row ? { runId: row.run_id, loadedAt: row.loaded_at } : undefined;
}

/**
 * The newest object dispatched into the table (manifest entries excluded) that
 * is newer than `obj`, if any. S3's Last-Modified has one-second resolution, so
 * objects of the same second are ordered by key (byte order): whichever order
 * their events arrive in, the table ends with the same one. A tie on the same
 * key is never stale: the object was just read from S3, so it is the newest
 * version, and the load re-checks it before commit.
 */
export async function newerLoaded(
  client: ClientBase,
  table: string,
  obj: Pick<LedgerObject, "key" | "lastModified">,
): Promise<{ key: string; lastModified: Date } | undefined> {
  const { rows } = await client.query<{ key: string; last_modified: Date }>(
    `SELECT key, last_modified FROM ${LEDGER_TABLE}
      WHERE target_table = $1 AND via_manifest IS NULL
        AND (last_modified > $2 OR (last_modified = $2 AND key COLLATE "C" > $3 COLLATE "C"))
      ORDER BY last_modified DESC, key COLLATE "C" DESC LIMIT 1`,
    [table, obj.lastModified, obj.key],
  );
  const row = rows[0];
  return row ? { key: row.key, lastModified: row.last_modified } : undefined;
}

/** Record loaded objects (a reload of the same identity updates its row). */
export async function recordLoaded(
  client: ClientBase,
  entries: readonly {
    obj: LedgerObject;
    table: string;
    loadedTable: string;
    viaManifest: string | undefined;
    jobId: string;
    runId: string;
    rows: number;
  }[],
): Promise<void> {
  for (const e of entries) {
    await client.query(
      `INSERT INTO ${LEDGER_TABLE} (target_table, bucket, key, object_identity, etag, version_id,
         last_modified, size_bytes, via_manifest, loaded_table, job_id, run_id, rows_loaded)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT ON CONSTRAINT load_ledger_object_uq DO UPDATE SET
         loaded_table = EXCLUDED.loaded_table, job_id = EXCLUDED.job_id, run_id = EXCLUDED.run_id,
         rows_loaded = EXCLUDED.rows_loaded, loaded_at = now()`,
      [
        e.table,
        e.obj.bucket,
        e.obj.key,
        e.obj.identity,
        e.obj.etag ?? null,
        e.obj.versionId ?? null,
        e.obj.lastModified,
        e.obj.size,
        e.viaManifest ?? null,
        e.loadedTable,
        e.jobId,
        e.runId,
        e.rows,
      ],
    );
  }
}
