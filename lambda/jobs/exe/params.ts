/**
 * exe/pkg parameters after the dispatch merge, and the payload line, checked
 * before any S3 work (docs/exe-pkg.md §3); then the payload line's and the command's
 * arguments, `args` and `env` rendered, as lava renders them (unless `jinja:
 * false`, or the dispatch lists them in `literal_parameters`).
 */
import { SpecError } from "../../shared/errors";
import { parseS3Location } from "../../shared/s3-objects";
import { renderTemplate } from "../../shared/templating";
import { formatIssues } from "../../spec/format";
import { exeParamsSchema, pkgParamsSchema } from "../../spec/job";
import { parseDuration } from "../../spec/units";
import { runContext } from "../run-context";
import type { JobRun } from "../types";
import { parseCommandLine } from "./command-line";

/** One run of an exe or pkg job. */
export type ExeRun = JobRun;

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Where the payload is: one object, or every object under a prefix (`key` ending in `/`). */
export interface PayloadRef {
  readonly bucket: string;
  /** Full S3 key (or prefix, ending in `/`). */
  readonly key: string;
  readonly isPrefix: boolean;
  /** The payload line's words after the key. */
  readonly args: readonly string[];
}

/** Everything a run needs from its job and parameters, checked and rendered. */
export interface ExeParams {
  readonly kind: "exe" | "pkg";
  readonly payload: PayloadRef;
  /** pkg: program (relative to the unpacked archive) and its arguments. */
  readonly command: readonly string[] | undefined;
  /** The rendered `args` parameter (after the payload line's). */
  readonly args: readonly string[];
  /** The rendered `env` parameter. */
  readonly env: Readonly<Record<string, string>>;
  /** Connection label → conn_id; `undefined` when the job has none. */
  readonly connections: Readonly<Record<string, string>> | undefined;
  readonly timeoutMs: number;
  /** `<s3_temp>/<job_id>/<run_id>`: bucket and key prefix (no trailing `/`). */
  readonly temp: { readonly bucket: string; readonly prefix: string };
}

/** `prefix/rel`, or `rel` without a prefix. */
function under(prefix: string, rel: string): string {
  return prefix ? `${prefix}/${rel}` : rel;
}

function payloadRef(
  run: Pick<ExeRun, "realm" | "job">,
  problems: string[],
): PayloadRef | undefined {
  const at = `job ${run.job.job_id}: payload`;
  const location = run.realm.top.s3_payloads;
  if (!location) problems.push(`${at}: the realm has no s3_payloads to resolve it under`);
  const line = run.job.payload;
  if (line === undefined) problems.push(`${at}: required for ${run.job.type} jobs`);
  else if (typeof line !== "string") problems.push(`${at}: expected one payload line`);
  if (!location || typeof line !== "string") return undefined;
  let words: string[];
  try {
    words = parseCommandLine(line, at);
  } catch (err) {
    problems.push(...(err as SpecError).problems);
    return undefined;
  }
  const [rel = "", ...args] = words;
  if (rel.startsWith("/")) {
    problems.push(`${at}: expected a key relative to s3_payloads, got ${JSON.stringify(rel)}`);
    return undefined;
  }
  const { bucket, prefix } = parseS3Location(location);
  return { bucket, key: under(prefix, rel), isPrefix: rel.endsWith("/"), args };
}

/** Validate the merged parameters and the payload line; throws `SpecError` listing every problem. */
export function checkExeParams(run: Pick<ExeRun, "realm" | "job" | "params" | "runId">): Omit<
  ExeParams,
  "args" | "env"
> & {
  readonly rawArgs: readonly string[];
  readonly rawEnv: Readonly<Record<string, string | number | boolean>>;
  readonly jinja: boolean;
  readonly vars: Record<string, unknown>;
} {
  const { job } = run;
  if (job.type !== "exe" && job.type !== "pkg") {
    throw new SpecError([`job ${job.job_id}: not an exe or pkg job`]);
  }
  const at = `job ${job.job_id}: parameters.`;
  const schema = job.type === "pkg" ? pkgParamsSchema : exeParamsSchema;
  const parsed = schema.safeParse(run.params, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(at, parsed.error.issues);
  const p: Partial<ReturnType<typeof pkgParamsSchema.parse>> = parsed.success ? parsed.data : {};
  let command: string[] | undefined;
  if (job.type === "pkg") {
    if (p.command === undefined) problems.push(`${at}command: required for pkg jobs`);
    else {
      try {
        command = parseCommandLine(p.command, `${at}command`);
        if (command[0]?.startsWith("/"))
          problems.push(`${at}command: expected a program relative to the package`);
      } catch (err) {
        problems.push(...(err as SpecError).problems);
      }
    }
  }
  const payload = payloadRef(run, problems);
  const tempLocation = run.realm.top.s3_temp;
  if (!tempLocation) {
    problems.push(
      `job ${job.job_id}: the realm has no s3_temp (${job.type} jobs save stdout and stderr there)`,
    );
  }
  if (problems.length > 0 || !payload || !tempLocation) throw new SpecError(problems);
  const temp = parseS3Location(tempLocation);
  return {
    kind: job.type,
    payload,
    command,
    rawArgs: p.args ?? [],
    rawEnv: p.env ?? {},
    connections: p.connections,
    timeoutMs: parseDuration(p.timeout) ?? DEFAULT_TIMEOUT_MS,
    temp: { bucket: temp.bucket, prefix: under(temp.prefix, `${job.job_id}/${run.runId}`) },
    jinja: p.jinja ?? true,
    vars: p.vars ?? {},
  };
}

/** Check, then render `args` and `env` values. */
export function exeParams(run: ExeRun): ExeParams {
  const { rawArgs, rawEnv, jinja, vars, ...checked } = checkExeParams(run);
  const ctx = runContext(run, vars);
  const at = `job ${run.job.job_id}: parameters.`;
  const render = (field: string, value: string, where: string) =>
    jinja && !run.literal.has(field) ? renderTemplate(value, ctx, `${at}${where}`) : value;
  // As lava: the payload line's and the command's arguments are rendered like `args`
  // (the program itself is not). The payload is the job's, never a dispatch's.
  const { payload, command } = checked;
  return {
    ...checked,
    payload: {
      ...payload,
      args: payload.args.map((a, i) =>
        jinja ? renderTemplate(a, ctx, `job ${run.job.job_id}: payload (argument ${i + 1})`) : a,
      ),
    },
    command: command && [
      command[0] as string,
      ...command.slice(1).map((a, i) => render("command", a, `command (argument ${i + 1})`)),
    ],
    args: rawArgs.map((a, i) => render("args", a, `args[${i}]`)),
    env: Object.fromEntries(
      Object.entries(rawEnv).map(([k, v]) => [
        k,
        typeof v === "string" ? render("env", v, `env.${k}`) : String(v),
      ]),
    ),
  };
}
