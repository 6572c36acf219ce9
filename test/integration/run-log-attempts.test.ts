/**
 * The run log's `attempt` and the fan-out load's rows (docs/operations.md §3),
 * through the SYNTHESIZED `lava-<realm>-jobs` definition run in
 * aws-local-stepfunctions with the real resolve and runner handlers on real
 * PostgreSQL and S3: each attempt of a run writes its row with its number; a
 * fan-out load's failed plan or publish writes a failed row, its skipped plan a
 * skipped row, a failed item none (the failed map is the execution's failure).
 */
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { type LoadRequest, makeRunnerHandler, runLoadRequest } from "../../lambda/handlers/runner";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { buildApp } from "../../lib/app";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";
import {
  definitionOf,
  type LocalHandler,
  runLocally,
  type StateMachineDefinition,
} from "../support/local-state-machine";

const world = useLoadWorld();
const repo = new URL("../..", import.meta.url).pathname;
const CONTEXT = { getRemainingTimeInMillis: () => 60_000 };
let definition: StateMachineDefinition;
let realm: Realm;

const COLUMNS = ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL"];
const twice = { iteration_limit: 2, iteration_delay: "1s" };
const fanJob = (jobId: string, table: string) =>
  loadJob(
    jobId,
    {
      table,
      columns: COLUMNS,
      args: ["FORMAT CSV", "MANIFEST"],
      fan_out: { workers: 2, item_size: 1 },
    },
    twice,
  );

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  realm = world.realm(
    [
      loadJob(
        "att/plain",
        { table: "att_plain", key: "att/plain.csv", columns: COLUMNS, args: ["FORMAT CSV"] },
        twice,
      ),
      fanJob("att/fan-plan", "att_fan_plan"),
      fanJob("att/fan-publish", "att_fan_publish"),
      fanJob("att/fan-item", "att_fan_item"),
    ],
    {},
    { s3_temp: `s3://${BUCKET}/tmp` },
  );
}, 120_000);

/** A manifest of `parts` one-row parts under `in/<name>/`. */
async function manifestOf(name: string, parts: number): Promise<string> {
  const entries = [];
  for (let i = 0; i < parts; i++) {
    const key = `in/${name}/p${i}.csv`;
    await world.s3.put(BUCKET, key, `${i},n${i}\n`);
    entries.push({ url: `s3://${BUCKET}/${key}` });
  }
  const key = `in/${name}.manifest`;
  await world.s3.put(BUCKET, key, JSON.stringify({ entries }));
  return key;
}

/** An execution with the real handlers; `wrap` may stand in front of the runner's steps. */
function execute(
  input: JobsInput,
  wrap: (state: string, real: LocalHandler) => LocalHandler = (_, real) => real,
) {
  const runner = makeRunnerHandler(realm, world.deps());
  const load: LocalHandler = (i) =>
    runLoadRequest(realm, i as LoadRequest, world.deps(), CONTEXT) as never;
  return runLocally(definition, input as never, {
    handlers: {
      Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
      "Run job": wrap("Run job", (i) => runner(i as Dispatch, CONTEXT)),
      "Plan load": wrap("Plan load", load),
      "Load item": wrap("Load item", load),
      "Publish load": wrap("Publish load", load),
      Notify: () => ({ MessageId: "m" }),
    },
  });
}

/** The run log's rows of a job, oldest first. */
const rowsOf = (jobId: string) =>
  world.rows<Record<string, unknown>>(
    `SELECT run_id, execution, attempt, status, reason, error_name, rows_loaded, key,
            target_table, started_at, finished_at
       FROM lava.run_log WHERE job_id = $1 ORDER BY finished_at, started_at`,
    [jobId],
  );

describe("the run log through the state machine", () => {
  it("has attempt 1 (failed) and attempt 2 (ok) for a run whose first attempt failed", async () => {
    // Prepare: the object appears only after the first attempt (ObjectMissingError: another attempt).
    let calls = 0;
    const r = await execute({ job_id: "att/plain" }, (state, real) =>
      state !== "Run job"
        ? real
        : async (i) => {
            calls += 1;
            try {
              return await real(i);
            } finally {
              if (calls === 1) await world.s3.put(BUCKET, "att/plain.csv", "1,a\n2,b\n");
            }
          },
    );
    // Assess
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const result = r.output as unknown as JobResult;
    expect(result).toMatchObject({ status: "ok", rows: 2, run_logged: true });
    const rows = await rowsOf("att/plain");
    expect(rows).toMatchObject([
      { attempt: 1, status: "failed", error_name: "ObjectMissingError", key: "att/plain.csv" },
      { attempt: 2, status: "ok", rows_loaded: "2", run_id: result.run_id },
    ]);
    // Both rows name the execution Resolve put in the dispatch.
    expect(new Set(rows.map((x) => x.execution)).size).toBe(1);
    expect(rows[0]?.execution).toMatch(/:execution:local:local-\d+$/);
  });

  it("a fan-out load's failed plan writes a failed row (attempt 1); the next attempt's publish an ok row (attempt 2)", async () => {
    // The manifest appears only after the first plan failed for want of it.
    let plans = 0;
    const r = await execute(
      { job_id: "att/fan-plan", parameters: { key: "in/att-plan.manifest" } },
      (state, real) =>
        state !== "Plan load"
          ? real
          : async (i) => {
              plans += 1;
              try {
                return await real(i);
              } finally {
                if (plans === 1) await manifestOf("att-plan", 3);
              }
            },
    );
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const result = r.output as unknown as JobResult;
    expect(result).toMatchObject({ status: "ok", rows: 3, run_logged: true });
    expect(r.calls["Load item"]).toBe(3);
    // The publish's row starts with its attempt (the plan step), not the publish.
    const rows = await rowsOf("att/fan-plan");
    expect(rows).toMatchObject([
      { attempt: 1, status: "failed", error_name: "ObjectMissingError", run_id: result.run_id },
      { attempt: 2, status: "ok", rows_loaded: "3", run_id: result.run_id },
    ]);
    const [failed, ok] = rows as [Record<string, unknown>, Record<string, unknown>];
    expect((ok.started_at as Date).getTime()).toBeGreaterThanOrEqual(
      (failed.finished_at as Date).getTime(),
    );
    expect(ok.execution).toMatch(/:execution:local:local-\d+$/);
    // Every step of an attempt is told its number.
    const items = (r.taskInputs["Load item"] ?? []) as { load_item: { attempt?: number } }[];
    expect(items.map((i) => i.load_item.attempt)).toEqual([2, 2, 2]);
    expect(
      ((r.taskInputs["Plan load"] ?? []) as { attempt?: number }[]).map((i) => i.attempt),
    ).toEqual([1, 2]);
  });

  it("a fan-out load's failed publish writes a failed row (LoadItemsError, attempt 1); the next attempt loads the rest", async () => {
    const key = await manifestOf("att-publish", 2);
    // Item 1 is not loaded in the first attempt: its publish finds it missing.
    const r = await execute({ job_id: "att/fan-publish", parameters: { key } }, (state, real) =>
      state !== "Load item"
        ? real
        : async (i) => {
            const { load_item } = i as { load_item: { item: { index: number }; attempt: number } };
            if (load_item.attempt === 1 && load_item.item.index === 1)
              return { item: 1, status: "loaded", rows: 0 };
            return real(i);
          },
    );
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const result = r.output as unknown as JobResult;
    expect(result).toMatchObject({ status: "ok", rows: 2 });
    expect(r.calls["Publish load"]).toBe(2);
    expect(await rowsOf("att/fan-publish")).toMatchObject([
      {
        attempt: 1,
        status: "failed",
        error_name: "LoadItemsError",
        run_id: result.run_id,
        key,
        target_table: "sales.att_fan_publish",
      },
      { attempt: 2, status: "ok", rows_loaded: "2", run_id: result.run_id },
    ]);
    expect(await world.rows("SELECT id FROM sales.att_fan_publish ORDER BY id")).toEqual([
      { id: 0 },
      { id: 1 },
    ]);
  });

  it("a fan-out load whose item failed has no row (the failed map is the execution's failure) until its publish runs", async () => {
    const key = await manifestOf("att-item", 2);
    const first = await execute({ job_id: "att/fan-item", parameters: { key } }, (state, real) =>
      state !== "Load item"
        ? real
        : async (i) => {
            if (
              (i as LoadRequest & { load_item: { item: { index: number } } }).load_item.item.index
            )
              throw Object.assign(new Error("Task timed out after 900.00 seconds"), {
                name: "Sandbox.Timedout",
              });
            return real(i);
          },
    );
    expect(first.status).toBe("FAILED");
    expect(first.entered).not.toContain("Publish load");
    expect(await rowsOf("att/fan-item")).toEqual([]);
    // The same run again (as a redrive would continue it): its publish writes the run's row.
    const [plan] = (first.taskInputs["Plan load"] ?? []) as { load_plan: Dispatch }[];
    const runId = plan?.load_plan.run_id;
    const again = await execute({ job_id: "att/fan-item", parameters: { key }, run_id: runId });
    expect(again.status, JSON.stringify(again.error)).toBe("SUCCEEDED");
    expect(await rowsOf("att/fan-item")).toMatchObject([
      { attempt: 1, status: "ok", rows_loaded: "2", run_id: runId },
    ]);
    // A duplicate of it: the plan's skipped result gets its row too.
    const dup = await execute({ job_id: "att/fan-item", parameters: { key } });
    expect(dup.output).toMatchObject({ status: "skipped", reason: "duplicate", run_logged: true });
    expect((await rowsOf("att/fan-item")).map((x) => [x.status, x.reason])).toEqual([
      ["ok", null],
      ["skipped", "duplicate"],
    ]);
  });
});
