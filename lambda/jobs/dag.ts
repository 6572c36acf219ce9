/**
 * The dag job type (docs/pipelines.md §5), as lava's `lava/handlers/dag.py` has it:
 * `{child: predecessor | [predecessors] | null}`, every job named (as a key or a
 * predecessor) run exactly once, each after all its predecessors, at most
 * `workers` at once, under the dag's run id; `can_fail`, `job_prefix` and
 * `globals.lava` as for chains. A cycle or an unknown job is a spec error.
 *
 * The plan is layers (Kahn's algorithm): layer k holds the jobs whose longest
 * chain of predecessors has k links. The state machine runs a layer's children
 * in parallel and the layers in order — a child may start later than its own
 * predecessors allow (when a sibling of a predecessor is slower), the price of a
 * definition that does not grow with the dag.
 */
import { ChildJobError, SpecError } from "../shared/errors";
import { dagGraph, dagLayers } from "../spec/dag-graph";
import { formatIssues } from "../spec/format";
import { DAG_WORKERS, dagParamsSchema, type JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import { type ChainChild, type ChildSummary, childOf, undefinedJobs } from "./chain";
import type { JobOutcome, JobResult } from "./types";

export interface DagPlan {
  readonly layers: ChainChild[][];
  readonly workers: number;
}

/** Plan a dag: its layers of children and its workers; throws `SpecError` before any child runs. */
export function planDag(
  realm: Realm,
  job: JobSpec,
  merged: { readonly params: Record<string, unknown>; readonly globals: Record<string, unknown> },
  run: { readonly runId: string; readonly start: Date },
): DagPlan {
  if (job.type !== "dag") throw new SpecError([`job ${job.job_id}: not a dag job`]);
  const at = `job ${job.job_id}: `;
  const parsed = dagParamsSchema.safeParse(merged.params, { reportInput: true });
  if (!parsed.success) throw new SpecError(formatIssues(`${at}parameters.`, parsed.error.issues));
  const p = parsed.data;
  const graph = dagGraph(job.payload ?? {}, p.job_prefix ?? "");
  if (graph.size === 0) throw new SpecError([`${at}payload: the dag is empty`]);
  const unknown = undefinedJobs(realm, [...graph.keys()], at);
  if (unknown.length > 0) throw new SpecError(unknown);
  const layers = dagLayers(graph, at);
  return {
    layers: layers.map((ids) =>
      ids.map((id) => childOf(job, id, merged.globals, run, p.can_fail ?? [])),
    ),
    workers: p.workers ?? DAG_WORKERS,
  };
}

/**
 * Run a pipeline's layers here (`lava-aurora run`), as the state machine runs them
 * (docs/pipelines.md §2; a chain or a foreach is layers of one child, one worker):
 * each layer's children at most `workers` at once; after a layer with a failure
 * `can_fail` does not allow, the pipeline stops (its siblings ran to completion,
 * as in lava; later layers do not start). A disabled child is skipped.
 */
export async function runLayersHere(
  plan: DagPlan,
  runChild: (input: ChainChild["input"]) => Promise<JobResult>,
  events: { add(line: string): void },
): Promise<JobOutcome & { children: ChildSummary[] }> {
  const done: ChildSummary[] = [];
  for (const [k, layer] of plan.layers.entries()) {
    events.add(
      `layer ${k + 1} of ${plan.layers.length}: ${layer.map((c) => c.input.job_id).join(", ")}`,
    );
    const results: JobResult[] = new Array(layer.length);
    let next = 0;
    const worker = async () => {
      while (next < layer.length) {
        const i = next++;
        results[i] = await runChild((layer[i] as ChainChild).input);
      }
    };
    await Promise.all(Array.from({ length: Math.min(plan.workers, layer.length) }, worker));
    let stop: JobResult | undefined;
    for (const [i, r] of results.entries()) {
      const { job_id, status, reason, error } = r;
      done.push({ job_id, status, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
      events.add(`child ${job_id}: ${status}${reason ? ` (${reason})` : ""}`);
      if (status !== "failed") continue;
      if ((layer[i] as ChainChild).can_fail)
        events.add(`child ${job_id} may fail (can_fail): the pipeline goes on`);
      else stop ??= r;
    }
    if (stop)
      throw new ChildJobError(
        `child ${stop.job_id} failed: ${stop.error?.name ?? "Error"}: ${stop.error?.message ?? ""}`,
        done,
      );
  }
  return { status: "ok", children: done };
}
