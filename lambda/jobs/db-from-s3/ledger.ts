/**
 * The load ledger (docs/db-from-s3.md §11): one row per object loaded into a logical table,
 * written in the same transaction as the data, so duplicate S3 events and
 * retried runs are harmless and late (stale) objects cannot overwrite newer data.
 */
import type { ClientBase } from "pg";
import {
  DatabasePermissionError,
  DatabaseServerError,
  isRetryableSqlState,
} from "../../shared/errors";
import type { SourceObject } from "../../shared/s3-objects";
import { quoteIdent } from "./identifiers";

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

/** What the session may do with the ledger, read from the catalogs (which need no privileges). */
export type LedgerAccess =
  | { readonly state: "missing" }
  | { readonly state: "ok" }
  /** Present, but `lacks` lists the privileges the current user needs. */
  | { readonly state: "denied"; readonly user: string; readonly lacks: readonly string[] };

export async function ledgerAccess(client: ClientBase): Promise<LedgerAccess> {
  const { rows } = await client.query<{
    user: string;
    has_table: boolean;
    usage: boolean;
    s: boolean;
    i: boolean;
    u: boolean;
  }>(
    // One privilege per call: a list would mean "any of them".
    `SELECT current_user AS user, c.oid IS NOT NULL AS has_table,
            has_schema_privilege(n.oid, 'USAGE') AS usage,
            c.oid IS NOT NULL AND has_table_privilege(c.oid, 'SELECT') AS s,
            c.oid IS NOT NULL AND has_table_privilege(c.oid, 'INSERT') AS i,
            c.oid IS NOT NULL AND has_table_privilege(c.oid, 'UPDATE') AS u
       FROM pg_namespace n
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'load_ledger'
      WHERE n.nspname = 'lava'`,
  );
  const row = rows[0];
  if (!row?.has_table) return { state: "missing" };
  const table = [!row.s && "SELECT", !row.i && "INSERT", !row.u && "UPDATE"].filter(
    (p): p is string => typeof p === "string",
  );
  const lacks = [
    ...(row.usage ? [] : ["USAGE on schema lava"]),
    ...(table.length ? [`${table.join(", ")} on ${LEDGER_TABLE}`] : []),
  ];
  return lacks.length ? { state: "denied", user: row.user, lacks } : { state: "ok" };
}

/** The GRANTs that let `user` use the ledger, identifiers quoted. */
export function ledgerGrants(user: string): string[] {
  const who = quoteIdent(user);
  return [
    `GRANT USAGE ON SCHEMA "lava" TO ${who};`,
    `GRANT SELECT, INSERT, UPDATE ON "lava"."load_ledger" TO ${who};`,
  ];
}

/**
 * Create the ledger if it is missing. Runs outside the load transaction. When
 * the user may not create it, or it exists but the user may not use it, the
 * error says so, with the SQLSTATE and what to run.
 */
export async function ensureLedger(
  client: ClientBase,
  connId: string,
): Promise<"exists" | "created"> {
  const access = await ledgerAccess(client);
  const setup = `run "lava-aurora db-setup ${connId} --admin ADMIN_CONN_ID --apply"`;
  if (access.state === "denied") {
    const who = quoteIdent(access.user);
    throw new DatabasePermissionError(
      `ledger ${LEDGER_TABLE} exists but ${who} may not use it (SQLSTATE 42501: lacks ${access.lacks.join(", ")}): ${setup}, or as a DBA: ${ledgerGrants(access.user).join(" ")}`,
      { code: "42501" },
    );
  }
  if (access.state === "ok") return "exists";
  try {
    await client.query(LEDGER_DDL);
    return "created";
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Two first runs racing to create it: the other one won.
    if (code === "23505" || code === "42P07" || code === "42710") return "exists";
    const detail = `${LEDGER_TABLE} is missing and cannot be created as this user (SQLSTATE ${code ?? "none"}: ${(err as Error).message})`;
    if (code === "42501")
      throw new DatabasePermissionError(
        `${detail}: ${setup}, or have a DBA run the DDL that "lava-aurora db-setup ${connId}" prints`,
        { cause: err, code },
      );
    throw new DatabaseServerError(`${detail}; "lava-aurora db-setup ${connId}" prints the DDL`, {
      cause: err,
      code,
      retryable: isRetryableSqlState(code),
    });
  }
}

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
