/** `lava-aurora run JOB_ID`: run a job locally through the same runner as the Lambda function. */
import { awsActionSenders } from "../../lambda/jobs/action-senders";
import { runIdProblem } from "../../lambda/jobs/dispatch";
import { runJob } from "../../lambda/jobs/run-job";
import type { RunOptions } from "../../lambda/jobs/types";
import { defaultJobDeps } from "./deps";
import { EXIT, reportError, UsageError } from "./errors";
import { progressReporter } from "./progress";
import { loadRealm, type RealmFlags } from "./realm";

/** `K=V` pairs into a mapping; V is JSON when it parses as JSON, else the string. */
export function parseAssignments(pairs: readonly string[], flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: expected K=V, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: the plain string.
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

/** Error names that mean the spec or the request is wrong (exit 2) rather than the run failed (exit 1). */
const SPEC_ERRORS = new Set(["SpecError", "TemplateError"]);

/** The flags of `lava-aurora run`. */
export type RunFlags = RealmFlags & {
  param: string[];
  global: string[];
  runId?: string;
  remote?: boolean;
  wait?: boolean;
  pollInterval?: string;
};

export async function runCommand(jobId: string, flags: RunFlags): Promise<number> {
  try {
    const parameters = parseAssignments(flags.param, "--param");
    const globals = parseAssignments(flags.global, "--global");
    const realm = await loadRealm(flags);
    if (flags.runId !== undefined) {
      // Refused here, before any run or execution: as Resolve and the runner would.
      const problem = runIdProblem(
        realm.jobs.find((j) => j.job_id === jobId),
        flags.runId,
      );
      if (problem) throw new UsageError(`--run-id: ${problem}`);
    }
    if (flags.remote) {
      const pollSeconds = Number(flags.pollInterval ?? "2");
      if (!(pollSeconds > 0))
        throw new UsageError(
          `--poll-interval: expected seconds > 0, got ${JSON.stringify(flags.pollInterval)}`,
        );
      const { runRemote } = await import("./remote");
      return await runRemote(
        realm,
        { job_id: jobId, parameters, globals, ...(flags.runId ? { run_id: flags.runId } : {}) },
        { wait: flags.wait === true, pollSeconds },
      );
    }
    if (flags.wait) throw new UsageError("--wait goes with --remote");
    const progress = progressReporter();
    const deps = defaultJobDeps();
    // Actions run here too: sns/sqs/event with your AWS credentials (or local endpoints),
    // log on stderr, and a dispatch action runs its job here, after this one.
    const options: RunOptions = {
      onProgress: progress.report,
      // The bar shows rows and rows/s too (the lines passed to COPY, then its count).
      progressRows: true,
      // A fan-out load's plan, before its items run (docs/db-from-s3.md §14).
      onPlan: (line) => process.stderr.write(`${line}\n`),
      actions: awsActionSenders({
        log: (message) => process.stderr.write(`action log: ${message}\n`),
        runHere: async (d) => {
          const r = await runJob(realm, d, deps, options);
          process.stderr.write(`dispatched ${d.job_id}: ${r.status}\n`);
        },
      }),
    };
    const result = await runJob(
      realm,
      { job_id: jobId, parameters, globals, ...(flags.runId ? { run_id: flags.runId } : {}) },
      deps,
      options,
    );
    progress.done();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result.status !== "failed") return EXIT.ok;
    return result.error && SPEC_ERRORS.has(result.error.name) ? EXIT.usage : EXIT.failed;
  } catch (err) {
    return reportError(err);
  }
}
