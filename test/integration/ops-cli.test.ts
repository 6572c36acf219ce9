/**
 * The operator's commands against the Step Functions stub (docs/operations.md §4):
 * `runs` (since, job, failed, paging), `show` (the history summarized), `tail`
 * (a bounded wait), `redrive`, `--json` output that parses; and the stub's
 * ListExecutions and GetExecutionHistory as AWS answers them.
 */
import { GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import type { ExecutionSummary } from "../../bin/cli/executions";
import type { StubExecution } from "../../bin/cli/local-world/aws-stub-sfn";
import type { StubHistoryEvent } from "../../bin/cli/local-world/aws-stub-sfn-history";
import type { RunsReport } from "../../bin/cli/runs";
import type { ShowReport } from "../../bin/cli/show";
import { runCli } from "../support/cli";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-example-jobs";
const OTHER_SM = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-other-jobs";
const arnOf = (name: string, sm = SM) => `${sm.replace(":stateMachine:", ":execution:")}:${name}`;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

/** Seed an execution of the realm's state machine (or `sm`). */
function execution(
  name: string,
  jobId: string,
  fields: Partial<StubExecution> & { startedMinutesAgo?: number; sm?: string } = {},
): StubExecution {
  const { startedMinutesAgo = 5, sm = SM, ...rest } = fields;
  const startDate = minutesAgo(startedMinutesAgo);
  const e: StubExecution = {
    executionArn: arnOf(name, sm),
    stateMachineArn: sm,
    name,
    input: JSON.stringify({ job_id: jobId, parameters: {} }),
    startDate,
    status: "SUCCEEDED",
    stopDate: new Date(startDate.getTime() + 1500),
    ...rest,
  };
  aws.states.executions.set(e.executionArn, e);
  return e;
}

const okResult = (rows: number) =>
  JSON.stringify({ status: "ok", job_id: "sales/load-orders", run_id: "r-ok", rows, events: [] });
const failedCause = JSON.stringify({
  status: "failed",
  job_id: "sales/load-orders",
  run_id: "r-bad",
  error: { name: "BadDataError", message: "bad data in s3://x/a.csv: line 3", retryable: false },
});

function deployed(): void {
  aws.setParameter("/lava/example/state-machine-arn", SM);
  aws.states.onStart = undefined;
}

/** A realm with a few executions of every kind. */
function seedRuns(): void {
  deployed();
  execution("orders-ok", "sales/load-orders", { startedMinutesAgo: 50, output: okResult(7) });
  execution("orders-bad", "sales/load-orders", {
    startedMinutesAgo: 40,
    status: "FAILED",
    error: "BadDataError",
    cause: failedCause,
  });
  execution("nightly-timeout", "sales/nightly", {
    startedMinutesAgo: 30,
    status: "TIMED_OUT",
    error: "States.Timeout",
  });
  execution("events-running", "sales/load-events", {
    startedMinutesAgo: 2,
    status: "RUNNING",
    stopDate: undefined,
  });
  execution("orders-old", "sales/load-orders", {
    startedMinutesAgo: 3 * 1440,
    output: okResult(1),
  });
  execution("elsewhere", "sales/load-orders", { sm: OTHER_SM, output: okResult(2) });
}

const cli = (args: string[]) => runCli([...args, "--realm", "example"], { env: aws.env() });

describe("lava-aurora runs", () => {
  it("lists the executions since --since, newest first, with job and outcome (--json parses)", async () => {
    // Prepare
    seedRuns();
    // Act
    const r = await cli(["runs", "--since", "1h", "--json"]);
    // Assess
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as RunsReport;
    expect(report.state_machine).toBe(SM);
    expect(report.executions.map((e) => [e.name, e.job_id, e.status])).toEqual([
      ["events-running", "sales/load-events", "RUNNING"],
      ["nightly-timeout", "sales/nightly", "TIMED_OUT"],
      ["orders-bad", "sales/load-orders", "FAILED"],
      ["orders-ok", "sales/load-orders", "SUCCEEDED"],
    ]);
    expect(report.executions.find((e) => e.name === "orders-ok")).toMatchObject({
      execution_arn: arnOf("orders-ok"),
      duration_ms: 1500,
      result: { status: "ok", rows: 7, run_id: "r-ok" },
    });
    expect(report.executions.find((e) => e.name === "orders-bad")?.result).toEqual({
      status: "failed",
      run_id: "r-bad",
      reason: null,
      rows: null,
      error: { name: "BadDataError", message: "bad data in s3://x/a.csv: line 3" },
    });
    expect(report.run_log).toBeUndefined();
  });

  it("filters by --job and --failed (FAILED, TIMED_OUT and ABORTED, asked for by status)", async () => {
    seedRuns();
    const job = JSON.parse((await cli(["runs", "--job", "sales/load-orders", "--json"])).stdout);
    expect(job.executions.map((e: ExecutionSummary) => e.name)).toEqual([
      "orders-bad",
      "orders-ok",
    ]);
    const failed = JSON.parse((await cli(["runs", "--failed", "--since", "7d", "--json"])).stdout);
    expect(failed.executions.map((e: ExecutionSummary) => e.name)).toEqual([
      "nightly-timeout",
      "orders-bad",
    ]);
    const filters = aws
      .callsTo("states", "ListExecutions")
      .map((c) => c.body.statusFilter)
      .filter(Boolean);
    expect(filters).toEqual(["FAILED", "TIMED_OUT", "ABORTED"]);
  });

  it("prints a line per execution for people", async () => {
    seedRuns();
    const r = await cli(["runs"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^4 executions of lava-example-jobs since \d{4}-\d\d-\d\dT/);
    expect(lines[1]).toMatch(/RUNNING .* sales\/load-events +running +events-running$/);
    expect(lines[2]).toMatch(/TIMED_OUT .* sales\/nightly +States\.Timeout +nightly-timeout$/);
    expect(lines[3]).toMatch(
      /FAILED .* 1\.5s +sales\/load-orders +failed: BadDataError: bad data in s3:\/\/x\/a\.csv: line 3 +orders-bad$/,
    );
    expect(lines[4]).toMatch(/SUCCEEDED +1\.5s +sales\/load-orders +ok, 7 rows +orders-ok$/);
  });

  it("reads every page of ListExecutions within the window, up to --limit", async () => {
    deployed();
    for (let i = 0; i < 130; i++)
      execution(`bulk-${i}`, "sales/load-orders", {
        startedMinutesAgo: 200 - i,
        output: okResult(i),
      });
    const all = JSON.parse(
      (await cli(["runs", "--since", "1d", "--limit", "500", "--json"])).stdout,
    );
    expect(all.executions).toHaveLength(130);
    expect(all.executions[0].name).toBe("bulk-129");
    expect(aws.callsTo("states", "ListExecutions").map((c) => Boolean(c.body.nextToken))).toEqual([
      false,
      true,
    ]);
    const some = JSON.parse((await cli(["runs", "--limit", "3", "--json"])).stdout);
    expect(some.executions.map((e: ExecutionSummary) => e.name)).toEqual([
      "bulk-129",
      "bulk-128",
      "bulk-127",
    ]);
  });

  it("refuses a bad --since and an unknown --conn (exit 2)", async () => {
    deployed();
    const since = await cli(["runs", "--since", "soon"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since: expected a duration like 30s, 15m, 1d, got "soon"');
    const conn = await cli(["runs", "--conn", "nope"]);
    expect(conn.code).toBe(2);
    expect(conn.stderr).toContain("--conn: no connection nope in realm example");
  });
});

/** The history of a load that failed twice in Run job (retried), then for good. */
function failedHistory(start: Date): StubHistoryEvent[] {
  const at = (ms: number) => new Date(start.getTime() + ms);
  const entered = (type: string, name: string, ms: number): StubHistoryEvent => ({
    type: `${type}StateEntered`,
    timestamp: at(ms),
    stateEnteredEventDetails: { name, input: "{}" },
  });
  const exited = (type: string, name: string, ms: number): StubHistoryEvent => ({
    type: `${type}StateExited`,
    timestamp: at(ms),
    stateExitedEventDetails: { name, output: "{}" },
  });
  const lambdaFailed = (ms: number): StubHistoryEvent => ({
    type: "TaskFailed",
    timestamp: at(ms),
    taskFailedEventDetails: {
      resourceType: "lambda",
      resource: "invoke",
      error: "DatabaseConnectError",
      cause: "connection pg: cannot connect",
    },
  });
  const scheduled = (ms: number): StubHistoryEvent => ({
    type: "TaskScheduled",
    timestamp: at(ms),
    taskScheduledEventDetails: {
      resourceType: "lambda",
      resource: "invoke",
      region: "us-east-1",
      parameters: "{}",
    },
  });
  return [
    {
      type: "ExecutionStarted",
      timestamp: at(0),
      executionStartedEventDetails: {
        input: '{"job_id":"sales/load-orders"}',
        roleArn: "arn:aws:iam::123456789012:role/x",
      },
    },
    entered("Task", "Resolve", 10),
    scheduled(11),
    { type: "TaskSucceeded", timestamp: at(200), taskSucceededEventDetails: { output: "{}" } },
    exited("Task", "Resolve", 210),
    entered("Choice", "Enabled?", 220),
    exited("Choice", "Enabled?", 221),
    entered("Task", "Run job", 300),
    scheduled(301),
    lambdaFailed(800),
    scheduled(5800),
    lambdaFailed(6300),
    scheduled(16300),
    lambdaFailed(16800),
    exited("Task", "Run job", 16810),
    entered("Choice", "Attempts left?", 16820),
    exited("Choice", "Attempts left?", 16821),
    entered("Task", "Notify", 16830),
    exited("Task", "Notify", 16900),
    entered("Fail", "Job failed", 16910),
    {
      type: "ExecutionFailed",
      timestamp: at(16920),
      executionFailedEventDetails: {
        error: "DatabaseConnectError",
        cause: "connection pg: cannot connect",
      },
    },
  ];
}

describe("lava-aurora show", () => {
  it("summarizes the history: states entered, retries and failures, then the error and cause", async () => {
    deployed();
    const e = execution("orders-retried", "sales/load-orders", {
      status: "FAILED",
      error: "DatabaseConnectError",
      cause: "connection pg: cannot connect",
    });
    e.history = failedHistory(e.startDate);
    // Act
    const json = await cli(["show", "orders-retried", "--json"]);
    const human = await cli(["show", e.executionArn]);
    // Assess
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as ShowReport;
    expect(report).toMatchObject({
      name: "orders-retried",
      job_id: "sales/load-orders",
      status: "FAILED",
      error: "DatabaseConnectError",
      events: 21,
    });
    expect(report.states.map((s) => [s.name, s.type, s.retries, s.failures.length])).toEqual([
      ["Resolve", "Task", 0, 0],
      ["Enabled?", "Choice", 0, 0],
      ["Run job", "Task", 2, 3],
      ["Attempts left?", "Choice", 0, 0],
      ["Notify", "Task", 0, 0],
      ["Job failed", "Fail", 0, 0],
    ]);
    expect(report.states[2]?.failures[0]).toEqual({
      error: "DatabaseConnectError",
      cause: "connection pg: cannot connect",
    });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("execution  orders-retried\n");
    expect(human.stdout).toMatch(
      /\n +\+0\.3s {2}Run job +16\.5s {2}2 retries, failed: DatabaseConnectError, failed: DatabaseConnectError, failed: DatabaseConnectError\n/,
    );
    expect(human.stdout).toMatch(/\n +\+16\.9s {2}Job failed +\(not exited\)\n/);
    expect(human.stdout).toContain(
      "error      DatabaseConnectError\ncause      connection pg: cannot connect\n",
    );
  });

  it("shows a succeeded execution's result", async () => {
    deployed();
    execution("orders-fine", "sales/load-orders", { output: okResult(12) });
    const r = await cli(["show", "orders-fine"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("outcome    ok, 12 rows\n");
    expect(r.stdout).toContain("run        r-ok\n");
    const report = JSON.parse((await cli(["show", "orders-fine", "--json"])).stdout) as ShowReport;
    expect(report.result).toMatchObject({ status: "ok", rows: 12 });
    expect(report.events).toBe(2);
  });

  it("exits 1 naming the execution that does not exist", async () => {
    deployed();
    const r = await cli(["show", "nothing-here"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot describe ${arnOf("nothing-here")}: ExecutionDoesNotExist`);
  });
});

/** Resolves once the stub has answered `n` calls of `op` (from the CLI under test). */
async function callsOf(op: string, n: number): Promise<void> {
  for (let i = 0; i < 200 && aws.callsTo("states", op).length < n; i++)
    await new Promise((ok) => setTimeout(ok, 25));
}

describe("lava-aurora tail", () => {
  it("follows running, new and redriven executions to their end, for --for", async () => {
    // Prepare: one running before tail starts, one finished (not printed), one failed to redrive.
    deployed();
    const before = execution("before", "sales/load-events", {
      status: "RUNNING",
      stopDate: undefined,
    });
    execution("finished-earlier", "sales/load-orders", {
      startedMinutesAgo: 9,
      output: okResult(1),
    });
    const toRedrive = execution("to-redrive", "sales/nightly", {
      startedMinutesAgo: 8,
      status: "FAILED",
      error: "ChildJobError",
    });
    // Act: tail for 4 s; meanwhile a new execution starts and ends, the running one fails,
    // and the failed one is redriven and succeeds.
    const tail = cli(["tail", "--for", "4s", "--poll-interval", "0.1", "--json"]);
    await callsOf("ListExecutions", 2);
    const fresh = execution("fresh", "sales/load-orders", {
      startedMinutesAgo: 0,
      status: "RUNNING",
      stopDate: undefined,
    });
    await callsOf("DescribeExecution", 2);
    await new Promise((ok) => setTimeout(ok, 300));
    Object.assign(fresh, { status: "SUCCEEDED", output: okResult(3), stopDate: new Date() });
    Object.assign(before, {
      status: "FAILED",
      error: "BadDataError",
      cause: failedCause,
      stopDate: new Date(),
    });
    Object.assign(toRedrive, { status: "RUNNING", redriveCount: 1, stopDate: undefined });
    delete toRedrive.error;
    await new Promise((ok) => setTimeout(ok, 500));
    Object.assign(toRedrive, { status: "SUCCEEDED", output: okResult(0), stopDate: new Date() });
    const r = await tail;
    // Assess: one JSON object per line.
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ExecutionSummary & { event: string });
    // Each execution's events in order (polls may see the three changes apart).
    const of = (name: string) =>
      events.filter((e) => e.name === name).map((e) => [e.event, e.status]);
    expect(events[0]).toMatchObject({ event: "running", name: "before" });
    expect(of("before")).toEqual([
      ["running", "RUNNING"],
      ["finished", "FAILED"],
    ]);
    expect(of("fresh")).toEqual([
      ["started", "RUNNING"],
      ["finished", "SUCCEEDED"],
    ]);
    expect(of("to-redrive")).toEqual([
      ["started", "RUNNING"],
      ["finished", "SUCCEEDED"],
    ]);
    expect(events).toHaveLength(6);
    expect(events.find((e) => e.event === "finished" && e.name === "fresh")?.result).toMatchObject({
      rows: 3,
    });
    expect(
      events.find((e) => e.event === "finished" && e.name === "before")?.result?.error,
    ).toEqual({
      name: "BadDataError",
      message: "bad data in s3://x/a.csv: line 3",
    });
  });

  it("prints lines for people, only of --job, and ends after --for", async () => {
    deployed();
    const t0 = Date.now();
    const tail = cli([
      "tail",
      "--job",
      "sales/load-orders",
      "--for",
      "2s",
      "--poll-interval",
      "0.1",
    ]);
    await callsOf("ListExecutions", 2);
    execution("mine", "sales/load-orders", { startedMinutesAgo: 0, output: okResult(5) });
    execution("not-mine", "sales/nightly", { startedMinutesAgo: 0, output: okResult(5) });
    const r = await tail;
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ sales\/load-orders +STARTED +started +mine$/);
    expect(lines[1]).toMatch(/ sales\/load-orders +SUCCEEDED +1\.5s +ok, 5 rows +mine$/);
  });
});

describe("lava-aurora redrive", () => {
  it("says what it redrove, for people and as JSON", async () => {
    deployed();
    execution("nightly-2", "sales/nightly", { status: "FAILED", error: "ChildJobError" });
    const human = await cli(["redrive", "nightly-2"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(
        `^redriven ${arnOf("nightly-2")} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: it continues from its unsuccessful step; "lava-aurora show nightly-2" shows how far it got\\n$`,
      ),
    );
    const e = aws.states.executions.get(arnOf("nightly-2"));
    if (e) Object.assign(e, { status: "FAILED" });
    const json = JSON.parse((await cli(["redrive", "nightly-2", "--json"])).stdout);
    expect(json).toMatchObject({ execution_arn: arnOf("nightly-2") });
    expect(Number.isNaN(Date.parse(json.redrive_date))).toBe(false);
  });
});

describe("--json on the other commands that print", () => {
  it("check prints its summary, or the problems with exit 2", async () => {
    const ok = await cli(["check", "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      realm: "example",
      source: expect.any(String),
    });
    expect(JSON.parse(ok.stdout).schedules.length).toBeGreaterThan(0);
    const bad = await runCli([
      "check",
      "--realm-file",
      "test/fixtures/does-not-exist.yaml",
      "--json",
    ]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, problems: [expect.any(String)] });
  });

  it("put-password prints what it stored, never the value", async () => {
    const r = await runCli(
      ["put-password", "/lava/example/ops-json", "--realm", "example", "--json"],
      {
        env: aws.env(),
        input: "s3cret-json\n",
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      parameter: "/lava/example/ops-json",
      type: "SecureString",
      version: 1,
      key_id: "alias/lava-example-sys",
    });
    expect(r.stdout).not.toContain("s3cret");
  });

  it("run, redrive and trigger take --json (their output is JSON already)", async () => {
    const help = await runCli(["trigger", "--help"]);
    expect(help.stdout).toContain("--json");
    const run = await runCli(["run", "--help"]);
    expect(run.stdout).toContain("--json");
  });
});

describe("the Step Functions stub", () => {
  const sfn = () => new SFNClient({});

  it("pages ListExecutions newest first and refuses a bad token, status or page size", async () => {
    deployed();
    for (let i = 0; i < 5; i++) execution(`p-${i}`, "j", { startedMinutesAgo: 10 - i });
    const first = await sfn().send(
      new ListExecutionsCommand({ stateMachineArn: SM, maxResults: 2 }),
    );
    expect(first.executions?.map((e) => e.name)).toEqual(["p-4", "p-3"]);
    expect(first.executions?.[0]?.startDate).toBeInstanceOf(Date);
    const second = await sfn().send(
      new ListExecutionsCommand({ stateMachineArn: SM, maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.executions?.map((e) => e.name)).toEqual(["p-2", "p-1"]);
    await expect(
      sfn().send(new ListExecutionsCommand({ stateMachineArn: SM, nextToken: "garbage" })),
    ).rejects.toMatchObject({ name: "InvalidToken" });
    await expect(
      sfn().send(
        new ListExecutionsCommand({ stateMachineArn: SM, statusFilter: "DONE" as "FAILED" }),
      ),
    ).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      sfn().send(new ListExecutionsCommand({ stateMachineArn: SM, maxResults: 1001 })),
    ).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("answers GetExecutionHistory with ids, in either order, with or without the data", async () => {
    deployed();
    execution("h", "j", { output: okResult(1) });
    const h = await sfn().send(new GetExecutionHistoryCommand({ executionArn: arnOf("h") }));
    expect(h.events?.map((e) => [e.id, e.previousEventId, e.type])).toEqual([
      [1, undefined, "ExecutionStarted"],
      [2, 1, "ExecutionSucceeded"],
    ]);
    expect(h.events?.[1]?.executionSucceededEventDetails?.output).toBe(okResult(1));
    const reversed = await sfn().send(
      new GetExecutionHistoryCommand({
        executionArn: arnOf("h"),
        reverseOrder: true,
        includeExecutionData: false,
      }),
    );
    expect(reversed.events?.map((e) => e.type)).toEqual(["ExecutionSucceeded", "ExecutionStarted"]);
    expect(reversed.events?.[0]?.executionSucceededEventDetails?.output).toBeUndefined();
    await expect(
      sfn().send(new GetExecutionHistoryCommand({ executionArn: arnOf("none") })),
    ).rejects.toMatchObject({ name: "ExecutionDoesNotExist" });
  });
});
