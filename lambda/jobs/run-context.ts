/** The template context of one run (docs/templates.md §3): lava's variables for the job's templates. */
import { baseContext } from "../shared/templating";
import type { JobRun } from "./types";

/** `realm`, `job` (with `run_id`), `globals`, `vars`, `start`, `ustart`, `utils` of a run. */
export function runContext(
  run: Pick<JobRun, "realm" | "job" | "runId" | "globals" | "start">,
  vars: Readonly<Record<string, unknown>>,
) {
  const { realm, job, runId, globals, start } = run;
  return baseContext({ realm, job, runId, globals, vars, start });
}
