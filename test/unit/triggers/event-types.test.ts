import { describe, expect, it } from "vitest";
import {
  EVENTBRIDGE_FIELDS,
  eventBridgeEventType,
  isRemovalEventType,
  wantsRemovalEvents,
} from "../../../lambda/triggers/event-types";
import { realmOf } from "../../support/realm-fixture";

const triggersOf = (...extra: Record<string, unknown>[]) =>
  realmOf({
    jobs: [{ job_id: "load", type: "exe", enabled: true }],
    s3triggers: extra.map((t, i) => ({
      trigger_id: `t${i}`,
      bucket: "landing",
      prefix: "in",
      job_id: "load",
      enabled: true,
      ...t,
    })),
  }).triggers;

describe("isRemovalEventType", () => {
  it.each([
    ["ObjectRemoved:Delete", true],
    ["ObjectRemoved:DeleteMarkerCreated", true],
    ["LifecycleExpiration:Delete", true],
    ["LifecycleExpiration:DeleteMarkerCreated", true],
    ["ObjectCreated:Put", false],
    ["ObjectRestore:Delete", false],
    ["ObjectTagging:Delete", false],
  ])("%s → %s", (type, removal) => {
    expect(isRemovalEventType(type)).toBe(removal);
  });
});

describe("EVENTBRIDGE_FIELDS", () => {
  it("maps every S3 event type back to the EventBridge fields it is decoded from", () => {
    for (const [type, f] of EVENTBRIDGE_FIELDS) {
      expect(eventBridgeEventType(f.detailType, f.reason, f.deletionType)).toBe(type);
    }
    expect(EVENTBRIDGE_FIELDS.size).toBe(16);
  });
});

describe("wantsRemovalEvents: whether a stack needs EventBridge's Object Deleted events", () => {
  it("is false when no trigger's if_event_type names a deletion", () => {
    expect(wantsRemovalEvents(triggersOf({}, { if_event_type: "ObjectCreated:*" }))).toBe(false);
    expect(wantsRemovalEvents(triggersOf({ if_not_event_type: "ObjectRemoved:*" }))).toBe(false);
    expect(wantsRemovalEvents([])).toBe(false);
  });

  it.each(["ObjectRemoved:*", "ObjectRemoved:Delete", "LifecycleExpiration:*", "*"])(
    "is true for an enabled trigger with if_event_type %j",
    (pattern) => {
      expect(wantsRemovalEvents(triggersOf({}, { if_event_type: [pattern] }))).toBe(true);
    },
  );

  it("ignores disabled triggers", () => {
    expect(
      wantsRemovalEvents(triggersOf({ if_event_type: "ObjectRemoved:*", enabled: false })),
    ).toBe(false);
  });
});
