/**
 * The job runner: dispatch in, result out (docs/state-machine.md §5). The Lambda handler
 * and the CLI both call `runJob`; it does not know which one called.
 */
import { randomUUID } from "node:crypto";
import { ChildJobError, LavaError, PayloadError } from "../shared/errors";
import type { Realm } from "../spec/realm";
import { runActions } from "./actions";
import { oneAtATime, planChain } from "./chain";
import { planDag, runLayersHere } from "./dag";
import { runDbFromS3 } from "./db-from-s3/index";
import { attemptOf, planDispatch, runIdOf, runOf } from "./dispatch";
import { runDispatchJob } from "./dispatch-job";
import { EventLog } from "./event-log";
import { runExe } from "./exe/index";
import { planForeach } from "./foreach";
import { logUnloggedRun } from "./run-log-writer";
import { runSql } from "./sql/index";
import { runSqlc } from "./sql/sqlc";
import type { Dispatch, JobDeps, JobOutcome, JobResult, RunOptions } from "./types";

/** The error part of a failed result: name, message, whether a retry may help. */
export function errorInfo(err: unknown): NonNullable<JobResult["error"]> {
  if (err instanceof Error) {
    return {
      name: err.name,
      message: err.message,
      retryable: err instanceof LavaError ? err.retryable : false,
    };
  }
  return { name: "Error", message: String(err), retryable: false };
}

/**
 * Run one dispatch of a job of the realm, then (with `options.actions`) its
 * on_success or on_fail actions. Never throws: failures are results.
 */
export async function runJob(
  realm: Realm,
  dispatch: Dispatch,
  deps: JobDeps,
  options: RunOptions = {},
): Promise<JobResult> {
  const start = options.start ?? new Date();
  // The execution Resolve put in the dispatch, for the run log (a local child keeps its parent's).
  const execution =
    options.execution ?? (typeof dispatch.execution === "string" ? dispatch.execution : undefined);
  // Which attempt this is: the state machine numbers them in the dispatch; the CLI makes one.
  const attempt = options.attempt ?? attemptOf(dispatch.attempt);
  const runOptions = {
    ...options,
    start,
    ...(execution === undefined ? {} : { execution }),
    ...(attempt === undefined ? {} : { attempt }),
  };
  const result = await runOnce(realm, dispatch, deps, runOptions);
  const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
  // A load's row in lava.run_log, where its transaction did not write it (docs/operations.md §3).
  if (job) await logUnloggedRun(realm, job, dispatch, result, deps, runOptions);
  if (!options.actions || !job || result.status === "skipped") return result;
  const event = result.status === "ok" ? "on_success" : "on_fail";
  const globals = { ...(job.globals ?? {}), ...(dispatch.globals ?? {}) };
  const run = { realm, job, runId: result.run_id, globals, start, result };
  for (const line of await runActions(event, run, options.actions)) result.events.push(line);
  return result;
}

/** One run of the dispatch, without actions. */
async function runOnce(
  realm: Realm,
  dispatch: Dispatch,
  deps: JobDeps,
  options: RunOptions = {},
): Promise<JobResult> {
  let runId = options.runId ?? randomUUID();
  const start = options.start ?? new Date();
  const events = new EventLog();
  const result = (outcome: JobOutcome): JobResult => ({
    ...outcome,
    job_id: dispatch.job_id,
    run_id: runId,
    events: events.lines,
  });
  try {
    runId =
      options.runId ??
      runIdOf(
        dispatch,
        realm.jobs.find((j) => j.job_id === dispatch.job_id),
      ) ??
      runId;
    const plan = planDispatch(realm, dispatch, { runId, start });
    const { job } = plan;
    events.add(`run ${runId} of ${job.type} job ${job.job_id} in realm ${realm.name}`);
    if (!plan.enabled) {
      events.add("job is disabled: skipped");
      return result({ status: "skipped", reason: "disabled" });
    }
    const run = runOf(realm, plan, { runId, start, deps, events, options });
    // A pipeline's children run here through this same runner; each is its own run,
    // whose attempts start at 1 (as a child execution's do).
    const { attempt: _attempt, ...childOptions } = options;
    const runChild = (input: Dispatch) => runJob(realm, input, deps, childOptions);
    switch (job.type) {
      case "db_from_s3":
        return result(await runDbFromS3({ ...run, job }));
      case "exe":
      case "pkg":
        return result(await runExe({ ...run, job }));
      case "sql":
      case "sqli":
      case "sqlv":
        return result(await runSql({ ...run, job }));
      case "sqlc":
        return result(await runSqlc({ ...run, job }));
      case "dag": {
        const dag = planDag(realm, job, plan, { runId, start });
        events.add(
          `dag of ${dag.layers.flat().length} in ${dag.layers.length} layer(s), ${dag.workers} worker(s)`,
        );
        return result(await runLayersHere(dag, runChild, events));
      }
      case "foreach": {
        const children = await planForeach({ ...run, job });
        events.add(`foreach of ${job.payload}: ${children.length} item(s)`);
        return result(await runLayersHere(oneAtATime(children), runChild, events));
      }
      case "dispatch":
        return result(await runDispatchJob({ ...run, job }, options.actions ?? deps.send));
      case "chain": {
        const children = planChain(realm, job, plan, { runId, start });
        events.add(
          `chain of ${children.length}: ${children.map((c) => c.input.job_id).join(", ")}`,
        );
        return result(await runLayersHere(oneAtATime(children), runChild, events));
      }
    }
  } catch (err) {
    const error = errorInfo(err);
    events.add(`failed: ${error.name}: ${error.message}`);
    const exitCode = err instanceof PayloadError ? err.exitCode : undefined;
    return result({
      status: "failed",
      error,
      ...(exitCode === undefined ? {} : { exit_code: exitCode }),
      ...(err instanceof ChildJobError ? { children: err.children as JobResult["children"] } : {}),
    });
  }
}
