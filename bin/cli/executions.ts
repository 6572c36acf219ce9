/**
 * Reading the deployed realm's state machine for `runs`, `tail` and `show`
 * (docs/operations.md §4): its executions newest first, each described (job id
 * from its input, the job's result from its output or its failure's cause),
 * summarized the same way for every command, as JSON or as a line.
 */
import type {
  DescribeExecutionCommandOutput,
  ExecutionListItem,
  ExecutionStatus,
  ListExecutionsCommandOutput,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { isTransient, LavaError } from "../../lambda/shared/errors";
import { parseDuration } from "../../lambda/spec/units";
import { UsageError } from "./errors";

/** Statuses of an execution that did not succeed. */
export const FAILED_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"] as const;

/** The job's result as an execution reports it (its output, or its failure's cause). */
export interface ReportedResult {
  readonly status: "ok" | "skipped" | "failed";
  readonly run_id: string | null;
  readonly reason: string | null;
  readonly rows: number | null;
  readonly error: { readonly name: string; readonly message: string } | null;
}

/** One execution, as every command prints it (`--json`: this object). */
export interface ExecutionSummary {
  readonly name: string;
  readonly execution_arn: string;
  /** From the execution's input; null when it names none. */
  readonly job_id: string | null;
  readonly status: ExecutionStatus | string;
  readonly started_at: string;
  readonly stopped_at: string | null;
  readonly duration_ms: number | null;
  readonly redrive_count: number;
  readonly result: ReportedResult | null;
  /** The execution's own error and cause, when it did not succeed. */
  readonly error: string | null;
  readonly cause: string | null;
}

export function awsError(what: string, err: unknown): LavaError {
  const e = err instanceof Error ? err : new Error(String(err));
  return new LavaError(`${what}: ${e.name}: ${e.message}`, {
    cause: err,
    retryable: isTransient(err),
  });
}

/** The Step Functions client (SDK loaded on first use). */
export async function sfnClient(): Promise<SFNClient> {
  const { SFNClient } = await import("@aws-sdk/client-sfn");
  return new SFNClient({});
}

/** A duration flag (`1d`, `30m`, `90s`, a bare number of seconds) in milliseconds. */
export function durationFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new UsageError(
      `${flag}: expected a duration like 30s, 15m, 1d, got ${JSON.stringify(value)}`,
    );
  return ms;
}

/** A positive number flag. */
export function positiveFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0))
    throw new UsageError(`${flag}: expected a number > 0, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Executions of the state machine started at or after `since`, newest first
 * (ListExecutions' order), optionally of some statuses, at most `limit`.
 */
export async function listExecutionsSince(
  sfn: SFNClient,
  stateMachineArn: string,
  since: Date,
  options: { readonly statuses?: readonly ExecutionStatus[]; readonly limit?: number } = {},
): Promise<ExecutionListItem[]> {
  const { ListExecutionsCommand } = await import("@aws-sdk/client-sfn");
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const out: ExecutionListItem[] = [];
  for (const statusFilter of options.statuses ?? [undefined]) {
    let nextToken: string | undefined;
    let kept = 0;
    do {
      let page: ListExecutionsCommandOutput;
      try {
        page = await sfn.send(
          new ListExecutionsCommand({
            stateMachineArn,
            maxResults: 100,
            ...(statusFilter ? { statusFilter } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (err) {
        throw awsError(`cannot list the executions of ${stateMachineArn}`, err);
      }
      const items = page.executions ?? [];
      const recent = items.filter((e) => (e.startDate?.getTime() ?? 0) >= since.getTime());
      out.push(...recent.slice(0, limit - kept));
      kept += recent.length;
      // Newest first: once one is older than `since`, so are the rest.
      nextToken = recent.length === items.length && kept < limit ? page.nextToken : undefined;
    } while (nextToken);
  }
  return out
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
    .slice(0, limit);
}

/** `f` over `items`, at most `n` at a time, results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  n: number,
  f: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;

/** A job result in a value, if it is one. */
function asResult(v: unknown): ReportedResult | undefined {
  const r = record(v);
  const status = r?.status;
  if (!r || (status !== "ok" && status !== "skipped" && status !== "failed")) return undefined;
  const error = record(r.error);
  return {
    status,
    run_id: typeof r.run_id === "string" ? r.run_id : null,
    reason: typeof r.reason === "string" ? r.reason : null,
    rows: typeof r.rows === "number" ? r.rows : null,
    error:
      error && typeof error.name === "string"
        ? { name: error.name, message: typeof error.message === "string" ? error.message : "" }
        : null,
  };
}

/**
 * The job's result an execution reports: its output (`Done` outputs the result;
 * `Skipped (disabled)` the plan), or its failure's cause — the result itself, or
 * a Lambda error whose message is the result (the runner's JobRunError).
 */
export function reportedResult(
  output: string | undefined,
  cause: string | undefined,
): ReportedResult | null {
  const out = parseJson(output);
  const fromOutput = asResult(out);
  if (fromOutput) return fromOutput;
  const plan = record(record(out)?.plan);
  if (plan?.enabled === false)
    return {
      status: "skipped",
      run_id: null,
      reason: typeof plan.skipped === "string" ? plan.skipped : "disabled",
      rows: null,
      error: null,
    };
  const c = parseJson(cause);
  const lambdaMessage = record(c)?.errorMessage;
  return (
    asResult(c) ??
    (typeof lambdaMessage === "string" ? asResult(parseJson(lambdaMessage)) : undefined) ??
    null
  );
}

/** The job id of an execution's input, if it names one. */
export function jobIdOf(input: string | undefined): string | null {
  const id = record(parseJson(input))?.job_id;
  return typeof id === "string" ? id : null;
}

/** One described execution as the commands print it. */
export function summarize(e: DescribeExecutionCommandOutput, now = new Date()): ExecutionSummary {
  const start = e.startDate ?? now;
  const stop = e.stopDate ?? null;
  return {
    name: e.name ?? "",
    execution_arn: e.executionArn ?? "",
    job_id: jobIdOf(e.input),
    status: e.status ?? "UNKNOWN",
    started_at: start.toISOString(),
    stopped_at: stop ? stop.toISOString() : null,
    duration_ms: stop ? stop.getTime() - start.getTime() : null,
    redrive_count: e.redriveCount ?? 0,
    result: reportedResult(e.output, e.cause),
    error: e.error ?? null,
    cause: e.cause ?? null,
  };
}

/** DescribeExecution, summarized. */
export async function describeExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<ExecutionSummary> {
  const { DescribeExecutionCommand } = await import("@aws-sdk/client-sfn");
  try {
    return summarize(await sfn.send(new DescribeExecutionCommand({ executionArn })));
  } catch (err) {
    throw awsError(`cannot describe ${executionArn}`, err);
  }
}

/** `1.2s`, `3m04s`, `2h05m`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** `2026-01-02 03:04:05Z`. */
export function formatTime(iso: string | null): string {
  return iso === null ? "-" : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

const shorten = (text: string, max = 100) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** What came of it, in a few words: `ok, 7 rows`, `skipped: duplicate`, `failed: BadDataError: …`. */
export function outcomeText(s: ExecutionSummary): string {
  const r = s.result;
  if (r?.status === "ok") return r.rows === null ? "ok" : `ok, ${r.rows} rows`;
  if (r?.status === "skipped") return `skipped: ${r.reason ?? "?"}`;
  if (r?.status === "failed" && r.error)
    return shorten(`failed: ${r.error.name}: ${r.error.message}`);
  if (s.status === "RUNNING") return s.redrive_count > 0 ? "running (redriven)" : "running";
  if (s.error) return shorten(`${s.error}${s.cause ? `: ${s.cause}` : ""}`);
  return s.status.toLowerCase();
}

/** One execution on one line: start, status, duration, job, outcome, name. */
export function summaryLine(s: ExecutionSummary, jobWidth = 24): string {
  return [
    formatTime(s.started_at),
    s.status.padEnd(9),
    formatDuration(s.duration_ms).padStart(7),
    (s.job_id ?? "?").padEnd(jobWidth),
    outcomeText(s),
    ` ${s.name}`,
  ].join("  ");
}
