/**
 * Fan-out loads through the SYNTHESIZED `lava-<realm>-jobs` definition, run in
 * aws-local-stepfunctions with the real resolve and runner handlers on real
 * PostgreSQL and S3 (docs/db-from-s3.md §14): Plan load → Load items (a
 * Distributed Map over the items in the state) → Publish load. The local engine
 * has no Distributed Map ItemReader, so the map that reads more than 40 items
 * from S3 is tested in parts: the planner's file, the synthesized reader, and
 * its item processor run on one item.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { type LoadRequest, makeRunnerHandler, runLoadRequest } from "../../lambda/handlers/runner";
import type { FanOutItem, FanOutPlan } from "../../lambda/jobs/db-from-s3/fan-out";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import { s3ClientFactory } from "../../lambda/shared/s3-clients";
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
const CONTEXT = { getRemainingTimeInMillis: () => 60_000 };

const fanJob = (jobId: string, table: string, mode = "append") =>
  loadJob(jobId, {
    table,
    mode,
    columns: ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL"],
    args: ["FORMAT CSV", "MANIFEST"],
    fan_out: { workers: 2, item_size: 1 },
  });

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  realm = world.realm(
    [fanJob("fan", "fan"), fanJob("fan_fail", "fan_fail"), fanJob("fan_many", "fan_many")],
    {},
    { s3_temp: `s3://${BUCKET}/tmp` },
  );
}, 120_000);

async function manifestOf(name: string, parts: number, bad?: number, first = 0): Promise<string> {
  const urls = [];
  for (let i = 0; i < parts; i++) {
    const key = `in/${name}/p${String(i).padStart(3, "0")}.csv`;
    await world.s3.put(
      BUCKET,
      key,
      i === bad ? `${first + i},ok\nbad,row\n` : `${first + i},n${i}\n`,
    );
    urls.push({ url: `s3://${BUCKET}/${key}` });
  }
  const key = `in/${name}.manifest`;
  await world.s3.put(BUCKET, key, JSON.stringify({ entries: urls }));
  return key;
}

/** Run an execution; `failItem` makes that item's first invocation fail as a Lambda would. */
function execute(input: JobsInput, failItem?: number) {
  const runner = makeRunnerHandler(realm, world.deps());
  const deps = world.deps();
  let inFlight = 0;
  let most = 0;
  let failed = false;
  const load = async (i: unknown) => {
    const request = i as LoadRequest;
    if ("load_item" in request && request.load_item.item.index === failItem && !failed) {
      failed = true;
      throw Object.assign(new Error("Task timed out after 900.00 seconds"), {
        name: "Sandbox.Timedout",
      });
    }
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      return await runLoadRequest(realm, request, deps, CONTEXT);
    } finally {
      inFlight -= 1;
    }
  };
  const run = runLocally(definition, input as never, {
    handlers: {
      Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
      "Run job": (i) => runner(i as Dispatch, CONTEXT),
      "Plan load": load,
      "Load item": load,
      "Publish load": load,
      Notify: () => ({ MessageId: "m" }),
    },
  });
  return run.then((r) => ({ ...r, most }));
}

describe("a fan-out load through the state machine", () => {
  it("plans, loads a 20-part manifest as items two at a time, and publishes once", async () => {
    const key = await manifestOf("sm20", 20);
    const r = await execute({ job_id: "fan", parameters: { key } });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    const result = r.output as unknown as JobResult;
    expect(result).toMatchObject({
      status: "ok",
      rows: 20,
      fan_out: { items: 20, parts: 20, workers: 2 },
    });
    expect(r.entered).toEqual(
      expect.arrayContaining(["Plan load", "Fan out?", "Load items", "Load item", "Publish load"]),
    );
    expect(r.calls["Load item"]).toBe(20);
    expect(r.calls["Run job"]).toBe(0);
    expect(r.most).toBeLessThanOrEqual(2);
    // Resolve fixed the run id; the plan, items and publish ran under it.
    const runIds = new Set(
      (r.taskInputs["Load item"] as { load_item: { plan: FanOutPlan } }[]).map(
        (i) => i.load_item.plan.run_id,
      ),
    );
    expect([...runIds]).toEqual([result.run_id]);
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.fan")).toEqual([{ n: 20 }]);
  });

  it("a duplicate of the same manifest ends with the plan's skipped result", async () => {
    const r = await execute({ job_id: "fan", parameters: { key: "in/sm20.manifest" } });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(r.output).toMatchObject({ status: "skipped", reason: "duplicate" });
    expect(r.entered).toContain("Nothing to load");
    expect(r.calls["Load item"]).toBe(0);
  });

  it("one part runs as any load, through Run job", async () => {
    const key = await manifestOf("sm1", 1, undefined, 1000);
    const r = await execute({ job_id: "fan", parameters: { key } });
    expect(r.status, JSON.stringify(r.error)).toBe("SUCCEEDED");
    expect(r.output).toMatchObject({ status: "ok", rows: 1 });
    expect(r.calls["Run job"]).toBe(1);
    expect(r.calls["Load item"]).toBe(0);
  });

  it("a failed item fails the execution at the map with the target unchanged; the same run resumed loads only that item", async () => {
    const key = await manifestOf("smf", 6);
    const first = await execute({ job_id: "fan_fail", parameters: { key } }, 3);
    expect(first.status).toBe("FAILED");
    expect(first.entered).not.toContain("Publish load");
    expect(first.entered).not.toContain("Notify");
    expect(await world.rows("SELECT to_regclass('sales.fan_fail')::text AS t")).toEqual([
      { t: null },
    ]);
    const [planInput] = (first.taskInputs["Plan load"] ?? []) as { load_plan: Dispatch }[];
    const runId = planInput?.load_plan.run_id;
    expect(runId).toBeDefined();
    // A redrive runs the unsuccessful item again, then the publish: here, the same run again.
    const again = await execute({ job_id: "fan_fail", parameters: { key }, run_id: runId });
    expect(again.status, JSON.stringify(again.error)).toBe("SUCCEEDED");
    expect(again.output).toMatchObject({ status: "ok", rows: 6 });
    const staged = await world.rows<{ n: number }>(
      'SELECT count(*)::int AS n FROM lava.load_ledger WHERE target_table = \'"sales"."fan_fail"\' AND via_manifest IS NOT NULL',
    );
    expect(staged).toEqual([{ n: 6 }]);
  });

  it("a bad row fails its item and the execution, naming the object; nothing is published", async () => {
    const key = await manifestOf("smbad", 4, 2);
    const r = await execute({ job_id: "fan_fail", parameters: { key } });
    expect(r.status).toBe("FAILED");
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.cause).toContain(`s3://${BUCKET}/in/smbad/p002.csv`);
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.fan_fail")).toEqual([{ n: 6 }]);
  });
});

describe("the synthesized fan-out states", () => {
  const map = (name: string) => definition.States[name] as unknown as Record<string, unknown>;

  it("are plan → a Distributed Map over the items → publish, the map uncaught so a redrive resumes it", () => {
    expect(map("Load items")).toMatchObject({
      Type: "Map",
      ItemsPath: "$.load.items",
      MaxConcurrencyPath: "$.load.plan.workers",
      ToleratedFailureCountPath: "$.load.plan.tolerated_failures",
      ItemSelector: { "plan.$": "$.load.plan", "item.$": "$$.Map.Item.Value" },
      ItemProcessor: { ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" } },
      Next: "Publish load",
    });
    expect(map("Load items").Catch).toBeUndefined();
    const processor = map("Load items").ItemProcessor as { States: Record<string, unknown> };
    expect(processor.States["Load item"]).toMatchObject({
      Retry: [
        expect.objectContaining({ ErrorEquals: expect.arrayContaining(["LoadTimeoutError"]) }),
      ],
    });
    expect(map("Publish load")).toMatchObject({ Next: "Run ok?" });
    // Each step is told the attempt's number, for the run log (docs/operations.md §3).
    expect(map("Plan load").Parameters).toEqual({
      "load_plan.$": "$.plan.dispatch",
      "attempt.$": "$.attempt.value",
    });
    expect(map("Publish load").Parameters).toEqual({
      "load_publish.$": "$.load.plan",
      "attempt.$": "$.attempt.value",
    });
    expect(map("Load items").ItemSelector).toEqual({
      "plan.$": "$.load.plan",
      "item.$": "$$.Map.Item.Value",
      "attempt.$": "$.attempt.value",
    });
  });

  it("read more than 40 items from the planner's file in s3_temp", async () => {
    const key = await manifestOf("many", 45);
    const dispatch = {
      job_id: "fan_many",
      parameters: { key },
      run_id: "6f1c1c2e-0b7a-4d47-9a51-5a2f0c0e0045",
    };
    const planned = (await runLoadRequest(
      realm,
      { load_plan: dispatch },
      world.deps(),
      CONTEXT,
    )) as {
      action: string;
      plan: FanOutPlan;
      items_bucket: string;
      items_key: string;
    };
    expect(planned).toMatchObject({
      action: "fan_out",
      items_bucket: BUCKET,
      items_key: "tmp/fan_many/6f1c1c2e-0b7a-4d47-9a51-5a2f0c0e0045/load-items.json",
    });
    const s3 = s3ClientFactory()({ region: "us-east-1" });
    const object = await s3.send(
      new GetObjectCommand({ Bucket: planned.items_bucket, Key: planned.items_key }),
    );
    const items = JSON.parse((await object.Body?.transformToString()) ?? "[]") as FanOutItem[];
    expect(items).toHaveLength(45);
    expect(items[44]?.parts[0]).toMatchObject({ part: 44, key: "in/many/p044.csv" });
    // The synthesized reader reads that file (the example realm's s3_temp bucket).
    expect(map("Load listed items")).toMatchObject({
      ItemReader: {
        Resource: "arn:aws:states:::s3:getObject",
        ReaderConfig: { InputType: "JSON" },
        Parameters: { Bucket: "example-lava-temp", "Key.$": "$.load.items_key" },
      },
      ItemSelector: { "plan.$": "$.load.plan", "item.$": "$$.Map.Item.Value" },
      Next: "Publish load",
    });
    // Its item processor, run on each item as the map would give it, then the publish.
    const processor = map("Load listed items").ItemProcessor as {
      StartAt: string;
      States: StateMachineDefinition["States"];
    };
    const itemMachine = {
      StartAt: processor.StartAt,
      States: processor.States,
    } as StateMachineDefinition;
    for (const item of items) {
      const one = await runLocally(itemMachine, { plan: planned.plan, item } as never, {
        handlers: {
          "Load listed item": (i) =>
            runLoadRequest(realm, i as LoadRequest, world.deps(), CONTEXT) as never,
        },
      });
      expect(one.status).toBe("SUCCEEDED");
    }
    const published = await runLoadRequest(
      realm,
      { load_publish: planned.plan },
      world.deps(),
      CONTEXT,
    );
    expect(published).toMatchObject({ status: "ok", rows: 45, fan_out: { items: 45 } });
  }, 60_000);
});
