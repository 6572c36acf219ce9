import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { useAwsStub } from "../support/index";

const stub = useAwsStub();
let dir: string;
let realmFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-put-password-"));
  realmFile = join(dir, "dev.yaml");
  await writeFile(realmFile, "realm: dev\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `lava-aurora put-password …` against the stub, with the dev realm file and `input` on stdin. */
function putPassword(args: readonly string[], input: string) {
  return runCli(["put-password", ...args, "--realm-file", realmFile], {
    env: stub.env(),
    input,
  });
}

describe("lava-aurora put-password", () => {
  it("stores stdin as a SecureString under the realm key, minus exactly one trailing newline", async () => {
    // Act
    const r = await putPassword(["/lava/dev/pg-main"], "s3cr:t\\\n\n");
    // Assess
    expect(r.code).toBe(0);
    expect(stub.ssm.get("/lava/dev/pg-main")).toMatchObject({
      value: "s3cr:t\\\n",
      type: "SecureString",
      keyId: "alias/lava-dev-sys",
      version: 1,
    });
    const calls = stub.callsTo("ssm", "PutParameter");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toMatchObject({
      Name: "/lava/dev/pg-main",
      Type: "SecureString",
      KeyId: "alias/lava-dev-sys",
      Overwrite: false,
    });
    expect(r.stdout).toBe(
      "stored /lava/dev/pg-main (SecureString, version 1, key alias/lava-dev-sys)\n",
    );
    expect(r.stdout).not.toContain("s3cr");
    expect(r.stderr).not.toContain("s3cr");
  });

  it("strips a trailing \\r\\n as one newline", async () => {
    const r = await putPassword(["/lava/dev/crlf"], "pa ss\r\n");

    expect(r.code).toBe(0);
    expect(stub.ssm.get("/lava/dev/crlf")?.value).toBe("pa ss");
  });

  it("refuses to replace an existing parameter without --overwrite (exit 1, with a hint)", async () => {
    // Prepare
    stub.setParameter("/lava/dev/pg-main", "old-Value-1", "SecureString", "alias/lava-dev-sys");
    // Act
    const r = await putPassword(["/lava/dev/pg-main"], "new-Value-2\n");
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ParameterAlreadyExists");
    expect(r.stderr).toContain("--overwrite");
    expect(r.stderr).not.toContain("new-Value-2");
    expect(r.stdout).toBe("");
    expect(stub.ssm.get("/lava/dev/pg-main")).toMatchObject({ value: "old-Value-1", version: 1 });
  });

  it("replaces an existing parameter with --overwrite, as a new version", async () => {
    // Prepare
    stub.setParameter("/lava/dev/pg-main", "old-Value-1", "SecureString", "alias/lava-dev-sys");
    // Act
    const r = await putPassword(["/lava/dev/pg-main", "--overwrite"], "new-Value-2\n");
    // Assess
    expect(r.code).toBe(0);
    expect(stub.ssm.get("/lava/dev/pg-main")).toMatchObject({
      value: "new-Value-2",
      type: "SecureString",
      keyId: "alias/lava-dev-sys",
      version: 2,
    });
    expect(stub.callsTo("ssm", "PutParameter")[0]?.body).toMatchObject({ Overwrite: true });
    expect(r.stdout).toContain("version 2");
    expect(r.stdout).not.toContain("new-Value-2");
    expect(r.stderr).not.toContain("new-Value-2");
  });

  it("exits 1 on a runtime AWS failure, without the value", async () => {
    stub.failNext("ssm", "PutParameter", {
      status: 400,
      type: "AccessDeniedException",
      message: "not authorized to perform: ssm:PutParameter",
    });

    const r = await putPassword(["/lava/dev/pg-main"], "denied-Value-3\n");

    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot store /lava/dev/pg-main: AccessDeniedException");
    expect(r.stderr).not.toContain("denied-Value-3");
    expect(stub.ssm.has("/lava/dev/pg-main")).toBe(false);
  });

  it.each([
    ["another realm's prefix", "/lava/prod/pg-main"],
    ["a name merely starting with the realm", "/lava/devx/pg-main"],
    ["no leading slash", "lava/dev/pg-main"],
    ["the prefix alone", "/lava/dev/"],
  ])("refuses %s with exit 2 before any AWS call", async (_, name) => {
    const r = await putPassword([name], "some-Value-4\n");

    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`parameter name must be under /lava/dev/, got "${name}"`);
    expect(r.stderr).not.toContain("some-Value-4");
    expect(stub.calls).toHaveLength(0);
  });

  it.each([
    ["empty stdin", ""],
    ["a lone newline", "\n"],
  ])("refuses %s with exit 2 before any AWS call", async (_, input) => {
    const r = await putPassword(["/lava/dev/pg-main"], input);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain("empty password refused");
    expect(stub.calls).toHaveLength(0);
  });

  it("exits 2 when --realm names a realm whose file declares another", async () => {
    // Prepare: realms/staging.yaml in the working directory says `realm: dev`
    const cwd = await mkdtemp(join(dir, "cwd-"));
    await mkdir(join(cwd, "realms"));
    await writeFile(join(cwd, "realms", "staging.yaml"), "realm: dev\n");
    // Act
    const r = await runCli(["put-password", "/lava/staging/pg-main", "--realm", "staging"], {
      env: stub.env(),
      input: "some-Value-5\n",
      cwd,
    });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('realm: expected "staging" (the realm asked for), got "dev"');
    expect(r.stderr).not.toContain("some-Value-5");
    expect(stub.calls).toHaveLength(0);
  });

  it("accepts --realm when the file matches", async () => {
    const cwd = await mkdtemp(join(dir, "cwd-"));
    await mkdir(join(cwd, "realms"));
    await writeFile(join(cwd, "realms", "staging.yaml"), "realm: staging\n");

    const r = await runCli(["put-password", "/lava/staging/pg-main", "--realm", "staging"], {
      env: stub.env(),
      input: "some-Value-6\n",
      cwd,
    });

    expect(r.code).toBe(0);
    expect(stub.ssm.get("/lava/staging/pg-main")).toMatchObject({
      value: "some-Value-6",
      keyId: "alias/lava-staging-sys",
    });
  });
});
