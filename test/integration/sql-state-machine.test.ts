/**
 * A staging load then an sqli merge, each an execution of the SYNTHESIZED
 * `lava-<realm>-jobs` definition run in aws-local-stepfunctions, with the real
 * resolve handler and the real runner on real PostgreSQL (docs/sql-jobs.md §8):
 * sql and sqli go to "Run job"; sqlc and sqlv go to the exe function, which
 * the example realm does not deploy.
 */
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { makeRunnerHandler } from "../../lambda/handlers/runner";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { buildApp } from "../../lib/app";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";
import {
  definitionOf,
  runLocally,
  type StateMachineDefinition,
} from "../support/local-state-machine";

const world = useLoadWorld();
const repo = new URL("../..", import.meta.url).pathname;
let definition: StateMachineDefinition;
let realm: Realm;

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  await world.rows("CREATE TABLE sales.book (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  await world.rows("ALTER TABLE sales.book OWNER TO loader");
  await world.rows("INSERT INTO sales.book VALUES (1, 'old')");
  realm = world.realm(
    [
      loadJob("stage", {
        table: "book_staging",
        mode: "truncate",
        columns: ["id INTEGER", "name TEXT"],
        args: ["FORMAT CSV"],
      }),
      {
        job_id: "merge",
        type: "sqli",
        enabled: true,
        payload: [
          "DELETE FROM sales.book",
          "INSERT INTO sales.book SELECT * FROM sales.book_staging",
        ],
        parameters: { conn_id: "pg", transaction: true },
      },
      {
        job_id: "report",
        type: "sqlv",
        enabled: true,
        payload: "report.sql",
        parameters: { conn_id: "pg" },
      },
    ],
    {},
    { s3_temp: "s3://landing/tmp", s3_payloads: "s3://landing/payloads" },
  );
}, 120_000);

function execute(input: JobsInput) {
  const runner = makeRunnerHandler(realm, world.deps());
  const run = (i: unknown) => runner(i as Dispatch, { getRemainingTimeInMillis: () => 60_000 });
  return runLocally(definition, input as never, {
    handlers: {
      Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
      "Run job": run,
      Notify: () => ({ MessageId: "m" }),
    },
  });
}

describe("a staging load followed by an sqli merge, through the state machine", () => {
  it("loads, then merges in one transaction, each in its own execution through Run job", async () => {
    await world.s3.put(BUCKET, "book/1.csv", "7,seven\n8,eight\n");
    const load = await execute({ job_id: "stage", parameters: { key: "book/1.csv" } });
    expect(load.status, JSON.stringify(load.error)).toBe("SUCCEEDED");
    const merge = await execute({ job_id: "merge" });
    expect(merge.status, JSON.stringify(merge.error)).toBe("SUCCEEDED");
    expect(merge.entered).toContain("Run job");
    const result = merge.output as unknown as JobResult;
    expect(result.statements?.map((s) => [s.command, s.rows])).toEqual([
      ["DELETE", 1],
      ["INSERT", 2],
    ]);
    expect(await world.rows("SELECT * FROM sales.book ORDER BY id")).toEqual([
      { id: 7, name: "seven" },
      { id: 8, name: "eight" },
    ]);
  });

  it("fails a bad sqli dispatch at Resolve, before any statement runs", async () => {
    const r = await execute({ job_id: "merge", parameters: { quoting: "sometimes" } });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("SpecError");
    expect(r.calls["Run job"]).toBe(0);
  });

  it("sends sqlv to the exe function (ExeNotEnabled without one)", async () => {
    const r = await execute({ job_id: "report" });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("ExeNotEnabled");
    expect(r.entered).toContain("No exe function");
  });
});
