/**
 * Lambda function `lava-<realm>-runner`: a dispatch in, a job result out.
 * Thin: the realm comes validated in the bundle, the deadline from the
 * context; a log line and the run's metrics per run (docs/operations.md §1, §5).
 */

import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { rdsTokenSigner } from "../connectors/iam-token";
import { AwsSecretStore } from "../connectors/secret-store";
import { awsActionSenders } from "../jobs/action-senders";
import { type ActionSenders, runActions } from "../jobs/actions";
import { type ChainChild, oneAtATime } from "../jobs/chain";
import {
  type FanOutItem,
  type FanOutPlan,
  type ItemOutcome,
  type LoadPlanResult,
  loadFanOutItem,
  planFanOut,
  publishFanOut,
} from "../jobs/db-from-s3/fan-out";
import { attemptOf, planDispatch, runOf } from "../jobs/dispatch";
import { EventLog } from "../jobs/event-log";
import { type ForeachItems, planForeach, storeForeachItems } from "../jobs/foreach";
import { errorInfo, runJob } from "../jobs/run-job";
import { logUnloggedRun } from "../jobs/run-log-writer";
import {
  METRICS_NAMESPACE,
  type MetricsSink,
  publishRunMetrics,
  type RunTimes,
  runMetrics,
} from "../jobs/run-metrics";
import type { Dispatch, JobDeps, JobOutcome, JobResult } from "../jobs/types";
import { type LogKeys, logKeys } from "../shared/log-keys";
import { s3ClientFactory } from "../shared/s3-clients";
import type { ActionEvent } from "../spec/actions";
import { FOREACH_INLINE_ITEMS } from "../spec/job";
import type { Realm } from "../spec/realm";
import { bundledRealm } from "./bundled-realm";

/** The part of the Lambda context the runner uses. */
export interface RunnerContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** Where a run's outcome is reported; the handler passes Powertools' logger and metrics. */
export interface RunnerTelemetry {
  readonly logger?: Pick<Logger, "info" | "error">;
  readonly metrics?: MetricsSink;
}

/** A parameter's value when it is plain text: a template says nothing before it is rendered. */
function plainText(value: unknown): string | undefined {
  return typeof value === "string" && !/{{|{%/.test(value) ? value : undefined;
}

/**
 * The log keys of a run (docs/operations.md §5): what the dispatch and the result know;
 * the object from the result, else from the bucket and key parameters, once rendered.
 */
function runKeys(realm: Realm, dispatch: Dispatch, result?: Partial<JobResult>): LogKeys {
  const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
  const params: Record<string, unknown> = { ...job?.parameters, ...dispatch.parameters };
  return logKeys(realm.name, {
    job_id: dispatch.job_id,
    run_id: result?.run_id || dispatch.run_id,
    execution: dispatch.execution,
    bucket: result?.bucket ?? plainText(params.bucket),
    key: result?.key ?? plainText(params.key),
  });
}

/**
 * Report a run that ended: one log line (the result without its step log: it holds
 * no secret, docs/connections.md §7) and its metrics. Only jobs of the realm file
 * get metrics: job ids are the dimension, and must stay bounded (docs/operations.md §1).
 */
function reportRun(
  realm: Realm,
  dispatch: Dispatch,
  result: JobResult,
  times: RunTimes,
  bytes: number,
  { logger, metrics }: RunnerTelemetry,
): void {
  const { events: _events, ...summary } = result;
  const keys = runKeys(realm, dispatch, result);
  if (result.status === "failed") logger?.error("job run failed", { ...keys, result: summary });
  else logger?.info("job run finished", { ...keys, result: summary });
  const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
  if (metrics && job)
    publishRunMetrics(
      metrics,
      realm.name,
      job.job_id,
      runMetrics(job, dispatch, result, times, bytes),
    );
}

/** The timing fields of a dispatch, to carry into a fan-out load's plan. */
function timingOf(
  dispatch: Dispatch,
): Pick<Dispatch, "event_time" | "dispatched_at" | "execution"> {
  return {
    ...(dispatch.event_time ? { event_time: dispatch.event_time } : {}),
    ...(dispatch.dispatched_at ? { dispatched_at: dispatch.dispatched_at } : {}),
    ...(dispatch.execution ? { execution: dispatch.execution } : {}),
  };
}

/**
 * The state machine's request to run a job's actions for an event, after the run
 * (docs/actions.md §4): its whole state — the plan's dispatch, and the run's
 * result, or the error a thrown failure left.
 */
export interface ActionsRequest {
  readonly action_event: ActionEvent;
  readonly state: {
    readonly plan?: { readonly dispatch?: Dispatch };
    readonly result?: JobResult;
    readonly error?: { readonly Error?: string; readonly Cause?: string };
  };
}

/** The run's result from the state: the result, else the one a thrown failure carries in its cause. */
function resultOf(state: ActionsRequest["state"], jobId: string): JobResult {
  if (state.result?.status) return { ...state.result, events: state.result.events ?? [] };
  const cause = state.error?.Cause ?? "";
  try {
    const parsed = JSON.parse(cause) as JobResult;
    if (parsed?.status) return { ...parsed, events: parsed.events ?? [] };
  } catch {
    // Not a result: a Lambda or Step Functions error.
  }
  const name = state.error?.Error ?? "Error";
  return {
    job_id: jobId,
    run_id: "",
    status: "failed",
    error: { name, message: cause, retryable: false },
    events: [],
  };
}

/** Run the actions of a request; returns what each did. Never throws: actions are best effort. */
export async function runActionsRequest(
  realm: Realm,
  request: ActionsRequest,
  send: ActionSenders,
  { logger }: RunnerTelemetry = {},
): Promise<{ actions: string[] }> {
  const dispatch = request.state.plan?.dispatch;
  const job = realm.jobs.find((j) => j.job_id === dispatch?.job_id);
  if (!dispatch || !job) return { actions: [`job ${dispatch?.job_id ?? "?"}: not defined`] };
  const result = resultOf(request.state, job.job_id);
  if (logger) {
    // The log action writes a line with the run's keys, as every line (docs/operations.md §5).
    const keys = runKeys(realm, dispatch, result);
    send = { ...send, log: (message) => logger.info(message, { ...keys, action: "log" }) };
  }
  const run = {
    realm,
    job,
    runId: result.run_id || dispatch.run_id || "",
    globals: { ...(job.globals ?? {}), ...(dispatch.globals ?? {}) },
    start: new Date(),
    result,
  };
  return { actions: await runActions(request.action_event, run, send) };
}

/** The state machine's request to plan a foreach: its dispatch, as Resolve planned it. */
export interface ForeachPlanRequest {
  readonly foreach_plan: Dispatch & { readonly run_id?: string };
}

/** A foreach's children (docs/pipelines.md §7): generated here, where S3 and the database are. */
export async function planForeachRequest(
  realm: Realm,
  request: ForeachPlanRequest,
  deps: JobDeps,
): Promise<ChainChild[][] | ForeachItems> {
  const dispatch = request.foreach_plan;
  const start = new Date();
  const runId = dispatch.run_id ?? randomUUID();
  const plan = planDispatch(realm, dispatch, { runId, start });
  const children = await planForeach(
    runOf(realm, plan, { runId, start, deps, events: new EventLog(), options: {} }),
  );
  // In the plan, as a chain's: layers of one child.
  if (children.length <= FOREACH_INLINE_ITEMS) return oneAtATime(children).layers;
  return storeForeachItems(realm, plan.job.job_id, runId, children, deps);
}

/**
 * The state machine's fan-out steps for a db_from_s3 load (docs/db-from-s3.md §14):
 * plan it (from the dispatch Resolve planned), load one item, publish.
 */
export type LoadRequest = (
  | { readonly load_plan: Dispatch & { readonly run_id?: string } }
  | {
      readonly load_item: {
        readonly plan: FanOutPlan;
        readonly item: FanOutItem;
        readonly attempt?: number;
      };
    }
  | { readonly load_publish: FanOutPlan }
) & {
  /** Which attempt of the run, from 1 (the state machine's `$.attempt.value`). @default 1 */
  readonly attempt?: number;
};

/** What the plan step answers: a result when nothing is left to load. */
export type LoadPlanAnswer =
  | { readonly action: "run" }
  | { readonly action: "done"; readonly result: JobResult }
  | Extract<LoadPlanResult, { action: "fan_out" }>;

/**
 * Run one fan-out step; failures throw, named, for the state machine's Retry and Catch.
 * The run's end (its publish, or a plan with nothing to load) and a failed plan or
 * publish are reported with the run's metrics (docs/operations.md §1) and get their
 * row in the run log — the publish's in its transaction, the others best effort
 * (§3); a failed item gets none: it is not the run's end (the failed map, or the
 * publish after a redrive, is). Every step logs a line.
 */
export async function runLoadRequest(
  realm: Realm,
  request: LoadRequest,
  deps: JobDeps,
  context: RunnerContext,
  telemetry: RunnerTelemetry = {},
): Promise<LoadPlanAnswer | ItemOutcome | JobResult> {
  const start = new Date();
  const events = new EventLog();
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  const planned =
    "load_item" in request
      ? request.load_item.plan
      : "load_publish" in request
        ? request.load_publish
        : undefined;
  const dispatch: Dispatch =
    "load_plan" in request ? request.load_plan : (planned as FanOutPlan).dispatch;
  const runId = dispatch.run_id ?? randomUUID();
  // The plan's step started the run: its publish measures the run from there.
  const started = dispatch.started_at ? Date.parse(dispatch.started_at) : Number.NaN;
  const runStart = Number.isNaN(started) ? start.getTime() : started;
  const attempt =
    attemptOf(request.attempt) ??
    ("load_item" in request ? attemptOf(request.load_item.attempt) : undefined) ??
    attemptOf(dispatch.attempt);
  const execution = typeof dispatch.execution === "string" ? dispatch.execution : undefined;
  // What the run log's row of this step says (docs/operations.md §3): the attempt and
  // execution; the publish's row starts with the run (its plan step), as its RunTime does.
  const options = {
    deadline,
    ...(attempt === undefined ? {} : { attempt }),
    ...(execution === undefined ? {} : { execution }),
  };
  const runStartDate = "load_publish" in request ? new Date(runStart) : start;
  /** The run's row, best effort, where no transaction wrote it: a skipped plan, a failed plan or publish. */
  const logRun = async (outcome: JobResult) => {
    const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
    if (job)
      await logUnloggedRun(realm, job, dispatch, outcome, deps, {
        ...options,
        start: runStartDate,
      });
  };
  const result = (outcome: JobOutcome): JobResult => ({
    ...outcome,
    job_id: dispatch.job_id,
    run_id: runId,
    events: events.lines,
  });
  const keys = (where?: { bucket?: string; key?: string }) =>
    runKeys(realm, dispatch, { run_id: runId, ...(where ?? planned ?? {}) });
  const { logger } = telemetry;
  try {
    const plan = planDispatch(realm, dispatch, { runId, start: runStartDate });
    const run = runOf(realm, plan, { runId, start: runStartDate, deps, events, options });
    if ("load_plan" in request) {
      const answer = await planFanOut(run);
      if (answer.action === "done") {
        const done = result(answer.outcome);
        await logRun(done);
        reportRun(realm, dispatch, done, { start: runStart, end: Date.now() }, 0, telemetry);
        return { action: "done", result: done };
      }
      if (answer.action === "run") {
        logger?.info("load runs in one transaction, not fanned out", keys());
        return answer;
      }
      const { items, parts, bytes, workers } = answer.plan;
      logger?.info("fan-out load planned", { ...keys(answer.plan), items, parts, bytes, workers });
      // Its items and publish run under this run: they carry when it was wanted and started.
      const stamped: FanOutPlan["dispatch"] & Dispatch = {
        ...answer.plan.dispatch,
        ...timingOf(dispatch),
        started_at: start.toISOString(),
      };
      return { ...answer, plan: { ...answer.plan, dispatch: stamped } };
    }
    if ("load_item" in request) {
      const outcome = await loadFanOutItem(run, request.load_item.plan, request.load_item.item);
      logger?.info("fan-out item loaded", { ...keys(), ...outcome });
      return outcome;
    }
    const published = result(await publishFanOut(run, request.load_publish));
    const bytes = request.load_publish.bytes;
    reportRun(realm, dispatch, published, { start: runStart, end: Date.now() }, bytes, telemetry);
    return published;
  } catch (err) {
    // Named after its class (BadDataError, LoadItemsError, …): the message names the object.
    const e = err instanceof Error ? err : new Error(String(err));
    if ("load_item" in request) {
      // An item is not the run: the publish (or the failed map, an execution failure) ends it.
      const error = { name: e.name, message: e.message };
      logger?.error("fan-out item failed", {
        ...keys(),
        item: request.load_item.item.index,
        error,
      });
    } else {
      // A failed plan or publish ends this attempt of the run: its row (once per
      // failure), with the object and table the plan fixed, when it got that far.
      const failed = result({
        status: "failed",
        error: errorInfo(err),
        ...(planned
          ? {
              bucket: planned.bucket,
              key: planned.key,
              table: `${planned.schema}.${planned.table}`,
            }
          : {}),
      });
      await logRun(failed);
      reportRun(realm, dispatch, failed, { start: runStart, end: Date.now() }, 0, telemetry);
    }
    throw Object.assign(new Error(`job ${dispatch.job_id} run ${runId}: ${e.message}`), {
      name: e.name,
    });
  }
}

/** A runner handler for a realm and services; the deadline is the function's remaining time. */
export function makeRunnerHandler(realm: Realm, deps: JobDeps, telemetry: RunnerTelemetry = {}) {
  return async (event: Dispatch, context: RunnerContext): Promise<JobResult> => {
    const t0 = Date.now();
    const bytes = new Map<string, number>();
    const attempt = attemptOf(event.attempt);
    const result = await runJob(realm, event, deps, {
      deadline: t0 + context.getRemainingTimeInMillis(),
      onProgress: (p) => bytes.set(p.object, p.bytes),
      ...(event.execution ? { execution: event.execution } : {}),
      ...(attempt === undefined ? {} : { attempt }),
    });
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    reportRun(realm, event, result, { start: t0, end: Date.now() }, total, telemetry);
    // Retryable failures are thrown, named, so the state machine's Retry can match them;
    // permanent ones come back as results for its attempts and notices.
    if (result.status === "failed" && result.error?.retryable) throw new JobRunError(result);
    return result;
  };
}

/** A retryable failed run, named after its cause (`DatabaseConnectError`, …); the message carries the result. */
export class JobRunError extends Error {
  constructor(readonly result: JobResult) {
    const { events: _events, ...summary } = result;
    super(JSON.stringify(summary));
    this.name = result.error?.name ?? "LavaError";
  }
}

let handle: ReturnType<typeof makeRunnerHandler> | undefined;

let senders: ActionSenders | undefined;
let deps: JobDeps | undefined;

function runnerDeps(): JobDeps {
  deps ??= {
    resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner() },
    s3: s3ClientFactory(),
    send: awsSenders(),
  };
  return deps;
}

/** Actions and dispatch jobs start executions of the realm's state machine (its ARN by name). */
function awsSenders(): ActionSenders {
  senders ??= awsActionSenders({
    ...(process.env.LAVA_STATE_MACHINE_ARN
      ? { stateMachineArn: process.env.LAVA_STATE_MACHINE_ARN }
      : {}),
    log: (message) =>
      runnerTelemetry().logger.info(message, {
        ...logKeys(bundledRealm().name, {}),
        action: "log",
      }),
  });
  return senders;
}

let telemetry: Required<RunnerTelemetry> | undefined;

/** Powertools' logger and metrics, once per execution environment. */
function runnerTelemetry(): Required<RunnerTelemetry> {
  if (!telemetry) {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
    // Powertools adds a `service` dimension: the run metrics have realm and job_id only,
    // the same from this function and the exe function (docs/operations.md §1).
    metrics.clearDefaultDimensions();
    telemetry = { logger: new Logger(), metrics };
  }
  return telemetry;
}

/** The Lambda entry point; realm, clients and telemetry are set up once per execution environment. */
export async function handler(
  event: Dispatch | ActionsRequest | ForeachPlanRequest | LoadRequest,
  context: RunnerContext,
): Promise<
  JobResult | { actions: string[] } | ChainChild[][] | ForeachItems | LoadPlanAnswer | ItemOutcome
> {
  const realm = bundledRealm();
  if ("action_event" in event)
    return runActionsRequest(realm, event, awsSenders(), runnerTelemetry());
  if ("foreach_plan" in event) return planForeachRequest(realm, event, runnerDeps());
  if ("load_plan" in event || "load_item" in event || "load_publish" in event)
    return runLoadRequest(realm, event, runnerDeps(), context, runnerTelemetry());
  handle ??= makeRunnerHandler(realm, runnerDeps(), runnerTelemetry());
  return handle(event, context);
}
