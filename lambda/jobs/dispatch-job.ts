/**
 * The dispatch job type (docs/pipelines.md §6), as lava's `lava/handlers/dispatch.py`
 * has it: start other jobs and do not wait for them — each its own execution
 * with its own run id — with the job's globals merged over theirs plus
 * `globals.lava`, `parameters` rendered (unless `jinja: false`), `job_prefix`,
 * and a `delay` (here up to 23h: a Wait state, not SQS's 15 minutes). Each
 * child's execution name comes from the run id, so a retried dispatch starts
 * each job once.
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import { SpecError } from "../shared/errors";
import { renderDeep } from "../shared/templating";
import { formatIssues } from "../spec/format";
import { dispatchParamsSchema, type JobSpec } from "../spec/job";
import { payloadJobIds } from "../spec/job-ids";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import type { ActionSenders } from "./actions";
import { lavaGlobals, undefinedJobs } from "./chain";
import { runContext } from "./run-context";
import type { JobOutcome, JobRun } from "./types";

/** The dispatch job's checked parameters and the ids to start; throws `SpecError` for a bad spec. */
export function checkDispatchJob(
  realm: Realm,
  job: JobSpec,
  params: Record<string, unknown>,
): { ids: string[]; p: z.infer<typeof dispatchParamsSchema> } {
  const at = `job ${job.job_id}: `;
  const parsed = dispatchParamsSchema.safeParse(params, { reportInput: true });
  if (!parsed.success) throw new SpecError(formatIssues(`${at}parameters.`, parsed.error.issues));
  const p = parsed.data;
  const ids = payloadJobIds(job.payload).map((id) => `${p.job_prefix ?? ""}${id}`);
  const problems = undefinedJobs(realm, ids, at);
  if (ids.length === 0) problems.push(`${at}payload: no job to dispatch`);
  if (problems.length > 0) throw new SpecError(problems);
  return { ids, p };
}

/** Start the jobs of a dispatch job's payload; checks all before starting any. */
export async function runDispatchJob(
  run: JobRun,
  send: ActionSenders | undefined,
): Promise<JobOutcome> {
  const { job } = run;
  const at = `job ${job.job_id}: `;
  const { ids, p } = checkDispatchJob(run.realm, job, run.params);
  if (!send) throw new SpecError([`${at}dispatch jobs need a way to start jobs here`]);
  const parameters =
    p.jinja === false || run.literal.has("parameters")
      ? (p.parameters ?? {})
      : ((renderDeep(p.parameters ?? {}, runContext(run, {}), `${at}parameters.parameters`) ??
          {}) as Record<string, unknown>);
  const globals = lavaGlobals(job, run.globals, run.start);
  const delay =
    p.delay === undefined ? undefined : Math.round((parseDuration(p.delay) ?? 0) / 1000);
  for (const [i, id] of ids.entries()) {
    const name = `dsp-${createHash("sha256").update(`${run.runId}|${i}|${id}`).digest("hex").slice(0, 32)}`;
    await send.dispatch(
      { job_id: id, parameters, globals, ...(delay === undefined ? {} : { delay }) },
      name,
    );
    run.events.add(`dispatched ${id}${delay ? ` (delay ${delay}s)` : ""} as ${name}`);
  }
  return { status: "ok" };
}
