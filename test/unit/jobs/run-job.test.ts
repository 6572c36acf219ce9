import { describe, expect, it } from "vitest";
import { errorInfo, runJob } from "../../../lambda/jobs/run-job";
import { SecretAccessError } from "../../../lambda/shared/errors";
import { PG_CONNECTION, realmOf } from "../../support/realm-fixture";
import { untouchable } from "../../support/untouchable-deps";

const realm = realmOf({
  connections: [PG_CONNECTION],
  jobs: [
    { job_id: "off", type: "db_from_s3", enabled: false, parameters: { db_conn_id: "pg" } },
    {
      job_id: "maybe",
      type: "db_from_s3",
      enabled: "{{ globals.on | default('false') }}",
      parameters: { db_conn_id: "pg" },
    },
    { job_id: "script", type: "exe", enabled: true, payload: "x.sh" },
  ],
});

describe("runJob", () => {
  it("fails an unknown job with a SpecError result, with run id and events", async () => {
    const r = await runJob(realm, { job_id: "nope" }, untouchable, { runId: "r-1" });
    expect(r).toMatchObject({
      status: "failed",
      job_id: "nope",
      run_id: "r-1",
      error: { name: "SpecError", message: "job nope: not defined in realm dev", retryable: false },
    });
    expect(r.events.at(-1)).toMatch(/failed: SpecError: job nope: not defined in realm dev$/);
  });

  it("skips a disabled job without touching AWS or the database", async () => {
    expect(await runJob(realm, { job_id: "off" }, untouchable)).toMatchObject({
      status: "skipped",
      reason: "disabled",
    });
  });

  it("evaluates a templated enabled with the dispatch's globals merged over the job's", async () => {
    expect((await runJob(realm, { job_id: "maybe" }, untouchable)).reason).toBe("disabled");
    const on = await runJob(realm, { job_id: "maybe", globals: { on: "TRUE" } }, untouchable);
    // Enabled: it gets as far as validating its parameters (bucket, key, … are missing).
    expect(on.error?.name).toBe("SpecError");
    expect(on.error?.message).toContain("job maybe: parameters.bucket: required");
  });

  it("refuses dispatch parameters that are not a mapping", async () => {
    const r = await runJob(realm, { job_id: "maybe", parameters: [1] as never }, untouchable);
    expect(r.error).toMatchObject({
      name: "SpecError",
      message: "dispatch: parameters: expected a mapping, got [1]",
    });
  });

  it("checks an exe job's realm settings before touching S3", async () => {
    const r = await runJob(realm, { job_id: "script" }, untouchable);
    expect(r.error?.name).toBe("SpecError");
    expect(r.error?.message).toContain(
      "job script: payload: the realm has no s3_payloads to resolve it under",
    );
    expect(r.error?.message).toContain("job script: the realm has no s3_temp");
  });
});

describe("errorInfo", () => {
  it("keeps name, message and retryability", () => {
    expect(
      errorInfo(new SecretAccessError("cannot read x: ThrottlingException", { retryable: true })),
    ).toEqual({
      name: "SecretAccessError",
      message: "cannot read x: ThrottlingException",
      retryable: true,
    });
    expect(errorInfo("boom")).toEqual({ name: "Error", message: "boom", retryable: false });
  });
});
