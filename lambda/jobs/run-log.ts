/**
 * The run log (docs/operations.md §3): one row per db_from_s3 run attempt in
 * `lava.run_log` of the target database, so a DBA can `SELECT` what ran, what it
 * loaded and why it failed. A load that commits writes its row in its own
 * transaction (`recordRun` before COMMIT); a skipped or failed run's row is
 * written afterwards in a session of its own (run-log-writer.ts).
 */
import type { ClientBase } from "pg";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import {
  ensureLavaTable,
  type LavaTable,
  type LavaTableAccess,
  tableAccess,
  tableGrants,
} from "./lava-table";
import type { JobOutcome, JobResult, JobRun } from "./types";

/** Where the run log lives in the target database. */
export const RUN_LOG_TABLE = "lava.run_log";

/** The run log's DDL, for a DBA to run where the loading user may not create it. */
export const RUN_LOG_DDL = `CREATE SCHEMA IF NOT EXISTS lava;
CREATE TABLE IF NOT EXISTS lava.run_log (
  job_id        text        NOT NULL,
  run_id        text        NOT NULL,
  execution     text,                  -- Step Functions execution ARN; null when run by the CLI
  attempt       integer     NOT NULL,  -- 1 for the first attempt of the run
  realm         text        NOT NULL,
  job_type      text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('ok', 'skipped', 'failed')),
  reason        text,                  -- why skipped: duplicate, stale, missing, …
  error_name    text,                  -- failed: the error's name (BadDataError, …)
  error_message text,
  bucket        text,
  key           text,                  -- the object, or the manifest's key, or the prefix
  objects       integer,               -- objects loaded (a manifest's or a prefix's parts)
  target_table  text,                  -- logical table, "schema"."table"
  rows_loaded   bigint,
  bytes_loaded  bigint,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz NOT NULL,
  duration_ms   bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS run_log_finished_ix ON lava.run_log (finished_at);
CREATE INDEX IF NOT EXISTS run_log_job_ix ON lava.run_log (job_id, finished_at DESC);`;

/** Error messages are kept to this many characters. */
export const RUN_LOG_MESSAGE_MAX = 2000;
/** Rows deleted for retention per run at most (the rest go with later runs). */
export const RUN_LOG_PRUNE_LIMIT = 1000;

/** One row of `lava.run_log`, its fields named as its columns. */
export interface RunLogRow {
  readonly job_id: string;
  readonly run_id: string;
  readonly execution: string | null;
  readonly attempt: number;
  readonly realm: string;
  readonly job_type: string;
  readonly status: JobResult["status"];
  readonly reason: string | null;
  readonly error_name: string | null;
  readonly error_message: string | null;
  readonly bucket: string | null;
  readonly key: string | null;
  readonly objects: number | null;
  readonly target_table: string | null;
  readonly rows_loaded: number | null;
  readonly bytes_loaded: number | null;
  readonly started_at: Date;
  readonly finished_at: Date;
  readonly duration_ms: number;
}

/** Where and when a run ran, for its row. */
export interface RunLogContext {
  readonly realm: string;
  readonly jobType: string;
  /** Step Functions execution ARN. @default - null (run by the CLI) */
  readonly execution?: string;
  /** @default 1 */
  readonly attempt?: number;
  readonly startedAt: Date;
  /** @default - now */
  readonly finishedAt?: Date;
  /** Bytes read from S3. @default - null (not known) */
  readonly bytes?: number;
  /** Objects loaded. @default - null (not known) */
  readonly objects?: number;
}

/** The result fields a row is built from. */
export type RunLogResult = Pick<JobResult, "job_id" | "run_id" | "status"> &
  Partial<Pick<JobResult, "reason" | "error" | "bucket" | "key" | "table" | "rows">>;

/** The run log row of a run's result. */
export function runLogRow(result: RunLogResult, context: RunLogContext): RunLogRow {
  const finished = context.finishedAt ?? new Date();
  const message = result.error?.message;
  return {
    job_id: result.job_id,
    run_id: result.run_id,
    execution: context.execution ?? null,
    attempt: context.attempt ?? 1,
    realm: context.realm,
    job_type: context.jobType,
    status: result.status,
    reason: result.reason ?? null,
    error_name: result.error?.name ?? null,
    error_message:
      message === undefined
        ? null
        : message.length > RUN_LOG_MESSAGE_MAX
          ? `${message.slice(0, RUN_LOG_MESSAGE_MAX - 1)}…`
          : message,
    bucket: result.bucket ?? null,
    key: result.key ?? null,
    objects: context.objects ?? null,
    target_table: result.table ?? null,
    rows_loaded: result.rows ?? null,
    bytes_loaded: context.bytes ?? null,
    started_at: context.startedAt,
    finished_at: finished,
    duration_ms: Math.max(0, finished.getTime() - context.startedAt.getTime()),
  };
}

/**
 * The row of a load's outcome, from inside the load (its transaction has no
 * JobResult yet): job, run, realm, start, execution and attempt from `run`.
 */
export function runLogRowOf(
  run: Pick<JobRun, "realm" | "job" | "runId" | "start" | "options">,
  outcome: JobOutcome,
  extra: Pick<RunLogContext, "bytes" | "objects"> = {},
): RunLogRow {
  return runLogRow(
    { ...outcome, job_id: run.job.job_id, run_id: run.runId },
    {
      realm: run.realm.name,
      jobType: run.job.type,
      startedAt: run.start,
      ...(run.options.execution === undefined ? {} : { execution: run.options.execution }),
      ...(run.options.attempt === undefined ? {} : { attempt: run.options.attempt }),
      ...extra,
    },
  );
}

/**
 * In a load's transaction, just before COMMIT: insert the run's row (and prune
 * per the realm's retention) with the load's client, and return the outcome
 * marked `run_logged`, so the runner does not write it again. `ensureRunLog`
 * must have run on the client before BEGIN.
 */
export async function recordLoadRun<T extends JobOutcome>(
  client: ClientBase,
  run: Pick<JobRun, "realm" | "job" | "runId" | "start" | "options">,
  outcome: T,
  extra: Pick<RunLogContext, "bytes" | "objects"> = {},
): Promise<T & { run_logged: true }> {
  const retentionMs = runLogRetention(run.realm);
  await recordRun(
    client,
    runLogRowOf(run, outcome, extra),
    retentionMs === undefined ? {} : { retentionMs },
  );
  return { ...outcome, run_logged: true };
}

/** The realm's `run_log.retention` in milliseconds; undefined: rows are kept. */
export function runLogRetention(realm: Pick<Realm, "top">): number | undefined {
  const value = realm.top.run_log?.retention;
  return value === undefined ? undefined : parseDuration(value);
}

const COLUMNS = [
  "job_id",
  "run_id",
  "execution",
  "attempt",
  "realm",
  "job_type",
  "status",
  "reason",
  "error_name",
  "error_message",
  "bucket",
  "key",
  "objects",
  "target_table",
  "rows_loaded",
  "bytes_loaded",
  "started_at",
  "finished_at",
  "duration_ms",
] as const satisfies readonly (keyof RunLogRow)[];

/**
 * Delete up to `limit` rows finished more than `retentionMs` ago. Rows another
 * session is deleting are skipped, not waited for: a load never queues behind
 * another's pruning.
 */
export async function pruneRunLog(
  client: ClientBase,
  retentionMs: number,
  limit = RUN_LOG_PRUNE_LIMIT,
): Promise<number> {
  const r = await client.query(
    `DELETE FROM ${RUN_LOG_TABLE} WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM ${RUN_LOG_TABLE}
        WHERE finished_at < now() - make_interval(secs => $1::double precision / 1000)
        LIMIT $2 FOR UPDATE SKIP LOCKED))`,
    [retentionMs, limit],
  );
  return r.rowCount ?? 0;
}

/**
 * Insert the run's row with `client`, in whatever transaction it is in (a load
 * calls it just before COMMIT, so the row commits with the data or not at all);
 * with `retentionMs`, then delete rows older than that (at most
 * RUN_LOG_PRUNE_LIMIT). The table must exist: `ensureRunLog` outside the transaction.
 */
export async function recordRun(
  client: ClientBase,
  row: RunLogRow,
  options: { readonly retentionMs?: number } = {},
): Promise<{ pruned: number }> {
  await client.query(
    `INSERT INTO ${RUN_LOG_TABLE} (${COLUMNS.join(", ")})
     VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`,
    COLUMNS.map((c) => row[c]),
  );
  const pruned =
    options.retentionMs === undefined ? 0 : await pruneRunLog(client, options.retentionMs);
  return { pruned };
}

/** The run log as one of the project's tables (lava-table.ts). */
export const RUN_LOG: LavaTable = {
  relname: "run_log",
  what: "run log",
  privileges: ["SELECT", "INSERT", "DELETE"],
  ddl: RUN_LOG_DDL,
};

/** What the session may do with the run log, read from the catalogs. */
export type RunLogAccess = LavaTableAccess;

export const runLogAccess = (client: ClientBase): Promise<RunLogAccess> =>
  tableAccess(client, RUN_LOG);

/** The GRANTs that let `user` write (and prune) the run log, identifiers quoted. */
export const runLogGrants = (user: string): string[] => tableGrants(user, RUN_LOG);

/**
 * Create the run log if it is missing; outside any load transaction. When the
 * user may not create it, or may not use it, a DatabasePermissionError says
 * what to run.
 */
export const ensureRunLog = (client: ClientBase, connId: string): Promise<"exists" | "created"> =>
  ensureLavaTable(client, connId, RUN_LOG);
