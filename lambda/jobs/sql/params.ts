/**
 * SQL job parameters after the dispatch merge (docs/sql-jobs.md §2-§4), checked
 * before any S3 or database work: lava's field names and defaults
 * (lava/config.py SQL_*), the connection a PostgreSQL one, the payload an
 * inline list (sqli) or a key/prefix under `s3_payloads` (sql, sqlc, sqlv).
 */
import { SpecError } from "../../shared/errors";
import { parseS3Location } from "../../shared/s3-objects";
import { POSTGRES_TYPES } from "../../spec/connection";
import { formatIssues } from "../../spec/format";
import {
  type SQLV_FORMATS,
  sqlcParamsSchema,
  sqlParamsSchema,
  sqlvParamsSchema,
} from "../../spec/job";
import type { Realm } from "../../spec/realm";
import { parseDuration } from "../../spec/units";
import type { JobRun } from "../types";
import { type CsvParams, csvParamsProblems, DEFAULT_CSV } from "./csv-writer";

/** lava's SQL_BATCH_SIZE. */
export const DEFAULT_BATCH_SIZE = 1024;
/** lava's SQLC_TIMEOUT and SQLV_TIMEOUT. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 10 * 60_000;
/** Largest SQL file read (lava's SQL_MAX_PAYLOAD_SIZE is 100K; files are read whole). */
export const MAX_SQL_FILE_BYTES = 5 * 1024 * 1024;

/** A payload under `s3_payloads`: one key, or every object under a prefix (ending in `/`). */
export interface SqlPayloadRef {
  readonly bucket: string;
  readonly key: string;
  readonly isPrefix: boolean;
}

interface Common {
  readonly connId: string;
  readonly jinja: boolean;
  readonly vars: Record<string, unknown>;
  /** `<s3_temp>/<job_id>/<run_id>`: bucket and key prefix (no trailing `/`). */
  readonly temp: { readonly bucket: string; readonly prefix: string };
}

/** sql, sqli and sqlv: statements run by the runner's own client. */
export interface SqlParams extends Common {
  readonly kind: "sql" | "sqli" | "sqlv";
  /** sqli: the payload's elements; otherwise the files' location. */
  readonly payload: readonly string[] | SqlPayloadRef;
  readonly raw: boolean;
  readonly transaction: boolean;
  readonly batchSize: number;
  readonly header: boolean;
  readonly csv: CsvParams;
  /** sql/sqli: sub-prefix of the outputs. */
  readonly output: string | undefined;
  /** sqlv: the one output's format. */
  readonly format: (typeof SQLV_FORMATS)[number];
  /** The run's limit (sqlv: lava's 10m default; sql/sqli: none but the deadline). */
  readonly timeoutMs: number | undefined;
}

/** sqlc: files run by psql. */
export interface SqlcParams extends Common {
  readonly kind: "sqlc";
  readonly payload: SqlPayloadRef;
  readonly args: readonly string[];
  /** Per file, as lava. */
  readonly timeoutMs: number;
}

function under(prefix: string, rel: string): string {
  return prefix ? `${prefix}/${rel}` : rel;
}

function payloadRef(realm: Realm, run: Pick<JobRun, "job">, problems: string[]) {
  const at = `job ${run.job.job_id}: payload`;
  const location = realm.top.s3_payloads;
  const payload = run.job.payload;
  if (payload === undefined) problems.push(`${at}: required for ${run.job.type} jobs`);
  else if (typeof payload !== "string")
    problems.push(`${at}: expected an S3 key or prefix under s3_payloads`);
  else if (payload.startsWith("/"))
    problems.push(`${at}: expected a key relative to s3_payloads, got ${JSON.stringify(payload)}`);
  if (!location) problems.push(`${at}: the realm has no s3_payloads to resolve it under`);
  if (!location || typeof payload !== "string" || payload.startsWith("/")) return undefined;
  const { bucket, prefix } = parseS3Location(location);
  return { bucket, key: under(prefix, payload), isPrefix: payload.endsWith("/") };
}

function rawConnId(params: Record<string, unknown>): string | undefined {
  return typeof params.conn_id === "string" ? params.conn_id : undefined;
}

function common(
  run: Pick<JobRun, "realm" | "job" | "runId">,
  p: { conn_id?: string | undefined; jinja?: boolean | undefined; vars?: unknown },
  problems: string[],
) {
  const { realm, job } = run;
  const at = `job ${job.job_id}: parameters.`;
  if (p.conn_id === undefined) problems.push(`${at}conn_id: required for ${job.type} jobs`);
  else {
    const conn = realm.connections.find((c) => c.conn_id === p.conn_id);
    if (!conn) problems.push(`${at}conn_id: connection ${p.conn_id} is not defined`);
    else if (!(POSTGRES_TYPES as readonly string[]).includes(conn.type))
      problems.push(
        `${at}conn_id: connection ${p.conn_id} is a ${conn.type} connection, expected a PostgreSQL one (${POSTGRES_TYPES.join(", ")})`,
      );
  }
  const tempLocation = realm.top.s3_temp;
  if (!tempLocation)
    problems.push(
      `job ${job.job_id}: the realm has no s3_temp (${job.type} jobs save output there)`,
    );
  const temp = tempLocation ? parseS3Location(tempLocation) : { bucket: "", prefix: "" };
  return {
    connId: p.conn_id ?? "",
    jinja: p.jinja ?? true,
    vars: (p.vars as Record<string, unknown> | undefined) ?? {},
    temp: { bucket: temp.bucket, prefix: under(temp.prefix, `${job.job_id}/${run.runId}`) },
  };
}

/** sql, sqli, sqlv: validate the merged parameters; throws `SpecError` listing every problem. */
export function checkSqlParams(run: Pick<JobRun, "realm" | "job" | "params" | "runId">): SqlParams {
  const { job } = run;
  if (job.type !== "sql" && job.type !== "sqli" && job.type !== "sqlv")
    throw new SpecError([`job ${job.job_id}: not a sql, sqli or sqlv job`]);
  const at = `job ${job.job_id}: parameters.`;
  const schema = job.type === "sqlv" ? sqlvParamsSchema : sqlParamsSchema;
  const parsed = schema.safeParse(run.params, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(at, parsed.error.issues);
  const p: Partial<ReturnType<typeof sqlvParamsSchema.parse> & { output: string }> = parsed.success
    ? parsed.data
    : {};
  // A bad parameter elsewhere must not hide a bad connection: read conn_id raw too.
  const base = common(run, { ...p, conn_id: p.conn_id ?? rawConnId(run.params) }, problems);
  const csv: CsvParams = {
    delimiter: p.delimiter ?? DEFAULT_CSV.delimiter,
    dialect: p.dialect ?? DEFAULT_CSV.dialect,
    doublequote: p.doublequote ?? DEFAULT_CSV.doublequote,
    escapechar: p.escapechar === undefined ? DEFAULT_CSV.escapechar : p.escapechar,
    quotechar: p.quotechar === undefined ? DEFAULT_CSV.quotechar : p.quotechar,
    quoting: p.quoting ?? DEFAULT_CSV.quoting,
  };
  if (parsed.success) problems.push(...csvParamsProblems(csv).map((m) => `${at}${m}`));
  let payload: SqlParams["payload"] | undefined;
  if (job.type === "sqli") {
    const inline = job.payload as string | readonly string[] | undefined;
    if (inline === undefined) problems.push(`job ${job.job_id}: payload: required for sqli jobs`);
    else payload = typeof inline === "string" ? [inline] : inline;
  } else payload = payloadRef(run.realm, run, problems);
  if (problems.length > 0 || payload === undefined) throw new SpecError(problems);
  return {
    kind: job.type,
    ...base,
    payload,
    raw: p.raw ?? false,
    transaction: p.transaction ?? false,
    batchSize: p.batch_size ?? DEFAULT_BATCH_SIZE,
    header: p.header ?? false,
    csv,
    output: p.output,
    format: p.format ?? "csv",
    timeoutMs:
      parseDuration(p.timeout) ?? (job.type === "sqlv" ? DEFAULT_CLIENT_TIMEOUT_MS : undefined),
  };
}

/** sqlc: validate the merged parameters; throws `SpecError` listing every problem. */
export function checkSqlcParams(
  run: Pick<JobRun, "realm" | "job" | "params" | "runId">,
): SqlcParams {
  const { job } = run;
  if (job.type !== "sqlc") throw new SpecError([`job ${job.job_id}: not a sqlc job`]);
  const at = `job ${job.job_id}: parameters.`;
  const parsed = sqlcParamsSchema.safeParse(run.params, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(at, parsed.error.issues);
  const p: Partial<ReturnType<typeof sqlcParamsSchema.parse>> = parsed.success ? parsed.data : {};
  const base = common(run, { ...p, conn_id: p.conn_id ?? rawConnId(run.params) }, problems);
  const payload = payloadRef(run.realm, run, problems);
  if (problems.length > 0 || !payload) throw new SpecError(problems);
  return {
    kind: "sqlc",
    ...base,
    payload,
    args: p.args ?? [],
    timeoutMs: parseDuration(p.timeout) ?? DEFAULT_CLIENT_TIMEOUT_MS,
  };
}
