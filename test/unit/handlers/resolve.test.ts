import { describe, expect, it } from "vitest";
import { resolveDispatch } from "../../../lambda/handlers/resolve";
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
