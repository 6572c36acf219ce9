import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bundledRealm } from "../../../lambda/handlers/bundled-realm";
import { decodeRealmBundle, encodeRealmBundle } from "../../../lambda/spec/realm-bundle";
import { realmOf } from "../../support/realm-fixture";

describe("realm bundles", () => {
  it("round-trip the validated realm through shell-safe base64", () => {
    const realm = realmOf({ s3_temp: "s3://tmp-bucket/dev" });
    const encoded = encodeRealmBundle({ realm });
    expect(encoded).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(decodeRealmBundle(encoded)).toEqual({ realm });
  });

  it("give the handler its realm, with a bundled CA written where the TLS code reads it", () => {
    const realm = realmOf({ ssl_ca_file: "/home/me/ca.pem" });
    const loaded = bundledRealm(
      encodeRealmBundle({ realm, caPem: "-----BEGIN CERTIFICATE-----\n" }),
    );
    expect(loaded.top.ssl_ca_file).toBe("/tmp/lava-realm-ca.pem");
    rmSync("/tmp/lava-realm-ca.pem", { force: true });
    expect(bundledRealm(encodeRealmBundle({ realm: realmOf() })).name).toBe("dev");
  });

  it("refuse a bundle built without a realm", () => {
    expect(() => bundledRealm(undefined)).toThrow("this bundle carries no realm");
  });
});
