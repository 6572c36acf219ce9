import { describe, expect, it } from "vitest";
import { roleSessionName } from "../../../lambda/connectors/aws-assume-role";

describe("roleSessionName", () => {
  it("keeps lv-<realm>-<job_id> when it is within STS's [\\w+=,.@-]", () => {
    expect(roleSessionName("lv-prod-sales_load.v2@x+y=z,w")).toBe("lv-prod-sales_load.v2@x+y=z,w");
  });

  it("replaces each run of other characters with one '.', as lava's clean_str does", () => {
    expect(roleSessionName("lv-dev-ops/nightly load: now")).toBe("lv-dev-ops.nightly.load.now");
  });

  it("drops accents rather than the letters (NFKD, as lava)", () => {
    expect(roleSessionName("lv-dev-café/ü")).toBe("lv-dev-cafe.u");
  });

  it("cuts to 64 characters and pads to STS's minimum of 2", () => {
    expect(roleSessionName(`lv-dev-${"j".repeat(100)}`)).toHaveLength(64);
    expect(roleSessionName("x")).toBe("x.");
  });
});
