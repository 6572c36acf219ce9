/** `lava-aurora redrive EXECUTION` against the Step Functions stub (RedriveExecution as AWS has it). */
import { describe, expect, it } from "vitest";
import { executionArnOf } from "../../bin/cli/redrive";
import { runCli } from "../support/cli";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-example-jobs";
const ARN = "arn:aws:states:us-east-1:123456789012:execution:lava-example-jobs:nightly-1";

function failedExecution(): void {
  aws.setParameter("/lava/example/state-machine-arn", SM);
  aws.states.executions.clear();
  aws.states.executions.set(ARN, {
    executionArn: ARN,
    stateMachineArn: SM,
    name: "nightly-1",
    input: '{"job_id":"nightly"}',
    startDate: new Date(),
    status: "FAILED",
    error: "ChildJobError",
  });
}

describe("lava-aurora redrive", () => {
  it("redrives a failed execution given by name, found through the deployed state machine", async () => {
    failedExecution();
    const r = await runCli(["redrive", "nightly-1", "--realm", "example", "--json"], {
      env: aws.env(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ execution_arn: ARN });
    expect(aws.callsTo("states", "RedriveExecution").at(-1)?.body).toMatchObject({
      executionArn: ARN,
    });
    expect(aws.states.executions.get(ARN)).toMatchObject({ status: "RUNNING", redriveCount: 1 });
  });

  it("says why when the execution cannot be redriven, and exits 1", async () => {
    failedExecution();
    const e = aws.states.executions.get(ARN);
    if (e) e.status = "SUCCEEDED";
    const r = await runCli(["redrive", ARN, "--realm", "example"], { env: aws.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot redrive ${ARN}: ExecutionNotRedrivable`);
  });

  it("refuses what is neither an execution ARN nor a name (exit 2)", async () => {
    failedExecution();
    const r = await runCli(["redrive", "a b", "--realm", "example"], { env: aws.env() });
    expect(r.code).toBe(2);
    expect(() => executionArnOf(SM, SM)).toThrow("expected an execution ARN or name");
    expect(executionArnOf("x", SM)).toBe(
      "arn:aws:states:us-east-1:123456789012:execution:lava-example-jobs:x",
    );
  });
});
