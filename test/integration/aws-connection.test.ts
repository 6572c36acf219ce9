import { describe, expect, it } from "vitest";
import { resolveAwsConnection } from "../../lambda/connectors/aws-connection";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { ConnectionConfigError, SecretAccessError } from "../../lambda/shared/errors";
import { rejectionOf, STUB_ASSUMED_ACCESS_KEY_ID, useAwsStub } from "../support/index";
import { realmOf } from "../support/realm-fixture";

const ROLE_ARN = "arn:aws:iam::123456789012:role/r";

const stub = useAwsStub();

/** A realm with one enabled aws connection reading its keys from /lava/dev/keys. */
function keysRealm(connId: string) {
  return realmOf({
    connections: [{ conn_id: connId, type: "aws", enabled: true, access_keys: "/lava/dev/keys" }],
  });
}

/** A realm with one enabled aws connection assuming ROLE_ARN for 30 minutes. */
function roleRealm(connId: string) {
  return realmOf({
    connections: [
      {
        conn_id: connId,
        type: "aws",
        enabled: true,
        role_arn: ROLE_ARN,
        external_id: "x",
        duration: "30m",
      },
    ],
  });
}

describe("resolveAwsConnection with access_keys", () => {
  it("reads access_key_id,secret_access_key from the SSM SecureString, decrypted", async () => {
    // Prepare
    stub.setParameter("/lava/dev/keys", "AKIAKEYS01,keys-Secret-01", "SecureString");
    const resolved = resolveAwsConnection(keysRealm("s3-keys"), "s3-keys", {
      store: new AwsSecretStore(),
    });
    // Act
    const creds = await resolved.credentials();
    // Assess
    expect(creds).toEqual({ accessKeyId: "AKIAKEYS01", secretAccessKey: "keys-Secret-01" });
    expect(resolved.connId).toBe("s3-keys");
    expect(JSON.stringify(resolved)).not.toContain("keys-Secret-01");
    const calls = stub.callsTo("ssm", "GetParameter");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toMatchObject({ Name: "/lava/dev/keys", WithDecryption: true });
    expect(stub.callsTo("sts")).toHaveLength(0);
  });

  it("trims spaces around the comma and the ends", async () => {
    stub.setParameter("/lava/dev/keys", " AKIAKEYS02 ,  keys-Secret-02 \n", "SecureString");
    const resolved = resolveAwsConnection(keysRealm("s3-spaced"), "s3-spaced", {
      store: new AwsSecretStore(),
    });

    const creds = await resolved.credentials();

    expect(creds).toEqual({ accessKeyId: "AKIAKEYS02", secretAccessKey: "keys-Secret-02" });
  });

  it.each([
    ["without a comma", "AKIAONLYkeys-Secret-03"],
    ["with three fields", "AKIA,keys-Secret-03,extra"],
    ["with an empty secret", "AKIAKEYS03, "],
  ])("refuses a value %s with a ConnectionConfigError that does not hold it", async (_, value) => {
    // Prepare
    stub.setParameter("/lava/dev/keys", value, "SecureString");
    const resolved = resolveAwsConnection(keysRealm("s3-bad"), "s3-bad", {
      store: new AwsSecretStore(),
    });
    // Act
    const err = await rejectionOf(resolved.credentials(), ConnectionConfigError);
    // Assess
    expect(err.message).toBe(
      "connection s3-bad: SSM parameter /lava/dev/keys must hold access_key_id,secret_access_key",
    );
    expect(err.message).not.toContain("Secret-03");
    expect(err.stack ?? "").not.toContain("Secret-03");
  });

  it("passes a missing parameter on as a non-retryable SecretAccessError", async () => {
    const resolved = resolveAwsConnection(keysRealm("s3-missing"), "s3-missing", {
      store: new AwsSecretStore(),
    });

    const err = await rejectionOf(resolved.credentials(), SecretAccessError);

    expect(err).toBeInstanceOf(SecretAccessError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("/lava/dev/keys");
    expect(err.message).toContain("not found");
  });
});

describe("resolveAwsConnection with role_arn", () => {
  it("assumes the role once through STS, with external id, duration and a lava session name", async () => {
    // Prepare
    const resolved = resolveAwsConnection(roleRealm("s3-role"), "s3-role", {
      store: new AwsSecretStore(),
    });
    // Act
    const creds = await resolved.credentials();
    // Assess
    expect(creds).toEqual({
      accessKeyId: STUB_ASSUMED_ACCESS_KEY_ID,
      secretAccessKey: "stub-assumed-secret",
      sessionToken: "stub-session-token",
      expiration: stub.sts.credentials.expiration,
    });
    const calls = stub.callsTo("sts", "AssumeRole");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toMatchObject({
      RoleArn: ROLE_ARN,
      ExternalId: "x",
      DurationSeconds: "1800",
    });
    expect(calls[0]?.body.RoleSessionName).toMatch(/^lava-dev-/);
    expect(stub.callsTo("ssm")).toHaveLength(0);
  });

  it("reuses the assumed credentials while they are valid", async () => {
    // Prepare
    const realm = roleRealm("s3-role-cached");
    const first = await resolveAwsConnection(realm, "s3-role-cached", {
      store: new AwsSecretStore(),
    }).credentials();
    // Act: the same connection, resolved again (as by the next run of a warm function)
    const again = resolveAwsConnection(realm, "s3-role-cached", { store: new AwsSecretStore() });
    const second = await again.credentials();
    const third = await again.credentials();
    // Assess
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(stub.callsTo("sts", "AssumeRole")).toHaveLength(1);
  });

  it("assumes the role again when the cached credentials are about to expire", async () => {
    // Prepare: STS hands out credentials that expire in 2 minutes (< the 5-minute margin)
    const saved = stub.sts.credentials;
    stub.sts.credentials = { ...saved, expiration: new Date(Date.now() + 2 * 60_000) };
    try {
      const resolved = resolveAwsConnection(roleRealm("s3-role-short"), "s3-role-short", {
        store: new AwsSecretStore(),
      });
      // Act
      await resolved.credentials();
      await resolved.credentials();
    } finally {
      stub.sts.credentials = saved;
    }
    // Assess
    expect(stub.callsTo("sts", "AssumeRole")).toHaveLength(2);
  });

  it("turns STS AccessDenied into a non-retryable SecretAccessError", async () => {
    // Prepare
    stub.failNext("sts", "AssumeRole", {
      status: 403,
      type: "AccessDenied",
      message: "User is not authorized to perform: sts:AssumeRole",
    });
    const resolved = resolveAwsConnection(roleRealm("s3-role-denied"), "s3-role-denied", {
      store: new AwsSecretStore(),
    });
    // Act
    const err = await rejectionOf(resolved.credentials(), SecretAccessError);
    // Assess
    expect(err).toBeInstanceOf(SecretAccessError);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`cannot assume role ${ROLE_ARN}: AccessDenied`);
    expect(stub.callsTo("sts", "AssumeRole")).toHaveLength(1);
  });
});

describe("resolveAwsConnection refusals", () => {
  it("refuses a connection that is not of type aws, before any AWS call", () => {
    const realm = realmOf({
      connections: [
        { conn_id: "pg", type: "postgres", enabled: true, host: "h", database: "d", user: "u" },
      ],
    });

    expect(() => resolveAwsConnection(realm, "pg", { store: new AwsSecretStore() })).toThrow(
      new ConnectionConfigError("connection pg: is of type postgres, expected an aws connection"),
    );
    expect(stub.calls).toHaveLength(0);
  });

  it("refuses a conn_id the realm does not define", () => {
    expect(() =>
      resolveAwsConnection(keysRealm("s3"), "nope", { store: new AwsSecretStore() }),
    ).toThrow(/connection nope: not defined in realm dev/);
  });
});
