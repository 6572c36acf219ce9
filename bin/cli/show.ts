/**
 * `lava-aurora show EXECUTION [--json]` (docs/operations.md §4): one execution of
 * the deployed state machine from its history (GetExecutionHistory): the states
 * it went through, with their retries and failures, then the job's result or
 * the execution's error and cause.
 */
import type { HistoryEvent, SFNClient } from "@aws-sdk/client-sfn";
import { deployedStateMachineArn } from "./deployed";
import { EXIT, reportError } from "./errors";
import {
  awsError,
  describeExecution,
  type ExecutionSummary,
  formatDuration,
  formatTime,
  outcomeText,
  sfnClient,
} from "./executions";
import { loadRealm, type RealmFlags } from "./realm";
import { executionArnOf } from "./redrive";

/** A state the execution entered. */
export interface StateVisit {
  readonly name: string;
  /** Task, Choice, Pass, Wait, Map, Parallel, Succeed, Fail. */
  readonly type: string;
  readonly entered_at: string;
  exited_at: string | null;
  /** Task states: attempts beyond the first (the state's Retry). */
  retries: number;
  /** Each failed attempt's error and cause, in order. */
  readonly failures: { error: string | null; cause: string | null }[];
}

/** What `show --json` prints. */
export interface ShowReport extends ExecutionSummary {
  readonly states: StateVisit[];
  /** The history's events, counted. */
  readonly events: number;
}

const iso = (d: Date | undefined) => (d ?? new Date(0)).toISOString();

/** Events that mean an attempt of the current state failed. */
const FAILURE_DETAILS = {
  TaskFailed: "taskFailedEventDetails",
  TaskTimedOut: "taskTimedOutEventDetails",
  TaskStartFailed: "taskStartFailedEventDetails",
  TaskSubmitFailed: "taskSubmitFailedEventDetails",
  LambdaFunctionFailed: "lambdaFunctionFailedEventDetails",
  LambdaFunctionTimedOut: "lambdaFunctionTimedOutEventDetails",
  LambdaFunctionStartFailed: "lambdaFunctionStartFailedEventDetails",
  LambdaFunctionScheduleFailed: "lambdaFunctionScheduleFailedEventDetails",
  ActivityFailed: "activityFailedEventDetails",
  ActivityTimedOut: "activityTimedOutEventDetails",
  MapRunFailed: "mapRunFailedEventDetails",
  EvaluationFailed: "evaluationFailedEventDetails",
} as const satisfies Record<string, keyof HistoryEvent>;

/** Events that start an attempt of a Task state. */
const SCHEDULED = new Set(["TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"]);

/** The states of a history, in the order entered (a Map's inner states among them). */
export function statesOf(events: readonly HistoryEvent[]): StateVisit[] {
  const visits: StateVisit[] = [];
  const open = () => visits.findLast((v) => v.exited_at === null);
  for (const e of events) {
    const type = e.type ?? "";
    const entered = /^(\w+?)StateEntered$/.exec(type);
    if (entered && e.stateEnteredEventDetails?.name) {
      visits.push({
        name: e.stateEnteredEventDetails.name,
        type: entered[1] ?? "",
        entered_at: iso(e.timestamp),
        exited_at: null,
        retries: 0,
        failures: [],
      });
      continue;
    }
    if (/StateExited$/.test(type) && e.stateExitedEventDetails?.name) {
      const name = e.stateExitedEventDetails.name;
      const visit = visits.findLast((v) => v.name === name && v.exited_at === null);
      if (visit) visit.exited_at = iso(e.timestamp);
      continue;
    }
    const current = open();
    if (!current) continue;
    if (SCHEDULED.has(type)) {
      // The first scheduling is the attempt itself; each later one is a retry.
      current.retries += current.failures.length > 0 || current.retries > 0 ? 1 : 0;
      continue;
    }
    const field = FAILURE_DETAILS[type as keyof typeof FAILURE_DETAILS];
    if (field) {
      const d = e[field] as { error?: string; cause?: string } | undefined;
      current.failures.push({ error: d?.error ?? null, cause: d?.cause ?? null });
    }
  }
  return visits;
}

/** Every event of an execution, oldest first (all pages). */
async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const { GetExecutionHistoryCommand } = await import("@aws-sdk/client-sfn");
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } catch (err) {
      throw awsError(`cannot read the history of ${executionArn}`, err);
    }
  } while (nextToken);
  return events;
}

export async function showCommand(
  execution: string,
  flags: RealmFlags & { readonly json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const executionArn = executionArnOf(execution, await deployedStateMachineArn(realm));
    const sfn = await sfnClient();
    const summary = await describeExecution(sfn, executionArn);
    const events = await historyOf(sfn, executionArn);
    const report: ShowReport = { ...summary, states: statesOf(events), events: events.length };
    out.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : humanShow(report));
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

/** The report as text: the execution, a line per state, then the result or the error. */
export function humanShow(r: ShowReport): string {
  const start = Date.parse(r.started_at);
  const width = Math.max(0, ...r.states.map((s) => s.name.length));
  const stateLine = (s: StateVisit) => {
    const at = `+${formatDuration(Date.parse(s.entered_at) - start)}`.padStart(8);
    const took =
      s.exited_at === null
        ? "(not exited)"
        : formatDuration(Date.parse(s.exited_at) - Date.parse(s.entered_at));
    const notes = [
      ...(s.retries > 0 ? [`${s.retries} retr${s.retries === 1 ? "y" : "ies"}`] : []),
      ...s.failures.map((f) => `failed: ${f.error ?? "?"}`),
    ];
    return `  ${at}  ${s.name.padEnd(width)}  ${took}${notes.length ? `  ${notes.join(", ")}` : ""}`;
  };
  const lines = [
    `execution  ${r.name}`,
    `arn        ${r.execution_arn}`,
    `job        ${r.job_id ?? "?"}`,
    `status     ${r.status}${r.redrive_count ? ` (redriven ${r.redrive_count}x)` : ""}, started ${formatTime(r.started_at)}${r.stopped_at ? `, took ${formatDuration(r.duration_ms)}` : ""}`,
    `outcome    ${outcomeText(r)}`,
    `states     ${r.states.length} entered, ${r.events} events`,
    ...r.states.map(stateLine),
  ];
  if (r.result?.run_id) lines.push(`run        ${r.result.run_id}`);
  if (r.result?.error) lines.push(`error      ${r.result.error.name}: ${r.result.error.message}`);
  else if (r.error) lines.push(`error      ${r.error}`, `cause      ${r.cause ?? ""}`);
  return `${lines.join("\n")}\n`;
}
