import { describe, expect, it } from "vitest";
import { makeS3TriggerHandler } from "../../../lambda/handlers/s3trigger";
import type { ExecutionStarter } from "../../../lambda/triggers/dispatch";
import { PG_CONNECTION, realmOf } from "../../support/realm-fixture";

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
    const { start, started } = recordingStarter();
    const out = await makeS3TriggerHandler(realm, start, logger)(eventBridge("in/a b.csv"));
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
    });
  });

  it("gives the same execution name to a duplicate delivery", async () => {
    const { start, started } = recordingStarter();
    const handle = makeS3TriggerHandler(realm, start, logger);
    await handle(eventBridge("in/x.csv"));
    const again = await handle(eventBridge("in/x.csv"));
    expect(started.map((s) => s.name)[0]).toBe(started.map((s) => s.name)[1]);
    expect(again).toMatchObject({ dispatched: [{ duplicate: true }] });
  });

  it("answers an SQS batch with the failed messages only, the rest dispatched", async () => {
    const { start, started } = recordingStarter("in/slow.csv");
    const out = await makeS3TriggerHandler(
      realm,
      start,
      logger,
    )({
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
    const { start } = recordingStarter("in/slow.csv");
    await expect(
      makeS3TriggerHandler(realm, start, logger)(eventBridge("in/slow.csv")),
    ).rejects.toThrow("s3://landing/in/slow.csv: ThrottlingException: throttled");
  });

  it("dispatches nothing for objects no trigger matches", async () => {
    const { start, started } = recordingStarter();
    expect(
      await makeS3TriggerHandler(realm, start, logger)(eventBridge("elsewhere/x.csv")),
    ).toEqual({ dispatched: [] });
    expect(started).toEqual([]);
  });
});
