/**
 * Lambda function `lava-<realm>-runner`: a dispatch in, a job result out.
 * Thin: the realm comes validated in the bundle, the deadline from the
 * context; a log line and metrics (rows, bytes, duration) per run.
 */

import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
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
import { planDispatch, runOf } from "../jobs/dispatch";
import { EventLog } from "../jobs/event-log";
import { type ForeachItems, planForeach, storeForeachItems } from "../jobs/foreach";
import { runJob } from "../jobs/run-job";
import type { Dispatch, JobDeps, JobOutcome, JobResult } from "../jobs/types";
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
  readonly metrics?: Pick<Metrics, "addMetric" | "addDimension" | "publishStoredMetrics">;
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
): Promise<{ actions: string[] }> {
  const dispatch = request.state.plan?.dispatch;
  const job = realm.jobs.find((j) => j.job_id === dispatch?.job_id);
  if (!dispatch || !job) return { actions: [`job ${dispatch?.job_id ?? "?"}: not defined`] };
  const result = resultOf(request.state, job.job_id);
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
export type LoadRequest =
  | { readonly load_plan: Dispatch & { readonly run_id?: string } }
  | { readonly load_item: { readonly plan: FanOutPlan; readonly item: FanOutItem } }
  | { readonly load_publish: FanOutPlan };

/** What the plan step answers: a result when nothing is left to load. */
export type LoadPlanAnswer =
  | { readonly action: "run" }
  | { readonly action: "done"; readonly result: JobResult }
  | Extract<LoadPlanResult, { action: "fan_out" }>;

/** Run one fan-out step; failures throw, named, for the state machine's Retry and Catch. */
export async function runLoadRequest(
  realm: Realm,
  request: LoadRequest,
  deps: JobDeps,
  context: RunnerContext,
): Promise<LoadPlanAnswer | ItemOutcome | JobResult> {
  const start = new Date();
  const events = new EventLog();
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  const dispatch =
    "load_plan" in request
      ? request.load_plan
      : "load_item" in request
        ? request.load_item.plan.dispatch
        : request.load_publish.dispatch;
  const runId = dispatch.run_id ?? randomUUID();
  const result = (outcome: JobOutcome): JobResult => ({
    ...outcome,
    job_id: dispatch.job_id,
    run_id: runId,
    events: events.lines,
  });
  try {
    const plan = planDispatch(realm, dispatch, { runId, start });
    const run = runOf(realm, plan, { runId, start, deps, events, options: { deadline } });
    if ("load_plan" in request) {
      const planned = await planFanOut(run);
      return planned.action === "done"
        ? { action: "done", result: result(planned.outcome) }
        : planned;
    }
    if ("load_item" in request)
      return await loadFanOutItem(run, request.load_item.plan, request.load_item.item);
    return result(await publishFanOut(run, request.load_publish));
  } catch (err) {
    // Named after its class (BadDataError, LoadItemsError, …): the message names the object.
    const e = err instanceof Error ? err : new Error(String(err));
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
    const result = await runJob(realm, event, deps, {
      deadline: t0 + context.getRemainingTimeInMillis(),
      onProgress: (p) => bytes.set(p.object, p.bytes),
    });
    const { logger, metrics } = telemetry;
    // The result holds no secret (docs/connections.md §7): safe to log whole, without the step log.
    const { events: _events, ...summary } = result;
    if (result.status === "failed") logger?.error("job run failed", { result: summary });
    else logger?.info("job run finished", { result: summary });
    if (metrics) {
      metrics.addDimension("job_id", result.job_id);
      metrics.addMetric(`runs_${result.status}`, MetricUnit.Count, 1);
      metrics.addMetric("rows", MetricUnit.Count, result.rows ?? 0);
      metrics.addMetric(
        "bytes",
        MetricUnit.Bytes,
        [...bytes.values()].reduce((a, b) => a + b, 0),
      );
      metrics.addMetric("duration", MetricUnit.Milliseconds, Date.now() - t0);
      metrics.publishStoredMetrics();
    }
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
  const logger = new Logger();
  senders ??= awsActionSenders({
    ...(process.env.LAVA_STATE_MACHINE_ARN
      ? { stateMachineArn: process.env.LAVA_STATE_MACHINE_ARN }
      : {}),
    log: (message) => logger.info(message, { action: "log" }),
  });
  return senders;
}

/** The Lambda entry point; realm, clients and telemetry are set up once per execution environment. */
export async function handler(
  event: Dispatch | ActionsRequest | ForeachPlanRequest | LoadRequest,
  context: RunnerContext,
): Promise<
  JobResult | { actions: string[] } | ChainChild[][] | ForeachItems | LoadPlanAnswer | ItemOutcome
> {
  if ("action_event" in event) return runActionsRequest(bundledRealm(), event, awsSenders());
  if ("foreach_plan" in event) return planForeachRequest(bundledRealm(), event, runnerDeps());
  if ("load_plan" in event || "load_item" in event || "load_publish" in event)
    return runLoadRequest(bundledRealm(), event, runnerDeps(), context);
  handle ??= makeRunnerHandler(bundledRealm(), runnerDeps(), {
    logger: new Logger(),
    metrics: new Metrics({ namespace: "lava-aurora" }),
  });
  return handle(event, context);
}
