/**
 * chain jobs (docs/pipelines.md §1) against real PostgreSQL: through the runner
 * (`lava-aurora run`), and through the SYNTHESIZED state machine executed locally,
 * where each child is its own execution (`startExecution.sync:2`, answered here by
 * running the same definition again) with the real resolve handler and runner.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import {
  type ActionsRequest,
  type ForeachPlanRequest,
  makeRunnerHandler,
  planForeachRequest,
  runActionsRequest,
} from "../../lambda/handlers/runner";
import { awsActionSenders } from "../../lambda/jobs/action-senders";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";
import { buildApp } from "../../lib/app";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";
import {
  definitionOf,
  type LocalRun,
  runLocally,
  type StateMachineDefinition,
} from "../support/local-state-machine";

const world = useLoadWorld();
const repo = new URL("../..", import.meta.url).pathname;
let definition: StateMachineDefinition;
let template: Template;
const TOPIC = "arn:aws:sns:us-east-1:123456789012:data-eng";
let realm: Realm;

const sqli = (jobId: string, payload: unknown, extra: Record<string, unknown> = {}) => ({
  job_id: jobId,
  type: "sqli",
  enabled: true,
  payload,
  parameters: { conn_id: "pg", transaction: true },
  ...extra,
});
const chain = (jobId: string, payload: unknown, parameters: Record<string, unknown> = {}) => ({
  job_id: jobId,
  type: "chain",
  enabled: true,
  payload,
  parameters,
});

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  template = Template.fromStack(stack);
  definition = definitionOf(template);
  await world.rows("CREATE TABLE sales.nightly (id INTEGER, name TEXT)");
  await world.rows("CREATE TABLE sales.steps (step TEXT, run_id TEXT, parent TEXT, seq SERIAL)");
  await world.rows("ALTER TABLE sales.nightly OWNER TO loader");
  await world.rows("ALTER TABLE sales.steps OWNER TO loader");
  realm = world.realm(
    [
      loadJob("stage", {
        key: "nightly/1.csv",
        table: "nightly_staging",
        mode: "truncate",
        columns: ["id INTEGER", "name TEXT"],
        args: ["FORMAT CSV"],
        reload: true,
      }),
      sqli("merge", [
        "DELETE FROM sales.nightly",
        "INSERT INTO sales.nightly SELECT * FROM sales.nightly_staging",
      ]),
      sqli("step/a", [
        "INSERT INTO sales.steps VALUES ('a', '{{ job.run_id }}', '{{ globals.lava.parent_job_id }}')",
      ]),
      sqli("step/b", [
        "INSERT INTO sales.steps VALUES ('b', '{{ job.run_id }}', '{{ globals.who }}')",
      ]),
      sqli("step/broken", ["SELECT 1/0"]),
      sqli("item/key", [
        "INSERT INTO sales.steps VALUES ('{{ globals.s3obj.Key }}', '{{ job.run_id }}', '{{ globals.s3obj.Bucket }}')",
      ]),
      sqli("item", [
        "INSERT INTO sales.steps VALUES ('{{ globals.a }}', '{{ job.run_id }}', '{{ globals.lava.foreach_index }}')",
      ]),
      ...(
        [
          ["each/inline", { type: "inline", values: [{ a: "x" }, { a: "y" }] }],
          ["each/range", { type: "range", name: "a", start: 1, stop: 7, step: 3 }],
          ["each/csv", { type: "csv", filename: "s3://landing/items/{{ globals.day }}.csv" }],
          ["each/jsonl", { type: "jsonl", filename: "s3://landing/items/list.jsonl" }],
          ["each/s3list", { type: "s3list", bucket: "landing", prefix: "items/", glob: "*.csv" }],
          [
            "each/query",
            {
              type: "query",
              conn_id: "pg",
              query: "SELECT 'q' || g AS a FROM generate_series(1, 2) g",
            },
          ],
          ["each/too-many", { type: "range", name: "a", stop: 11 }],
          ["each/lava-name", { type: "inline", values: [{ Lava_x: 1 }] }],
          ["each/many", { type: "range", name: "a", stop: 45 }],
        ] as const
      ).map(([id, foreach]) => ({
        job_id: id,
        type: "foreach",
        enabled: true,
        payload: id === "each/s3list" ? "item/key" : "item",
        parameters: { foreach, ...(id === "each/many" ? { limit: 100 } : {}) },
        globals: { day: "2026-12-01" },
      })),
      sqli("step/c", ["INSERT INTO sales.steps VALUES ('c', '{{ job.run_id }}', 'c')"]),
      sqli("step/d", ["INSERT INTO sales.steps VALUES ('d', '{{ job.run_id }}', 'd')"]),
      {
        job_id: "diamond",
        type: "dag",
        enabled: true,
        payload: { "step/d": ["step/b", "step/c"], "step/b": "step/a", "step/c": "step/a" },
        parameters: { workers: 2 },
        globals: { who: "dag" },
      },
      {
        job_id: "broken-dag",
        type: "dag",
        enabled: true,
        payload: { "step/d": ["step/broken", "step/c"], "step/broken": null, "step/c": [] },
      },
      sqli("step/off", ["SELECT 1"], { enabled: false }),
      {
        ...chain("nightly", ["stage", "merge"]),
        schedule: "30 2 * * *",
        max_run_delay: "2h",
        on_success: [
          {
            action: "sns",
            topic: TOPIC,
            subject: "{{ job.job_id }} done",
            message: "{{ job.job_id }} ({{ job.run_id }}) loaded and merged",
          },
        ],
      },
      chain("tolerant", "step/a, step/broken, step/b", { can_fail: "step/broke*" }),
      chain("strict", ["step/a", "step/broken", "step/b"]),
      chain("resume", ["a", "broken", "b"], { job_prefix: "step/", start: "b" }),
      chain("with-off", ["step/off", "step/a"]),
    ],
    {},
    { s3_temp: "s3://landing/tmp" },
  );
  await world.s3.put(BUCKET, "nightly/1.csv", "1,one\n2,two\n");
}, 120_000);

beforeEach(async () => {
  await world.rows("TRUNCATE sales.steps");
});

const steps = () =>
  world.rows<{ step: string; run_id: string; parent: string }>(
    "SELECT step, run_id, parent FROM sales.steps ORDER BY step",
  );
/** The steps in the order they ran. */
const order = async () =>
  (await world.rows<{ step: string }>("SELECT step FROM sales.steps ORDER BY seq")).map(
    (r) => r.step,
  );

/** "Run child": the child's own execution of the same definition, as startExecution.sync reports it. */
function childRunner(log: string[]) {
  return async (i: unknown) => {
    // The task's parameters: StartExecution's request, the child's input in `Input`.
    const request = i as { StateMachineArn: string; Input: JobsInput };
    expect(request.StateMachineArn).toMatch(/:stateMachine:lava-example-jobs$/);
    const child = request.Input;
    log.push(child.job_id);
    const r = await execute(child, log);
    const arn = `arn:aws:states:ap-southeast-2:123456789012:execution:lava-example-jobs:${child.job_id}`;
    if (r.status === "SUCCEEDED")
      return { ExecutionArn: arn, Status: "SUCCEEDED", Output: r.output };
    // What startExecution.sync reports for a failed child.
    throw Object.assign(
      new Error(JSON.stringify({ Error: r.error?.name, Cause: r.error?.cause })),
      {
        name: "States.TaskFailed",
      },
    );
  };
}

/** Run an execution of the synthesized definition; "Run child" runs the child's own. */
async function execute(input: JobsInput, log: string[] = []): Promise<LocalRun> {
  const runner = makeRunnerHandler(realm, world.deps());
  // The runner's action handler, sending with the real SDK to the local SNS stub.
  const act = (i: unknown) =>
    runActionsRequest(realm, i as ActionsRequest, awsActionSenders({ log: () => undefined }));
  const runChild = childRunner(log);
  return runLocally(definition, input as never, {
    handlers: {
      Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
      "Run job": (i) => runner(i as Dispatch, { getRemainingTimeInMillis: () => 60_000 }),
      "Run child": runChild,
      "Plan foreach": (i) =>
        planForeachRequest(realm, i as ForeachPlanRequest, world.deps()) as unknown as never,
      "on_success actions": act,
      "on_fail actions": act,
      "on_retry actions": act,
      Notify: () => ({ MessageId: "m" }),
    },
  });
}

describe("a scheduled chain: load with db_from_s3, merge with sqli, notify with sns", () => {
  it("runs end to end as EventBridge Scheduler starts it, and publishes its on_success", async () => {
    world.aws.sns.createTopic("data-eng");
    // The example realm's nightly chain, as synthesized: its schedule's input.
    const [schedule] = Object.values(template.findResources("AWS::Scheduler::Schedule")).filter(
      (r) => JSON.parse(r.Properties.Target.Input).job_id === "sales/nightly",
    );
    expect(schedule?.Properties.ScheduleExpression).toBe("cron(30 2 * * ? *)");
    const input = JSON.parse(schedule?.Properties.Target.Input) as Record<string, string>;
    expect(input.scheduled_at).toBe("<aws.scheduler.scheduled-time>");
    // What Scheduler sends at 02:30: the same input, the time filled in, for this realm's chain.
    const fired = { ...input, job_id: "nightly", scheduled_at: new Date().toISOString() };
    const r = await execute(fired as JobsInput);
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(await world.rows("SELECT * FROM sales.nightly ORDER BY id")).toEqual([
      { id: 1, name: "one" },
      { id: 2, name: "two" },
    ]);
    const [published] = world.aws.sns.topics.get(TOPIC) ?? [];
    expect(published?.subject).toBe("nightly done");
    expect(published?.message).toMatch(/^nightly \([0-9a-f-]{36}\) loaded and merged$/);
  });
});

describe("a chain through the state machine", () => {
  it("loads then merges, each child its own execution, under the chain's run id", async () => {
    const log: string[] = [];
    const r = await execute({ job_id: "nightly" }, log);
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(log).toEqual(["stage", "merge"]);
    // Two layers of one child each, one after the other.
    expect(r.entered.filter((s) => s === "Run layer")).toHaveLength(2);
    const result = r.output as unknown as JobResult & { layers: number };
    expect(result).toMatchObject({ status: "ok", job_id: "nightly", layers: 2 });
    expect(await world.rows("SELECT * FROM sales.nightly ORDER BY id")).toEqual([
      { id: 1, name: "one" },
      { id: 2, name: "two" },
    ]);
  });

  it("goes on past a child that can_fail allows, and every child shares the run id", async () => {
    const r = await execute({ job_id: "tolerant", globals: { who: "ops" } });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const rows = await steps();
    expect(rows.map((x) => [x.step, x.parent])).toEqual([
      ["a", "tolerant"],
      ["b", "ops"],
    ]);
    expect(rows[0]?.run_id).toBe(rows[1]?.run_id);
    expect(r.entered).toContain("Child failed, goes on");
  });

  it("stops at a child that may not fail, with ChildJobError naming it, after a notice", async () => {
    const r = await execute({ job_id: "strict" });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("ChildJobError");
    expect(r.error?.cause).toMatch(/^a child failed: .*"job_id":"step\/broken".*division by zero/);
    expect(r.entered).toContain("Notify");
    expect((await steps()).map((x) => x.step)).toEqual(["a"]);
  });

  it("resumes at start, with job_prefix", async () => {
    const log: string[] = [];
    const r = await execute({ job_id: "resume", globals: { who: "ops" } }, log);
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(log).toEqual(["step/b"]);
  });

  it("refuses a chain naming an unknown child at Resolve, before any child runs", async () => {
    const r = await execute({ job_id: "resume", parameters: { start: "nope" } });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("SpecError");
    expect(r.error?.cause).toContain("parameters.start: step/nope is not a job of the chain");
  });
});

describe("foreach", () => {
  it("runs the child once per item, in order, through the state machine (Plan foreach, then a Map)", async () => {
    const r = await execute({ job_id: "each/inline" });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(r.entered).toContain("Plan foreach");
    expect(await steps()).toMatchObject([
      { step: "x", parent: "0" },
      { step: "y", parent: "1" },
    ]);
  });

  it("takes items from a range, a csv and a jsonl object, an S3 listing and a query", async () => {
    await world.s3.put(BUCKET, "items/2026-12-01.csv", 'a,b\r\nc1,1\r\n"c,2",2\r\n');
    await world.s3.put(BUCKET, "items/list.jsonl", '{"a": "j1"}\n\n{"a": "j2"}\n');
    const cases: [string, string[]][] = [
      ["each/range", ["1", "4"]],
      ["each/csv", ["c,2", "c1"]],
      ["each/jsonl", ["j1", "j2"]],
      ["each/query", ["q1", "q2"]],
    ];
    for (const [job, want] of cases) {
      await world.rows("TRUNCATE sales.steps");
      const r = await world.run(realm, { job_id: job });
      expect(r.status, `${job}: ${JSON.stringify(r.events)}`).toBe("ok");
      expect((await steps()).map((x) => x.step)).toEqual(want);
    }
    await world.rows("TRUNCATE sales.steps");
    const listed = await world.run(realm, { job_id: "each/s3list" });
    expect(listed.status, JSON.stringify(listed.events)).toBe("ok");
    expect(await steps()).toMatchObject([{ step: "items/2026-12-01.csv", parent: "landing" }]);
  });

  it("fails before any child runs with more items than its limit, or a name starting with lava", async () => {
    const over = await world.run(realm, { job_id: "each/too-many" });
    expect(over.error?.message).toContain("more than its limit of 10 items: nothing run");
    const named = await world.run(realm, { job_id: "each/lava-name" });
    expect(named.error?.message).toContain('foreach field names may not start with "lava"');
    expect(await steps()).toEqual([]);
  });
});

describe("a foreach too large for the state (Distributed Map)", () => {
  // aws-local-stepfunctions runs no Distributed Map ItemReader: the planner's item file,
  // the synthesized reader and the item processor are each tested here on their own.
  it("is planned into an item file under s3_temp, the children in order", async () => {
    const planned = (await planForeachRequest(
      realm,
      { foreach_plan: { job_id: "each/many", run_id: "many-1" } },
      world.deps(),
    )) as { items_bucket: string; items_key: string; count: number };
    expect(planned).toEqual({
      items_bucket: "landing",
      items_key: "tmp/each/many/many-1/foreach-items.json",
      count: 45,
    });
    const object = await world.s3
      .client()
      .send(new GetObjectCommand({ Bucket: "landing", Key: planned.items_key }));
    const items = JSON.parse((await object.Body?.transformToString()) ?? "[]");
    expect(items).toHaveLength(45);
    expect(items[44]).toMatchObject({
      input: { job_id: "item", run_id: "many-1", globals: { a: 44, lava: { foreach_index: 44 } } },
      can_fail: false,
    });
  });

  it("is read by the synthesized Distributed Map from that file, one child at a time", () => {
    const map = definition.States["Run foreach from S3"] as unknown as Record<string, unknown>;
    expect(map).toMatchObject({
      Type: "Map",
      MaxConcurrency: 1,
      ItemReader: {
        Resource: "arn:aws:states:::s3:getObject",
        ReaderConfig: { InputType: "JSON" },
        Parameters: { Bucket: "example-lava-temp", "Key.$": "$.plan.layers.items_key" },
      },
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" } },
    });
    expect(definition.States["Many items?"]).toBeDefined();
  });

  it("runs each item as its own execution in the item processor, and a failing one stops it", async () => {
    const map = definition.States["Run foreach from S3"] as unknown as {
      ItemProcessor: { StartAt: string; States: StateMachineDefinition["States"] };
    };
    const processor = { StartAt: map.ItemProcessor.StartAt, States: map.ItemProcessor.States };
    const runChild = childRunner([]);
    const item = (a: string, canFail: boolean) => ({
      input: { job_id: "item", run_id: "p-1", globals: { a, lava: { foreach_index: 0 } } },
      can_fail: canFail,
    });
    const ok = await runLocally(processor as StateMachineDefinition, item("dm", false) as never, {
      handlers: { "Run foreach child": runChild },
    });
    expect(ok.status).toBe("SUCCEEDED");
    expect((await steps()).map((x) => x.step)).toEqual(["dm"]);
    const broken = {
      ...item("x", false),
      input: { ...item("x", false).input, job_id: "step/broken" },
    };
    const failed = await runLocally(processor as StateMachineDefinition, broken as never, {
      handlers: { "Run foreach child": runChild },
    });
    expect(failed.error?.name).toBe("ChildJobError");
    const tolerated = await runLocally(
      processor as StateMachineDefinition,
      { ...broken, can_fail: true } as never,
      { handlers: { "Run foreach child": runChild } },
    );
    expect(tolerated.status).toBe("SUCCEEDED");
  });
});

describe("a dag through the state machine", () => {
  it("runs a diamond: a first, b and c after it, d after both, all under the dag's run id", async () => {
    const r = await execute({ job_id: "diamond" });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const ran = await order();
    expect(ran[0]).toBe("a");
    expect(ran.slice(1, 3).sort()).toEqual(["b", "c"]);
    expect(ran[3]).toBe("d");
    expect(new Set((await steps()).map((x) => x.run_id)).size).toBe(1);
    expect(r.entered).toContain("Run layer");
  });

  it("lets the failing child's siblings finish, then stops before its dependents", async () => {
    const r = await execute({ job_id: "broken-dag" });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("ChildJobError");
    expect(await order()).toEqual(["c"]);
  });

  it("is refused at check for a cycle or an unknown job", () => {
    const doc = world.realmDoc([
      sqli("x", "SELECT 1"),
      sqli("y", "SELECT 1"),
      { job_id: "loop", type: "dag", enabled: true, payload: { x: "y", y: "x" } },
      { job_id: "stray", type: "dag", enabled: true, payload: { x: "nope" } },
    ]);
    expect(() => validateRealm(doc, "realms/dev.yaml")).toThrow(
      /job loop: payload: jobs are in a cycle: (x → y → x|y → x → y)[\s\S]*job stray: payload: job "nope" is not defined in this realm/,
    );
  });
});

describe("a dag through the runner (lava-aurora run)", () => {
  it("runs the layers in order", async () => {
    const r = await world.run(realm, { job_id: "diamond" });
    expect(r.status, JSON.stringify(r.events)).toBe("ok");
    const ran = await order();
    expect([ran[0], ran[3]], JSON.stringify([ran, r.events])).toEqual(["a", "d"]);
    expect(r.children).toHaveLength(4);
  });
});

describe("a chain through the runner (lava-aurora run)", () => {
  it("runs the children in order, skipping a disabled one", async () => {
    const r = await world.run(realm, { job_id: "with-off" }, { runId: "chain-1" });
    expect(r.status, JSON.stringify(r.events)).toBe("ok");
    expect(r.children?.map((c) => [c.job_id, c.status, c.reason])).toEqual([
      ["step/off", "skipped", "disabled"],
      ["step/a", "ok", undefined],
    ]);
    expect(await steps()).toEqual([{ step: "a", run_id: "chain-1", parent: "with-off" }]);
  });

  it("fails with ChildJobError and the children so far when one may not fail", async () => {
    const r = await world.run(realm, { job_id: "strict" });
    expect(r.status).toBe("failed");
    expect(r.error?.name).toBe("ChildJobError");
    expect(r.error?.message).toMatch(/^child step\/broken failed: DatabaseServerError: /);
    expect(r.children?.map((c) => c.status)).toEqual(["ok", "failed"]);
  });
});
