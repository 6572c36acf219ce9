/** `lava-aurora run`: the same runner as Lambda, from the command line, against local servers. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAssignments } from "../../bin/cli/run";
import { runCli } from "../support/cli";
import { BUCKET, LOADER_PASSWORD, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
let dir: string;
let realmFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-run-"));
  realmFile = join(dir, "dev.yaml");
  const realm = world.realmDoc(
    [
      loadJob("sales/cli", {
        key: "cli/{{ globals.day }}.csv",
        table: "cli",
        mode: "truncate",
        columns: ["id INTEGER", "name TEXT"],
        args: ["FORMAT CSV", "HEADER"],
      }),
      {
        job_id: "sales/cli-merge",
        type: "sqli",
        enabled: true,
        payload: [
          "CREATE TABLE IF NOT EXISTS sales.cli_book (id INTEGER, name TEXT)",
          "DELETE FROM sales.cli_book; INSERT INTO sales.cli_book SELECT * FROM sales.cli",
          "SELECT count(*) AS n FROM sales.cli_book",
        ],
        parameters: { conn_id: "pg", transaction: true },
      },
      loadJob("sales/cli-parts", {
        key: "cli/parts/",
        glob: "*.csv",
        table: "cli_parts",
        mode: "append",
        columns: ["id INTEGER PRIMARY KEY", "name TEXT"],
        args: ["FORMAT CSV"],
        fan_out: { workers: 2, item_size: 1 },
      }),
    ],
    {},
    { s3_temp: `s3://${BUCKET}/tmp` },
  );
  for (let i = 0; i < 6; i++) await world.s3.put(BUCKET, `cli/parts/${i}.csv`, `${i},p${i}\n`);
  await writeFile(realmFile, JSON.stringify(realm));
  await world.s3.put(BUCKET, "cli/2026-01-02.csv", "id,name\n1,a\n2,b\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = () => ({ ...world.aws.env(), ...world.s3.env() });

describe("lava-aurora run", () => {
  it("runs a job, prints the result as JSON and exits 0", async () => {
    // Act
    const r = await runCli(
      ["run", "sales/cli", "--realm-file", realmFile, "--global", "day=2026-01-02"],
      { env: env() },
    );
    // Assess
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      status: "ok",
      job_id: "sales/cli",
      rows: 2,
      table: "sales.cli",
      key: "cli/2026-01-02.csv",
    });
    expect(result.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.stderr).toContain(`s3://${BUCKET}/cli/2026-01-02.csv`);
    expect(r.stderr).toContain("(100%");
    // The progress line's end: the rows COPY loaded (the header is not one), and their rate.
    expect(r.stderr).toMatch(/\(100%, [\d.]+ MB\/s\), 2 rows, [\d,]+ rows\/s\n/);
    expect(r.stdout + r.stderr).not.toContain(LOADER_PASSWORD);
  });

  it("shows a fan-out load's plan, then loads its items two at a time and publishes once", async () => {
    // A run id of a run that failed before any item: it resumes (here, from nothing).
    const runId = "0b5c8a9e-6d0e-4a7e-9d43-1f2b3c4d5e6f";
    const r = await runCli(
      ["run", "sales/cli-parts", "--realm-file", realmFile, "--run-id", runId],
      { env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fan-out plan: 6 parts, \d+ bytes in 6 items .*2 workers, staging/);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      status: "ok",
      run_id: runId,
      rows: 6,
      fan_out: { items: 6, parts: 6, workers: 2, failed_items: [] },
    });
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.cli_parts")).toEqual([{ n: 6 }]);
  });

  it("runs an sqli job after the load, as the same runner, and exits 0", async () => {
    const r = await runCli(["run", "sales/cli-merge", "--realm-file", realmFile], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.statements.map((s: { command: string }) => s.command)).toEqual([
      "CREATE",
      "DELETE",
      "INSERT",
      "SELECT",
    ]);
    expect(result.outputs).toEqual([`s3://${BUCKET}/tmp/sales/cli-merge/${result.run_id}/2.0.out`]);
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.cli_book")).toEqual([{ n: 2 }]);
  });

  it("exits 0 with a skipped result for a duplicate", async () => {
    const r = await runCli(
      ["run", "sales/cli", "--realm-file", realmFile, "--global", "day=2026-01-02"],
      { env: env() },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "skipped", reason: "duplicate" });
  });

  it("exits 1 with a failed result when the load fails", async () => {
    const r = await runCli(
      ["run", "sales/cli", "--realm-file", realmFile, "--param", "key=cli/nope.csv"],
      { env: env() },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "failed",
      error: { name: "ObjectMissingError" },
    });
  });

  it("exits 2 for an unknown job or invalid parameters", async () => {
    const unknown = await runCli(["run", "nope", "--realm-file", realmFile], { env: env() });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout).error).toMatchObject({
      name: "SpecError",
      message: "job nope: not defined in realm dev",
    });
    const bad = await runCli(
      ["run", "sales/cli", "--realm-file", realmFile, "--param", 'mode="replace"'],
      { env: env() },
    );
    expect(bad.code).toBe(2);
    const malformed = await runCli(
      ["run", "sales/cli", "--realm-file", realmFile, "--param", "novalue"],
      { env: env() },
    );
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--param: expected K=V, got "novalue"');
  });
});

describe("parseAssignments", () => {
  it("parses values as JSON when they parse, else keeps the string", () => {
    expect(
      parseAssignments(["a=1", "b=true", 'c={"x":[1]}', "d=hello", "e=", "f=a=b"], "--param"),
    ).toEqual({
      a: 1,
      b: true,
      c: { x: [1] },
      d: "hello",
      e: "",
      f: "a=b",
    });
  });
});
