import { describe, expect, it } from "vitest";
import { connectionSchema } from "../../../lambda/spec/connection";
import { problemsOf, realmDoc } from "../../support/realm-fixture";

const pg = (extra: Record<string, unknown> = {}) => ({
  conn_id: "pg",
  type: "postgres",
  enabled: true,
  host: "db.example.com",
  database: "app",
  user: "loader",
  password: "/lava/dev/pg",
  ...extra,
});

describe("connectionSchema port", () => {
  // lava/lib/schema/lava/common/posint.yaml: an integer >= 1 or a string of digits.
  it("reads lava's numeric string port as a number", () => {
    // Act
    const parsed = connectionSchema.parse(pg({ port: "5432" }));
    // Assess
    expect(parsed).toMatchObject({ port: 5432 });
  });

  it("keeps an integer port", () => {
    expect(connectionSchema.parse(pg({ port: 6543 }))).toMatchObject({ port: 6543 });
  });

  it.each([
    ["seventy", '"seventy"'],
    ["0", '"0"'],
    ["65536", '"65536"'],
    [0, "0"],
    ["54.32", '"54.32"'],
    [" 5432", '" 5432"'],
    [5432.5, "5432.5"],
  ])("refuses port %j, showing the value", (port, shown) => {
    expect(problemsOf(realmDoc({ connections: [pg({ port })] }))).toEqual([
      `realms/dev.yaml: connection pg: port: expected an integer 1-65535, got ${shown}`,
    ]);
  });
});
