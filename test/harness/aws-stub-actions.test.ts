import { createHash } from "node:crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { beforeEach, describe, expect, it } from "vitest";
import { useAwsStub } from "../support/index.js";

const stub = useAwsStub();

// useAwsStub resets SSM and secrets only; these actions' state is reset here.
beforeEach(() => {
  stub.sns.topics.clear();
  stub.sqs.queues.clear();
  stub.events.length = 0;
});

describe("SNS stub with the real SNSClient configured only by env vars", () => {
  it("publishes to a created topic and records subject and message", async () => {
    const arn = stub.sns.createTopic("lava-dev-alerts");
    expect(arn).toBe("arn:aws:sns:us-east-1:123456789012:lava-dev-alerts");
    const sns = new SNSClient({});
    const out = await sns.send(
      new PublishCommand({
        TopicArn: arn,
        Subject: "Job failed",
        Message: 'a <b> & "c"',
        MessageAttributes: { kind: { DataType: "String", StringValue: "job" } },
      }),
    );
    await sns.send(new PublishCommand({ TopicArn: arn, Message: "no subject" }));
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stub.sns.topics.get(arn)).toEqual([
      { messageId: out.MessageId, subject: "Job failed", message: 'a <b> & "c"' },
      { messageId: expect.any(String), message: "no subject" },
    ]);
    const [call] = stub.callsTo("sns", "Publish");
    expect(call?.body).toMatchObject({ Action: "Publish", Version: "2010-03-31", TopicArn: arn });
  });

  it("tells SNS from STS on the shared query-protocol path by the signing service", async () => {
    const TopicArn = stub.sns.createTopic("t");
    await new SNSClient({}).send(new PublishCommand({ TopicArn, Message: "m" }));
    const me = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe("123456789012");
    expect(stub.calls.map((c) => [c.service, c.op])).toEqual([
      ["sns", "Publish"],
      ["sts", "GetCallerIdentity"],
    ]);
  });

  it("fails an unknown topic with NotFound, as SNS does", async () => {
    const send = new SNSClient({}).send(
      new PublishCommand({ TopicArn: "arn:aws:sns:us-east-1:123456789012:nope", Message: "m" }),
    );
    await expect(send).rejects.toMatchObject({
      name: "NotFoundException",
      message: "Topic does not exist",
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("refuses a Subject over 100 characters and an empty message", async () => {
    const TopicArn = stub.sns.createTopic("t");
    const sns = new SNSClient({});
    await expect(
      sns.send(new PublishCommand({ TopicArn, Message: "m", Subject: "s".repeat(100) })),
    ).resolves.toBeDefined();
    await expect(
      sns.send(new PublishCommand({ TopicArn, Message: "m", Subject: "s".repeat(101) })),
    ).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: "" }))).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "Invalid parameter: Empty message",
    });
    expect(stub.sns.topics.get(TopicArn)).toHaveLength(1);
  });

  it("throttles with failNext, surfacing as ThrottledException", async () => {
    const TopicArn = stub.sns.createTopic("t");
    stub.failNext("sns", "Publish", { status: 429, type: "Throttled", message: "slow down" });
    const sns = new SNSClient({ maxAttempts: 1 });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: "m" }))).rejects.toMatchObject({
      name: "ThrottledException",
      message: "slow down",
    });
    await expect(sns.send(new PublishCommand({ TopicArn, Message: "m" }))).resolves.toBeDefined();
    expect(stub.callsTo("sns", "Publish")).toHaveLength(2);
    expect(stub.callsTo("sts")).toHaveLength(0);
  });
});

describe("SQS stub with the real SQSClient configured only by env vars", () => {
  it("resolves a queue URL and records a delayed message, with SQS's MD5", async () => {
    const url = stub.sqs.createQueue("lava-dev-jobs");
    expect(url).toBe(`${stub.endpoint}/123456789012/lava-dev-jobs`);
    const sqs = new SQSClient({});
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "lava-dev-jobs" }));
    expect(QueueUrl).toBe(url);
    const body = "héllo ✓ 🚀";
    // The SDK itself rejects a wrong MD5OfMessageBody, so resolving proves it right.
    const out = await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: body, DelaySeconds: 30 }),
    );
    expect(out.MD5OfMessageBody).toBe(createHash("md5").update(body, "utf8").digest("hex"));
    expect(out.SequenceNumber).toBeUndefined();
    expect(stub.sqs.queues.get("lava-dev-jobs")).toEqual([
      { messageId: out.MessageId, body, delaySeconds: 30 },
    ]);
    expect(stub.callsTo("sqs", "SendMessage")[0]?.headers["x-amz-target"]).toBe(
      "AmazonSQS.SendMessage",
    );
  });

  it("fails an unknown queue with QueueDoesNotExist and its query code", async () => {
    const sqs = new SQSClient({});
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: "nope" }))).rejects.toMatchObject({
      name: "QueueDoesNotExist",
      Code: "AWS.SimpleQueueService.NonExistentQueue",
      message: "The specified queue does not exist.",
    });
    const QueueUrl = `${stub.endpoint}/123456789012/nope`;
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" })),
    ).rejects.toMatchObject({ name: "QueueDoesNotExist" });
  });

  it("applies FIFO rules: group id required, no per-message delay, deduplication", async () => {
    const QueueUrl = stub.sqs.createQueue("lava-dev-jobs.fifo");
    const sqs = new SQSClient({});
    const send = (input: Omit<ConstructorParameters<typeof SendMessageCommand>[0], "QueueUrl">) =>
      sqs.send(new SendMessageCommand({ QueueUrl, ...input }));
    await expect(send({ MessageBody: "m", MessageDeduplicationId: "d1" })).rejects.toMatchObject({
      name: "MissingParameter",
      message: "The request must contain the parameter MessageGroupId.",
    });
    await expect(
      send({ MessageBody: "m", MessageGroupId: "g", MessageDeduplicationId: "d", DelaySeconds: 5 }),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(send({ MessageBody: "m", MessageGroupId: "g" })).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    const inGroup = (MessageBody: string, MessageDeduplicationId: string) =>
      send({ MessageBody, MessageGroupId: "g", MessageDeduplicationId });
    const first = await inGroup("a", "1");
    const again = await inGroup("a, resent with another body", "1");
    const second = await inGroup("b", "2");
    expect(again.MessageId).toBe(first.MessageId);
    expect(Number(second.SequenceNumber)).toBeGreaterThan(Number(first.SequenceNumber));
    expect(stub.sqs.queues.get("lava-dev-jobs.fifo")).toEqual([
      { messageId: first.MessageId, body: "a", groupId: "g", dedupId: "1" },
      { messageId: second.MessageId, body: "b", groupId: "g", dedupId: "2" },
    ]);
  });

  it("deduplicates by content when the FIFO queue has ContentBasedDeduplication", async () => {
    const QueueUrl = stub.sqs.createQueue("q.fifo", { contentBasedDeduplication: true });
    const sqs = new SQSClient({});
    for (const MessageBody of ["x", "x", "y"]) {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody, MessageGroupId: "g" }));
    }
    expect(stub.sqs.queues.get("q.fifo")?.map((m) => m.body)).toEqual(["x", "y"]);
  });

  it("throttles with failNext, surfacing as RequestThrottled", async () => {
    const QueueUrl = stub.sqs.createQueue("q");
    stub.failNext("sqs", "SendMessage", { status: 403, type: "RequestThrottled", message: "slow" });
    const sqs = new SQSClient({ maxAttempts: 1 });
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" })),
    ).rejects.toMatchObject({ name: "RequestThrottled", message: "slow" });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "m" }));
    expect(stub.sqs.queues.get("q")).toHaveLength(1);
  });
});

describe("EventBridge stub with the real EventBridgeClient configured only by env vars", () => {
  it("records events with their parsed detail and answers an EventId each", async () => {
    const out = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "lava.jobs",
            DetailType: "Job Finished",
            Detail: JSON.stringify({ job: "nightly", ok: true }),
            Resources: ["arn:aws:states:us-east-1:123456789012:execution:sm:e1"],
          },
          {
            Source: "lava.jobs",
            DetailType: "Job Started",
            Detail: "{}",
            EventBusName: "arn:aws:events:us-east-1:123456789012:event-bus/lava",
          },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries?.map((e) => e.EventId)).toEqual(stub.events.map((e) => e.eventId));
    expect(stub.events).toEqual([
      {
        eventId: expect.any(String),
        bus: "default",
        source: "lava.jobs",
        detailType: "Job Finished",
        detail: { job: "nightly", ok: true },
        resources: ["arn:aws:states:us-east-1:123456789012:execution:sm:e1"],
      },
      {
        eventId: expect.any(String),
        bus: "lava",
        source: "lava.jobs",
        detailType: "Job Started",
        detail: {},
        resources: [],
      },
    ]);
  });

  it("fails a bad entry alone, inside a successful answer", async () => {
    const out = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [
          { DetailType: "t", Detail: "{}" },
          { Source: "s", DetailType: "t", Detail: "{}" },
          { Source: "s", Detail: "{}" },
          { Source: "s", DetailType: "t" },
          { Source: "s", DetailType: "t", Detail: "[1]" },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.map((e) => e.ErrorCode ?? "ok")).toEqual([
      "InvalidArgument",
      "ok",
      "InvalidArgument",
      "InvalidArgument",
      "MalformedDetail",
    ]);
    expect(out.Entries?.[0]?.ErrorMessage).toBe(
      "Parameter Source is not valid. Reason: Source is a required argument.",
    );
    expect(stub.events.map((e) => e.eventId)).toEqual([out.Entries?.[1]?.EventId]);
  });

  it("refuses more than 10 entries and throttles with failNext", async () => {
    const events = new EventBridgeClient({ maxAttempts: 1 });
    const entry = { Source: "s", DetailType: "t", Detail: "{}" };
    await expect(
      events.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) })),
    ).rejects.toMatchObject({ name: "ValidationException" });
    stub.failNext("events", "PutEvents", { type: "ThrottlingException", message: "slow" });
    await expect(events.send(new PutEventsCommand({ Entries: [entry] }))).rejects.toMatchObject({
      name: "ThrottlingException",
      message: "slow",
    });
    expect(stub.events).toHaveLength(0);
    expect(stub.callsTo("events", "PutEvents")).toHaveLength(2);
  });
});
