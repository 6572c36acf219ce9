/**
 * s3trigger end to end, locally (docs/triggers.md; docs/db-from-s3.md §11): objects put into s3rver, their
 * S3 notifications (keys URL-encoded as S3 does) handed to the real s3trigger
 * handler, which starts executions through the real SFN client on the Step
 * Functions stub (AWS's name uniqueness); every execution runs the SYNTHESIZED
 * `lava-<realm>-jobs` definition in aws-local-stepfunctions, with the real
 * resolve handler and the real runner loading into real PostgreSQL, at most 4
 * at a time. Duplicate events start nothing new; each object is loaded once.
 */
import { randomUUID } from "node:crypto";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StubExecution } from "../../bin/cli/local-world/aws-stub-sfn";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { makeRunnerHandler } from "../../lambda/handlers/runner";
import { makeS3TriggerHandler, type S3TriggerResponse } from "../../lambda/handlers/s3trigger";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { decodeEvent } from "../../lambda/triggers/decode-event";
import { executionNameFor, sfnStarter } from "../../lambda/triggers/dispatch";
import { buildApp } from "../../lib/app";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";
import { type LocalExecutions, runExecutionsLocally } from "../support/local-sfn-runner";
import { definitionOf, type StateMachineDefinition } from "../support/local-state-machine";

const world = useLoadWorld();
const repo = new URL("../..", import.meta.url).pathname;

const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-dev-jobs";
/** Rows in every object. */
const ROWS_PER_OBJECT = 3;
/** Like the runner's reserved concurrency (the test cluster allows 50 connections). */
const CONCURRENCY = 4;

/** The realm: one append job, and one trigger on `landing/in` loading `in/<table>/…` into sales.<table>. */
let realm: Realm;
let definition: StateMachineDefinition;

beforeAll(async () => {
  // One synth (~6 s): the definition does not depend on the realm's jobs (Resolve and Run job are local).
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  realm = world.realm(
    [
      loadJob("landing/load", {
        table: "landed",
        columns: ["object TEXT NOT NULL", "n INTEGER NOT NULL"],
        args: ["FORMAT CSV", "HEADER"],
      }),
    ],
    {},
    {
      s3triggers: [
        {
          trigger_id: "landing-in",
          bucket: BUCKET,
          prefix: "in",
          job_id: "landing/load",
          enabled: true,
          if_fnmatch: "*.csv",
          // As a lava spec says it: S3 notifications and EventBridge events both match.
          if_event_type: "ObjectCreated:Put",
          parameters: { key: "{{ key }}", table: "{{ key.split('/')[1] }}" },
        },
        {
          trigger_id: "mixed-good",
          bucket: BUCKET,
          prefix: "mixed",
          job_id: "landing/load",
          enabled: true,
          parameters: { key: "{{ key }}", table: "{{ key.split('/')[1] }}" },
        },
        {
          trigger_id: "mixed-broken",
          bucket: BUCKET,
          prefix: "mixed",
          job_id: "landing/load",
          enabled: true,
          parameters: { key: "{{ key }}", table: "{{ key.nope() }}" },
        },
      ],
    },
  );
}, 120_000);

// ---- the world's moving parts ---------------------------------------------

let s3: S3Client;
let executions: LocalExecutions;
/** What Notify would have published. */
let notices: unknown[];
/** The s3trigger handlers' log: errors are records not dispatched. */
let logged: { level: "info" | "error"; message: string; detail: unknown }[];

beforeEach(() => {
  // After the world's beforeEach: its environment (AWS_ENDPOINT_URL_SFN, S3, SSM) is in place.
  s3 ??= world.s3.client();
  world.aws.states.executions.clear();
  notices = [];
  logged = [];
  const runner = makeRunnerHandler(realm, world.deps());
  executions = runExecutionsLocally(world.aws.states, definition, {
    concurrency: CONCURRENCY,
    handlers: {
      Resolve: (input) => makeResolveHandler(realm)(input as JobsInput),
      "Run job": (input) => runner(input as Dispatch, { getRemainingTimeInMillis: () => 60_000 }),
      Notify: (input) => {
        notices.push(input);
        return { MessageId: `message-${notices.length}` };
      },
    },
  });
  return () => executions.stop();
});

/** `n` s3trigger function instances, each with its own SFN client, as concurrent Lambda instances. */
function triggerHandlers(n: number) {
  const record =
    (level: "info" | "error") =>
    (message: string, detail: unknown): void => {
      logged.push({ level, message, detail });
    };
  const logger = { info: record("info"), error: record("error") } as never;
  return Array.from({ length: n }, () =>
    makeS3TriggerHandler(realm, sfnStarter(STATE_MACHINE_ARN), logger),
  );
}

// ---- S3 events as S3 sends them ----------------------------------------------

/** An S3 notification key: URL-encoded per path segment, a space as `+` (`a b+c` → `a+b%2Bc`). */
function s3EncodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, "+"))
    .join("/");
}

/** One record of an S3 event notification. */
interface S3Record {
  [field: string]: unknown;
  s3: { [field: string]: unknown; object: { [field: string]: unknown; key: string } };
}

const csvOf = (key: string) =>
  `object,n\n${Array.from({ length: ROWS_PER_OBJECT }, (_, i) => `${key},${i + 1}`).join("\n")}\n`;

let sequencer = 0;

/** Put an object with its CSV and return the S3 notification record S3 would send for it. */
async function putObject(key: string): Promise<S3Record> {
  await world.s3.put(BUCKET, key, csvOf(key));
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  sequencer += 1;
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-east-1",
    eventTime: new Date().toISOString(),
    eventName: "ObjectCreated:Put",
    userIdentity: { principalId: "AWS:AIDAEXAMPLEUPLOADER" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: { "x-amz-request-id": randomUUID(), "x-amz-id-2": randomUUID() },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "lava-dev-s3trigger",
      bucket: {
        name: BUCKET,
        ownerIdentity: { principalId: "A3EXAMPLEOWNER" },
        arn: `arn:aws:s3:::${BUCKET}`,
      },
      object: {
        key: s3EncodeKey(key),
        size: head.ContentLength,
        eTag: head.ETag?.replace(/"/g, ""),
        // S3's sequencer: hexadecimal, increasing per key; one per upload here.
        sequencer: `00${sequencer.toString(16).toUpperCase().padStart(16, "0")}`,
      },
    },
  };
}

/**
 * The EventBridge event S3 sends for the same upload as a notification record,
 * shaped as the S3 user guide's "EventBridge event message structure" (ev-events)
 * "Object created" example: key not encoded, reason PutObject.
 */
function eventBridgeOf(record: S3Record, key: string) {
  const object = record.s3.object;
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: record.eventTime,
    region: "us-east-1",
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: BUCKET },
      object: { key, size: object.size, etag: object.eTag, sequencer: object.sequencer },
      "request-id": randomUUID(),
      requester: "123456789012",
      "source-ip-address": "127.0.0.1",
      reason: "PutObject",
    },
  };
}

/** The EventBridge "Object Deleted" event of a permanent DeleteObject (ev-events, "Object deleted"). */
function objectDeletedOf(key: string) {
  sequencer += 1;
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Deleted",
    source: "aws.s3",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: BUCKET },
      object: { key, sequencer: `00${sequencer.toString(16).toUpperCase().padStart(16, "0")}` },
      "request-id": randomUUID(),
      requester: "123456789012",
      "source-ip-address": "127.0.0.1",
      reason: "DeleteObject",
      "deletion-type": "Permanently Deleted",
    },
  };
}

/** An S3 event notification delivered directly. */
const direct = (record: S3Record) => ({ Records: [record] });

/** An SQS batch, one S3 event notification per message. */
const sqsBatch = (records: S3Record[]) => ({
  Records: records.map((record) => ({
    messageId: randomUUID(),
    receiptHandle: `handle-${randomUUID()}`,
    body: JSON.stringify({ Records: [record] }),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAEXAMPLES3",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:lava-dev-s3-events",
    awsRegion: "us-east-1",
  })),
});

/** The execution name the handler must use for a record (docs/triggers.md §7). */
function executionNameOf(record: S3Record): string {
  const [decoded] = decodeEvent(direct(record)).records;
  if (!decoded) throw new Error("the record does not decode");
  return executionNameFor(realm.name, "landing/load", decoded.event);
}

/** A deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---- what ended up where -------------------------------------------------------

const allExecutions = (): StubExecution[] => [...world.aws.states.executions.values()];
const outputOf = (e: StubExecution) => JSON.parse(e.output ?? "null") as JobResult;
const startCalls = () => world.aws.callsTo("states", "StartExecution").length;

/** Rows per object in sales.<table>. */
async function rowsPerObject(table: string): Promise<Record<string, number>> {
  const rows = await world.rows<{ object: string; n: string }>(
    `SELECT object, count(*) AS n FROM sales.${table} GROUP BY object ORDER BY object`,
  );
  return Object.fromEntries(rows.map((r) => [r.object, Number(r.n)]));
}

/** The ledger rows of sales.<table>. */
function ledgerOf(table: string) {
  return world.rows<{ key: string; run_id: string; rows_loaded: string; job_id: string }>(
    "SELECT key, run_id, rows_loaded, job_id FROM lava.load_ledger WHERE target_table = $1 ORDER BY key",
    [`"sales"."${table}"`],
  );
}

function dispatchedOf(response: S3TriggerResponse) {
  if (!("dispatched" in response)) throw new Error("expected a direct invocation's response");
  return response.dispatched;
}

// ---- the tests -------------------------------------------------------------------

describe("s3trigger → Step Functions (stub) → synthesized jobs definition → runner → PostgreSQL", () => {
  it("loads an object whose key holds template syntax under its literal key: the key is rendered once, by the trigger", async () => {
    const [handler] = triggerHandlers(1);
    if (!handler) throw new Error("no handler");
    const key = "in/inject/{{ 7 * 7 }}-{% if true %}x{% endif %}.csv";
    const record = await putObject(key);
    dispatchedOf(await handler(direct(record)));
    await executions.settled();
    const execution = allExecutions().find((e) => (e.input ?? "").includes("inject"));
    expect(execution?.status).toBe("SUCCEEDED");
    expect(outputOf(execution as StubExecution)).toMatchObject({ status: "ok", key });
    expect(await rowsPerObject("inject")).toEqual({ [key]: ROWS_PER_OBJECT });
  });

  it("starts one execution for an event delivered twice in a row: the second is ExecutionAlreadyExists, reported as a duplicate; the object is loaded once", async () => {
    const [handler] = triggerHandlers(1);
    if (!handler) throw new Error("no handler");
    const record = await putObject("in/once/a.csv");
    const calls = startCalls();

    const first = dispatchedOf(await handler(direct(record)));
    await executions.settled();
    const again = dispatchedOf(await handler(direct(record)));
    await executions.settled();

    expect(startCalls() - calls).toBe(2);
    expect(first).toEqual([
      {
        trigger_id: "landing-in",
        job_id: "landing/load",
        bucket: BUCKET,
        key: "in/once/a.csv",
        execution_arn: `arn:aws:states:us-east-1:123456789012:execution:lava-dev-jobs:${executionNameOf(record)}`,
        duplicate: false,
      },
    ]);
    expect(again).toEqual([{ ...first[0], duplicate: true }]);
    const [execution, ...others] = allExecutions();
    expect(others).toEqual([]);
    expect(execution?.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution?.input ?? "{}")).toEqual({
      job_id: "landing/load",
      parameters: { key: "in/once/a.csv", table: "once" },
      globals: {},
      // The trigger rendered them from the event: the runner must never render them again.
      literal_parameters: ["key", "table"],
      delay: 0,
      event_time: record.eventTime,
    });
    expect(outputOf(execution as StubExecution)).toMatchObject({
      status: "ok",
      key: "in/once/a.csv",
      rows: ROWS_PER_OBJECT,
    });
    expect(await rowsPerObject("once")).toEqual({ "in/once/a.csv": ROWS_PER_OBJECT });
    expect(await ledgerOf("once")).toEqual([
      {
        key: "in/once/a.csv",
        run_id: outputOf(execution as StubExecution).run_id,
        rows_loaded: String(ROWS_PER_OBJECT),
        job_id: "landing/load",
      },
    ]);
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
    expect(logged.map((l) => l.message)).toEqual(["dispatched", "already dispatched"]);
    expect(notices).toEqual([]);
  });

  it("starts one execution for an event delivered twice at once to two function instances: both get the same execution; the object is loaded once", async () => {
    const handlers = triggerHandlers(2);
    const record = await putObject("in/twice/a.csv");

    const calls = startCalls();
    const responses = await Promise.all(handlers.map((handle) => handle(direct(record))));
    await executions.settled();

    expect(startCalls() - calls).toBe(2);

    const arns = responses.flatMap((r) => dispatchedOf(r).map((d) => d.execution_arn));
    expect(arns).toHaveLength(2);
    expect(new Set(arns).size).toBe(1);
    expect(allExecutions().map((e) => [e.name, e.status])).toEqual([
      [executionNameOf(record), "SUCCEEDED"],
    ]);
    expect(executions.runs.size).toBe(1);
    expect(await rowsPerObject("twice")).toEqual({ "in/twice/a.csv": ROWS_PER_OBJECT });
    expect(await ledgerOf("twice")).toHaveLength(1);
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
  });

  it("turns 100 events for 50 objects (each twice, shuffled; SQS batches of 10 and direct, all at once) into exactly 50 executions, each object loaded exactly once, nothing lost", async () => {
    const keys = Array.from(
      { length: 50 },
      (_, i) => `in/burst/obj-${String(i).padStart(2, "0")}.csv`,
    );
    const records = await Promise.all(keys.map((key) => putObject(key)));
    const events = shuffled([...records, ...records], 20260102);
    const handlers = triggerHandlers(4);
    const calls = startCalls();

    // Half in five SQS batches of 10 messages, half as direct invocations: all concurrently.
    const batches = Array.from({ length: 5 }, (_, b) =>
      sqsBatch(events.slice(b * 10, b * 10 + 10)),
    );
    const singles = events.slice(50).map(direct);
    const deliveries = [...batches, ...singles];
    const responses = await Promise.all(
      deliveries.map((event, i) => (handlers[i % handlers.length] as (typeof handlers)[0])(event)),
    );
    await executions.settled(25_000);

    // Every delivery was dispatched: no SQS message back to the queue, no direct failure.
    expect(responses.slice(0, 5)).toEqual(Array(5).fill({ batchItemFailures: [] }));
    expect(responses.slice(5).map((r) => dispatchedOf(r).length)).toEqual(Array(50).fill(1));
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
    expect(startCalls() - calls).toBe(100);

    // Exactly one execution per object, under the name derived from its event; all succeeded.
    const all = allExecutions();
    expect(all).toHaveLength(50);
    expect(new Set(all.map((e) => e.name))).toEqual(new Set(records.map(executionNameOf)));
    expect(
      all.filter((e) => e.status !== "SUCCEEDED").map((e) => [e.name, e.error, e.cause]),
    ).toEqual([]);
    const outputs = all.map(outputOf);
    expect(outputs.map((o) => o.status)).toEqual(Array(50).fill("ok"));
    expect(new Set(outputs.map((o) => o.key))).toEqual(new Set(keys));
    expect(notices).toEqual([]);
    // At most CONCURRENCY local executions (and so runner connections) at once, and really in parallel.
    expect(executions.peak).toBeLessThanOrEqual(CONCURRENCY);
    expect(executions.peak).toBeGreaterThan(1);

    // The database: every object's rows exactly once, one ledger row each, by the run that loaded it.
    expect(await rowsPerObject("burst")).toEqual(
      Object.fromEntries(keys.map((k) => [k, ROWS_PER_OBJECT])),
    );
    const [{ total } = { total: "" }] = await world.rows<{ total: string }>(
      "SELECT count(*) AS total FROM sales.burst",
    );
    expect(Number(total)).toBe(50 * ROWS_PER_OBJECT);
    const ledger = await ledgerOf("burst");
    expect(ledger.map((l) => l.key)).toEqual(keys);
    expect(new Set(ledger.map((l) => l.run_id))).toEqual(new Set(outputs.map((o) => o.run_id)));
    // Each execution ran the job in one attempt and ended in Done.
    expect(
      [...executions.runs.values()].filter(
        (r) => r.entered.filter((s) => s === "Run job").length !== 1 || r.entered.at(-1) !== "Done",
      ),
    ).toEqual([]);
  });

  it("loads an object whose EventBridge event (reason PutObject) matches the lava trigger's if_event_type ObjectCreated:Put; its Object Deleted event starts nothing", async () => {
    const [handler] = triggerHandlers(1);
    if (!handler) throw new Error("no handler");
    const key = "in/bridge/a b.csv";
    const record = await putObject(key);

    const dispatched = dispatchedOf(await handler(eventBridgeOf(record, key)));
    await executions.settled();
    expect(dispatchedOf(await handler(objectDeletedOf(key)))).toEqual([]);

    expect(dispatched.map((d) => [d.trigger_id, d.key, d.duplicate])).toEqual([
      ["landing-in", key, false],
    ]);
    // The S3 notification of the same upload is the same execution: a duplicate.
    expect(dispatchedOf(await handler(direct(record)))).toMatchObject([{ duplicate: true }]);
    expect(allExecutions().map((e) => e.status)).toEqual(["SUCCEEDED"]);
    expect(await rowsPerObject("bridge")).toEqual({ [key]: ROWS_PER_OBJECT });
    expect(logged.filter((l) => l.level === "error")).toEqual([]);
  });

  it("loads an object through its good trigger when another trigger of it has a template error; the failing one is logged and fails the event", async () => {
    const [handler] = triggerHandlers(1);
    if (!handler) throw new Error("no handler");
    const key = "mixed/partial/a.csv";
    const record = await putObject(key);

    await expect(handler(direct(record))).rejects.toThrow(
      /trigger mixed-broken: parameters\.table: template error/,
    );
    await executions.settled();

    expect(allExecutions().map((e) => e.status)).toEqual(["SUCCEEDED"]);
    expect(await rowsPerObject("partial")).toEqual({ [key]: ROWS_PER_OBJECT });
    expect(logged.map((l) => [l.level, l.message])).toEqual([
      ["info", "dispatched"],
      ["error", "trigger not dispatched"],
    ]);
    expect(logged[1]?.detail).toMatchObject({ trigger_id: "mixed-broken", retryable: false });
  });

  it("decodes a URL-encoded key with spaces and a + (a+b%2Bc) and loads the object under its real key", async () => {
    const [handler] = triggerHandlers(1);
    if (!handler) throw new Error("no handler");
    const key = "in/odd/daily sales+returns 2026-01-02.csv";
    const record = await putObject(key);
    expect(record.s3.object.key).toBe("in/odd/daily+sales%2Breturns+2026-01-02.csv");

    const dispatched = dispatchedOf(await handler(direct(record)));
    await executions.settled();

    expect(dispatched.map((d) => [d.key, d.duplicate])).toEqual([[key, false]]);
    const [execution, ...others] = allExecutions();
    expect(others).toEqual([]);
    expect(execution?.status).toBe("SUCCEEDED");
    expect(JSON.parse(execution?.input ?? "{}").parameters).toEqual({ key, table: "odd" });
    expect(outputOf(execution as StubExecution)).toMatchObject({ status: "ok", key, rows: 3 });
    expect(await rowsPerObject("odd")).toEqual({ [key]: ROWS_PER_OBJECT });
    expect((await ledgerOf("odd")).map((l) => l.key)).toEqual([key]);
  });
});
