/** What runs, tail and show make of an execution's output and cause (bin/cli/executions.ts). */
import { describe, expect, it } from "vitest";
import {
  formatDuration,
  jobIdOf,
  outcomeText,
  reportedResult,
  summarize,
} from "../../../bin/cli/executions";

const failed = {
  status: "failed",
  run_id: "r1",
  error: { name: "BadDataError", message: "line 3" },
};

describe("reportedResult", () => {
  it("reads the result from the output, the cause, or a Lambda error's message", () => {
    expect(
      reportedResult(JSON.stringify({ status: "ok", run_id: "r", rows: 7 }), undefined),
    ).toEqual({
      status: "ok",
      run_id: "r",
      reason: null,
      rows: 7,
      error: null,
    });
    expect(reportedResult(undefined, JSON.stringify(failed))?.error).toEqual({
      name: "BadDataError",
      message: "line 3",
    });
    const lambda = JSON.stringify({
      errorType: "DatabaseConnectError",
      errorMessage: JSON.stringify(failed),
    });
    expect(reportedResult(undefined, lambda)?.run_id).toBe("r1");
  });

  it("calls a disabled job's plan output skipped, and finds nothing in anything else", () => {
    expect(
      reportedResult(JSON.stringify({ job_id: "j", plan: { enabled: false } }), undefined),
    ).toMatchObject({
      status: "skipped",
      reason: "disabled",
    });
    expect(reportedResult("not json", "States.Timeout")).toBeNull();
    expect(reportedResult(JSON.stringify({ status: "weird" }), undefined)).toBeNull();
  });
});

describe("summaries", () => {
  it("takes the job from the input and says what came of it in a few words", () => {
    const s = summarize({
      $metadata: {},
      executionArn: "arn:x",
      name: "n",
      status: "TIMED_OUT",
      input: '{"job_id":"sales/x"}',
      startDate: new Date(0),
      stopDate: new Date(90_500),
      error: "States.Timeout",
    } as never);
    expect(s).toMatchObject({ job_id: "sales/x", duration_ms: 90_500, result: null });
    expect(outcomeText(s)).toBe("States.Timeout");
    expect(jobIdOf("[]")).toBeNull();
    expect([
      formatDuration(1234),
      formatDuration(90_500),
      formatDuration(7_500_000),
      formatDuration(null),
    ]).toEqual(["1.2s", "1m31s", "2h05m", "-"]);
  });
});
