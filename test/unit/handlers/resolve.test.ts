import { describe, expect, it } from "vitest";
import { makeResolveHandler, resolveDispatch } from "../../../lambda/handlers/resolve";
import { PG_CONNECTION, realmOf } from "../../support/realm-fixture";

const realm = realmOf({
  connections: [PG_CONNECTION],
  jobs: [
    {
      job_id: "j",
      type: "db_from_s3",
      enabled: true,
      parameters: { db_conn_id: "pg", bucket: "b", schema: "s", table: "t", mode: "append" },
    },
  ],
});

describe("resolveDispatch", () => {
  it("passes literal_parameters on to the runner when the dispatch has them", () => {
    const plan = resolveDispatch(realm, {
      job_id: "j",
      parameters: { key: "a/{{ x }}.csv" },
      literal_parameters: ["key"],
    });
    expect(plan.dispatch).toEqual({
      job_id: "j",
      parameters: { key: "a/{{ x }}.csv" },
      globals: {},
      literal_parameters: ["key"],
    });
  });

  it("refuses a literal_parameters that is not a list of names, before any attempt", () => {
    expect(() =>
      resolveDispatch(realm, {
        job_id: "j",
        parameters: { key: "k" },
        literal_parameters: [3] as unknown as string[],
      }),
    ).toThrow("dispatch: literal_parameters: expected a list of parameter names, got [3]");
  });

  it("refuses an exe job's bad payload line and parameters at Resolve, before any attempt", () => {
    const exeRealm = realmOf({
      s3_payloads: "s3://payloads/dev",
      s3_temp: "s3://temp/dev",
      jobs: [
        { job_id: "piped", type: "exe", enabled: true, payload: "x.sh | tee y" },
        { job_id: "ok", type: "exe", enabled: true, payload: "x.sh" },
        { job_id: "off", type: "exe", enabled: false, payload: "x.sh | tee y" },
      ],
    });
    expect(() => resolveDispatch(exeRealm, { job_id: "piped" })).toThrow(
      "job piped: payload: the operator | is not allowed",
    );
    expect(() =>
      resolveDispatch(exeRealm, { job_id: "ok", parameters: { timeout: "forever" } }),
    ).toThrow(/job ok: parameters\.timeout/);
    expect(resolveDispatch(exeRealm, { job_id: "ok" }).enabled).toBe(true);
    // A disabled job is skipped whatever its parameters.
    expect(resolveDispatch(exeRealm, { job_id: "off" }).enabled).toBe(false);
  });
});

describe("max_run_delay", () => {
  it("skips a scheduled run that starts later than max_run_delay after its scheduled time", async () => {
    const { validateRealm } = await import("../../../lambda/spec/validate");
    const { resolveDispatch } = await import("../../../lambda/handlers/resolve");
    const realm = validateRealm(
      {
        realm: "dev",
        jobs: [
          { job_id: "j", type: "chain", enabled: true, payload: ["k"], max_run_delay: "10m" },
          { job_id: "k", type: "chain", enabled: true, payload: ["j"] },
        ],
      },
      "realms/dev.yaml",
    );
    const at = "2026-12-02T03:00:00Z";
    const onTime = resolveDispatch(
      realm,
      { job_id: "j", scheduled_at: at },
      new Date("2026-12-02T03:09:00Z"),
    );
    expect(onTime.enabled).toBe(true);
    const late = resolveDispatch(
      realm,
      { job_id: "j", scheduled_at: at },
      new Date("2026-12-02T03:11:00Z"),
    );
    expect(late.enabled).toBe(false);
    expect(late.skipped).toBe(
      "started 660s after its scheduled time 2026-12-02T03:00:00Z, more than max_run_delay 10m",
    );
    // Not scheduled, or no max_run_delay: never late.
    expect(resolveDispatch(realm, { job_id: "j" }, new Date()).enabled).toBe(true);
    expect(resolveDispatch(realm, { job_id: "k", scheduled_at: at }, new Date()).enabled).toBe(
      true,
    );
  });
});

describe("the dispatch's execution and times (docs/state-machine.md §1)", () => {
  const execution = {
    id: "arn:aws:states:us-east-1:123456789012:execution:lava-dev-jobs:j-1",
    start_time: "2026-01-31T08:05:10.000Z",
  };

  it("names the execution and dates the dispatch at its start when the state machine asks", async () => {
    const plan = await makeResolveHandler(realm)({
      input: { job_id: "j", parameters: { key: "k" }, event_time: "2026-01-31T08:05:09.123Z" },
      execution,
    });
    expect(plan.dispatch).toEqual({
      job_id: "j",
      parameters: { key: "k" },
      globals: {},
      event_time: "2026-01-31T08:05:09.123Z",
      dispatched_at: "2026-01-31T08:05:10.000Z",
      execution: execution.id,
    });
  });

  it("keeps a dispatcher's dispatched_at, else takes a schedule's time, over the execution's start", () => {
    const given = "2026-01-31T08:00:00.000Z";
    const at = (input: Record<string, unknown>) =>
      resolveDispatch(
        realm,
        { job_id: "j", parameters: { key: "k" }, ...input },
        new Date(),
        execution,
      ).dispatch.dispatched_at;
    expect(at({ dispatched_at: given, scheduled_at: "2026-01-31T07:00:00Z" })).toBe(given);
    expect(at({ scheduled_at: "2026-01-31T07:00:00Z" })).toBe("2026-01-31T07:00:00Z");
    expect(at({ scheduled_at: "<aws.scheduler.scheduled-time>" })).toBe(execution.start_time);
  });

  it("adds no times or execution outside the state machine (the CLI, a direct call)", async () => {
    const plan = await makeResolveHandler(realm)({ job_id: "j", parameters: { key: "k" } });
    expect(Object.keys(plan.dispatch)).toEqual(["job_id", "parameters", "globals"]);
  });

  it("refuses an event_time or dispatched_at that is no time, naming the field", () => {
    expect(() => resolveDispatch(realm, { job_id: "j", event_time: "yesterday" })).toThrow(
      'dispatch: event_time: expected an ISO 8601 time like 2026-01-31T08:05:09Z, got "yesterday"',
    );
    expect(() =>
      resolveDispatch(realm, { job_id: "j", dispatched_at: 5 as unknown as string }),
    ).toThrow("dispatch: dispatched_at: expected an ISO 8601 time");
  });
});
