import { describe, expect, it } from "vitest";
import { resolveDispatch } from "../../../lambda/handlers/resolve";
import { runJob } from "../../../lambda/jobs/run-job";
import {
  dbFromS3ParamsSchema,
  exeParamsSchema,
  jobSchema,
  pkgParamsSchema,
} from "../../../lambda/spec/job";
import { PG_CONNECTION, problemsOf, realmDoc, realmOf } from "../../support/realm-fixture";
import { untouchable } from "../../support/untouchable-deps";

const exe = (extra: Record<string, unknown> = {}) => ({
  job_id: "script",
  type: "exe",
  enabled: true,
  payload: "x.sh",
  ...extra,
});

describe("exe and pkg args", () => {
  // lava/lib/schema/lava/job/parameters/exe.yaml (and pkg.yaml): items are strings or numbers;
  // lava/handlers/exe.py passes str(a) of each.
  it.each([
    ["exe", exeParamsSchema],
    ["pkg", pkgParamsSchema],
  ])("reads numbers in %s args as the strings the program receives", (_type, schema) => {
    // Act
    const parsed = schema.parse({ args: ["--retries", 3, "--ratio", 0.5, -1] });
    // Assess
    expect(parsed.args).toEqual(["--retries", "3", "--ratio", "0.5", "-1"]);
  });

  it("accepts a lava exe job with a number in args and keeps it as a string", () => {
    const realm = realmOf({ jobs: [exe({ parameters: { args: ["--retries", 3] } })] });
    expect(realm.jobs[0]?.parameters).toEqual({ args: ["--retries", "3"] });
  });

  it.each([[true], [null], [{ n: 1 }], [Number.POSITIVE_INFINITY]])(
    "refuses %j in args, as lava's schema does",
    (bad) => {
      expect(problemsOf(realmDoc({ jobs: [exe({ parameters: { args: ["-v", bad] } })] }))).toEqual([
        `realms/dev.yaml: job script: parameters.args[1]: expected a list of arguments (strings or numbers), got ${JSON.stringify(bad) ?? "null"}`,
      ]);
    },
  );
});

describe("payload", () => {
  // lava/lib/schema/lava/job.yaml: "a value is required even for job types that do not need it.
  // In this case set the value to null."
  it("accepts lava's payload: null, read as no payload", () => {
    // Act
    const parsed = jobSchema.parse({
      job_id: "load",
      type: "db_from_s3",
      enabled: true,
      payload: null,
    });
    // Assess
    expect(parsed.payload).toBeUndefined();
  });

  it("still refuses an empty payload string", () => {
    expect(problemsOf(realmDoc({ jobs: [exe({ payload: "" })] }))).toEqual([
      'realms/dev.yaml: job script: payload: expected an S3 key or prefix under s3_payloads, got ""',
    ]);
  });
});

describe("iteration_limit", () => {
  // lava/lib/schema/lava/job.yaml: integer, minimum 0. lava/lava.py runs range(1, limit + 1):
  // with 0 the job is never attempted and the run reports success. Here 0 is one attempt.
  it("accepts lava's 0 and makes it one attempt", () => {
    // Prepare
    const realm = realmOf({
      // Resolve checks an exe job's payload line against the realm's locations.
      s3_payloads: "s3://payloads/dev",
      s3_temp: "s3://temp/dev",
      connections: [PG_CONNECTION],
      jobs: [exe({ iteration_limit: 0 })],
    });
    // Act
    const plan = resolveDispatch(realm, { job_id: "script" });
    // Assess
    expect(realm.jobs[0]?.iteration_limit).toBe(1);
    expect(plan.iteration_limit).toBe(1);
  });

  it.each([[-1], [1.5], ["3"], [101]])("refuses %j", (limit) => {
    expect(problemsOf(realmDoc({ jobs: [exe({ iteration_limit: limit })] }))).toEqual([
      `realms/dev.yaml: job script: iteration_limit: expected an integer 0-100, got ${JSON.stringify(limit)}`,
    ]);
  });
});

describe("enabled", () => {
  // lava/lava/lavacore.py get_job_spec: job_spec.setdefault('enabled', False); lava.py then skips it.
  it("is false when omitted, as in lava: the job is skipped as disabled", async () => {
    // Prepare
    const realm = realmOf({
      connections: [PG_CONNECTION],
      jobs: [
        {
          job_id: "quiet",
          type: "db_from_s3",
          parameters: { db_conn_id: "pg", bucket: "b", key: "k", schema: "s", table: "t" },
        },
      ],
    });
    // Act
    const result = await runJob(realm, { job_id: "quiet" }, untouchable);
    // Assess
    expect(realm.jobs[0]?.enabled).toBe(false);
    expect(resolveDispatch(realm, { job_id: "quiet" }).enabled).toBe(false);
    expect(result).toMatchObject({ status: "skipped", reason: "disabled" });
  });
});

describe("db_from_s3 skip_missing", () => {
  // lava/handlers/db_from_s3.py: str2bool(parameters.get('skip_missing', False)).
  it.each([
    ["true", true],
    ["False", false],
    ["yes", true],
    ["n", false],
    ["1", true],
    [true, true],
  ])("reads %j as %j, as lava's str2bool does", (value, expected) => {
    expect(dbFromS3ParamsSchema.parse({ skip_missing: value }).skip_missing).toBe(expected);
  });

  it("refuses what str2bool refuses", () => {
    const doc = realmDoc({
      connections: [PG_CONNECTION],
      jobs: [
        {
          job_id: "load",
          type: "db_from_s3",
          enabled: true,
          parameters: { db_conn_id: "pg", skip_missing: "perhaps" },
        },
      ],
    });
    expect(problemsOf(doc)).toEqual([
      'realms/dev.yaml: job load: parameters.skip_missing: expected true or false, got "perhaps"',
    ]);
  });
});
