import { describe, expect, it } from "vitest";
import { UsageError } from "../../../bin/cli/errors";
import { eventBridgeEventFor } from "../../../bin/cli/trigger";
import { decodeEvent } from "../../../lambda/triggers/decode-event";

/** Every S3 event type S3 also sends to EventBridge (S3 user guide, ev-mapping-troubleshooting). */
const S3_EVENT_TYPES = [
  "ObjectCreated:Put",
  "ObjectCreated:Post",
  "ObjectCreated:Copy",
  "ObjectCreated:CompleteMultipartUpload",
  "ObjectRemoved:Delete",
  "ObjectRemoved:DeleteMarkerCreated",
  "LifecycleExpiration:Delete",
  "LifecycleExpiration:DeleteMarkerCreated",
  "ObjectRestore:Post",
  "ObjectRestore:Completed",
  "ObjectRestore:Delete",
  "LifecycleTransition",
  "IntelligentTiering",
  "ObjectTagging:Put",
  "ObjectTagging:Delete",
  "ObjectAcl:Put",
];

describe("trigger --event-type: the EventBridge event the CLI builds", () => {
  it.each(S3_EVENT_TYPES)("decodes back to event type %s", (type) => {
    const event = eventBridgeEventFor("s3://landing/a/b c.csv", 10, type, "ap-southeast-2");
    const { records, failures } = decodeEvent(event);
    expect(failures).toEqual([]);
    expect(records.map((r) => [r.event.bucket, r.event.key, r.event.event_type])).toEqual([
      ["landing", "a/b c.csv", type],
    ]);
  });

  it("builds what S3 sends for a PutObject: detail-type Object Created, reason PutObject", () => {
    const event = eventBridgeEventFor("s3://landing/k.csv", 5, "ObjectCreated:Put", undefined);
    expect(event).toMatchObject({
      "detail-type": "Object Created",
      source: "aws.s3",
      region: "us-east-1",
      detail: {
        bucket: { name: "landing" },
        object: { key: "k.csv", size: 5 },
        reason: "PutObject",
      },
    });
  });

  it("builds a deletion with its reason and deletion-type, and no size, as S3 does", () => {
    const event = eventBridgeEventFor(
      "s3://landing/k.csv",
      5,
      "ObjectRemoved:DeleteMarkerCreated",
      undefined,
    );
    expect(event["detail-type"]).toBe("Object Deleted");
    expect(event.detail).toEqual({
      bucket: { name: "landing" },
      object: { key: "k.csv" },
      reason: "DeleteObject",
      "deletion-type": "Delete Marker Created",
    });
  });

  it("takes a notification configuration's name with its s3: prefix", () => {
    const event = eventBridgeEventFor("s3://landing/k.csv", 0, "s3:ObjectCreated:Copy", undefined);
    expect(decodeEvent(event).records[0]?.event.event_type).toBe("ObjectCreated:Copy");
  });

  it.each([
    "ObjectCreated:*",
    "ObjectCreated:PutObject",
    "Replication:OperationFailedReplication",
    "",
  ])("refuses %j, for which S3 sends no EventBridge event, naming the ones it takes", (type) => {
    expect(() => eventBridgeEventFor("s3://landing/k.csv", 0, type, undefined)).toThrow(UsageError);
    expect(() => eventBridgeEventFor("s3://landing/k.csv", 0, type, undefined)).toThrow(
      /--event-type: .*one of ObjectCreated:Put, ObjectCreated:Post, .*ObjectAcl:Put/,
    );
  });
});
