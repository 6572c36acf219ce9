import { describe, expect, it } from "vitest";
import { jobApplicationName, psqlApplicationName } from "../../../lambda/connectors/app-name";

describe("application_name", () => {
  it("is lv-<realm>-<job_id> for jobs", () => {
    expect(jobApplicationName("dev", "sales/load-orders")).toBe("lv-dev-sales/load-orders");
  });

  it("is lv-<realm>-psql-<conn_id> outside a job", () => {
    expect(psqlApplicationName("prod", "pg-main")).toBe("lv-prod-psql-pg-main");
  });

  it("removes quotes and backslashes", () => {
    expect(jobApplicationName("dev", `a'b"c\\d`)).toBe("lv-dev-abcd");
  });

  it("cuts to 63 characters", () => {
    const name = jobApplicationName("dev", "x".repeat(100));
    expect(name).toHaveLength(63);
    expect(name.startsWith("lv-dev-xxx")).toBe(true);
  });

  it("replaces what PostgreSQL would not keep, so the cut is exact", () => {
    expect(jobApplicationName("dev", "café\n")).toBe("lv-dev-caf??");
  });
});
