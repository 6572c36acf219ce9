import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../support/cli";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-check-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("lava-aurora check", () => {
  it("exits 0 on the example realm, which uses every connection kind", async () => {
    const r = await runCli(["check", "--realm", "example"]);
    expect(r.stdout).toBe(
      "realms/example.yaml: ok (realm example: 8 connections, 4 jobs, 2 triggers)\n",
    );
    expect(r.stderr).toContain(
      "warning: realms/example.yaml: job ops/vacuum: schedule: lava field",
    );
    expect(r.code).toBe(0);
  });

  it("exits 2 with one line per problem, naming file, object and field", async () => {
    // Prepare
    const file = join(dir, "dev.yaml");
    await writeFile(
      file,
      [
        "realm: dev",
        "connections:",
        "  - conn_id: pg-main",
        "    type: postgres",
        "    enabled: true",
        "    port: seventy",
        "    password: hunter2",
      ].join("\n"),
    );
    // Act
    const r = await runCli(["check", "--realm-file", file]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      `${file}: connection pg-main: port: expected an integer 1-65535, got "seventy"`,
      `${file}: connection pg-main: password: expected the name of an SSM parameter under /lava/dev/ (not the password itself), got "hunter2"`,
    ]);
  });

  it("exits 2 on YAML syntax errors, with the line", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(file, "realm: dev\nconnections: [\n");
    const r = await runCli(["check", "--realm-file", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^.*broken.yaml: line 3: Flow sequence in block collection must be sufficiently indented and end with a \]\n$/,
    );
  });

  it("exits 2 for a missing realm file and for a realm name that is not one", async () => {
    const missing = await runCli(["check", "--realm", "nosuch"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("realms/nosuch.yaml: cannot read the realm file: no such file\n");
    const bad = await runCli(["check", "--realm", "../etc/passwd"]);
    expect(bad.code).toBe(2);
  });

  it("exits 2 when the file's realm differs from --realm", async () => {
    const cwd = await mkdtemp(join(dir, "cwd-"));
    await mkdir(join(cwd, "realms"));
    await writeFile(join(cwd, "realms", "prod.yaml"), "realm: dev\n");
    const r = await runCli(["check", "--realm", "prod"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'realms/prod.yaml: realm: expected "prod" (the realm asked for), got "dev"\n',
    );
  });
});

describe("usage errors", () => {
  it.each([
    [["check"], "give --realm NAME or --realm-file FILE"],
    [["check", "--realm", "a", "--realm-file", "b"], "cannot be used with"],
    [["nosuchcommand"], "unknown command"],
    [["check", "--colour"], "unknown option"],
    [["psql", "--realm", "example"], "missing required argument"],
  ])("exit 2 for %j", async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("exits 0 for --help and --version", async () => {
    expect((await runCli(["--help"])).code).toBe(0);
    expect((await runCli(["--version"])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
