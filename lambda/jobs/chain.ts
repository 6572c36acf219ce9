/**
 * The chain job type (docs/pipelines.md §1), as lava's `lava/handlers/chain.py`
 * has it: child jobs in order under the chain's run id, the chain's globals
 * merged over each child's with `globals.lava` naming the parent; `job_prefix`,
 * `start` (resume at a child) and `can_fail` (globs of children whose failure
 * does not stop the chain). The plan is shared: the state machine's Resolve step
 * returns it and runs each child as its own execution; `lava-aurora run` runs
 * the children here, one after the other, through the same runner.
 */
import { ChildJobError, SpecError } from "../shared/errors";
import { fnmatchAny } from "../shared/fnmatch";
import { formatIssues } from "../spec/format";
import { chainParamsSchema, type JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import type { Dispatch, JobOutcome, JobResult } from "./types";

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
  const payload = chain.payload ?? [];
  // lava: a comma-separated string, each id stripped.
  let ids = (typeof payload === "string" ? payload.split(",") : [...payload]).map(
    (id) => `${prefix}${id.trim()}`,
  );
  const problems: string[] = [];
  if (p.start !== undefined) {
    const first = ids.indexOf(`${prefix}${p.start}`);
    if (first < 0)
      problems.push(`${at}parameters.start: ${prefix}${p.start} is not a job of the chain`);
    else ids = ids.slice(first);
  }
  if (ids.length === 0) problems.push(`${at}payload: the chain is empty`);
  for (const id of ids)
    if (!realm.jobs.some((j) => j.job_id === id))
      problems.push(
        `${at}payload: job ${JSON.stringify(id)} is not defined in realm ${realm.name}`,
      );
  if (problems.length > 0) throw new SpecError(problems);
  return ids.map((id) => childOf(job, id, merged.globals, run, p.can_fail ?? []));
}

/**
 * A pipeline's child as lava dispatches it: the parent's globals merged over its
 * own, `globals.lava` naming the parent, the parent's run id.
 */
export function childOf(
  parent: JobSpec,
  id: string,
  globals: Record<string, unknown>,
  run: { readonly runId: string; readonly start: Date },
  canFail: string | readonly string[],
): ChainChild {
  const parentLava = globals.lava;
  const lava = {
    ...(typeof parentLava === "object" && parentLava !== null ? parentLava : {}),
    parent_job_id: parent.job_id,
    parent_start: run.start.toISOString(),
    parent_ustart: run.start.toISOString(),
  };
  return {
    input: { job_id: id, globals: { ...globals, lava }, run_id: run.runId },
    can_fail: fnmatchAny(id, canFail),
  };
}

/** What a chain's result says of each child. */
export type ChildSummary = Pick<JobResult, "job_id" | "status" | "reason" | "error">;

/**
 * Run the children here, in order (`lava-aurora run`): a child's failure ends the
 * chain unless `can_fail` matches it; a disabled child is skipped.
 */
export async function runChainHere(
  children: readonly ChainChild[],
  runChild: (input: Dispatch) => Promise<JobResult>,
  events: { add(line: string): void },
): Promise<JobOutcome & { children: ChildSummary[] }> {
  const done: ChildSummary[] = [];
  for (const child of children) {
    const r = await runChild(child.input);
    const { job_id, status, reason, error } = r;
    done.push({ job_id, status, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
    events.add(`child ${job_id}: ${status}${reason ? ` (${reason})` : ""}`);
    if (status !== "failed") continue;
    if (child.can_fail) {
      events.add(`child ${job_id} may fail (can_fail): the chain goes on`);
      continue;
    }
    throw new ChildJobError(
      `child ${job_id} failed: ${error?.name ?? "Error"}: ${error?.message ?? ""}`,
      done,
    );
  }
  return { status: "ok", children: done };
}
