/**
 * The job runner: dispatch in, result out (SPEC §4, §5.7). The Lambda handler
 * and the CLI both call `runJob`; it does not know which one called.
 */
import { randomUUID } from "node:crypto";
import { LavaError, PayloadError, SpecError } from "../shared/errors";
import { baseContext, renderEnabled } from "../shared/templating";
import type { Realm } from "../spec/validate";
import { runDbFromS3 } from "./db-from-s3/index";
import { literalParameters } from "./dispatch";
import { EventLog } from "./events";
import { runExe } from "./exe/index";
import type { Dispatch, JobDeps, JobResult, RunOptions } from "./types";

function asMap(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new SpecError([`dispatch: ${what}: expected a mapping, got ${JSON.stringify(value)}`]);
}

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

/** Run one dispatch of a job of the realm. Never throws: failures are results. */
export async function runJob(
  realm: Realm,
  dispatch: Dispatch,
  deps: JobDeps,
  options: RunOptions = {},
): Promise<JobResult> {
  const runId = options.runId ?? randomUUID();
  const start = options.start ?? new Date();
  const events = new EventLog();
  const result = (outcome: Omit<JobResult, "job_id" | "run_id" | "events">): JobResult => ({
    ...outcome,
    job_id: dispatch.job_id,
    run_id: runId,
    events: events.lines,
  });
  try {
    const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
    if (!job) throw new SpecError([`job ${dispatch.job_id}: not defined in realm ${realm.name}`]);
    const parameters = { ...(job.parameters ?? {}), ...asMap(dispatch.parameters, "parameters") };
    const globals = { ...(job.globals ?? {}), ...asMap(dispatch.globals, "globals") };
    events.add(`run ${runId} of ${job.type} job ${job.job_id} in realm ${realm.name}`);
    const ctx = baseContext({ realm, job, runId, globals, start });
    if (!renderEnabled(job.enabled, ctx, `job ${job.job_id}: enabled`)) {
      events.add("job is disabled: skipped");
      return result({ status: "skipped", reason: "disabled" });
    }
    const run = {
      realm,
      params: parameters,
      // What a trigger rendered from an S3 event is never rendered again.
      literal: literalParameters(dispatch),
      globals,
      runId,
      start,
      deps,
      events,
      options,
    };
    switch (job.type) {
      case "db_from_s3":
        return result(await runDbFromS3({ ...run, job }));
      case "exe":
      case "pkg":
        return result(await runExe({ ...run, job }));
    }
  } catch (err) {
    const error = errorInfo(err);
    events.add(`failed: ${error.name}: ${error.message}`);
    const exitCode = err instanceof PayloadError ? err.exitCode : undefined;
    return result({
      status: "failed",
      error,
      ...(exitCode === undefined ? {} : { exit_code: exitCode }),
    });
  }
}
