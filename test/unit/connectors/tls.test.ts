import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tlsOptions } from "../../../lambda/connectors/tls";
import { ConnectionConfigError } from "../../../lambda/shared/errors";
import { createTestPki } from "../../support/index";

describe("tlsOptions", () => {
  const dir = mkdtempSync(join(tmpdir(), "lava-tls-"));

  it("verifies, and builds one secure context per CA bundle file, not one per connection", async () => {
    const a = (await createTestPki(join(dir, "a"), { name: "a" })).caFile;
    const b = (await createTestPki(join(dir, "b"), { name: "b" })).caFile;
    const first = tlsOptions(a);
    expect(first.rejectUnauthorized).toBe(true);
    expect(first.secureContext).toBeDefined();
    expect(tlsOptions(a).secureContext).toBe(first.secureContext);
    expect(tlsOptions(b).secureContext).not.toBe(first.secureContext);
  });

  it("uses Node's own roots when there is no bundle", () => {
    expect(tlsOptions(undefined)).toEqual({ rejectUnauthorized: true });
  });

  it("names a bundle it cannot read", () => {
    expect(() => tlsOptions(join(dir, "missing.pem"))).toThrow(ConnectionConfigError);
    expect(() => tlsOptions(join(dir, "missing.pem"))).toThrow(
      /cannot read the CA bundle .*missing\.pem/,
    );
  });
});
