import { describe, expect, it } from "vitest";
import type { ObjectEvent } from "../../../lambda/triggers/decode-event";
import { executionNameFor, objectIdentity } from "../../../lambda/triggers/dispatch";

const event = (extra: Partial<ObjectEvent> = {}): ObjectEvent => ({
  bucket: "landing",
  key: "sales/orders 1.csv",
  size: 10,
  etag: '"abc"',
  version_id: undefined,
  sequencer: "0055AED6DCD90281E5",
  event_time: "2026-01-02T03:04:05.000Z",
  event_type: "ObjectCreated:Put",
  aws_region: "us-east-1",
  source_ip: undefined,
  raw: {},
  ...extra,
});

describe("execution names", () => {
  it("are stable for one object version and job, and within AWS's rules", () => {
    const a = executionNameFor("dev", "sales/load-orders", event());
    expect(a).toBe(
      executionNameFor(
        "dev",
        "sales/load-orders",
        event({ event_time: "2026-01-02T03:04:06.000Z" }),
      ),
    );
    expect(a).toMatch(/^sales-load-orders-[0-9a-f]{40}$/);
    expect(a.length).toBeLessThanOrEqual(80);
  });

  it("differ for another object version, job, key, bucket or realm", () => {
    const base = executionNameFor("dev", "j", event());
    for (const other of [
      executionNameFor("dev", "j", event({ sequencer: "0055AED6DCD90281F0" })),
      executionNameFor("dev", "k", event()),
      executionNameFor("dev", "j", event({ key: "sales/orders 2.csv" })),
      executionNameFor("dev", "j", event({ bucket: "other" })),
      executionNameFor("prod", "j", event()),
    ]) {
      expect(other).not.toBe(base);
    }
  });

  it('never hold whitespace or / : * ? " # %, whatever the job id', () => {
    const name = executionNameFor("dev", `  a/b:c*d?e"f#g%h ${"x".repeat(100)}`, event());
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionNameFor("dev", "///", event())).toMatch(/^[0-9a-f]{40}$/);
  });

  it("differ for the permanent deletion of a version and its creation, for the same job", () => {
    // A DeleteObject with a VersionId names the deleted version: the creation's own id.
    const created = event({ version_id: "v1" });
    const deleted = event({ version_id: "v1", event_type: "ObjectRemoved:Delete", size: 0 });
    const expired = event({ version_id: "v1", event_type: "LifecycleExpiration:Delete", size: 0 });
    const names = [created, deleted, expired].map((e) => executionNameFor("dev", "j", e));
    expect(new Set(names).size).toBe(3);
  });

  it("are the same for a creation whichever way it came (the event type is not part of a creation's name)", () => {
    expect(executionNameFor("dev", "j", event({ event_type: "ObjectCreated:Copy" }))).toBe(
      executionNameFor("dev", "j", event()),
    );
    // The name of a creation did not change with removal events' names.
    expect(executionNameFor("dev", "j", event())).toBe(
      "j-126b5ce33ddecf5e997e9252dd9fbdce57ff5fa9",
    );
  });

  it("use the version id, else the sequencer, else the ETag, as the object's identity", () => {
    expect(objectIdentity(event({ version_id: "v1" }))).toBe("v1");
    expect(objectIdentity(event())).toBe("0055AED6DCD90281E5");
    expect(objectIdentity(event({ sequencer: undefined }))).toBe('"abc"');
  });
});
