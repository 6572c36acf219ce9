/**
 * The Step Functions stub's ListExecutions and GetExecutionHistory, as AWS
 * answers them: executions newest first, `statusFilter` and `redriveFilter`,
 * pages of `maxResults` (default 100, at most 1000) with an opaque `nextToken`
 * (a bad one is `InvalidToken`); an execution's events oldest first (or
 * `reverseOrder`), each with `id`, `previousEventId`, `timestamp`, and its
 * details without input and output when `includeExecutionData` is false.
 */
import { ApiError, textField } from "./aws-stub-common.js";
import type { SfnState, StubExecution } from "./aws-stub-sfn.js";

/** One history event as a test writes it: `type` and its details field (`stateEnteredEventDetails`, …). */
export interface StubHistoryEvent {
  readonly type: string;
  /** @default - the execution's start, plus the event's position in milliseconds */
  readonly timestamp?: Date;
  readonly [details: string]: unknown;
}

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];
const REDRIVE_FILTERS = ["REDRIVEN", "NOT_REDRIVEN"];
const seconds = (d: Date) => d.getTime() / 1000;

/** `maxResults`: 0 or absent means the default, 100; more than 1000 is refused. */
function pageSize(body: Record<string, unknown>): number {
  const n = body.maxResults;
  if (n === undefined || n === 0) return 100;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 1000)
    throw new ApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(n)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  return n;
}

/** The offset a `nextToken` stands for, checked to belong to the same request. */
function offsetOf(body: Record<string, unknown>, scope: string): number {
  const token = textField(body, "nextToken", false);
  if (!token) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      scope?: string;
      offset?: number;
    };
    if (t.scope === scope && typeof t.offset === "number" && t.offset >= 0) return t.offset;
  } catch {
    // Not one of ours.
  }
  throw new ApiError("InvalidToken", `Invalid Token: '${token}'`);
}

function page<T>(items: readonly T[], body: Record<string, unknown>, scope: string) {
  const offset = offsetOf(body, scope);
  const size = pageSize(body);
  const next = offset + size;
  return {
    items: items.slice(offset, next),
    ...(next < items.length
      ? {
          nextToken: Buffer.from(JSON.stringify({ scope, offset: next })).toString("base64url"),
        }
      : {}),
  };
}

export function listExecutions(state: SfnState, body: Record<string, unknown>) {
  const stateMachineArn = textField(body, "stateMachineArn");
  if (!stateMachineArn.includes(":stateMachine:"))
    throw new ApiError("InvalidArn", `Invalid Arn: '${stateMachineArn}'`);
  const status = textField(body, "statusFilter", false);
  if (status && !STATUSES.includes(status))
    throw new ApiError(
      "ValidationException",
      `1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(", ")}]`,
    );
  const redrive = textField(body, "redriveFilter", false);
  if (redrive && !REDRIVE_FILTERS.includes(redrive))
    throw new ApiError("ValidationException", `Value '${redrive}' at 'redriveFilter' is invalid`);
  const all = [...state.executions.values()]
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.stateMachineArn === stateMachineArn)
    .filter(({ e }) => !status || e.status === status)
    .filter(({ e }) => !redrive || (redrive === "REDRIVEN") === (e.redriveCount ?? 0) > 0)
    // Newest first; of the same start, the later started first.
    .sort((a, b) => b.e.startDate.getTime() - a.e.startDate.getTime() || b.i - a.i)
    .map(({ e }) => e);
  const scope = `list:${stateMachineArn}:${status}:${redrive}`;
  const { items, nextToken } = page(all, body, scope);
  return {
    executions: items.map((e) => ({
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: seconds(e.startDate),
      ...(e.status === "RUNNING" ? {} : { stopDate: (e.stopDate?.getTime() ?? Date.now()) / 1000 }),
      ...(e.redriveCount === undefined ? {} : { redriveCount: e.redriveCount }),
      ...(e.redriveDate === undefined ? {} : { redriveDate: seconds(e.redriveDate) }),
    })),
    ...(nextToken === undefined ? {} : { nextToken }),
  };
}

/** The events of an execution without a seeded history: its start, and its end when it ended. */
function defaultHistory(e: StubExecution): StubHistoryEvent[] {
  const stop = e.stopDate ?? new Date();
  const end: Record<StubExecution["status"], StubHistoryEvent | undefined> = {
    RUNNING: undefined,
    SUCCEEDED: {
      type: "ExecutionSucceeded",
      timestamp: stop,
      executionSucceededEventDetails: { output: e.output ?? "null" },
    },
    FAILED: {
      type: "ExecutionFailed",
      timestamp: stop,
      executionFailedEventDetails: {
        ...(e.error === undefined ? {} : { error: e.error }),
        ...(e.cause === undefined ? {} : { cause: e.cause }),
      },
    },
    TIMED_OUT: { type: "ExecutionTimedOut", timestamp: stop, executionTimedOutEventDetails: {} },
    ABORTED: { type: "ExecutionAborted", timestamp: stop, executionAbortedEventDetails: {} },
  };
  const last = end[e.status];
  return [
    {
      type: "ExecutionStarted",
      timestamp: e.startDate,
      executionStartedEventDetails: {
        input: e.input,
        roleArn: e.stateMachineArn.replace(/:states:([^:]*):(\d+):.*/, ":iam::$2:role/stub-states"),
      },
    },
    ...(last ? [last] : []),
  ];
}

/** Input and output dropped from an event's details (`includeExecutionData: false`). */
function withoutData(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(event).map(([k, v]) => {
      if (!k.endsWith("EventDetails") || typeof v !== "object" || v === null) return [k, v];
      const { input: _i, output: _o, ...rest } = v as Record<string, unknown>;
      return [k, rest];
    }),
  );
}

export function getExecutionHistory(state: SfnState, body: Record<string, unknown>) {
  const arn = textField(body, "executionArn");
  const e = state.executions.get(arn);
  if (!e) throw new ApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
  const events = (e.history ?? defaultHistory(e)).map((event, i) => {
    const { timestamp, ...rest } = event;
    return {
      ...rest,
      id: i + 1,
      ...(i === 0 ? {} : { previousEventId: i }),
      timestamp: seconds(timestamp ?? new Date(e.startDate.getTime() + i)),
    };
  });
  if (body.reverseOrder === true) events.reverse();
  const data = body.includeExecutionData !== false;
  const { items, nextToken } = page(events, body, `history:${arn}:${body.reverseOrder === true}`);
  return {
    events: data ? items : items.map(withoutData),
    ...(nextToken === undefined ? {} : { nextToken }),
  };
}
