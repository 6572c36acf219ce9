import { describe, expect, it } from "vitest";
import { makeS3TriggerHandler } from "../../../lambda/handlers/s3trigger";
import { realmOf } from "../../support/realm-fixture";

describe("s3trigger handler (wiring release)", () => {
  it("logs the EventBridge object it receives and dispatches nothing yet", async () => {
    const logged: unknown[] = [];
    const handle = makeS3TriggerHandler(realmOf(), {
      info: (m: string, x: unknown) => logged.push([m, x]),
    } as never);
    const out = await handle({
      "detail-type": "Object Created",
      detail: { bucket: { name: "b" }, object: { key: "a b.csv", size: 3 } },
    });
    expect(out).toEqual({ bucket: "b", key: "a b.csv", dispatched: 0 });
    expect(logged).toEqual([
      [
        "object event received",
        { realm: "dev", detailType: "Object Created", bucket: "b", key: "a b.csv" },
      ],
    ]);
  });
});
