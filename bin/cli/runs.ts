/**
 * `lava-aurora runs [--job J] [--since 1d] [--failed] [--conn CONN_ID] [--json]`
 * (docs/operations.md §4): the deployed state machine's executions, newest
 * first, each with its job (from its input) and what came of it; with `--conn`,
 * also the rows of lava.run_log in that connection's database.
 */
import type { ExecutionStatus } from "@aws-sdk/client-sfn";
import { deployedStateMachineArn } from "./deployed";
import { EXIT, reportError, UsageError } from "./errors";
import {
  describeExecution,
  durationFlag,
  type ExecutionSummary,
  FAILED_STATUSES,
  listExecutionsSince,
  mapLimit,
  positiveFlag,
  sfnClient,
  summaryLine,
} from "./executions";
import { loadRealm, type RealmFlags } from "./realm";
import { type RunLogEntry, readRunLog, runLogLine } from "./run-log-query";

export interface RunsFlags extends RealmFlags {
  readonly job?: string;
  readonly since?: string;
  readonly failed?: boolean;
  readonly conn?: string;
  readonly limit?: string;
  readonly json?: boolean;
}

/** What `runs --json` prints. */
export interface RunsReport {
  readonly state_machine: string;
  readonly since: string;
  readonly executions: ExecutionSummary[];
  /** With `--conn`: the run log's rows (null: the database has no run log yet). */
  readonly run_log?: RunLogEntry[] | null;
}

/** DescribeExecution calls at once: well within Step Functions' throttling bucket. */
const DESCRIBE_CONCURRENCY = 8;

export async function runsCommand(
  flags: RunsFlags,
  out: NodeJS.WritableStream = process.stdout,
  now = new Date(),
): Promise<number> {
  try {
    const sinceMs = durationFlag(flags.since ?? "1d", "--since") ?? 86_400_000;
    const limit = Math.floor(positiveFlag(flags.limit, "--limit", 50));
    const realm = await loadRealm(flags);
    if (flags.conn !== undefined && !realm.connections.some((c) => c.conn_id === flags.conn))
      throw new UsageError(`--conn: no connection ${flags.conn} in realm ${realm.name}`);
    const since = new Date(now.getTime() - sinceMs);
    const stateMachineArn = await deployedStateMachineArn(realm);
    const sfn = await sfnClient();
    const statuses = flags.failed ? [...FAILED_STATUSES] : undefined;
    // The job id is in each execution's input: only describing tells it, so with --job
    // every execution of the window is described (then filtered) up to a bound.
    const listed = await listExecutionsSince(sfn, stateMachineArn, since, {
      ...(statuses ? { statuses: statuses as ExecutionStatus[] } : {}),
      limit: flags.job === undefined ? limit : Math.max(limit, 1000),
    });
    const described = await mapLimit(listed, DESCRIBE_CONCURRENCY, (e) =>
      describeExecution(sfn, e.executionArn ?? ""),
    );
    const executions = described
      .filter((s) => flags.job === undefined || s.job_id === flags.job)
      .slice(0, limit);
    const runLog =
      flags.conn === undefined
        ? undefined
        : await readRunLog(realm, flags.conn, {
            since,
            ...(flags.job === undefined ? {} : { jobId: flags.job }),
            failed: flags.failed === true,
            limit,
          });
    const report: RunsReport = {
      state_machine: stateMachineArn,
      since: since.toISOString(),
      executions,
      ...(flags.conn === undefined ? {} : { run_log: runLog ?? null }),
    };
    if (flags.json) out.write(`${JSON.stringify(report, null, 2)}\n`);
    else out.write(humanRuns(report, flags));
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

/** The report as text: a line per execution, then a line per run log row. */
export function humanRuns(report: RunsReport, flags: Pick<RunsFlags, "conn" | "failed">): string {
  const width = Math.max(
    3,
    ...report.executions.map((e) => (e.job_id ?? "?").length),
    ...(report.run_log ?? []).map((r) => r.job_id.length),
  );
  const what = flags.failed ? "failed executions" : "executions";
  const lines = [
    `${report.executions.length} ${what} of ${report.state_machine.split(":").at(-1)} since ${report.since}`,
    ...report.executions.map((e) => summaryLine(e, width)),
  ];
  if (flags.conn !== undefined) {
    lines.push("");
    if (report.run_log === null || report.run_log === undefined)
      lines.push(`no lava.run_log in ${flags.conn}'s database yet`);
    else {
      const n = report.run_log.length;
      lines.push(`${n} row${n === 1 ? "" : "s"} of lava.run_log in ${flags.conn}'s database`);
      lines.push(...report.run_log.map((r) => runLogLine(r, width)));
    }
  }
  return `${lines.join("\n")}\n`;
}
