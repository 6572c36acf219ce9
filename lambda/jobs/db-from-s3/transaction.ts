/**
 * The db_from_s3 transaction (docs/db-from-s3.md §10): advisory lock, ledger checks
 * (duplicate, stale), table preparation, every object, the ledger rows —
 * committed together or not at all, under a statement_timeout below the deadline.
 */
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Client, ClientBase } from "pg";
import { LoadTimeoutError } from "../../shared/errors";
import { type SourceObject, s3Url } from "../../shared/s3-objects";
import { ensureRunLog, recordLoadRun } from "../run-log";
import type { JobOutcome, JobRun } from "../types";
import { copyOptionsSql } from "./copy-options";
import { columnsFromHeaders } from "./header";
import { quoteIdent } from "./identifiers";
import { ensureLedger, findLoaded, newerLoaded, recordLoaded } from "./ledger";
import type { Loader } from "./loader";
import { applyMerge, stageMerge } from "./merge";
import type { LoadParams } from "./params";
import {
  carefulRecords,
  checkLineageColumns,
  columnDefsWithLineage,
  lineageColumns,
  RejectLog,
  rejectsLocation,
  writeRejects,
} from "./row-care";
import { checkUnchanged } from "./s3-objects";
import { fillableColumns, type LoadMode, prepareTarget, reclaimEmptied } from "./target";

/** Kept between the statement_timeout and the deadline, so the database gives up first. */
export const DEADLINE_MARGIN_MS = 3_000;
/** Modes in which a late, older object would overwrite newer data (merge: newer values of its keys). */
const REPLACING: readonly LoadMode[] = ["truncate", "drop", "delete", "switch", "merge"];

/** A 64-bit advisory lock key for a logical table. */
export function lockKey(table: string): string {
  return createHash("sha256").update(`lava-aurora:${table}`).digest().readBigInt64BE(0).toString();
}

/** What the transaction works on, resolved and checked before it starts. */
export interface LoadState {
  readonly p: LoadParams;
  readonly loader: Loader;
  readonly s3: S3Client;
  readonly main: SourceObject;
  readonly objects: readonly SourceObject[];
  /** The manifest's key or the prefix the parts came from; undefined for one object. */
  readonly via: string | undefined;
  /** `main` is a prefix's listing, not an object (sources.ts). */
  readonly listing: boolean;
  readonly schema: string;
  readonly table: string;
  readonly logical: string;
  readonly base: { bucket: string; key: string; table: string };
}

/**
 * The objects to load. In append mode the table still holds what earlier runs
 * loaded, so manifest entries already in the ledger are not loaded again; the
 * replacing modes start from an empty table and need every entry.
 */
export async function notYetAppended(
  run: Pick<JobRun, "events">,
  client: ClientBase,
  s: Pick<LoadState, "p" | "via" | "objects" | "logical">,
): Promise<readonly SourceObject[]> {
  if ((s.p.mode !== "append" && s.p.mode !== "merge") || s.p.reload || s.via === undefined)
    return s.objects;
  const fresh: SourceObject[] = [];
  for (const obj of s.objects) {
    const seen = await findLoaded(client, s.logical, obj);
    if (seen)
      run.events.add(
        `${s3Url(obj.bucket, obj.key)} already loaded by run ${seen.runId}: not loaded again`,
      );
    else fresh.push(obj);
  }
  return fresh;
}

/** `duplicate` when the ledger has this object for the table; `stale` when a replacing mode would load an older object. */
export async function skipReason(
  run: Pick<JobRun, "events">,
  client: ClientBase,
  s: Pick<LoadState, "p" | "main" | "logical" | "base">,
): Promise<"duplicate" | "stale" | undefined> {
  const seen = await findLoaded(client, s.logical, s.main);
  if (seen) {
    run.events.add(
      `${s3Url(s.main.bucket, s.main.key)} already loaded into ${s.base.table} by run ${seen.runId}: skipped`,
    );
    return "duplicate";
  }
  const newer = REPLACING.includes(s.p.mode)
    ? await newerLoaded(client, s.logical, s.main)
    : undefined;
  if (newer) {
    const when = newer.lastModified.toISOString();
    run.events.add(
      newer.lastModified.getTime() === s.main.lastModified.getTime()
        ? `${s.base.table} already holds ${s3Url(s.main.bucket, newer.key)}, modified in the same second, sorts after this one: skipped`
        : `${s.base.table} already holds an object modified ${when}, newer than this one: skipped`,
    );
    return "stale";
  }
  return undefined;
}

/** Quoted column names of a table COPY can fill, in order (for `FORCE_NULL *` when no columns are given). */
export async function tableColumns(client: ClientBase, table: string): Promise<string[]> {
  return (await fillableColumns(client, table)).map((c) => quoteIdent(c));
}

/** The COPY option list for a load into `table`; `FORCE_* *` expands to `columns`, else the table's. */
export async function copyOptionsFor(
  client: ClientBase,
  p: LoadParams,
  table: string,
  columns: readonly string[] | undefined,
  /** `header: false`: leave HEADER out (the careful path skips the header itself). */
  opts: { readonly header?: boolean } = {},
): Promise<string> {
  const needsAll = p.copy.options.some((o) => "columns" in o && o.columns === "*");
  const every = columns ?? (needsAll ? await tableColumns(client, table) : []);
  const copy =
    opts.header === false
      ? { ...p.copy, options: p.copy.options.filter((o) => o.name !== "HEADER") }
      : p.copy;
  return copyOptionsSql(copy, (_force, cols) =>
    // Names were folded per preserve_case when parsed; quoted ones are exact.
    cols === "*" ? [...every] : cols.map((c) => quoteIdent(c)),
  );
}

/** statement_timeout (ms) leaving DEADLINE_MARGIN_MS before the deadline; undefined without one. */
export function statementTimeout(
  deadline: number | undefined,
  now = Date.now(),
): number | undefined {
  if (deadline === undefined) return undefined;
  const ms = Math.floor(deadline - now - DEADLINE_MARGIN_MS);
  if (ms < 1000)
    throw new LoadTimeoutError(
      `too little time left before the deadline to start a load (${deadline - now} ms)`,
    );
  return ms;
}

/** Lock, check the ledger, prepare the table, load every object, record them: one transaction. */
export async function inTransaction(
  run: JobRun,
  client: Client,
  s: LoadState,
): Promise<JobOutcome> {
  const { p, main, logical, base } = s;
  const ledger = await ensureLedger(client, p.dbConnId);
  await ensureRunLog(client, p.dbConnId);
  if (ledger === "created") run.events.add("created the load ledger lava.load_ledger");
  const timeout = statementTimeout(run.options.deadline);
  await client.query("BEGIN");
  let finished = false;
  try {
    if (timeout !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(logical)]);
    const skip = p.reload ? undefined : await skipReason(run, client, s);
    if (skip) {
      await client.query("ROLLBACK");
      finished = true;
      return { status: "skipped", reason: skip, ...base };
    }
    const target = await prepareTarget(client, p.mode, {
      schema: s.schema,
      table: s.table,
      columnDefs: columnDefsWithLineage(p),
    });
    for (const e of target.events) run.events.add(e);
    await checkLineageColumns(client, target.physical, p);
    const { loader } = s;
    // merge: the objects load into a session staging table, applied after the checks.
    const merge = p.merge
      ? await stageMerge(
          client,
          target.physical,
          p.merge,
          p.columns?.map((c) => c.name),
        )
      : undefined;
    const into = merge?.staging ?? target.physical;
    // Quarantine and lineage take the careful path (row-care.ts): batches, no HEADER in COPY.
    const rejects = p.quarantine ? new RejectLog(p.quarantine) : undefined;
    const careful = rejects !== undefined || p.lineage !== undefined;
    const lineage = lineageColumns(p).map((c) => quoteIdent(c.name));
    const fileColumns =
      merge?.fileColumns ??
      p.columns?.map((c) => quoteIdent(c.name)) ??
      (lineage.length
        ? (await tableColumns(client, target.physical)).filter((c) => !lineage.includes(c))
        : undefined);
    const columns = lineage.length ? [...(fileColumns ?? []), ...lineage] : fileColumns;
    const options = await copyOptionsFor(client, p, target.physical, fileColumns, {
      header: !careful,
    });
    const rejectsAt = rejects
      ? rejectsLocation(run.realm.top.s3_temp, run.job.job_id, run.runId)
      : undefined;
    let rows = 0;
    const loaded: { obj: SourceObject; rows: number }[] = [];
    const objects = await notYetAppended(run, client, s);
    // §18: every header read (mapped or checked) before any row loads.
    const headers = await columnsFromHeaders({
      p,
      s3: s.s3,
      client,
      table: target.physical,
      merge,
      fileColumns,
      exclude: lineage,
      objects,
      events: run.events,
      at: `job ${run.job.job_id}: parameters.`,
    });
    for (const [i, obj] of objects.entries()) {
      const own = headers.perObject[i];
      const n = await loader.load({
        client,
        s3: s.s3,
        object: obj,
        table: into,
        columns: own ? [...own.columns, ...lineage] : columns,
        options: own
          ? await copyOptionsFor(client, { ...p, copy: own.copy }, target.physical, own.columns, {
              header: !careful,
            })
          : options,
        gzip: p.copy.gzip,
        records: careful ? carefulRecords(p, obj, run.runId, rejects) : undefined,
        countRows: run.options.progressRows === true,
        onBytes: (bytes, rowsSoFar) =>
          run.options.onProgress?.({
            object: s3Url(obj.bucket, obj.key),
            bytes,
            totalBytes: obj.size,
            ...(rowsSoFar === undefined ? {} : { rows: rowsSoFar }),
          }),
      });
      run.events.add(`${s3Url(obj.bucket, obj.key)}: ${n} rows into ${into} (${loader.name})`);
      rows += n;
      loaded.push({ obj, rows: n });
    }
    const { via } = s;
    for (const obj of [...loaded.map((l) => l.obj), ...(via && !s.listing ? [main] : [])])
      await checkUnchanged(s.s3, obj);
    rejects?.checkShare(rows);
    const rejected =
      rejects?.rows.length && rejectsAt
        ? await writeRejects(s.s3, rejectsAt, rejects.rows)
        : undefined;
    if (rejected)
      run.events.add(
        `${rejects?.rows.length} bad rows set aside in ${rejected} (on_bad_rows: quarantine)`,
      );
    const merged =
      merge && p.merge
        ? await applyMerge(client, target.physical, headers.merge ?? merge, p.merge)
        : undefined;
    if (merged)
      run.events.add(
        `merged into ${target.physical} on (${merge?.keys.join(", ")}): ${merged.inserted} inserted, ${merged.updated} updated, ${merged.deleted} deleted`,
      );
    await recordLoaded(
      client,
      [
        ...loaded.map((l) => ({ obj: l.obj, viaManifest: via, rows: l.rows })),
        ...(via ? [{ obj: main, viaManifest: undefined, rows }] : []),
      ].map((e) => ({
        ...e,
        table: logical,
        loadedTable: target.physical,
        jobId: run.job.job_id,
        runId: run.runId,
      })),
    );
    // The run's row in lava.run_log commits with the load (docs/operations.md §3).
    const logged = await recordLoadRun(
      client,
      run,
      {
        status: "ok" as const,
        ...base,
        loaded_table: target.physical,
        rows,
        ...(merged ? { merged } : {}),
        ...(rejects ? { rows_rejected: rejects.rows.length } : {}),
        ...(rejected ? { rejects: rejected } : {}),
      },
      { bytes: loaded.reduce((n, l) => n + l.obj.size, 0), objects: loaded.length },
    );
    await client.query("COMMIT");
    finished = true;
    run.events.add(`committed: ${rows} rows`);
    if (target.emptied)
      run.events.add(await reclaimEmptied(client, target.emptied, lockKey(logical)));
    return logged;
  } finally {
    if (!finished) await client.query("ROLLBACK").catch(() => undefined);
  }
}
