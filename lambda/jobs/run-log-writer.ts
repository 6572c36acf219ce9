/**
 * The run log's rows that no load transaction wrote (docs/operations.md §3): a
 * skipped run, a failed one (its transaction rolled back, taking nothing with
 * it), written afterwards in a session of their own, best effort — a run log
 * that cannot be written never changes the run's result.
 */
import { jobApplicationName } from "../connectors/app-name";
import { pgClientConfig } from "../connectors/pg-client";
import { resolveDbConnection } from "../connectors/resolve-connection";
import type { ResolvedDb } from "../connectors/types";
import type { JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import { isTemplated } from "../spec/template-syntax";
import { ensureRunLog, type RunLogRow, recordRun, runLogRetention, runLogRow } from "./run-log";
import type { Dispatch, JobDeps, JobResult, RunOptions } from "./types";

/** The most the best-effort write waits for a connection or a statement. */
export const BEST_EFFORT_TIMEOUT_MS = 5_000;

/** Whether the best-effort write happened, and if not, why. */
export type BestEffort =
  | { readonly written: true }
  | { readonly written: false; readonly why: string };

/**
 * Write `row` in a session of its own (creating the run log when missing and
 * allowed), with short timeouts, never past `deadline`. Never throws.
 */
export async function recordRunBestEffort(
  conn: ResolvedDb,
  row: RunLogRow,
  options: { readonly retentionMs?: number; readonly deadline?: number } = {},
): Promise<BestEffort> {
  const left = options.deadline === undefined ? Infinity : options.deadline - Date.now();
  // Within a second of the deadline the write would be cut off half way: not started.
  if (left < 1_000) return { written: false, why: "too little time left before the deadline" };
  const timeout = Math.floor(Math.min(BEST_EFFORT_TIMEOUT_MS, left - 500));
  try {
    const { default: pg } = await import("pg");
    const client = new pg.Client({
      ...pgClientConfig(conn, jobApplicationName(row.realm, row.job_id)),
      connectionTimeoutMillis: timeout,
      statement_timeout: timeout,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await ensureRunLog(client, conn.connId);
      await recordRun(
        client,
        row,
        options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs },
      );
      return { written: true };
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { written: false, why: `${e.name}: ${e.message}` };
  }
}

/**
 * A load parameter of the dispatch as given (a literal one, or one without a
 * template): a failed run's result may not say its object or table.
 */
function givenParam(job: JobSpec, dispatch: Dispatch, name: string): string | undefined {
  const own = (job.parameters ?? {}) as Record<string, unknown>;
  const given = dispatch.parameters?.[name];
  const value = given ?? own[name];
  if (typeof value !== "string") return undefined;
  const literal = given !== undefined && (dispatch.literal_parameters ?? []).includes(name);
  return literal || !isTemplated(value) ? value : undefined;
}

/** The object and table a load was for, from its result, else from its parameters. */
function loadTarget(job: JobSpec, dispatch: Dispatch, result: JobResult) {
  const schema = givenParam(job, dispatch, "schema");
  const table = givenParam(job, dispatch, "table");
  const bucket = result.bucket ?? givenParam(job, dispatch, "bucket");
  const key = result.key ?? givenParam(job, dispatch, "key");
  const target = result.table ?? (schema && table ? `${schema}.${table}` : undefined);
  return {
    ...(bucket === undefined ? {} : { bucket }),
    ...(key === undefined ? {} : { key }),
    ...(target === undefined ? {} : { table: target }),
  };
}

/**
 * Why a run gets no row, if it gets none: a run refused before any work (a
 * disabled job, a bad dispatch or spec) touched no database and must not make
 * one touched now; a run whose connection could not be resolved or reached
 * would only fail the same way again (its next attempt writes its own row).
 */
function notLogged(result: JobResult): string | undefined {
  if (result.status === "skipped" && result.reason === "disabled") return "the job is disabled";
  switch (result.error?.name) {
    case "SpecError":
    case "TemplateError":
      return "refused before any work";
    case "SecretAccessError":
    case "ConnectionConfigError":
      return "its connection could not be resolved";
    case "DatabaseConnectError":
      return "the database could not be reached";
    default:
      return undefined;
  }
}

/**
 * After a db_from_s3 run whose row no load transaction wrote (`run_logged` not
 * set: skipped, failed, or a load that does not log itself): write it, best
 * effort, and say so in the result (`run_logged`, or an event line saying why not).
 */
export async function logUnloggedRun(
  realm: Realm,
  job: JobSpec,
  dispatch: Dispatch,
  result: JobResult,
  deps: JobDeps,
  options: RunOptions & { readonly start: Date },
): Promise<void> {
  if (job.type !== "db_from_s3" || result.run_logged) return;
  const connId = givenParam(job, dispatch, "db_conn_id");
  if (connId === undefined || !realm.connections.some((c) => c.conn_id === connId)) {
    result.events.push("run log: not written (no connection to write it to)");
    return;
  }
  const why = notLogged(result);
  if (why) {
    result.events.push(`run log: not written to ${connId} (${why})`);
    return;
  }
  const row = runLogRow(
    { ...result, ...loadTarget(job, dispatch, result) },
    {
      realm: realm.name,
      jobType: job.type,
      startedAt: options.start,
      ...(options.execution === undefined ? {} : { execution: options.execution }),
      ...(options.attempt === undefined ? {} : { attempt: options.attempt }),
    },
  );
  let outcome: BestEffort;
  try {
    const conn = await resolveDbConnection(realm, connId, deps.resolve);
    const retentionMs = runLogRetention(realm);
    outcome = await recordRunBestEffort(conn, row, {
      ...(retentionMs === undefined ? {} : { retentionMs }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    outcome = { written: false, why: `${e.name}: ${e.message}` };
  }
  if (outcome.written) result.run_logged = true;
  else result.events.push(`run log: not written to ${connId}: ${outcome.why}`);
}
