/** The run log's row of a result (lambda/jobs/run-log.ts). */
import { describe, expect, it } from "vitest";
import { RUN_LOG_MESSAGE_MAX, runLogRetention, runLogRow } from "../../../lambda/jobs/run-log";

describe("runLogRow", () => {
  it("takes the result's fields, the context's, and the duration between start and end", () => {
    const row = runLogRow(
      {
        job_id: "j",
        run_id: "r",
        status: "skipped",
        reason: "duplicate",
        bucket: "b",
        key: "k",
        table: "s.t",
      },
      {
        realm: "dev",
        jobType: "db_from_s3",
        startedAt: new Date(1000),
        finishedAt: new Date(3500),
        execution: "arn:e",
        attempt: 3,
      },
    );
    expect(row).toMatchObject({
      execution: "arn:e",
      attempt: 3,
      status: "skipped",
      reason: "duplicate",
      target_table: "s.t",
      rows_loaded: null,
      bytes_loaded: null,
      duration_ms: 2500,
      error_name: null,
    });
  });

  it("cuts a long error message and defaults to attempt 1 without an execution", () => {
    const row = runLogRow(
      {
        job_id: "j",
        run_id: "r",
        status: "failed",
        error: { name: "BadDataError", message: "x".repeat(5000), retryable: false },
      },
      { realm: "dev", jobType: "db_from_s3", startedAt: new Date() },
    );
    expect(row.error_message).toHaveLength(RUN_LOG_MESSAGE_MAX);
    expect(row.error_message?.endsWith("…")).toBe(true);
    expect([row.attempt, row.execution]).toEqual([1, null]);
  });

  it("reads the realm's retention, or none", () => {
    expect(runLogRetention({ top: { run_log: { retention: "30d" } } } as never)).toBe(
      30 * 86_400_000,
    );
    expect(runLogRetention({ top: {} } as never)).toBeUndefined();
  });
});
