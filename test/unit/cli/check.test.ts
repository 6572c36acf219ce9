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
    const [ok, runs, ...rest] = r.stdout.split("\n");
    expect(ok).toBe("realms/example.yaml: ok (realm example: 8 connections, 8 jobs, 2 triggers)");
    // sales/nightly's schedule "30 2 * * *" in the realm's zone: its next five runs (docs/schedules.md §4).
    expect(runs).toMatch(
      /^job sales\/nightly: next runs \(Australia\/Sydney\): (\d{4}-\d\d-\d\d 02:30(, |$)){5}/,
    );
    expect(rest).toEqual([""]);
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

describe("lava-aurora check: what would only fail at run time", () => {
  const realmFile = async (name: string, lines: string[]) => {
    const file = join(dir, name);
    await writeFile(file, lines.join("\n"));
    return file;
  };

  it("exits 2 for COPY options, column specs and /regex names a run would refuse, one line each", async () => {
    // Prepare
    const file = await realmFile("late.yaml", [
      "realm: dev",
      "connections:",
      "  - {conn_id: pg, type: postgres, enabled: true, host: h, port: 5432, database: d, user: u, password: /lava/dev/pg}",
      "jobs:",
      "  - job_id: sales/load",
      "    type: db_from_s3",
      "    enabled: true",
      "    parameters:",
      "      db_conn_id: pg",
      "      mode: append",
      '      schema: "/(x"',
      "      table: orders",
      "      args: [FORMAT csv, OIDS, HEADER maybe, \"NULL 'a' ; DROP\"]",
      '      columns: [id INT), "p INT DEFAULT (pg_sleep(5))"]',
      "  - job_id: sales/templated",
      "    type: db_from_s3",
      "    enabled: true",
      "    parameters:",
      "      db_conn_id: pg",
      "      mode: append",
      '      table: "/{{ globals.re }}"',
      '      args: ["FORMAT {{ globals.format }}", "QUOTE \'|\'"]',
    ]);
    // Act
    const r = await runCli(["check", "--realm-file", file]);
    // Assess
    expect(r.code).toBe(2);
    const at = `${file}: job sales/load: parameters.`;
    expect(r.stderr.trim().split("\n")).toEqual([
      `${at}columns[0]: column "id": unbalanced ')', got "id INT)"`,
      `${at}columns[1]: column "p": DEFAULT must be a constant (a number, a 'string', TRUE, FALSE or NULL), not '(', got "p INT DEFAULT (pg_sleep(5))"`,
      `${at}args[1]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS`,
      `${at}args[2]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"`,
      `${at}args[3]: NULL needs a quoted string like '', got "'a' ; DROP"`,
      `${at}schema: invalid regular expression "/(x": missing ), unterminated subpattern at position 0`,
      `${at}columns: not allowed with a /regex schema or table name (the table must already exist)`,
    ]);
  });

  it("exits 2 naming the file for a YAML alias bomb", async () => {
    // Prepare: nine levels of nine aliases each: 9^9 strings if expanded.
    const levels = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    const file = await realmFile("bomb.yaml", [
      "realm: dev",
      'x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
      ...levels
        .slice(1)
        .map((l, i) => `x-${l}: &${l} [${Array(9).fill(`*${levels[i]}`).join(", ")}]`),
    ]);
    // Act
    const r = await runCli(["check", "--realm-file", file]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `${file}: too many YAML aliases (more than 100 expansions); a realm file needs few, if any\n`,
    );
  });

  it("still accepts a realm file with a few aliases", async () => {
    const file = await realmFile("aliases.yaml", [
      "realm: dev",
      "x-host: &host db.example.com",
      "connections:",
      "  - {conn_id: one, type: postgres, enabled: true, host: *host, port: 5432, database: d, user: u, password: /lava/dev/one}",
      "  - {conn_id: two, type: postgres, enabled: true, host: *host, port: 5432, database: d, user: u, password: /lava/dev/two}",
    ]);
    const r = await runCli(["check", "--realm-file", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
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
