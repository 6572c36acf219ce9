/**
 * State machine lava-example-jobs, EXECUTED locally: the definition synthesized
 * from realms/example.yaml runs in aws-local-stepfunctions with "Resolve" answered
 * by the real resolve handler and "Run job" by stubs (or the real runner where it
 * needs no database); "Notify" records the notices. One synth; no real waits.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { JobRunError, makeRunnerHandler } from "../../lambda/handlers/runner";
import type { Dispatch, JobDeps, JobResult } from "../../lambda/jobs/types";
import {
  PERMANENT_ERROR_NAMES,
  RETRYABLE_ERROR_NAMES,
  SecretAccessError,
  SpecError,
} from "../../lambda/shared/errors";
import { loadRealmFile } from "../../lambda/spec/load";
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";
import { buildApp } from "../../lib/app";
import { LAMBDA_SERVICE_ERRORS } from "../../lib/constructs/jobs-state-machine";
import type { RealmStack } from "../../lib/realm-stack";
import {
  definitionOf,
  type JsonValue,
  type LocalHandler,
  type LocalRun,
  placeholderArn,
  plannedWaits,
  runLocally,
  type StateMachineDefinition,
  stateMachineNameOf,
} from "../support/local-state-machine";

const repo = new URL("../..", import.meta.url).pathname;
const realmFile = join(repo, "realms/example.yaml");

let stack: RealmStack;
let template: Template;
let definition: StateMachineDefinition;
let machineName: string;
/** realms/example.yaml, as the stack was built from it. */
let realm: Realm;
/** example.yaml plus `sales/load-orders-thrice`: iteration_limit 3, iteration_delay 45s. */
let flowRealm: Realm;

beforeAll(async () => {
  ({ stack } = await buildApp(new App({ context: { realm: "example" } }), repo));
  template = Template.fromStack(stack);
  definition = definitionOf(template);
  machineName = stateMachineNameOf(template);
  realm = await loadRealmFile(realmFile, { expectedRealm: "example" });

  const doc = parse(await readFile(realmFile, "utf8")) as { jobs: Record<string, unknown>[] };
  const orders = doc.jobs.find((j) => j.job_id === "sales/load-orders");
  doc.jobs.push({
    ...orders,
    job_id: "sales/load-orders-thrice",
    iteration_limit: 3,
    iteration_delay: "45s",
  });
  flowRealm = validateRealm(doc, "realms/example.yaml", { expectedRealm: "example" });
}, 120_000);

// ---- local handlers -------------------------------------------------------

/** The real resolve function's handler, for a realm. */
const resolveWith =
  (r: Realm): LocalHandler =>
  (input) =>
    makeResolveHandler(r)(input as JobsInput);

const asDispatch = (input: unknown) => input as Dispatch;

function okResult(dispatch: Dispatch, runId = "run-ok"): JobResult {
  return {
    status: "ok",
    job_id: dispatch.job_id,
    run_id: runId,
    bucket: "example-landing",
    key: "sales/orders/20250301.csv.gz",
    table: "sales.orders",
    loaded_table: "sales.orders_b",
    rows: 42,
    events: ["loaded 42 rows"],
  };
}

function failedResult(
  dispatch: Dispatch,
  name: string,
  runId: string,
  retryable = false,
): JobResult {
  return {
    status: "failed",
    job_id: dispatch.job_id,
    run_id: runId,
    bucket: "example-landing",
    key: "sales/orders/20250301.csv.gz",
    error: { name, message: `${name} in run ${runId}`, retryable },
    events: [`failed: ${name}`],
  };
}

/** Notify's stand-in: records what would be published. */
function noticeBoard() {
  const published: { TopicArn: string; Subject: string; Message: Record<string, unknown> }[] = [];
  const handler: LocalHandler = (input) => {
    published.push(input as (typeof published)[number]);
    return { MessageId: `message-${published.length}` };
  };
  return { published, handler };
}

/** The real runner, with services that fail loudly if a run ever reaches them. */
function realRunner(r: Realm, deps: Partial<JobDeps> = {}): LocalHandler {
  const untouched = (what: string) => () => {
    throw new Error(`${what} must not be used in this test`);
  };
  const runner = makeRunnerHandler(r, {
    resolve: {
      store: { getParameter: untouched("SSM"), getSecret: untouched("Secrets Manager") },
      signToken: untouched("the RDS token signer"),
    },
    s3: untouched("S3"),
    ...deps,
  });
  return (input) => runner(asDispatch(input), { getRemainingTimeInMillis: () => 900_000 });
}

function run(input: JobsInput, handlers: Record<string, LocalHandler>): Promise<LocalRun> {
  return runLocally(definition, input as unknown as JsonValue, {
    handlers,
    stateMachineName: machineName,
  });
}

const dispatchOf = (job_id: string, extra: Partial<Dispatch> = {}) => ({
  job_id,
  parameters: {},
  globals: {},
  ...extra,
});

// ---- the definition under test --------------------------------------------

describe("the synthesized definition", () => {
  it("is the stack's: Resolve invokes the resolve function, Run job the runner, Notify publishes to the notices topic", () => {
    const id = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as never);
    const states = definition.States;
    expect(definition.StartAt).toBe("Resolve");
    expect(states.Resolve).toMatchObject({
      Type: "Task",
      Resource: placeholderArn(id(stack.resolver.fn), "AWS::Lambda::Function"),
    });
    expect(states["Run job"]).toMatchObject({
      Type: "Task",
      Resource: placeholderArn(id(stack.runner.fn), "AWS::Lambda::Function"),
      InputPath: "$.plan.dispatch",
    });
    // A string `Parameters` would be passed to the runner literally (aws/aws-cdk#34260).
    expect(states["Run job"]).not.toHaveProperty("Parameters");
    expect(states.Notify).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::sns:publish",
      Parameters: { TopicArn: placeholderArn(id(stack.notices.topic), "AWS::SNS::Topic") },
    });
    expect(machineName).toBe("lava-example-jobs");
  });

  it("retries Run job on exactly the retryable error names and the Lambda service errors, with backoff and full jitter, never on a permanent name", () => {
    const runJob = definition.States["Run job"];
    if (runJob?.Type !== "Task") throw new Error("Run job is not a Task state");
    expect(runJob.Retry).toHaveLength(1);
    const [retrier] = runJob.Retry ?? [];
    expect(new Set(retrier?.ErrorEquals)).toEqual(
      new Set([...RETRYABLE_ERROR_NAMES, ...LAMBDA_SERVICE_ERRORS]),
    );
    expect(retrier?.ErrorEquals).toHaveLength(
      RETRYABLE_ERROR_NAMES.length + LAMBDA_SERVICE_ERRORS.length,
    );
    expect(retrier).toMatchObject({
      IntervalSeconds: 5,
      BackoffRate: 2,
      MaxAttempts: 3,
      MaxDelaySeconds: 120,
      JitterStrategy: "FULL",
    });
    for (const name of [...PERMANENT_ERROR_NAMES, "States.ALL", "States.TaskFailed"])
      expect(retrier?.ErrorEquals).not.toContain(name);
    expect(runJob.Catch).toEqual([
      { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Attempts left?" },
    ]);
    // Resolve fails fast: only Lambda's own service errors are retried.
    const resolve = definition.States.Resolve;
    if (resolve?.Type !== "Task") throw new Error("Resolve is not a Task state");
    expect(resolve.Retry?.flatMap((r) => r.ErrorEquals)).toEqual([...LAMBDA_SERVICE_ERRORS]);
  });
});

// ---- executions -------------------------------------------------------------

describe("an execution of lava-example-jobs", () => {
  it("succeeds on the happy path and outputs the runner's result", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "sales/load-orders", parameters: { key: "sales/orders/20250301.csv.gz" } },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: notices.handler,
      },
    );
    // Not merely "no error": the execution must SUCCEED through "Done" (a missing
    // Promise.withResolvers would fail every Task and a Catch would hide it).
    expect(r.error).toBeUndefined();
    expect(r.status).toBe("SUCCEEDED");
    expect(r.output).toEqual(
      okResult({ job_id: "sales/load-orders" }) as unknown as Record<string, unknown>,
    );
    expect(r.entered).toEqual([
      "Resolve",
      "Enabled?",
      "Delay",
      "First attempt",
      "Attempt number",
      "Job type?",
      "Run job",
      "Run ok?",
      "on_success actions?",
      "Done",
    ]);
    // The runner is given the dispatch, not the whole state: with its execution, start and attempt.
    expect(r.taskInputs["Run job"]).toEqual([
      dispatchOf("sales/load-orders", {
        parameters: { key: "sales/orders/20250301.csv.gz" },
        attempt: 1,
        execution: expect.stringMatching(
          /^arn:aws:states:ap-southeast-2:123456789012:execution:lava-example-jobs:local-\d+$/,
        ),
        dispatched_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 1, Notify: 0 });
    expect(notices.published).toEqual([]);
  });

  it("retries a retryable error thrown by the runner (Retry), then succeeds without a notice", async () => {
    const notices = noticeBoard();
    let calls = 0;
    const r = await run(
      { job_id: "sales/load-orders" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => {
          calls += 1;
          if (calls === 1) {
            throw new JobRunError(
              failedResult(asDispatch(input), "DatabaseConnectError", "run-1", true),
            );
          }
          return okResult(asDispatch(input), "run-2");
        },
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(r.output).toMatchObject({ status: "ok", run_id: "run-2" });
    expect(r.calls["Run job"]).toBe(2);
    // A Retry, not a second attempt of the loop.
    expect(r.entered.filter((s) => s === "Run job")).toHaveLength(1);
    expect(r.entered).not.toContain("Attempts left?");
    const retried = r.events.filter((e) => e.type === "StateRetried");
    expect(retried.map((e) => e.state.name)).toEqual(["Run job"]);
    expect(notices.published).toEqual([]);
  });

  it("gives up on a retryable error after Retry's MaxAttempts, per attempt of the loop, then sends a notice", async () => {
    const notices = noticeBoard();
    let calls = 0;
    const r = await run(
      { job_id: "sales/load-orders" }, // iteration_limit 2
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => {
          calls += 1;
          throw new JobRunError(
            failedResult(asDispatch(input), "DatabaseConnectError", `run-${calls}`, true),
          );
        },
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("DatabaseConnectError");
    // 2 attempts × (1 call + 3 retries).
    expect(r.calls["Run job"]).toBe(8);
    expect(r.entered.filter((s) => s === "Run job")).toHaveLength(2);
    // A retry in place is the same attempt; the loop's next one is attempt 2.
    expect(r.taskInputs["Run job"]?.map((i) => asDispatch(i).attempt)).toEqual([
      1, 1, 1, 1, 2, 2, 2, 2,
    ]);
    expect(notices.published).toHaveLength(1);
    expect(notices.published[0]?.Message).toMatchObject({
      job_id: "sales/load-orders",
      error: "DatabaseConnectError",
    });
  });

  it("retries the real runner's retryable failure (throttled SSM) by name, then sends a notice naming it", async () => {
    const notices = noticeBoard();
    let reads = 0;
    const runner = realRunner(realm, {
      resolve: {
        store: {
          getParameter: async (name) => {
            reads += 1;
            throw new SecretAccessError(`cannot read ${name}: ThrottlingException`, {
              retryable: true,
            });
          },
          getSecret: async () => {
            throw new Error("no secret is read by demo/load-members");
          },
        },
        signToken: async () => {
          throw new Error("local-pg does not use IAM auth");
        },
      },
    });
    const r = await run(
      { job_id: "demo/load-members" }, // iteration_limit 1
      { Resolve: resolveWith(realm), "Run job": runner, Notify: notices.handler },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("SecretAccessError");
    expect(r.calls["Run job"]).toBe(4);
    expect(reads).toBe(4);
    expect(r.entered).not.toContain("Iteration delay");
    expect(notices.published).toHaveLength(1);
    const message = notices.published[0]?.Message ?? {};
    expect(message).toMatchObject({ job_id: "demo/load-members", error: "SecretAccessError" });
    // The cause is the runner's result summary: run_id included, no step log.
    const cause = JSON.parse(String(message.cause)) as Record<string, unknown>;
    expect(cause).toMatchObject({ job_id: "demo/load-members", status: "failed" });
    expect(cause.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(cause).not.toHaveProperty("events");
  });

  it("sends a permanent failed result (BadDataError) to Notify with job_id, error and run_id, then fails with it; iteration_limit 1 makes no second attempt", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "demo/load-members" }, // iteration_limit 1
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => failedResult(asDispatch(input), "BadDataError", "run-bad"),
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("BadDataError");
    expect(JSON.parse(r.error?.cause ?? "{}")).toMatchObject({ run_id: "run-bad" });
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 1, Notify: 1 });
    expect(r.entered.slice(-6)).toEqual([
      "Run ok?",
      "Run failed",
      "Attempts left?",
      "on_fail actions?",
      "Notify",
      "Job failed",
    ]);
    expect(r.entered).not.toContain("Iteration delay");
    expect(notices.published).toHaveLength(1);
    const notice = notices.published[0];
    expect(notice?.Subject).toBe("lava-aurora example: job demo/load-members failed");
    expect(notice?.Message).toMatchObject({
      realm: "example",
      job_id: "demo/load-members",
      error: "BadDataError",
      execution: expect.stringMatching(/^arn:aws:states:.*:execution:lava-example-jobs:/),
      dispatch: { job_id: "demo/load-members" },
    });
    const cause = JSON.parse(String(notice?.Message.cause)) as Record<string, unknown>;
    expect(cause).toMatchObject({
      run_id: "run-bad",
      status: "failed",
      error: { name: "BadDataError", retryable: false },
    });
  });

  it("stops at a permanent error name (SpecError thrown by the runner) even with attempts left, without retrying it", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "sales/load-orders" }, // iteration_limit 2
      {
        Resolve: resolveWith(realm),
        "Run job": () => {
          throw new SpecError(["job sales/load-orders: parameters.mode: invalid"]);
        },
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error).toEqual({
      name: "SpecError",
      cause: "job sales/load-orders: parameters.mode: invalid",
    });
    expect(r.calls["Run job"]).toBe(1);
    expect(r.events.filter((e) => e.type === "StateRetried")).toEqual([]);
    expect(r.entered).not.toContain("Iteration delay");
    expect(notices.published.map((n) => n.Message.error)).toEqual(["SpecError"]);
  });

  it("makes exactly three attempts with iteration_limit 3 when every attempt fails, waiting iteration_delay (45 s) twice", async () => {
    const notices = noticeBoard();
    let calls = 0;
    const r = await run(
      { job_id: "sales/load-orders-thrice" },
      {
        Resolve: resolveWith(flowRealm),
        "Run job": (input) => {
          calls += 1;
          return failedResult(asDispatch(input), "ObjectMissingError", `run-${calls}`);
        },
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("ObjectMissingError");
    expect(r.calls["Run job"]).toBe(3);
    expect(r.entered.filter((s) => s === "Run job")).toHaveLength(3);
    expect(r.entered.filter((s) => s === "Iteration delay")).toHaveLength(2);
    // The wait's SecondsPath resolves to the job's iteration_delay at each entry (overridden to 0 ms here).
    expect(plannedWaits(definition, r, "Iteration delay")).toEqual([45, 45]);
    expect(r.inputsAt("Next attempt").map((i) => (i as { attempt: unknown }).attempt)).toEqual([
      { value: 1 },
      { value: 2 },
    ]);
    // The last attempt's failure is the one announced.
    expect(notices.published).toHaveLength(1);
    expect(JSON.parse(String(notices.published[0]?.Message.cause))).toMatchObject({
      run_id: "run-3",
    });
  });

  it("makes the second attempt of sales/load-orders (iteration_limit 2) after its iteration_delay of 1m, and succeeds", async () => {
    let calls = 0;
    const r = await run(
      { job_id: "sales/load-orders" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => {
          calls += 1;
          return calls === 1
            ? failedResult(asDispatch(input), "ObjectMissingError", "run-1")
            : okResult(asDispatch(input), "run-2");
        },
        Notify: noticeBoard().handler,
      },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(r.output).toMatchObject({ status: "ok", run_id: "run-2" });
    expect(plannedWaits(definition, r, "Iteration delay")).toEqual([60]);
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 2, Notify: 0 });
    // Each attempt's dispatch says which it is (the run log's attempt).
    expect(r.taskInputs["Run job"]?.map((i) => asDispatch(i).attempt)).toEqual([1, 2]);
  });

  it("makes no further attempt after bad data, even with attempts left (iteration_limit 2)", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "sales/load-orders" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => failedResult(asDispatch(input), "BadDataError", "run-bad"),
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("BadDataError");
    expect(r.calls["Run job"]).toBe(1);
    expect(r.entered).not.toContain("Iteration delay");
    expect(notices.published).toHaveLength(1);
  });

  it("skips a disabled job even when its dispatch lacks required parameters", async () => {
    const r = await run(
      { job_id: "partner/load-drop", globals: { partner_enabled: "false" } },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: noticeBoard().handler,
      },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(r.entered).toEqual(["Resolve", "Enabled?", "Skipped (disabled)"]);
  });

  it('waits the dispatch\'s delay: "2s" enters Delay with delay_seconds 2', async () => {
    const r = await run(
      { job_id: "sales/load-orders", delay: "2s" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: noticeBoard().handler,
      },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(plannedWaits(definition, r, "Delay")).toEqual([2]);
    expect(r.entered.indexOf("Delay")).toBeLessThan(r.entered.indexOf("Run job"));
  });

  it("waits 0 s without a delay", async () => {
    const r = await run(
      { job_id: "sales/load-orders" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: noticeBoard().handler,
      },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(plannedWaits(definition, r, "Delay")).toEqual([0]);
  });

  it("fails an unknown job in Resolve with SpecError after a notice, never calling the runner", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "nope/unknown" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("SpecError");
    expect(r.error?.cause).toContain("job nope/unknown: not defined in realm example");
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 0, Notify: 1 });
    expect(r.entered).toEqual(["Resolve", "Notify", "Job failed"]);
    expect(notices.published[0]?.Message).toMatchObject({
      job_id: "nope/unknown",
      error: "SpecError",
    });
  });

  it("fails invalid parameters in Resolve with SpecError after a notice, never calling the runner", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "sales/load-orders", parameters: { mode: "sideways" } },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: notices.handler,
      },
    );
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("SpecError");
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 0, Notify: 1 });
    expect(notices.published[0]?.Message.error).toBe("SpecError");
  });

  it("ends a disabled job in Skipped (disabled) without calling the (real) runner", async () => {
    const notices = noticeBoard();
    const r = await run(
      {
        job_id: "partner/load-drop",
        parameters: { bucket: "example-partner-drop", key: "drops/members/20250301.csv" },
        globals: { partner_enabled: "false" },
      },
      { Resolve: resolveWith(realm), "Run job": realRunner(realm), Notify: notices.handler },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(r.entered).toEqual(["Resolve", "Enabled?", "Skipped (disabled)"]);
    expect(r.output).toMatchObject({ plan: { job_id: "partner/load-drop", enabled: false } });
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 0, Notify: 0 });
  });

  it("fails an exe job with ExeNotEnabled after a notice when the realm has no exe function", async () => {
    const notices = noticeBoard();
    const r = await run(
      { job_id: "ops/vacuum" },
      {
        Resolve: resolveWith(realm),
        "Run job": (input) => okResult(asDispatch(input)),
        Notify: notices.handler,
      },
    );
    expect(definition.States).not.toHaveProperty("Run exe job");
    expect(r.status).toBe("FAILED");
    expect(r.error).toEqual({
      name: "ExeNotEnabled",
      cause: "exe, pkg, sqlc and sqlv jobs need exe.enabled in realm example",
    });
    expect(r.calls).toEqual({ Resolve: 1, "Run job": 0, Notify: 1 });
    expect(r.entered).toContain("No exe function");
    expect(notices.published[0]?.Message).toMatchObject({
      job_id: "ops/vacuum",
      error: "ExeNotEnabled",
    });
  });
});
