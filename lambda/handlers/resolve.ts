/**
 * Lambda function `lava-<realm>-resolve`: the state machine's first step.
 * Validates a dispatch against the bundled realm and returns what the flow
 * needs; an unknown job or invalid parameters fail here, before any attempt.
 */
import { randomUUID } from "node:crypto";
import { actionCounts } from "../jobs/actions";
import { type ChainChild, oneAtATime, planChain } from "../jobs/chain";
import { planDag } from "../jobs/dag";
import { checkJob, planDispatch, runIdOf } from "../jobs/dispatch";
import type { Dispatch } from "../jobs/types";
import { SpecError } from "../shared/errors";
import type { ActionEvent } from "../spec/actions";
import { type JobSpec, MAX_DISPATCH_DELAY_MS } from "../spec/job";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import { bundledRealm } from "./bundled-realm";

/** The state machine's input: a dispatch, optionally delayed. */
export interface JobsInput extends Dispatch {
  /** `0s`…`23h`, or seconds. */
  readonly delay?: string | number;
  /** A schedule's time for this run (ISO 8601), set by EventBridge Scheduler (docs/schedules.md §5). */
  readonly scheduled_at?: string;
}

/**
 * lava's `max_run_delay`: a scheduled run that starts longer than this after its
 * scheduled time is discarded — skipped, with the reason — not run late.
 */
export function lateBy(job: JobSpec, input: JobsInput, now: Date): string | undefined {
  const max = job.max_run_delay === undefined ? undefined : parseDuration(job.max_run_delay);
  const at = input.scheduled_at === undefined ? Number.NaN : Date.parse(input.scheduled_at);
  if (max === undefined || Number.isNaN(at)) return undefined;
  const late = now.getTime() - at;
  return late > max
    ? `started ${Math.round(late / 1000)}s after its scheduled time ${input.scheduled_at}, more than max_run_delay ${job.max_run_delay}`
    : undefined;
}

/** What the flow needs to run the dispatch. */
export interface ResolvedDispatch {
  readonly job_id: string;
  readonly type: JobSpec["type"];
  readonly enabled: boolean;
  readonly iteration_limit: number;
  readonly iteration_delay_seconds: number;
  readonly delay_seconds: number;
  /** Why a run is not made though the job is enabled (a scheduled run too late). */
  readonly skipped?: string;
  /** How many actions each event has: the state machine runs them (docs/actions.md §4). */
  readonly actions: Record<ActionEvent, number>;
  /**
   * chain, dag: the layers of children, each child its own execution, and how many
   * of a layer run at once (docs/pipelines.md §2); a chain is layers of one.
   */
  readonly layers?: readonly (readonly ChainChild[])[];
  readonly workers?: number;
  /** db_from_s3 with `fan_out`: the state machine plans the load and may run it as parallel items (docs/db-from-s3.md §14). */
  readonly fan_out?: boolean;
  /**
   * The dispatch for the runner, parameters and globals defaulted to `{}`, with
   * the execution and when the run was wanted (docs/state-machine.md §1).
   */
  readonly dispatch: Required<Pick<Dispatch, "job_id" | "parameters" | "globals">> &
    Pick<Dispatch, "literal_parameters" | "run_id" | "event_time" | "dispatched_at" | "execution">;
}

/** The execution Resolve runs in, from the state machine's context object (`$$.Execution`). */
export interface ExecutionContext {
  /** `$$.Execution.Id`: the execution's ARN. */
  readonly id: string;
  /** `$$.Execution.StartTime`, ISO 8601. */
  readonly start_time: string;
}

/** What the state machine's Resolve task sends: the execution's input and its context. */
export interface ResolveRequest {
  readonly input: JobsInput;
  readonly execution: ExecutionContext;
}

function isResolveRequest(value: JobsInput | ResolveRequest): value is ResolveRequest {
  return "input" in value && "execution" in value && !("job_id" in value);
}

/** An optional time of the dispatch: an ISO 8601 string, else a SpecError naming the field. */
function timeField(input: JobsInput, field: "event_time" | "dispatched_at") {
  const value: unknown = input[field];
  if (value === undefined) return undefined;
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return value;
  throw new SpecError([
    `dispatch: ${field}: expected an ISO 8601 time like 2026-01-31T08:05:09Z, got ${JSON.stringify(value)}`,
  ]);
}

/** A Wait state waits as long as asked, within the execution's day (lava: 15m, SQS's limit). */
const MAX_DELAY_MS = MAX_DISPATCH_DELAY_MS;

function seconds(
  value: string | number | undefined,
  what: string,
  max = Number.POSITIVE_INFINITY,
): number {
  if (value === undefined) return 0;
  const ms = parseDuration(value);
  if (ms === undefined || ms > max) {
    throw new SpecError([
      `dispatch: ${what}: expected a duration like 30s or 5m${max < Infinity ? " (at most 23h)" : ""}, got ${JSON.stringify(value)}`,
    ]);
  }
  return Math.round(ms / 1000);
}

/**
 * Validate a dispatch (SpecError on any problem) and plan its run; in an execution,
 * its dispatch names it and says when it was made (given, a schedule's time, else
 * the execution's start).
 */
export function resolveDispatch(
  realm: Realm,
  input: JobsInput,
  start = new Date(),
  execution?: ExecutionContext,
): ResolvedDispatch {
  const plan = planDispatch(realm, input, { start });
  const eventTime = timeField(input, "event_time");
  // A scheduled run was dispatched at its scheduled time (lateBy ignores one that is no time).
  const scheduled = Number.isNaN(Date.parse(input.scheduled_at ?? ""))
    ? undefined
    : input.scheduled_at;
  const dispatchedAt = timeField(input, "dispatched_at") ?? scheduled ?? execution?.start_time;
  const { job } = plan;
  const late = plan.enabled ? lateBy(job, input, start) : undefined;
  const enabled = plan.enabled && late === undefined;
  // A disabled job is skipped whatever its parameters (docs/state-machine.md §2): they are checked only for a run.
  if (enabled) checkJob(realm, plan, "resolve");
  const literal = [...plan.literal];
  const fanOut =
    job.type === "db_from_s3" && plan.params.fan_out !== undefined && plan.params.fan_out !== false;
  // Pipelines run under one run id, fixed here so a retried attempt keeps it
  // (a dispatch job then starts each child once: its names come from the run id);
  // so does a fan-out load, whose staging and finished items belong to its run.
  const runId =
    runIdOf(input, job) ??
    (["chain", "dag", "dispatch", "foreach"].includes(job.type) || fanOut
      ? randomUUID()
      : undefined);
  const run = { runId: runId ?? randomUUID(), start };
  // chain: layers of one child, one worker; foreach: its planner fills the layers.
  const chain =
    enabled && job.type === "chain"
      ? oneAtATime(planChain(realm, job, plan, run))
      : enabled && job.type === "dag"
        ? planDag(realm, job, plan, run)
        : enabled && job.type === "foreach"
          ? { workers: 1 }
          : {};
  return {
    job_id: job.job_id,
    type: job.type,
    enabled,
    iteration_limit: job.iteration_limit ?? 1,
    iteration_delay_seconds: seconds(job.iteration_delay, `job ${job.job_id}: iteration_delay`),
    delay_seconds: seconds(input.delay, "delay", MAX_DELAY_MS),
    ...(late ? { skipped: late } : {}),
    actions: actionCounts(realm, job),
    ...chain,
    ...(fanOut ? { fan_out: true } : {}),
    dispatch: {
      job_id: job.job_id,
      parameters: input.parameters ?? {},
      globals: input.globals ?? {},
      ...(literal.length > 0 ? { literal_parameters: literal } : {}),
      ...(runId ? { run_id: runId } : {}),
      ...(eventTime ? { event_time: eventTime } : {}),
      ...(dispatchedAt ? { dispatched_at: dispatchedAt } : {}),
      ...(execution?.id ? { execution: execution.id } : {}),
    },
  };
}

/** A resolve handler for a realm: given the execution's input, or the state machine's request. */
export function makeResolveHandler(realm: Realm) {
  return async (request: JobsInput | ResolveRequest): Promise<ResolvedDispatch> =>
    isResolveRequest(request)
      ? resolveDispatch(realm, request.input, new Date(), request.execution)
      : resolveDispatch(realm, request);
}

let handle: ReturnType<typeof makeResolveHandler> | undefined;

/** The Lambda entry point. */
export async function handler(input: JobsInput | ResolveRequest): Promise<ResolvedDispatch> {
  handle ??= makeResolveHandler(bundledRealm());
  return handle(input);
}
