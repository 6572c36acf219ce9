/**
 * `lava-aurora runs --conn CONN_ID`: the rows of lava.run_log in the connection's
 * database (docs/operations.md §3, §4), with the same filters as the executions.
 */
import { jobApplicationName } from "../../lambda/connectors/app-name";
import { connectPg } from "../../lambda/connectors/pg-client";
import { resolveDbConnection } from "../../lambda/connectors/resolve-connection";
import { RUN_LOG_TABLE, runLogAccess } from "../../lambda/jobs/run-log";
import type { Realm } from "../../lambda/spec/realm";
import { defaultResolveDeps } from "./deps";
import { formatDuration, formatTime } from "./executions";

/** A run log row as `runs` prints it: numbers as numbers, times in ISO 8601. */
export interface RunLogEntry {
  readonly job_id: string;
  readonly run_id: string;
  readonly execution: string | null;
  readonly attempt: number;
  readonly status: string;
  readonly reason: string | null;
  readonly error_name: string | null;
  readonly error_message: string | null;
  readonly bucket: string | null;
  readonly key: string | null;
  readonly target_table: string | null;
  readonly rows_loaded: number | null;
  readonly bytes_loaded: number | null;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
}

export interface RunLogFilters {
  readonly since: Date;
  readonly jobId?: string;
  readonly failed?: boolean;
  readonly limit: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** The run log's rows, newest first; `undefined` when the database has no run log yet. */
export async function readRunLog(
  realm: Realm,
  connId: string,
  f: RunLogFilters,
): Promise<RunLogEntry[] | undefined> {
  const conn = await resolveDbConnection(realm, connId, defaultResolveDeps());
  const client = await connectPg(conn, jobApplicationName(realm.name, "runs"));
  try {
    if ((await runLogAccess(client)).state === "missing") return undefined;
    const { rows } = await client.query<Record<string, unknown>>(
      `SELECT job_id, run_id, execution, attempt, status, reason, error_name, error_message,
              bucket, key, target_table, rows_loaded, bytes_loaded, started_at, finished_at, duration_ms
         FROM ${RUN_LOG_TABLE}
        WHERE finished_at >= $1 AND realm = $2
          AND ($3::text IS NULL OR job_id = $3) AND (NOT $4 OR status = 'failed')
        ORDER BY finished_at DESC LIMIT $5`,
      [f.since, realm.name, f.jobId ?? null, f.failed === true, f.limit],
    );
    return rows.map((r) => ({
      job_id: String(r.job_id),
      run_id: String(r.run_id),
      execution: (r.execution as string | null) ?? null,
      attempt: Number(r.attempt),
      status: String(r.status),
      reason: (r.reason as string | null) ?? null,
      error_name: (r.error_name as string | null) ?? null,
      error_message: (r.error_message as string | null) ?? null,
      bucket: (r.bucket as string | null) ?? null,
      key: (r.key as string | null) ?? null,
      target_table: (r.target_table as string | null) ?? null,
      rows_loaded: num(r.rows_loaded),
      bytes_loaded: num(r.bytes_loaded),
      started_at: (r.started_at as Date).toISOString(),
      finished_at: (r.finished_at as Date).toISOString(),
      duration_ms: Number(r.duration_ms),
    }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One run log row on one line: finish, status, duration, job, outcome, object, run id. */
export function runLogLine(r: RunLogEntry, jobWidth = 24): string {
  const outcome =
    r.status === "ok"
      ? `ok, ${r.rows_loaded ?? "?"} rows`
      : r.status === "skipped"
        ? `skipped: ${r.reason ?? "?"}`
        : `failed: ${r.error_name ?? "?"}: ${(r.error_message ?? "").slice(0, 80)}`;
  const object = r.bucket && r.key ? `s3://${r.bucket}/${r.key}` : "-";
  return [
    formatTime(r.finished_at),
    r.status.padEnd(9),
    formatDuration(r.duration_ms).padStart(7),
    r.job_id.padEnd(jobWidth),
    outcome,
    ` ${object}  run ${r.run_id}${r.attempt > 1 ? ` attempt ${r.attempt}` : ""}`,
  ].join("  ");
}
