import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { describe, expect, it } from "vitest";
import { fakeCiphertext, STUB_ASSUMED_ACCESS_KEY_ID, useAwsStub } from "../support/index.js";

const stub = useAwsStub();

describe("SSM stub with the real SSMClient configured only by env vars", () => {
  it("returns a String parameter with its metadata", async () => {
    stub.setParameter("/lava/dev/plain", "hello");
    const out = await new SSMClient({}).send(new GetParameterCommand({ Name: "/lava/dev/plain" }));
    expect(out.Parameter).toMatchObject({
      Name: "/lava/dev/plain",
      Type: "String",
      Value: "hello",
      Version: 1,
      ARN: "arn:aws:ssm:us-east-1:123456789012:parameter/lava/dev/plain",
      DataType: "text",
    });
    expect(out.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
  });

  it("returns fake ciphertext for a SecureString unless WithDecryption is true", async () => {
    stub.setParameter("/lava/dev/secret", "p@ss", "SecureString", "alias/lava-dev-sys");
    const ssm = new SSMClient({});
    const raw = await ssm.send(new GetParameterCommand({ Name: "/lava/dev/secret" }));
    expect(raw.Parameter?.Value).toBe(fakeCiphertext("p@ss"));
    expect(raw.Parameter?.Value).not.toContain("p@ss");
    const clear = await ssm.send(
      new GetParameterCommand({ Name: "/lava/dev/secret", WithDecryption: true }),
    );
    expect(clear.Parameter?.Value).toBe("p@ss");
    expect(stub.callsTo("ssm", "GetParameter").map((c) => c.body.WithDecryption)).toEqual([
      undefined,
      true,
    ]);
    expect(stub.calls[0]?.headers["x-amz-target"]).toBe("AmazonSSM.GetParameter");
  });

  it("fails a missing parameter with ParameterNotFound", async () => {
    const get = new SSMClient({}).send(new GetParameterCommand({ Name: "/nope" }));
    await expect(get).rejects.toMatchObject({ name: "ParameterNotFound" });
  });

  it("lists unknown names of GetParameters as InvalidParameters", async () => {
    stub.setParameter("/a", "1");
    stub.setParameter("/b", "x,y", "StringList");
    const out = await new SSMClient({}).send(
      new GetParametersCommand({ Names: ["/a", "/b", "/c"] }),
    );
    expect(out.Parameters?.map((p) => [p.Name, p.Value, p.Type])).toEqual([
      ["/a", "1", "String"],
      ["/b", "x,y", "StringList"],
    ]);
    expect(out.InvalidParameters).toEqual(["/c"]);
  });

  it("creates with PutParameter, refuses to overwrite silently, and bumps the version on Overwrite", async () => {
    const ssm = new SSMClient({});
    const put = (Overwrite?: boolean) =>
      ssm.send(
        new PutParameterCommand({
          Name: "/lava/dev/pw",
          Value: "s3cret",
          Type: "SecureString",
          KeyId: "alias/lava-dev-sys",
          Overwrite,
        }),
      );
    await expect(put()).resolves.toMatchObject({ Version: 1, Tier: "Standard" });
    await expect(put()).rejects.toMatchObject({ name: "ParameterAlreadyExists" });
    await expect(put(true)).resolves.toMatchObject({ Version: 2 });
    expect(stub.ssm.get("/lava/dev/pw")).toMatchObject({
      value: "s3cret",
      type: "SecureString",
      keyId: "alias/lava-dev-sys",
      version: 2,
    });
    expect(stub.callsTo("ssm", "PutParameter")[0]?.body).toMatchObject({
      KeyId: "alias/lava-dev-sys",
    });
  });

  it("fails exactly the next call with an injected error", async () => {
    stub.setParameter("/x", "1");
    stub.failNext("ssm", "GetParameter", { type: "ThrottlingException", message: "slow down" });
    const ssm = new SSMClient({ maxAttempts: 1 });
    await expect(ssm.send(new GetParameterCommand({ Name: "/x" }))).rejects.toMatchObject({
      name: "ThrottlingException",
      message: "slow down",
    });
    await expect(ssm.send(new GetParameterCommand({ Name: "/x" }))).resolves.toBeDefined();
  });
});

describe("Secrets Manager stub with the real client configured only by env vars", () => {
  it("finds a secret by name and by its ARN", async () => {
    stub.secrets.set("lava/dev/db", '{"user":"u","password":"p"}');
    const sm = new SecretsManagerClient({});
    const byName = await sm.send(new GetSecretValueCommand({ SecretId: "lava/dev/db" }));
    expect(byName).toMatchObject({
      Name: "lava/dev/db",
      SecretString: '{"user":"u","password":"p"}',
      ARN: stub.secretArn("lava/dev/db"),
    });
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    const byArn = await sm.send(
      new GetSecretValueCommand({ SecretId: stub.secretArn("lava/dev/db") }),
    );
    expect(byArn.SecretString).toBe('{"user":"u","password":"p"}');
  });

  it("fails a missing secret with ResourceNotFoundException", async () => {
    const get = new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: "nope" }));
    await expect(get).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});

describe("STS stub with the real client configured only by env vars", () => {
  const roleArn = "arn:aws:iam::210987654321:role/lava-reader";

  it("answers AssumeRole with the configured credentials and records the request fields", async () => {
    const out = await new STSClient({}).send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: "lava-test",
        ExternalId: "ext-1",
        DurationSeconds: 900,
      }),
    );
    expect(out.Credentials).toMatchObject({
      AccessKeyId: STUB_ASSUMED_ACCESS_KEY_ID,
      SecretAccessKey: stub.sts.credentials.secretAccessKey,
      SessionToken: stub.sts.credentials.sessionToken,
      Expiration: stub.sts.credentials.expiration,
    });
    expect(out.AssumedRoleUser?.Arn).toBe(
      "arn:aws:sts::210987654321:assumed-role/lava-reader/lava-test",
    );
    expect(stub.callsTo("sts", "AssumeRole")[0]?.body).toMatchObject({
      RoleArn: roleArn,
      RoleSessionName: "lava-test",
      ExternalId: "ext-1",
      DurationSeconds: "900",
    });
  });

  it("answers GetCallerIdentity", async () => {
    const out = await new STSClient({}).send(new GetCallerIdentityCommand({}));
    expect(out.Account).toBe("123456789012");
  });

  it("turns an injected error into the SDK's named exception", async () => {
    stub.failNext("sts", "AssumeRole", {
      status: 403,
      type: "AccessDenied",
      message: "not allowed",
    });
    const call = new STSClient({ maxAttempts: 1 }).send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "s" }),
    );
    await expect(call).rejects.toMatchObject({ name: "AccessDenied", message: "not allowed" });
  });

  it("serves fromTemporaryCredentials of @aws-sdk/credential-providers", async () => {
    stub.sts.credentials = { ...stub.sts.credentials, accessKeyId: "ASIACUSTOM0000000001" };
    const provider = fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: "tmp", ExternalId: "ext-2" },
    });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: "ASIACUSTOM0000000001" });
    expect(stub.callsTo("sts", "AssumeRole")[0]?.body.ExternalId).toBe("ext-2");
  });
});

describe("Powertools parameter providers against the stub", () => {
  it("SSMProvider with decrypt: true reads a SecureString in clear", async () => {
    stub.setParameter("/lava/dev/pt", "clear-text", "SecureString");
    const value = await new SSMProvider().get("/lava/dev/pt", { decrypt: true });
    expect(value).toBe("clear-text");
    expect(stub.callsTo("ssm", "GetParameter")[0]?.body).toMatchObject({ WithDecryption: true });
  });

  it("SecretsProvider reads a secret string", async () => {
    stub.secrets.set("lava/dev/pt", "top-secret");
    await expect(new SecretsProvider().get("lava/dev/pt")).resolves.toBe("top-secret");
  });
});
