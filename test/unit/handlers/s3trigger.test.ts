import { describe, expect, it } from "vitest";
import { makeS3TriggerHandler } from "../../../lambda/handlers/s3trigger";
import type { Realm } from "../../../lambda/spec/realm";
import type { ExecutionStarter } from "../../../lambda/triggers/dispatch";
import { PG_CONNECTION, realmOf } from "../../support/realm-fixture";
import { s3ObjectDeletedEvent } from "../../support/s3-eventbridge";

const realm = realmOf({
  connections: [PG_CONNECTION],
  jobs: [
    {
      job_id: "load",
      type: "db_from_s3",
      enabled: true,
      parameters: { db_conn_id: "pg", mode: "append" },
    },
  ],
  s3triggers: [
    {
      trigger_id: "t",
      bucket: "landing",
      prefix: "in",
      job_id: "load",
      enabled: true,
      parameters: { key: "{{ key }}" },
    },
  ],
});

function recordingStarter(failFor?: string) {
  const started: { name: string; input: unknown }[] = [];
  const start: ExecutionStarter = async (request) => {
    if (failFor && JSON.stringify(request.input).includes(failFor))
      throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
    const duplicate = started.some((s) => s.name === request.name);
    started.push(request);
    return {
      executionArn: `arn:aws:states:us-east-1:1:execution:lava-dev-jobs:${request.name}`,
      duplicate,
    };
  };
  return { start, started };
}

const logger = { info: () => undefined, error: () => undefined };
const eventBridge = (key: string, sequencer = "01") => ({
  "detail-type": "Object Created",
  source: "aws.s3",
  time: "2026-01-02T03:04:05Z",
  detail: {
    bucket: { name: "landing" },
    object: { key, size: 3, etag: "e", sequencer },
    reason: "PutObject",
  },
});

/** The handler over `forRealm` with a recording starter (failing inputs that hold `failFor`). */
function handlerFor(forRealm: Realm, failFor?: string) {
  const { start, started } = recordingStarter(failFor);
  return { handle: makeS3TriggerHandler(forRealm, start, logger), started };
}

const sqsMessage = (messageId: string, body: string) => ({
  messageId,
  eventSource: "aws:sqs",
  body,
});
const s3Notification = (key: string) =>
  JSON.stringify({
    Records: [
      {
        eventSource: "aws:s3",
        eventName: "ObjectCreated:Put",
        eventTime: "2026-01-02T03:04:05.000Z",
        awsRegion: "us-east-1",
        s3: { bucket: { name: "landing" }, object: { key, size: 3, eTag: "e", sequencer: "02" } },
      },
    ],
  });

describe("s3trigger handler", () => {
  it("starts one execution for a matching EventBridge event, with the rendered dispatch as input", async () => {
    const { handle, started } = handlerFor(realm);
    const out = await handle(eventBridge("in/a b.csv"));
    expect(out).toMatchObject({
      dispatched: [
        { trigger_id: "t", job_id: "load", bucket: "landing", key: "in/a b.csv", duplicate: false },
      ],
    });
    expect(started[0]?.input).toEqual({
      job_id: "load",
      parameters: { key: "in/a b.csv" },
      literal_parameters: ["key"],
      globals: {},
      delay: 0,
      event_time: "2026-01-02T03:04:05.000Z",
    });
  });

  it("gives the same execution name to a duplicate delivery", async () => {
    const { handle, started } = handlerFor(realm);
    await handle(eventBridge("in/x.csv"));
    const again = await handle(eventBridge("in/x.csv"));
    expect(started.map((s) => s.name)[0]).toBe(started.map((s) => s.name)[1]);
    expect(again).toMatchObject({ dispatched: [{ duplicate: true }] });
  });

  it("answers an SQS batch with the failed messages only, the rest dispatched", async () => {
    const { handle, started } = handlerFor(realm, "in/slow.csv");
    const out = await handle({
      Records: [
        sqsMessage("m1", s3Notification("in/ok.csv")),
        sqsMessage("m2", "{not json"),
        sqsMessage("m3", s3Notification("in/slow.csv")),
      ],
    });
    expect(out).toEqual({
      batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m3" }],
    });
    expect(started.map((s) => (s.input as { parameters: { key: string } }).parameters.key)).toEqual(
      ["in/ok.csv"],
    );
  });

  it("throws when an EventBridge event cannot be dispatched, so Lambda retries it and then dead-letters it", async () => {
    const { handle } = handlerFor(realm, "in/slow.csv");
    await expect(handle(eventBridge("in/slow.csv"))).rejects.toThrow(
      "s3://landing/in/slow.csv: ThrottlingException: throttled",
    );
  });

  it("dispatches nothing for objects no trigger matches", async () => {
    const { handle, started } = handlerFor(realm);
    expect(await handle(eventBridge("elsewhere/x.csv"))).toEqual({ dispatched: [] });
    expect(started).toEqual([]);
  });
});

// ---- event types, deletions and failing triggers ---------------------------------

/** Jobs `load` and `audit`; triggers on `landing` under `typed`, `gone`, `mixed` and `pair`. */
const triggersRealm = realmOf({
  connections: [PG_CONNECTION],
  jobs: ["load", "audit"].map((job_id) => ({
    job_id,
    type: "db_from_s3",
    enabled: true,
    parameters: { db_conn_id: "pg", mode: "append" },
  })),
  s3triggers: [
    // A lava trigger as lava's documentation writes it.
    {
      trigger_id: "puts",
      bucket: "landing",
      prefix: "typed",
      job_id: "load",
      enabled: true,
      if_event_type: "ObjectCreated:Put",
    },
    { trigger_id: "plain", bucket: "landing", prefix: "gone", job_id: "load", enabled: true },
    {
      trigger_id: "removals",
      bucket: "landing",
      prefix: "gone",
      job_id: "audit",
      enabled: true,
      if_event_type: "ObjectRemoved:*",
      parameters: { what: "{{ info.event_type }}" },
    },
    {
      trigger_id: "first",
      bucket: "landing",
      prefix: "mixed",
      job_id: "load",
      enabled: true,
      parameters: { key: "{{ key }}" },
    },
    {
      trigger_id: "broken",
      bucket: "landing",
      prefix: "mixed",
      job_id: "audit",
      enabled: true,
      parameters: { table: "{{ key.nope() }}" },
    },
    {
      trigger_id: "last",
      bucket: "landing",
      prefix: "mixed",
      job_id: "audit",
      enabled: true,
      globals: { day: "{{ info.event_time.strftime('%Y%m%d') }}" },
    },
    {
      trigger_id: "both",
      bucket: "landing",
      prefix: "pair",
      job_id: ["load", "audit"],
      enabled: true,
    },
  ],
});

/**
 * S3's EventBridge "Object Deleted" event, from the S3 user guide's "EventBridge
 * event message structure" (ev-events), "Object deleted (using DeleteObject)",
 * for a key of ours and a permanent deletion.
 */
const objectDeleted = (key: string) => s3ObjectDeletedEvent("landing", key, "Permanently Deleted");

function recordingLogger() {
  const lines: { level: string; message: string; detail: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, detail: Record<string, unknown> = {}) => {
      lines.push({ level, message, detail });
    };
  return { logger: { info: at("info"), error: at("error") } as never, lines };
}

const startedJobs = (started: { input: unknown }[]) =>
  started.map((s) => (s.input as { job_id: string }).job_id);

describe("s3trigger handler: lava trigger specs in the deployed stack", () => {
  it("dispatches a trigger with if_event_type ObjectCreated:Put for an EventBridge PutObject event", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    const out = await handle(eventBridge("typed/a.csv"));
    expect(out).toMatchObject({ dispatched: [{ trigger_id: "puts", job_id: "load" }] });
    expect(started).toHaveLength(1);
  });

  it("does not dispatch it for a CopyObject event, whose S3 name is ObjectCreated:Copy", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    const copy = eventBridge("typed/a.csv");
    const event = { ...copy, detail: { ...copy.detail, reason: "CopyObject" } };
    expect(await handle(event)).toEqual({
      dispatched: [],
    });
    expect(started).toEqual([]);
  });

  it("dispatches an EventBridge Object Deleted event only to the triggers whose if_event_type names it", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    const out = await handle(objectDeleted("gone/x.csv"));
    expect(out).toMatchObject({ dispatched: [{ trigger_id: "removals", job_id: "audit" }] });
    expect(started.map((s) => s.input)).toEqual([
      {
        job_id: "audit",
        parameters: { what: "ObjectRemoved:Delete" },
        globals: {},
        literal_parameters: ["what"],
        delay: 0,
        event_time: "2021-11-12T00:00:00.000Z",
      },
    ]);
  });

  it("dispatches nothing for a deletion when no trigger names deletions", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    const out = await handle(objectDeleted("pair/x.csv"));
    expect(out).toEqual({ dispatched: [] });
    expect(started).toEqual([]);
  });
});

describe("s3trigger handler: a trigger whose template fails", () => {
  it("still dispatches the object's other triggers, logs the failing one, and fails the event so Lambda retries it and then dead-letters it", async () => {
    const { start, started } = recordingStarter();
    const { logger: log, lines } = recordingLogger();
    await expect(
      makeS3TriggerHandler(triggersRealm, start, log)(eventBridge("mixed/a.csv")),
    ).rejects.toThrow(
      /s3:\/\/landing\/mixed\/a\.csv: TemplateError: trigger broken: parameters\.table: template error/,
    );
    expect(started.map((s) => (s.input as { job_id: string }).job_id)).toEqual(["load", "audit"]);
    expect(lines.filter((l) => l.level === "error")).toEqual([
      {
        level: "error",
        message: "trigger not dispatched",
        detail: expect.objectContaining({ trigger_id: "broken", retryable: false }),
      },
    ]);
    expect(lines.filter((l) => l.level === "info").map((l) => l.detail.trigger_id)).toEqual([
      "first",
      "last",
    ]);
  });

  it("starts nothing twice when the event is delivered again: the dispatched triggers are duplicates", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    await expect(handle(eventBridge("mixed/a.csv"))).rejects.toThrow(/trigger broken/);
    await expect(handle(eventBridge("mixed/a.csv"))).rejects.toThrow(/trigger broken/);
    const names = started.map((s) => s.name);
    expect(names).toHaveLength(4);
    expect(names.slice(2)).toEqual(names.slice(0, 2));
  });

  it("returns only the SQS message of the failing trigger; its other triggers and the other messages dispatch", async () => {
    const { handle, started } = handlerFor(triggersRealm);
    const out = await handle({
      Records: [
        sqsMessage("m1", JSON.stringify(eventBridge("mixed/a.csv"))),
        sqsMessage("m2", JSON.stringify(eventBridge("typed/b.csv"))),
      ],
    });
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "m1" }] });
    expect(startedJobs(started).sort()).toEqual(["audit", "load", "load"]);
  });

  it("starts an object's other jobs when one cannot be started", async () => {
    const { handle, started } = handlerFor(triggersRealm, '"job_id":"load"');
    await expect(handle(eventBridge("pair/a.csv"))).rejects.toThrow(
      /ThrottlingException: throttled/,
    );
    expect(startedJobs(started)).toEqual(["audit"]);
  });
});

describe("s3trigger handler: log lines (docs/operations.md §5)", () => {
  it("gives every line the realm and what it knows of the run: job, execution and object of a dispatch, the object of a failed trigger", async () => {
    const { start } = recordingStarter();
    const { logger: log, lines } = recordingLogger();
    await expect(
      makeS3TriggerHandler(triggersRealm, start, log)(eventBridge("mixed/a.csv")),
    ).rejects.toThrow(/trigger broken/);
    await expect(
      makeS3TriggerHandler(
        triggersRealm,
        start,
        log,
      )({ "detail-type": "Object Created", source: "aws.s3" }),
    ).rejects.toThrow();
    const keys = (l: (typeof lines)[number]) => ({
      message: l.message,
      realm: l.detail.realm,
      job_id: l.detail.job_id,
      run_id: l.detail.run_id,
      execution: l.detail.execution,
      object: l.detail.object,
    });
    const execution = expect.stringMatching(/^arn:aws:states:us-east-1:1:execution:lava-dev-jobs:/);
    expect(lines.map(keys)).toEqual([
      {
        message: "dispatched",
        realm: "dev",
        job_id: "load",
        execution,
        object: "s3://landing/mixed/a.csv",
      },
      {
        message: "dispatched",
        realm: "dev",
        job_id: "audit",
        execution,
        object: "s3://landing/mixed/a.csv",
      },
      { message: "trigger not dispatched", realm: "dev", object: "s3://landing/mixed/a.csv" },
      { message: "record not dispatched", realm: "dev" },
    ]);
  });
});
