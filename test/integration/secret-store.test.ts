import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { SecretAccessError } from "../../lambda/shared/errors";
import { rejectionOf, useAwsStub } from "../support/index";

const PASSWORD = "pw:Secret\\42";
const SECRET_JSON = '{"username":"loader","password":"sm-Secret-77"}';

const stub = useAwsStub();

beforeEach(() => {
  stub.setParameter("/lava/dev/db", PASSWORD, "SecureString", "alias/lava-dev-sys");
  stub.secrets.set("/lava/dev/db-secret", SECRET_JSON);
});

afterEach(() => {
  vi.useRealTimers();
});

/** Asserts that neither the message nor the stack of an error holds a seeded secret. */
function expectNoSecretIn(err: Error): void {
  for (const text of [err.message, err.stack ?? ""]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("sm-Secret-77");
  }
}

describe("AwsSecretStore against the SSM stub", () => {
  it("reads a SecureString with WithDecryption true and returns the decrypted value", async () => {
    const store = new AwsSecretStore();

    const value = await store.getParameter("/lava/dev/db");

    expect(value).toBe(PASSWORD);
    const calls = stub.callsTo("ssm", "GetParameter");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toMatchObject({ Name: "/lava/dev/db", WithDecryption: true });
  });

  it("serves a second read from its cache, without calling SSM", async () => {
    const store = new AwsSecretStore();
    await store.getParameter("/lava/dev/db");

    const again = await store.getParameter("/lava/dev/db");

    expect(again).toBe(PASSWORD);
    expect(stub.callsTo("ssm", "GetParameter")).toHaveLength(1);
  });

  it("reads the parameter again once maxAgeSeconds has passed, and sees the new value", async () => {
    // Prepare: only Date is faked, so the SDK's sockets and retry timers stay real
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new AwsSecretStore(1);
    expect(await store.getParameter("/lava/dev/db")).toBe(PASSWORD);
    stub.setParameter("/lava/dev/db", "rotated", "SecureString", "alias/lava-dev-sys");
    // Act: still fresh just before the deadline, stale after it
    vi.setSystemTime(Date.now() + 900);
    const cached = await store.getParameter("/lava/dev/db");
    vi.setSystemTime(Date.now() + 1_200);
    const fresh = await store.getParameter("/lava/dev/db");
    // Assess
    expect(cached).toBe(PASSWORD);
    expect(fresh).toBe("rotated");
    expect(stub.callsTo("ssm", "GetParameter")).toHaveLength(2);
  });

  it("rejects a missing parameter with a non-retryable SecretAccessError naming it", async () => {
    const store = new AwsSecretStore();

    const err = await rejectionOf(store.getParameter("/lava/dev/missing"), SecretAccessError);

    expect(err.retryable).toBe(false);
    expect(err.message).toContain("/lava/dev/missing");
    expect(err.message).toContain("not found");
    expectNoSecretIn(err);
  });

  it("marks throttling as retryable once the SDK's own retries are used up", async () => {
    // Prepare: the SDK makes 3 attempts; every one of them is throttled
    stub.failNext("ssm", "GetParameter", {
      status: 400,
      type: "ThrottlingException",
      message: "Rate exceeded",
      times: 3,
    });
    const store = new AwsSecretStore();
    // Act
    const err = await rejectionOf(store.getParameter("/lava/dev/db"), SecretAccessError);
    // Assess
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("/lava/dev/db");
    expect(err.message).toContain("ThrottlingException");
    expect(stub.callsTo("ssm", "GetParameter")).toHaveLength(3);
    expectNoSecretIn(err);
  });

  it("reports access denied as not retryable", async () => {
    stub.failNext("ssm", "GetParameter", {
      status: 400,
      type: "AccessDeniedException",
      message: "User is not authorized to perform: ssm:GetParameter",
    });
    const store = new AwsSecretStore();

    const err = await rejectionOf(store.getParameter("/lava/dev/db"), SecretAccessError);

    expect(err.retryable).toBe(false);
    expect(err.message).toBe("cannot read SSM parameter /lava/dev/db: access denied");
    expect(stub.callsTo("ssm", "GetParameter")).toHaveLength(1);
    expectNoSecretIn(err);
  });
});

describe("AwsSecretStore against the Secrets Manager stub", () => {
  it("reads a secret by name", async () => {
    const store = new AwsSecretStore();

    const value = await store.getSecret("/lava/dev/db-secret");

    expect(value).toBe(SECRET_JSON);
    const calls = stub.callsTo("secretsmanager", "GetSecretValue");
    expect(calls.map((c) => c.body.SecretId)).toEqual(["/lava/dev/db-secret"]);
  });

  it("reads a secret by ARN", async () => {
    const store = new AwsSecretStore();
    const arn = stub.secretArn("/lava/dev/db-secret");

    const value = await store.getSecret(arn);

    expect(value).toBe(SECRET_JSON);
    const calls = stub.callsTo("secretsmanager", "GetSecretValue");
    expect(calls.map((c) => c.body.SecretId)).toEqual([arn]);
  });

  it("caches a secret like a parameter", async () => {
    const store = new AwsSecretStore();
    await store.getSecret("/lava/dev/db-secret");

    expect(await store.getSecret("/lava/dev/db-secret")).toBe(SECRET_JSON);

    expect(stub.callsTo("secretsmanager")).toHaveLength(1);
  });

  it("rejects a missing secret as not found and not retryable", async () => {
    const store = new AwsSecretStore();

    const err = await rejectionOf(store.getSecret("/lava/dev/nope"), SecretAccessError);

    expect(err.retryable).toBe(false);
    expect(err.message).toBe("cannot read secret /lava/dev/nope: not found");
    expectNoSecretIn(err);
  });
});
