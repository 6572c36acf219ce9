import { describe, expect, it } from "vitest";
import { decodeEvent, decodeS3Key } from "../../../lambda/triggers/decode-event";
import { s3EventBridgeEvent, s3ObjectDeletedEvent } from "../../support/s3-eventbridge";

// Shapes copied from the AWS documentation: "Event message structure" (S3
// notification v2.1, test event), Lambda's SNS and SQS sample events, SNS's
// notification JSON, and the S3 user guide's "EventBridge event message
// structure" (ev-events: "Object Created", "Object Deleted" by DeleteObject and
// by lifecycle expiration) and "Configuring S3 Lifecycle event notifications"
// (lifecycle-configure-notification: an s3:LifecycleExpiration:Delete record).

/** One S3 notification record (v2.1) with a URL-encoded key, as S3 sends it. */
function s3Record(overrides: { key?: string; bucket?: string; versionId?: string } = {}) {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "2026-01-31T08:05:09.123Z",
    eventName: "ObjectCreated:Put",
    userIdentity: { principalId: "AWS:AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "172.16.0.1" },
    responseElements: {
      "x-amz-request-id": "C3D13FE58DE4C810",
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "lava-dev-trigger",
      bucket: {
        name: overrides.bucket ?? "sales-landing",
        ownerIdentity: { principalId: "A3NL1KOZZKExample" },
        arn: `arn:aws:s3:::${overrides.bucket ?? "sales-landing"}`,
      },
      object: {
        key: overrides.key ?? "reports/2026/my+file%3A1.csv",
        size: 1024,
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        versionId: overrides.versionId ?? "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        sequencer: "0055AED6DCD90281E5",
      },
    },
  };
}

function s3Notification(...records: unknown[]) {
  return { Records: records.length > 0 ? records : [s3Record()] };
}

const TEST_EVENT = {
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2026-01-31T08:00:00.000Z",
  Bucket: "sales-landing",
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YYmP+n5nIJCIR6vXjmhT",
};

/** Lambda's event for an SNS topic, one record per message. */
function snsEvent(...messages: string[]) {
  return {
    Records: messages.map((message, i) => ({
      EventVersion: "1.0",
      EventSubscriptionArn:
        "arn:aws:sns:us-west-2:123456789012:lava-dev-s3:21be56ed-a058-49f5-8c98-aedd2564c486",
      EventSource: "aws:sns",
      Sns: {
        SignatureVersion: "1",
        Timestamp: "2026-01-31T08:05:10.000Z",
        Signature: "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
        SigningCertUrl:
          "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
        MessageId: `95df01b4-ee98-5cb9-9903-4c221d41eb5${i}`,
        Message: message,
        MessageAttributes: {},
        Type: "Notification",
        UnsubscribeUrl:
          "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&amp;SubscriptionArn=arn:aws:sns:us-west-2:123456789012:lava-dev-s3",
        TopicArn: "arn:aws:sns:us-west-2:123456789012:lava-dev-s3",
        Subject: "Amazon S3 Notification",
      },
    })),
  };
}

/** An SNS notification as SQS receives it from a topic (raw message delivery off). */
function snsNotification(message: string) {
  return {
    Type: "Notification",
    MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    TopicArn: "arn:aws:sns:us-west-2:123456789012:lava-dev-s3",
    Subject: "Amazon S3 Notification",
    Message: message,
    Timestamp: "2026-01-31T08:05:10.655Z",
    SignatureVersion: "1",
    Signature: "EXAMPLEw6JRN...",
    SigningCertURL:
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    UnsubscribeURL:
      "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:lava-dev-s3:c9135db0",
  };
}

/** Lambda's event for an SQS queue; each body as given. */
function sqsEvent(...messages: { id: string; body: string }[]) {
  return {
    Records: messages.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1769846710183",
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: "1769846710185",
      },
      messageAttributes: {},
      md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-west-2:123456789012:lava-dev-s3",
      awsRegion: "us-west-2",
    })),
  };
}

/** S3's EventBridge "Object Created" event; its key is not encoded. */
function eventBridgeEvent(overrides: { key?: string; reason?: string } = {}) {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: "2026-01-31T08:05:09Z",
    region: "ca-central-1",
    resources: ["arn:aws:s3:::sales-landing"],
    detail: {
      version: "0",
      bucket: { name: "sales-landing" },
      object: {
        key: overrides.key ?? "reports/2026/my file+100%.csv",
        size: 5,
        etag: "b1946ac92492d2347c6235b4d2611184",
        "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
        sequencer: "617f08299329d189",
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "123456789012",
      "source-ip-address": "1.2.3.4",
      reason: overrides.reason ?? "PutObject",
    },
  };
}

const DECODED_S3 = {
  bucket: "sales-landing",
  key: "reports/2026/my file:1.csv",
  size: 1024,
  etag: "d41d8cd98f00b204e9800998ecf8427e",
  version_id: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
  sequencer: "0055AED6DCD90281E5",
  event_time: "2026-01-31T08:05:09.123Z",
  event_type: "ObjectCreated:Put",
  aws_region: "us-west-2",
  source_ip: "172.16.0.1",
  raw: s3Record(),
};

describe("decodeEvent: S3 notifications", () => {
  it("decodes a direct S3 notification record, URL-decoding its key", () => {
    expect(decodeEvent(s3Notification())).toEqual({
      records: [{ id: undefined, event: DECODED_S3 }],
      failures: [],
    });
  });

  it("decodes every record of a notification in order", () => {
    const batch = decodeEvent(
      s3Notification(s3Record({ key: "a/one.csv" }), s3Record({ key: "a/two.csv" })),
    );
    expect(batch.records.map((r) => r.event.key)).toEqual(["a/one.csv", "a/two.csv"]);
  });

  it("decodes S3 notifications delivered through SNS", () => {
    const batch = decodeEvent(snsEvent(JSON.stringify(s3Notification())));
    expect(batch).toEqual({ records: [{ id: undefined, event: DECODED_S3 }], failures: [] });
  });

  it("decodes S3 notifications delivered through SQS, keeping the message id", () => {
    const batch = decodeEvent(sqsEvent({ id: "m-1", body: JSON.stringify(s3Notification()) }));
    expect(batch).toEqual({ records: [{ id: "m-1", event: DECODED_S3 }], failures: [] });
  });

  it("decodes S3 notifications delivered through SNS into SQS", () => {
    const body = JSON.stringify(snsNotification(JSON.stringify(s3Notification())));
    const batch = decodeEvent(sqsEvent({ id: "m-2", body }));
    expect(batch).toEqual({ records: [{ id: "m-2", event: DECODED_S3 }], failures: [] });
  });

  it("turns an empty or null versionId into no version id", () => {
    const record = s3Record({ versionId: "" });
    const nullVersion = { ...record, s3: { ...record.s3, object: { key: "k", versionId: null } } };
    const batch = decodeEvent(s3Notification(record, nullVersion));
    expect(batch.records.map((r) => r.event.version_id)).toEqual([undefined, undefined]);
  });

  it("gives a record without size (a deletion) size 0", () => {
    const record = s3Record();
    const deleted = {
      ...record,
      eventName: "ObjectRemoved:Delete",
      s3: { ...record.s3, object: { key: "gone.csv", sequencer: "0055AED6DCD90281E6" } },
    };
    const [decoded] = decodeEvent(s3Notification(deleted)).records;
    expect(decoded?.event).toMatchObject({ key: "gone.csv", size: 0, etag: undefined });
    expect(decoded?.event.event_type).toBe("ObjectRemoved:Delete");
  });
});

describe("decodeS3Key", () => {
  it.each([
    ["reports/2026/my+file%3A1.csv", "reports/2026/my file:1.csv"],
    ["a%2Bb.csv", "a+b.csv"],
    ["caf%C3%A9+%26+co.csv", "café & co.csv"],
    ["100%25.csv", "100%.csv"],
    ["plain/key.csv", "plain/key.csv"],
  ])("decodes %j as %j", (encoded, key) => {
    expect(decodeS3Key(encoded)).toBe(key);
  });
});

describe("decodeEvent: EventBridge", () => {
  it("decodes an Object Created event without decoding its key", () => {
    const event = eventBridgeEvent();
    expect(decodeEvent(event)).toEqual({
      records: [
        {
          id: undefined,
          event: {
            bucket: "sales-landing",
            key: "reports/2026/my file+100%.csv",
            size: 5,
            etag: "b1946ac92492d2347c6235b4d2611184",
            version_id: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
            sequencer: "617f08299329d189",
            event_time: "2026-01-31T08:05:09.000Z",
            event_type: "ObjectCreated:Put",
            aws_region: "ca-central-1",
            source_ip: "1.2.3.4",
            raw: event,
          },
        },
      ],
      failures: [],
    });
  });

  it("decodes an EventBridge event delivered through SQS", () => {
    const batch = decodeEvent(sqsEvent({ id: "m-3", body: JSON.stringify(eventBridgeEvent()) }));
    expect(batch.failures).toEqual([]);
    expect(batch.records.map((r) => [r.id, r.event.key])).toEqual([
      ["m-3", "reports/2026/my file+100%.csv"],
    ]);
  });
});

describe("decodeEvent: S3 test events", () => {
  it("ignores a test event delivered directly", () => {
    expect(decodeEvent(TEST_EVENT)).toEqual({ records: [], failures: [] });
  });

  it("ignores a test event delivered through SNS", () => {
    expect(decodeEvent(snsEvent(JSON.stringify(TEST_EVENT)))).toEqual({
      records: [],
      failures: [],
    });
  });

  it("ignores test events delivered through SQS and SNS into SQS", () => {
    const batch = decodeEvent(
      sqsEvent(
        { id: "m-1", body: JSON.stringify(TEST_EVENT) },
        { id: "m-2", body: JSON.stringify(snsNotification(JSON.stringify(TEST_EVENT))) },
      ),
    );
    expect(batch).toEqual({ records: [], failures: [] });
  });
});

describe("decodeEvent: partial failures", () => {
  it("reports an SQS message whose body is not JSON and decodes the others", () => {
    const batch = decodeEvent(
      sqsEvent(
        { id: "m-1", body: JSON.stringify(s3Notification()) },
        { id: "m-2", body: "Test message." },
        { id: "m-3", body: JSON.stringify(s3Notification(s3Record({ key: "b.csv" }))) },
      ),
    );
    expect(batch.records.map((r) => [r.id, r.event.key])).toEqual([
      ["m-1", "reports/2026/my file:1.csv"],
      ["m-3", "b.csv"],
    ]);
    expect(batch.failures).toEqual([
      { id: "m-2", error: expect.stringMatching(/^SQS message m-2 body: not valid JSON/) },
    ]);
  });

  it("reports an SNS notification in SQS whose Message is not JSON", () => {
    const body = JSON.stringify(snsNotification("Hello world!"));
    const batch = decodeEvent(sqsEvent({ id: "m-9", body }));
    expect(batch.records).toEqual([]);
    expect(batch.failures).toEqual([
      { id: "m-9", error: expect.stringMatching(/^SQS message m-9 body\.Message: not valid JSON/) },
    ]);
  });

  it("reports an SNS record whose Message is not JSON", () => {
    const batch = decodeEvent(snsEvent("Hello from SNS!", JSON.stringify(s3Notification())));
    expect(batch.records).toHaveLength(1);
    expect(batch.failures).toEqual([
      {
        id: undefined,
        error: expect.stringMatching(/^event\.Records\[0\]\.Sns\.Message: not valid JSON/),
      },
    ]);
  });

  it("reports a record without bucket or key and keeps the rest of the message", () => {
    const noKey = s3Record();
    const broken = { ...noKey, s3: { ...noKey.s3, object: { size: 1 } } };
    const noBucket = { ...noKey, s3: { ...noKey.s3, bucket: {} } };
    const body = JSON.stringify(s3Notification(broken, s3Record({ key: "ok.csv" }), noBucket));
    const batch = decodeEvent(sqsEvent({ id: "m-4", body }));
    expect(batch.records.map((r) => [r.id, r.event.key])).toEqual([["m-4", "ok.csv"]]);
    expect(batch.failures).toEqual([
      { id: "m-4", error: "SQS message m-4 body.Records[0]: no s3.object.key" },
      { id: "m-4", error: "SQS message m-4 body.Records[2]: no s3.bucket.name" },
    ]);
  });

  it("reports a key with bad percent-encoding", () => {
    const batch = decodeEvent(s3Notification(s3Record({ key: "bad%ZZkey.csv" }), s3Record()));
    expect(batch.records).toHaveLength(1);
    expect(batch.failures).toEqual([
      {
        id: undefined,
        error: "event.Records[0]: s3.object.key is not valid URL encoding: bad%ZZkey.csv",
      },
    ]);
  });

  it("reports a key whose percent-encoding is not UTF-8", () => {
    const batch = decodeEvent(s3Notification(s3Record({ key: "%C3%28.csv" })));
    expect(batch.failures).toHaveLength(1);
  });

  it("reports an EventBridge event without a key", () => {
    const event = eventBridgeEvent();
    const batch = decodeEvent({ ...event, detail: { ...event.detail, object: { size: 1 } } });
    expect(batch).toEqual({
      records: [],
      failures: [{ id: undefined, error: "event: no detail.object.key" }],
    });
  });

  it("reports a record from an unsupported source", () => {
    const batch = decodeEvent({ Records: [{ eventSource: "aws:dynamodb" }] });
    expect(batch.failures).toEqual([
      { id: undefined, error: 'event.Records[0]: unsupported event source "aws:dynamodb"' },
    ]);
  });

  it("reports an SQS body that is JSON but no known event", () => {
    const batch = decodeEvent(sqsEvent({ id: "m-5", body: '{"hello":"world"}' }));
    expect(batch.failures).toEqual([
      {
        id: "m-5",
        error: "SQS message m-5 body: not an S3 notification, SNS, SQS or EventBridge event",
      },
    ]);
  });

  it.each([[null], ["text"], [[1, 2]], [{}]])("reports %j as an unknown event", (event) => {
    const batch = decodeEvent(event);
    expect(batch.records).toEqual([]);
    expect(batch.failures).toHaveLength(1);
    expect(batch.failures[0]?.id).toBeUndefined();
  });

  it("reports a bad event time and a bad size", () => {
    const record = s3Record();
    const badTime = { ...record, eventTime: "yesterday" };
    const badSize = { ...record, s3: { ...record.s3, object: { key: "k", size: -1 } } };
    const batch = decodeEvent(s3Notification(badTime, badSize));
    expect(batch.failures.map((f) => f.error)).toEqual([
      'event.Records[0]: event time is not a timestamp: "yesterday"',
      "event.Records[1]: object size is not a byte count: -1",
    ]);
  });
});

// ---- event types: EventBridge events carry S3 notification names ------------------

/**
 * S3's EventBridge "Object Deleted" event (DeleteObject), as in the S3 user guide,
 * "EventBridge event message structure" (ev-events), "Object deleted (using
 * DeleteObject)". No size: deletions carry none.
 */
const EB_OBJECT_DELETED = s3ObjectDeletedEvent(
  "amzn-s3-demo-bucket1",
  "example-key",
  "Delete Marker Created",
);

/** The same page, "Object deleted (using lifecycle expiration)": no source IP, requester S3. */
const EB_OBJECT_EXPIRED = s3EventBridgeEvent(
  "ad1de317-e409-eba2-9552-30113f8d88e3",
  "Object Deleted",
  "amzn-s3-demo-bucket1",
  {
    object: {
      key: "example-key",
      etag: "d41d8cd98f00b204e9800998ecf8427e",
      "version-id": "mtB0cV.jejK63XkRNceanNMC.qXPWLeK",
      sequencer: "617b398000000000",
    },
    "request-id": "20EB74C14654DC47",
    requester: "s3.amazonaws.com",
    reason: "Lifecycle Expiration",
    "deletion-type": "Delete Marker Created",
  },
);

/** The same page, "Object restore completed": no reason, a size. */
const EB_RESTORE_COMPLETED = s3EventBridgeEvent(
  "6924de0d-13e2-6bbf-c0c1-b903b753565e",
  "Object Restore Completed",
  "amzn-s3-demo-bucket1",
  {
    object: {
      key: "example-key",
      size: 5,
      etag: "b1946ac92492d2347c6235b4d2611184",
      "version-id": "KKsjUC1.6gIjqtvhfg5AdMI0eCePIiT3",
    },
    "request-id": "189F19CB7FB1B6A4",
    requester: "s3.amazonaws.com",
    "restore-expiry-time": "2021-11-13T00:00:00Z",
    "source-storage-class": "GLACIER",
  },
);

/**
 * An s3:LifecycleExpiration:Delete notification, as in the S3 user guide,
 * "Configuring S3 Lifecycle event notifications" (lifecycle-configure-notification).
 */
const S3_LIFECYCLE_EXPIRATION = {
  Records: [
    {
      eventVersion: "2.3",
      eventSource: "aws:s3",
      awsRegion: "us-west-2",
      eventTime: "1970-01-01T00:00:00.000Z",
      eventName: "LifecycleExpiration:Delete",
      userIdentity: { principalId: "s3.amazonaws.com" },
      requestParameters: { sourceIPAddress: "s3.amazonaws.com" },
      responseElements: {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "testConfigRule",
        bucket: {
          name: "amzn-s3-demo-bucket",
          ownerIdentity: { principalId: "A3NL1KOZZKExample" },
          arn: "arn:aws:s3:::amzn-s3-demo-bucket",
        },
        object: { key: "expiration/delete", sequencer: "0055AED6DCD90281E5" },
      },
    },
  ],
};

const eventTypeOf = (event: unknown) => {
  const { records, failures } = decodeEvent(event);
  expect(failures).toEqual([]);
  return records.map((r) => r.event.event_type);
};

describe("decodeEvent: EventBridge events get S3 notification event names", () => {
  // "Object Created" reasons: ev-events ("reason"); names: ev-mapping-troubleshooting.
  it.each([
    ["PutObject", "ObjectCreated:Put"],
    ["POST Object", "ObjectCreated:Post"],
    ["CopyObject", "ObjectCreated:Copy"],
    ["CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"],
  ])("names an Object Created event with reason %j %j", (reason, name) => {
    expect(eventTypeOf(eventBridgeEvent({ reason }))).toEqual([name]);
  });

  it.each([
    ["DeleteObject", "Permanently Deleted", "ObjectRemoved:Delete"],
    ["DeleteObject", "Delete Marker Created", "ObjectRemoved:DeleteMarkerCreated"],
    ["Lifecycle Expiration", "Permanently Deleted", "LifecycleExpiration:Delete"],
    ["Lifecycle Expiration", "Delete Marker Created", "LifecycleExpiration:DeleteMarkerCreated"],
  ])(
    "names an Object Deleted event with reason %j and deletion-type %j %j",
    (reason, deletionType, name) => {
      const event = {
        ...EB_OBJECT_DELETED,
        detail: { ...EB_OBJECT_DELETED.detail, reason, "deletion-type": deletionType },
      };
      expect(eventTypeOf(event)).toEqual([name]);
    },
  );

  it("decodes AWS's sample Object Deleted events with size 0 and no source IP for lifecycle", () => {
    const [deleted] = decodeEvent(EB_OBJECT_DELETED).records;
    expect(deleted?.event).toMatchObject({
      bucket: "amzn-s3-demo-bucket1",
      key: "example-key",
      size: 0,
      version_id: "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
      event_type: "ObjectRemoved:DeleteMarkerCreated",
      source_ip: "1.2.3.4",
    });
    const [expired] = decodeEvent(EB_OBJECT_EXPIRED).records;
    expect(expired?.event).toMatchObject({
      size: 0,
      event_type: "LifecycleExpiration:DeleteMarkerCreated",
      source_ip: undefined,
    });
  });

  it.each([
    ["Object Restore Initiated", "ObjectRestore:Post"],
    ["Object Restore Completed", "ObjectRestore:Completed"],
    ["Object Restore Expired", "ObjectRestore:Delete"],
    ["Object Storage Class Changed", "LifecycleTransition"],
    ["Object Access Tier Changed", "IntelligentTiering"],
    ["Object Tags Added", "ObjectTagging:Put"],
    ["Object Tags Deleted", "ObjectTagging:Delete"],
    ["Object ACL Updated", "ObjectAcl:Put"],
  ])("names a %j event %j", (detailType, name) => {
    expect(eventTypeOf({ ...EB_RESTORE_COMPLETED, "detail-type": detailType })).toEqual([name]);
  });

  it("keeps the event class of an Object Created or Object Deleted event with a reason AWS does not document", () => {
    expect(eventTypeOf(eventBridgeEvent({ reason: "Put Object Lambda" }))).toEqual([
      "ObjectCreated:PutObjectLambda",
    ]);
    const odd = {
      ...EB_OBJECT_DELETED,
      detail: { ...EB_OBJECT_DELETED.detail, reason: "Batch Job" },
    };
    expect(eventTypeOf(odd)).toEqual(["ObjectRemoved:DeleteMarkerCreated"]);
    const noType = {
      ...EB_OBJECT_DELETED,
      detail: { ...EB_OBJECT_DELETED.detail, "deletion-type": undefined },
    };
    expect(eventTypeOf(noType)).toEqual(["ObjectRemoved:"]);
  });

  it("joins detail-type and reason without spaces, as lava does, for an event type AWS does not map", () => {
    const event = { ...EB_RESTORE_COMPLETED, "detail-type": "Async Copy Completion" };
    expect(eventTypeOf(event)).toEqual(["AsyncCopyCompletion:"]);
  });

  it("gives an EventBridge event and the S3 notification of the same upload the same event type", () => {
    expect(eventTypeOf(eventBridgeEvent())).toEqual(eventTypeOf(s3Notification()));
  });

  it("keeps an S3 notification's eventName as it is, lifecycle expirations included", () => {
    expect(eventTypeOf(S3_LIFECYCLE_EXPIRATION)).toEqual(["LifecycleExpiration:Delete"]);
    expect(decodeEvent(S3_LIFECYCLE_EXPIRATION).records[0]?.event.size).toBe(0);
  });
});
