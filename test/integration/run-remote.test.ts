/** `lava-aurora run --remote`: start an execution of the deployed state machine (Step Functions stub). */
import { describe, expect, it } from "vitest";
import { executionName } from "../../bin/cli/remote";
import { runCli } from "../support/cli";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-example-jobs";

/** `lava-aurora run sales/load-orders --remote --wait`, polling fast. */
function runRemoteAndWait() {
  return runCli(
    [
      "run",
      "sales/load-orders",
      "--realm",
      "example",
      "--remote",
      "--wait",
      "--poll-interval",
      "0.05",
    ],
    {
      env: aws.env(),
    },
  );
}

function deployed() {
  aws.setParameter("/lava/example/state-machine-arn", SM);
  aws.states.executions.clear();
  aws.states.onStart = undefined;
}

describe("lava-aurora run --remote", () => {
  it("starts an execution with a unique name and the dispatch as input, found through SSM", async () => {
    // Prepare
    deployed();
    // Act
    const r = await runCli(
      ["run", "sales/load-orders", "--realm", "example", "--remote", "--param", "key=a/b.csv"],
      {
        env: aws.env(),
      },
    );
    // Assess
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.name).toMatch(/^cli-sales-load-orders-\d{14}-[0-9a-f]{8}$/);
    const [execution] = [...aws.states.executions.values()];
    expect(out.execution_arn).toBe(execution?.executionArn);
    expect(execution?.stateMachineArn).toBe(SM);
    expect(JSON.parse(execution?.input ?? "")).toEqual({
      job_id: "sales/load-orders",
      parameters: { key: "a/b.csv" },
      globals: {},
    });
    expect(aws.callsTo("ssm", "GetParameter").at(-1)?.body).toMatchObject({
      Name: "/lava/example/state-machine-arn",
    });
  });

  it("waits and prints the result of a succeeded execution", async () => {
    deployed();
    aws.states.onStart = (e) => {
      // Finish after a couple of polls, as a real execution would.
      setTimeout(() => {
        e.status = "SUCCEEDED";
        e.output = JSON.stringify({ status: "ok", job_id: "sales/load-orders", rows: 7 });
      }, 150);
    };
    const r = await runRemoteAndWait();
    const polls = aws.callsTo("states", "DescribeExecution").length;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: "ok", job_id: "sales/load-orders", rows: 7 });
    expect(polls).toBeGreaterThan(1);
  });

  it("exits 1 with the error of a failed execution", async () => {
    deployed();
    aws.states.onStart = (e) => {
      e.status = "FAILED";
      e.error = "BadDataError";
      e.cause = '{"run_id":"r1","error":{"name":"BadDataError"}}';
    };
    const r = await runRemoteAndWait();
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "FAILED", error: "BadDataError" });
  });

  it("exits 1 naming the parameter when the realm is not deployed", async () => {
    aws.ssm.clear();
    const r = await runCli(["run", "sales/load-orders", "--realm", "example", "--remote"], {
      env: aws.env(),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "cannot find realm example's state machine (SSM /lava/example/state-machine-arn); is the realm deployed?",
    );
  });

  it("refuses --wait without --remote and a bad poll interval", async () => {
    expect(
      (
        await runCli(["run", "sales/load-orders", "--realm", "example", "--wait"], {
          env: aws.env(),
        })
      ).code,
    ).toBe(2);
    const bad = await runCli(
      ["run", "sales/load-orders", "--realm", "example", "--remote", "--poll-interval", "0"],
      { env: aws.env() },
    );
    expect(bad.code).toBe(2);
  });
});

describe("executionName", () => {
  it("fits AWS's rules and is unique per call", () => {
    const now = new Date("2026-01-02T03:04:05Z");
    const name = executionName(`x/${"y".repeat(200)}: *?"#%`, now);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(name).toContain("-20260102030405-");
    expect(executionName("a", now)).not.toBe(executionName("a", now));
  });
});
