import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCliEnv, findAwsCli } from "../../../lambda/connectors/aws-cli";

describe("awsCliEnv", () => {
  it("sets the keys, no config or credentials file, and no session token or region it lacks", () => {
    expect(awsCliEnv({ accessKeyId: "AKIA1", secretAccessKey: "s1" }, undefined)).toEqual({
      AWS_ACCESS_KEY_ID: "AKIA1",
      AWS_SECRET_ACCESS_KEY: "s1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    });
  });

  it("adds session credentials' token and the region under both of the CLI's names", () => {
    const env = awsCliEnv(
      { accessKeyId: "ASIA1", secretAccessKey: "s2", sessionToken: "t2", expiration: new Date() },
      "eu-west-2",
    );
    expect(env).toMatchObject({
      AWS_SESSION_TOKEN: "t2",
      AWS_REGION: "eu-west-2",
      AWS_DEFAULT_REGION: "eu-west-2",
    });
  });
});

describe("findAwsCli", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lava-aws-cli-"));
    await writeFile(join(dir, "aws"), "#!/bin/sh\n", { mode: 0o755 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds aws in an absolute PATH directory, skipping relative ones", async () => {
    expect(await findAwsCli(`.:${dir}`)).toBe(join(dir, "aws"));
  });

  it("answers undefined when no directory holds an executable aws", async () => {
    expect(await findAwsCli("/nonexistent:relative")).toBeUndefined();
  });
});
