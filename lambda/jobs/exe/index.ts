/**
 * Job types exe and pkg (docs/exe-pkg.md): fetch the payload (one object, or every
 * object under a prefix, in order) into a private directory, unpack pkg
 * archives, and run each with the payload line's and `args` arguments, the
 * LAVA_* environment and, with `connections`, the psql connectors; stdout and
 * stderr streamed to `<s3_temp>/<job_id>/<run_id>/`. The first failure ends
 * the run; the directory, the broker and the uploads are finished in every
 * outcome.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { jobApplicationName } from "../../connectors/app-name";
import { inheritedEnv } from "../../connectors/child-env";
import { PayloadError, PayloadTimeoutError } from "../../shared/errors";
import { s3Url } from "../../shared/s3-objects";
import type { JobOutcome } from "../types";
import { type ConnectionBroker, startConnectionBroker } from "./connections";
import { OutputSink } from "./outputs";
import { type ExeParams, type ExeRun, exeParams } from "./params";
import { download, packageProgram, payloadKeys, unpack } from "./payload";
import { runProcess } from "./process";

export type { ExeRun } from "./params";

/** Kept free before the run's deadline: killing the group, saving the output, cleaning up. */
export const DEADLINE_RESERVE_MS = 5_000;

/** One executable of the run, ready to start. */
interface Unit {
  readonly url: string;
  readonly program: string;
  readonly args: readonly string[];
  readonly cwd: string;
}

/** Download (and for pkg unpack) the i-th payload object under `dir`. */
async function prepare(
  s3: S3Client,
  p: ExeParams,
  key: string,
  dir: string,
  i: number,
): Promise<Unit> {
  const url = s3Url(p.payload.bucket, key);
  const home = join(dir, "payload", String(i));
  await mkdir(home, { recursive: true, mode: 0o700 });
  const file = join(home, basename(key));
  await download(s3, p.payload.bucket, key, file);
  const extra = [...p.payload.args, ...p.args];
  if (p.kind === "exe") return { url, program: file, args: extra, cwd: home };
  const [program = "", ...commandArgs] = p.command ?? [];
  const unpacked = join(dir, "pkg", String(i));
  await mkdir(join(dir, "pkg"), { recursive: true, mode: 0o700 });
  await unpack(file, unpacked, key);
  return {
    url,
    program: await packageProgram(unpacked, program, `payload ${url}`),
    args: [...commandArgs, ...extra],
    cwd: unpacked,
  };
}

/**
 * The allow-listed part of the runner's environment (never its AWS
 * credentials), then the job's `env`, then LAVA_*.
 */
function baseEnv(run: ExeRun, p: ExeParams): Record<string, string> {
  return {
    ...inheritedEnv(process.env),
    ...p.env,
    LAVA_JOB_ID: run.job.job_id,
    LAVA_RUN_ID: run.runId,
    LAVA_REALM: run.realm.name,
    LAVA_OWNER: run.job.owner ?? "",
    LAVA_S3_TMP: s3Url(p.temp.bucket, p.temp.prefix),
  };
}

/** When the payload must be over: `timeout` from now, but a few seconds before the deadline. */
function timeLimit(run: ExeRun, p: ExeParams): { at: number; why: string } {
  const byTimeout = Date.now() + p.timeoutMs;
  const deadline = run.options.deadline;
  if (deadline !== undefined && deadline - DEADLINE_RESERVE_MS < byTimeout)
    return { at: deadline - DEADLINE_RESERVE_MS, why: "the run's deadline" };
  return { at: byTimeout, why: `its timeout of ${p.timeoutMs / 1000}s` };
}

/** Run the units in order; throws on the first failure. */
async function runUnits(
  run: ExeRun,
  p: ExeParams,
  units: readonly Unit[],
  env: Record<string, string>,
  out: { stdout: OutputSink; stderr: OutputSink },
): Promise<void> {
  const limit = timeLimit(run, p);
  for (const unit of units) {
    run.events.add(`running ${unit.url} with ${unit.args.length} argument(s)`);
    const outcome = await runProcess({
      program: unit.program,
      args: unit.args,
      cwd: unit.cwd,
      env: { ...env, LAVA_S3_PAYLOAD: unit.url },
      timeoutMs: limit.at - Date.now(),
      ...out,
    });
    switch (outcome.kind) {
      case "exited":
        run.events.add(`${unit.url}: exit code ${outcome.code}`);
        if (outcome.code !== 0)
          throw new PayloadError(`payload ${unit.url} exited with code ${outcome.code}`, {
            exitCode: outcome.code,
          });
        break;
      case "timeout":
        throw new PayloadTimeoutError(
          `payload ${unit.url} ran past ${limit.why}: killed with its process group`,
        );
      case "signaled":
        throw new PayloadError(`payload ${unit.url} was killed by ${outcome.signal}`);
      case "spawn-failed":
        throw new PayloadError(`payload ${unit.url} could not start: ${outcome.code}`);
    }
  }
}

/** Save the outputs; an upload failure fails an otherwise good run, else it is only logged. */
async function finishOutputs(run: ExeRun, sinks: readonly OutputSink[], failed: boolean) {
  let error: unknown;
  for (const sink of sinks) {
    try {
      await sink.finish();
      if (sink.bytes > 0) run.events.add(`${sink.url}: ${sink.bytes} bytes`);
    } catch (err) {
      run.events.add((err as Error).message);
      error ??= err;
    }
  }
  if (error !== undefined && !failed) throw error;
}

/** Run one exe or pkg job. Failures throw; the runner turns them into a failed result. */
export async function runExe(run: ExeRun): Promise<JobOutcome> {
  const p = exeParams(run);
  const region = run.realm.top.region;
  const s3 = run.deps.s3(region ? { region } : {});
  const keys = await payloadKeys(s3, p.payload);
  if (p.payload.isPrefix)
    run.events.add(`${keys.length} payload(s) under ${s3Url(p.payload.bucket, p.payload.key)}`);
  const dir = await mkdtemp(join(tmpdir(), "lava-exe-"));
  try {
    const out = {
      stdout: new OutputSink(s3, p.temp.bucket, `${p.temp.prefix}/stdout`),
      stderr: new OutputSink(s3, p.temp.bucket, `${p.temp.prefix}/stderr`),
    };
    let broker: ConnectionBroker | undefined;
    let failed = true;
    try {
      const units: Unit[] = [];
      for (const [i, key] of keys.entries()) units.push(await prepare(s3, p, key, dir, i));
      let env = baseEnv(run, p);
      if (p.connections) {
        broker = await startConnectionBroker({
          realm: run.realm,
          labels: { ...p.connections },
          applicationName: jobApplicationName(run.realm.name, run.job.job_id),
          dir: join(dir, "connections"),
          resolve: run.deps.resolve,
        });
        env = { ...env, ...broker.env };
        run.events.add(`connections: ${Object.keys(p.connections).join(", ")}`);
      }
      await runUnits(run, p, units, env, out);
      failed = false;
    } finally {
      await broker?.close().catch((err: unknown) => {
        run.events.add(`closing the connection broker: ${(err as Error).message}`);
      });
      await finishOutputs(run, [out.stdout, out.stderr], failed);
    }
    return { status: "ok", exit_code: 0 };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
      run.events.add(`removing the private directory: ${(err as Error).message}`);
    });
  }
}
