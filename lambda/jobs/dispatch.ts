/**
 * The one dispatch planner, shared by the state machine's Resolve step and the
 * runner: the job looked up, the dispatch's parameters and globals merged over
 * the job's, what is literal, whether the job is enabled; and each job type's
 * checks of its merged parameters, run before any S3 or database work.
 */
import { SpecError } from "../shared/errors";
import { baseContext, renderEnabled } from "../shared/templating";
import type { JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import { planChain } from "./chain";
import { planDag } from "./dag";
import { checkLoadParams } from "./db-from-s3/params";
import { checkDispatchJob } from "./dispatch-job";
import { checkExeParams } from "./exe/params";
import { checkForeach } from "./foreach";
import { checkSqlcParams, checkSqlParams } from "./sql/params";
import type { Dispatch, JobRun } from "./types";

/** The dispatch's `literal_parameters` (names of parameters never rendered again), checked. */
export function literalParameters(dispatch: Dispatch): ReadonlySet<string> {
  const names: unknown = dispatch.literal_parameters;
  if (names === undefined) return new Set();
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string"))
    throw new SpecError([
      `dispatch: literal_parameters: expected a list of parameter names, got ${JSON.stringify(names)}`,
    ]);
  return new Set(names as string[]);
}

/** A UUID as PostgreSQL's uuid type and lava (uuid4) write it: 8-4-4-4-12 hex digits. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why `id` cannot be a run id (of `job`, when given), if it cannot: letters,
 * digits and `_ . : -`, at most 80 (an execution name may hold it); a
 * db_from_s3 run's must be a UUID (as lava's always are) — its ledger rows'
 * run_id is uuid, and a fan-out load's staging table is named from its hex digits.
 */
export function runIdProblem(
  job: Pick<JobSpec, "job_id" | "type"> | undefined,
  id: unknown,
): string | undefined {
  if (typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$/.test(id))
    return `expected letters, digits and _ . : -, got ${JSON.stringify(id)}`;
  if (job?.type !== "db_from_s3" || UUID.test(id)) return undefined;
  return `job ${job.job_id} is a db_from_s3 load, whose run id must be a UUID (its ledger rows' run_id is uuid), got ${JSON.stringify(id)}: leave it out for a new one`;
}

/**
 * The dispatch's `run_id`, checked (runIdProblem; for `job` when given): a chain
 * hands its own to its children.
 */
export function runIdOf(
  dispatch: Dispatch,
  job?: Pick<JobSpec, "job_id" | "type">,
): string | undefined {
  const id: unknown = dispatch.run_id;
  if (id === undefined) return undefined;
  const problem = runIdProblem(job, id);
  if (problem) throw new SpecError([`dispatch: run_id: ${problem}`]);
  return id as string;
}

/** The dispatch's `attempt`, when it is one (a whole number from 1); else none (attempt 1). */
export function attemptOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

function asMap(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new SpecError([`dispatch: ${what}: expected a mapping, got ${JSON.stringify(value)}`]);
}

/** A dispatch planned against its realm. */
export interface PlannedDispatch {
  readonly job: JobSpec;
  /** The job's parameters with the dispatch's merged over them (top-level keys replace). */
  readonly params: Record<string, unknown>;
  readonly globals: Record<string, unknown>;
  /** Parameters the dispatch marks as already rendered: never rendered again. */
  readonly literal: ReadonlySet<string>;
  /** `enabled` rendered (docs/templates.md §6). */
  readonly enabled: boolean;
}

/** Plan a dispatch; throws `SpecError` for an unknown job or a malformed dispatch. */
export function planDispatch(
  realm: Realm,
  dispatch: Dispatch,
  run: { readonly runId?: string; readonly start: Date },
): PlannedDispatch {
  const job = realm.jobs.find((j) => j.job_id === dispatch.job_id);
  if (!job) throw new SpecError([`job ${dispatch.job_id}: not defined in realm ${realm.name}`]);
  const params = { ...(job.parameters ?? {}), ...asMap(dispatch.parameters, "parameters") };
  const globals = { ...(job.globals ?? {}), ...asMap(dispatch.globals, "globals") };
  const literal = literalParameters(dispatch);
  const ctx = baseContext({
    realm,
    job,
    ...(run.runId ? { runId: run.runId } : {}),
    globals,
    start: run.start,
  });
  const enabled = renderEnabled(job.enabled, ctx, `job ${job.job_id}: enabled`);
  return { job, params, globals, literal, enabled };
}

/**
 * The job type's checks of the merged parameters (and, for exe/pkg, the payload
 * line and the realm's locations): what can be refused before any S3 or database
 * work. Throws `SpecError` listing every problem.
 */
export function checkJob(realm: Realm, plan: PlannedDispatch, runId: string): void {
  const { job, params } = plan;
  switch (job.type) {
    case "db_from_s3":
      checkLoadParams(realm, job.job_id, params);
      return;
    case "exe":
    case "pkg":
      checkExeParams({ realm, job, params, runId });
      return;
    case "sql":
    case "sqli":
    case "sqlv":
      checkSqlParams({ realm, job, params, runId });
      return;
    case "sqlc":
      checkSqlcParams({ realm, job, params, runId });
      return;
    case "chain":
      planChain(realm, job, plan, { runId, start: new Date() });
      return;
    case "dispatch":
      checkDispatchJob(realm, job, plan.params);
      return;
    case "dag":
      planDag(realm, job, plan, { runId, start: new Date() });
      return;
    case "foreach":
      checkForeach(realm, job, plan.params);
      return;
  }
}

/** A planned dispatch as the run its job type gets (docs/state-machine.md §5). */
export function runOf(
  realm: Realm,
  plan: PlannedDispatch,
  run: Pick<JobRun, "runId" | "start" | "deps" | "events" | "options">,
): JobRun {
  return {
    realm,
    job: plan.job,
    params: plan.params,
    // What a trigger rendered from an S3 event is never rendered again.
    literal: plan.literal,
    globals: plan.globals,
    ...run,
  };
}
