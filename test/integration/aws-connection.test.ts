import { beforeEach, describe, expect, it } from "vitest";
import { jobApplicationName } from "../../lambda/connectors/app-name";
import { resolveAwsConnection } from "../../lambda/connectors/aws-connection";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { ConnectionConfigError, SecretAccessError } from "../../lambda/shared/errors";
import type { AwsConnectionSpec } from "../../lambda/spec/connection";
import type { Realm } from "../../lambda/spec/realm";
import {
  assumeRoleRequest,
  rejectionOf,
  STUB_ASSUMED_ACCESS_KEY_ID,
  useAwsStub,
} from "../support/index";
import { realmOf } from "../support/realm-fixture";

const ROLE_ARN = "arn:aws:iam::123456789012:role/r";
const EXTERNAL_ID_PARAMETER = "/lava/dev/partner-external-id";
const EXTERNAL_ID = "partner-7731:ext/ID=1";

const stub = useAwsStub();

/** What a job run passes: the realm's store, and the job's application name. */
function deps(jobId = "ops/nightly") {
  return { store: new AwsSecretStore(), applicationName: jobApplicationName("dev", jobId) };
}

/** The AssumeRole requests the stub received, read. */
function assumeRoleRequests() {
  return stub.callsTo("sts", "AssumeRole").map((c) => assumeRoleRequest(c.body));
}

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
        external_id: EXTERNAL_ID_PARAMETER,
        duration: "30m",
      },
    ],
  });
}

describe("resolveAwsConnection with access_keys", () => {
  it("reads access_key_id,secret_access_key from the SSM SecureString, decrypted", async () => {
    // Prepare
    stub.setParameter("/lava/dev/keys", "AKIAKEYS01,keys-Secret-01", "SecureString");
    const resolved = resolveAwsConnection(keysRealm("s3-keys"), "s3-keys", deps());
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
    const resolved = resolveAwsConnection(keysRealm("s3-spaced"), "s3-spaced", deps());

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
    const resolved = resolveAwsConnection(keysRealm("s3-bad"), "s3-bad", deps());
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
    const resolved = resolveAwsConnection(keysRealm("s3-missing"), "s3-missing", deps());

    const err = await rejectionOf(resolved.credentials(), SecretAccessError);

    expect(err).toBeInstanceOf(SecretAccessError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("/lava/dev/keys");
    expect(err.message).toContain("not found");
  });
});

describe("resolveAwsConnection with role_arn", () => {
  beforeEach(() => {
    stub.setParameter(EXTERNAL_ID_PARAMETER, EXTERNAL_ID, "SecureString");
  });

  it("assumes the role once through STS, with the external ID read from SSM, the duration and session name lv-<realm>-<job_id>", async () => {
    // Prepare
    const resolved = resolveAwsConnection(roleRealm("s3-role"), "s3-role", deps());
    // Act
    const creds = await resolved.credentials();
    // Assess
    expect(creds).toEqual({
      accessKeyId: STUB_ASSUMED_ACCESS_KEY_ID,
      secretAccessKey: "stub-assumed-secret",
      sessionToken: "stub-session-token",
      expiration: stub.sts.credentials.expiration,
    });
    expect(assumeRoleRequests()).toEqual([
      {
        roleArn: ROLE_ARN,
        roleSessionName: "lv-dev-ops.nightly",
        externalId: EXTERNAL_ID,
        durationSeconds: 1800,
        policyArns: [],
        policy: undefined,
        tags: [],
      },
    ]);
    const ssm = stub.callsTo("ssm", "GetParameter");
    expect(ssm.map((c) => c.body)).toEqual([{ Name: EXTERNAL_ID_PARAMETER, WithDecryption: true }]);
    expect(JSON.stringify(resolved)).not.toContain(EXTERNAL_ID);
  });

  it("sends policy_arns (one or a list), the inline policy as JSON and the tags", async () => {
    // Prepare
    const policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::landing/*" }],
    };
    const realm = realmOf({
      connections: [
        {
          conn_id: "s3-one",
          type: "aws",
          enabled: true,
          role_arn: ROLE_ARN,
          policy_arns: "arn:aws:iam::aws:policy/ReadOnlyAccess",
        },
        {
          conn_id: "s3-all",
          type: "aws",
          enabled: true,
          role_arn: ROLE_ARN,
          policy_arns: [
            "arn:aws:iam::123456789012:policy/landing-read",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
          ],
          policy,
          tags: { project: "sales", "cost-centre": "CC 1234/a" },
        },
      ],
    });
    // Act
    await resolveAwsConnection(realm, "s3-one", deps()).credentials();
    await resolveAwsConnection(realm, "s3-all", deps()).credentials();
    // Assess
    const [one, all] = assumeRoleRequests();
    expect(one).toMatchObject({
      policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
      policy: undefined,
      tags: [],
      externalId: undefined,
      durationSeconds: 3600,
    });
    expect(all).toMatchObject({
      policyArns: [
        "arn:aws:iam::123456789012:policy/landing-read",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ],
      tags: [
        { key: "project", value: "sales" },
        { key: "cost-centre", value: "CC 1234/a" },
      ],
    });
    expect(JSON.parse(all?.policy ?? "")).toEqual(policy);
  });

  it.each([
    ["ops/nightly load:é", "lv-dev-ops.nightly.load."],
    ["a+b=c,d@e-f_g.h", "lv-dev-a+b=c,d@e-f_g.h"],
    ["x".repeat(80), `lv-dev-${"x".repeat(56)}`],
  ])("cleans job %j to AWS's session name rules: %j", async (jobId, sessionName) => {
    // Act
    await resolveAwsConnection(
      roleRealm("s3-role-name"),
      "s3-role-name",
      deps(jobId),
    ).credentials();
    // Assess: the stub refuses names outside [\w+=,.@-]{2,64}, as STS does
    expect(assumeRoleRequests().map((r) => r.roleSessionName)).toEqual([sessionName]);
  });

  it("assumes the role per job: another job's run gets its own session", async () => {
    // Prepare
    const realm = roleRealm("s3-role-jobs");
    await resolveAwsConnection(realm, "s3-role-jobs", deps("ops/a")).credentials();
    // Act
    await resolveAwsConnection(realm, "s3-role-jobs", deps("ops/b")).credentials();
    await resolveAwsConnection(realm, "s3-role-jobs", deps("ops/a")).credentials();
    // Assess
    expect(assumeRoleRequests().map((r) => r.roleSessionName)).toEqual([
      "lv-dev-ops.a",
      "lv-dev-ops.b",
    ]);
  });

  it("refuses an external_id outside /lava/<realm>/ before any AWS call", () => {
    // Prepare: past validation (which refuses it too), as a hand-built realm could be
    const realm = roleRealm("s3-role-ext");
    const conn = realm.connections[0] as AwsConnectionSpec;
    const tampered: Realm = { ...realm, connections: [{ ...conn, external_id: "/other/ext" }] };
    // Act / Assess
    expect(() => resolveAwsConnection(tampered, "s3-role-ext", deps())).toThrow(
      new ConnectionConfigError(
        "connection s3-role-ext: external_id: SSM parameter /other/ext is outside /lava/dev/",
      ),
    );
    expect(stub.calls).toHaveLength(0);
  });

  it("passes a missing external ID parameter on as a SecretAccessError, without assuming the role", async () => {
    // Prepare
    stub.ssm.delete(EXTERNAL_ID_PARAMETER);
    const resolved = resolveAwsConnection(roleRealm("s3-role-noext"), "s3-role-noext", deps());
    // Act
    const err = await rejectionOf(resolved.credentials(), SecretAccessError);
    // Assess
    expect(err.message).toBe(`cannot read SSM parameter ${EXTERNAL_ID_PARAMETER}: not found`);
    expect(stub.callsTo("sts")).toHaveLength(0);
  });

  it("reuses the assumed credentials while they are valid", async () => {
    // Prepare
    const realm = roleRealm("s3-role-cached");
    const first = await resolveAwsConnection(realm, "s3-role-cached", deps()).credentials();
    // Act: the same connection, resolved again (as by the next run of a warm function)
    const again = resolveAwsConnection(realm, "s3-role-cached", deps());
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
        ...deps(),
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
    const resolved = resolveAwsConnection(roleRealm("s3-role-denied"), "s3-role-denied", deps());
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

    expect(() => resolveAwsConnection(realm, "pg", deps())).toThrow(
      new ConnectionConfigError("connection pg: is of type postgres, expected an aws connection"),
    );
    expect(stub.calls).toHaveLength(0);
  });

  it("refuses a conn_id the realm does not define", () => {
    expect(() => resolveAwsConnection(keysRealm("s3"), "nope", deps())).toThrow(
      /connection nope: not defined in realm dev/,
    );
  });
});
