/**
 * Staging for fan-out loads (docs/db-from-s3.md §14): the tables that record a
 * run's staging table and the parts its items committed there. Each item writes
 * its rows in the same transaction as its data, so "this item is loaded" is true
 * exactly when its data is in staging: a retried or redriven item that finds
 * its rows loads nothing again.
 */
import type { ClientBase } from "pg";
import {
  DatabasePermissionError,
  DatabaseServerError,
  isRetryableSqlState,
} from "../../shared/errors";
import type { SourceObject } from "../../shared/s3-objects";
import { checkName, quoteIdent } from "./identifiers";

/** The staging registry's DDL (created on first use, like the ledger; db-setup prints it). */
export const STAGING_DDL = `CREATE SCHEMA IF NOT EXISTS lava;
CREATE TABLE IF NOT EXISTS lava.load_staging_runs (
  run_id          text        PRIMARY KEY,
  target_table    text        NOT NULL,  -- logical table, "schema"."table"
  staging_table   text        NOT NULL,  -- "schema"."_lava_stage_…"
  object_identity text        NOT NULL,  -- the manifest's or the listing's
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS lava.load_staging_parts (
  run_id          text        NOT NULL REFERENCES lava.load_staging_runs ON DELETE CASCADE,
  item            integer     NOT NULL,
  part            integer     NOT NULL,
  bucket          text        NOT NULL,
  key             text        NOT NULL,
  object_identity text        NOT NULL,
  etag            text,
  version_id      text,
  last_modified   timestamptz NOT NULL,
  size_bytes      bigint      NOT NULL,
  rows_loaded     bigint      NOT NULL,
  loaded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, part)
);`;

/** The staging table of a run: in the target's schema (a rename swap cannot cross schemas). */
export function stagingTableName(runId: string): string {
  const hex = runId
    .replace(/[^0-9a-fA-F]/g, "")
    .slice(0, 24)
    .toLowerCase();
  return checkName(`_lava_stage_${hex || "run"}`, "staging table");
}

/** Create the staging registry if missing; a user who may not is told what to run. */
export async function ensureStaging(client: ClientBase, connId: string): Promise<void> {
  const { rows } = await client.query<{ runs: string | null; parts: string | null }>(
    "SELECT to_regclass('lava.load_staging_runs')::text AS runs, to_regclass('lava.load_staging_parts')::text AS parts",
  );
  if (rows[0]?.runs && rows[0]?.parts) return;
  try {
    await client.query(STAGING_DDL);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "23505" || code === "42P07" || code === "42710") return;
    const detail = `the fan-out staging tables lava.load_staging_runs and lava.load_staging_parts are missing and cannot be created as this user (SQLSTATE ${code ?? "none"}: ${(err as Error).message})`;
    if (code === "42501")
      throw new DatabasePermissionError(
        `${detail}: run "lava-aurora db-setup ${connId} --admin ADMIN_CONN_ID --apply", or have a DBA run the DDL that "lava-aurora db-setup ${connId}" prints`,
        { cause: err, code },
      );
    throw new DatabaseServerError(detail, {
      cause: err,
      code,
      retryable: isRetryableSqlState(code),
    });
  }
}

/** The staging run registered for a run id, if any. */
export async function stagingRun(
  client: ClientBase,
  runId: string,
): Promise<{ staging: string; identity: string; target: string } | undefined> {
  const { rows } = await client.query<{
    staging_table: string;
    object_identity: string;
    target_table: string;
  }>(
    "SELECT staging_table, object_identity, target_table FROM lava.load_staging_runs WHERE run_id = $1",
    [runId],
  );
  const r = rows[0];
  return r && { staging: r.staging_table, identity: r.object_identity, target: r.target_table };
}

/** A part an item committed to staging. */
export interface StagedPart {
  readonly item: number;
  readonly part: number;
  readonly obj: Omit<SourceObject, "contentEncoding">;
  readonly rows: number;
}

/** Record an item's parts, in the item's transaction. */
export async function recordStaged(
  client: ClientBase,
  runId: string,
  parts: readonly StagedPart[],
): Promise<void> {
  for (const p of parts)
    await client.query(
      `INSERT INTO lava.load_staging_parts (run_id, item, part, bucket, key, object_identity, etag,
         version_id, last_modified, size_bytes, rows_loaded)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        runId,
        p.item,
        p.part,
        p.obj.bucket,
        p.obj.key,
        p.obj.identity,
        p.obj.etag ?? null,
        p.obj.versionId ?? null,
        p.obj.lastModified,
        p.obj.size,
        p.rows,
      ],
    );
}

/** The parts staged for a run, in part order. */
export async function stagedParts(client: ClientBase, runId: string): Promise<StagedPart[]> {
  const { rows } = await client.query<{
    item: number;
    part: number;
    bucket: string;
    key: string;
    object_identity: string;
    etag: string | null;
    version_id: string | null;
    last_modified: Date;
    size_bytes: string;
    rows_loaded: string;
  }>("SELECT * FROM lava.load_staging_parts WHERE run_id = $1 ORDER BY part", [runId]);
  return rows.map((r) => ({
    item: r.item,
    part: r.part,
    rows: Number(r.rows_loaded),
    obj: {
      bucket: r.bucket,
      key: r.key,
      identity: r.object_identity,
      etag: r.etag ?? undefined,
      versionId: r.version_id ?? undefined,
      lastModified: r.last_modified,
      size: Number(r.size_bytes),
    },
  }));
}

/** Whether an item's parts are already in staging (it committed before). */
export async function itemStaged(
  client: ClientBase,
  runId: string,
  item: number,
): Promise<number | undefined> {
  const { rows } = await client.query<{ n: string | null; rows: string | null }>(
    "SELECT count(*) AS n, sum(rows_loaded) AS rows FROM lava.load_staging_parts WHERE run_id = $1 AND item = $2",
    [runId, item],
  );
  return Number(rows[0]?.n ?? 0) > 0 ? Number(rows[0]?.rows ?? 0) : undefined;
}

/** Drop a run's staging table and its registry rows (the parts go with the run). */
export async function dropStaging(
  client: ClientBase,
  runId: string,
  staging: string,
): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${staging}`);
  await client.query("DELETE FROM lava.load_staging_runs WHERE run_id = $1", [runId]);
}

/** How long a run's staging outlives it: the jobs state machine's executions end within 24 h. */
export const STAGING_RETENTION_HOURS = 24;

/**
 * Drop the staging of other runs into the same table that are older than the
 * retention: their executions are over, so nothing will publish them. Returns
 * how many were dropped.
 */
export async function sweepStaging(
  client: ClientBase,
  target: string,
  keepRunId: string,
): Promise<number> {
  const { rows } = await client.query<{ run_id: string; staging_table: string }>(
    `SELECT run_id, staging_table FROM lava.load_staging_runs
      WHERE target_table = $1 AND run_id <> $2
        AND created_at < now() - make_interval(hours => $3)`,
    [target, keepRunId, STAGING_RETENTION_HOURS],
  );
  for (const r of rows) await dropStaging(client, r.run_id, r.staging_table);
  return rows.length;
}

/** Quoted `"schema"."name"`. */
export const inSchema = (schema: string, name: string) =>
  `${quoteIdent(schema)}.${quoteIdent(name)}`;
