/**
 * The chain job type (docs/pipelines.md §1), as lava's `lava/handlers/chain.py`
 * has it: child jobs in order under the chain's run id, the chain's globals
 * merged over each child's with `globals.lava` naming the parent; `job_prefix`,
 * `start` (resume at a child) and `can_fail` (globs of children whose failure
 * does not stop the chain). The plan is shared: the state machine's Resolve step
 * returns it as layers of one child (docs/pipelines.md §2); `lava-aurora run`
 * runs them here with the dag's runner (`runLayersHere`).
 */
import { SpecError } from "../shared/errors";
import { fnmatchAny } from "../shared/fnmatch";
import { formatIssues } from "../spec/format";
import { chainParamsSchema, type JobSpec } from "../spec/job";
import { payloadJobIds } from "../spec/job-ids";
import type { Realm } from "../spec/realm";
import type { Dispatch, JobResult } from "./types";

/** One child of a chain: its dispatch, and whether its failure stops the chain. */
export interface ChainChild {
  readonly input: Dispatch & { readonly run_id: string };
  readonly can_fail: boolean;
}

type ChainJob = Extract<JobSpec, { type: "chain" }>;

/** The children to run, in order; throws `SpecError` for a bad chain (before any child runs). */
export function planChain(
  realm: Realm,
  job: JobSpec,
  merged: { readonly params: Record<string, unknown>; readonly globals: Record<string, unknown> },
  run: { readonly runId: string; readonly start: Date },
): ChainChild[] {
  if (job.type !== "chain") throw new SpecError([`job ${job.job_id}: not a chain job`]);
  const chain = job as ChainJob;
  const at = `job ${job.job_id}: `;
  const parsed = chainParamsSchema.safeParse(merged.params, { reportInput: true });
  if (!parsed.success) throw new SpecError(formatIssues(`${at}parameters.`, parsed.error.issues));
  const p = parsed.data;
  const prefix = p.job_prefix ?? chain.job_prefix ?? "";
  let ids = payloadJobIds(chain.payload).map((id) => `${prefix}${id}`);
  const problems: string[] = [];
  if (p.start !== undefined) {
    const first = ids.indexOf(`${prefix}${p.start}`);
    if (first < 0)
      problems.push(`${at}parameters.start: ${prefix}${p.start} is not a job of the chain`);
    else ids = ids.slice(first);
  }
  if (ids.length === 0) problems.push(`${at}payload: the chain is empty`);
  problems.push(...undefinedJobs(realm, ids, at));
  if (problems.length > 0) throw new SpecError(problems);
  return ids.map((id) => childOf(job, id, merged.globals, run, p.can_fail ?? []));
}

/** A pipeline's problems for the ids the realm does not define: `<at>payload: job "x" is not defined …`. */
export function undefinedJobs(realm: Realm, ids: readonly string[], at: string): string[] {
  return ids
    .filter((id) => !realm.jobs.some((j) => j.job_id === id))
    .map((id) => `${at}payload: job ${JSON.stringify(id)} is not defined in realm ${realm.name}`);
}

/**
 * lava's globals for the jobs a pipeline or dispatch starts: the parent's merged
 * over the job's (the dispatch does that), with `globals.lava` naming the parent.
 */
export function lavaGlobals(
  parent: JobSpec,
  globals: Record<string, unknown>,
  start: Date,
): Record<string, unknown> {
  const parentLava = globals.lava;
  return {
    ...globals,
    lava: {
      ...(typeof parentLava === "object" && parentLava !== null ? parentLava : {}),
      parent_job_id: parent.job_id,
      parent_start: start.toISOString(),
      parent_ustart: start.toISOString(),
    },
  };
}

/** A pipeline's child as lava dispatches it: lava's globals, the parent's run id. */
export function childOf(
  parent: JobSpec,
  id: string,
  globals: Record<string, unknown>,
  run: { readonly runId: string; readonly start: Date },
  canFail: string | readonly string[],
): ChainChild {
  return {
    input: { job_id: id, globals: lavaGlobals(parent, globals, run.start), run_id: run.runId },
    can_fail: fnmatchAny(id, canFail),
  };
}

/** A chain's or a foreach's children as pipeline layers: one at a time, in order (docs/pipelines.md §2). */
export function oneAtATime(children: readonly ChainChild[]): {
  layers: ChainChild[][];
  workers: number;
} {
  return { layers: children.map((c) => [c]), workers: 1 };
}

/** What a chain's result says of each child. */
export type ChildSummary = Pick<JobResult, "job_id" | "status" | "reason" | "error">;
