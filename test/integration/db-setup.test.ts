/** `lava-aurora db-setup`: what a load needs, on a bare and on a set-up database. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installAwsS3Standin } from "../../bin/cli/local-world/aws-s3-standin";
import type { ResolvedDb } from "../../lambda/connectors/types";
import { checkDatabaseSetup, fansOut, targetSchemas } from "../../lambda/jobs/db-from-s3/db-setup";
import { runCli } from "../support/cli";
import { DATABASE, LOADER_PASSWORD, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-dbsetup-"));
  await world.cluster.createDatabase("bare");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A realm file with Aurora connection `au` on `database` and a job loading into `sales`. */
async function realmFile(database: string): Promise<string> {
  const file = join(dir, `${database}.json`);
  const doc = world.realmDoc(
    [
      loadJob("j", { db_conn_id: "au", table: "t" }),
      loadJob("k", { db_conn_id: "au", schema: "{{ vars.s }}", table: "t" }),
    ],
    { conn_id: "au", type: "postgres-aurora", database },
  );
  await writeFile(file, JSON.stringify(doc));
  return file;
}

const env = () => ({ ...world.aws.env(), ...world.s3.env() });

describe("lava-aurora db-setup", () => {
  it("on a bare database reports every missing piece with the statements to fix it, and exits 1", async () => {
    const r = await runCli(["db-setup", "au", "--realm-file", await realmFile("bare")], {
      env: env(),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "FAIL aws_s3 import: missing aws_s3.table_import_from_s3(text,text,text,text,text,text)",
    );
    expect(r.stdout).toContain('CREATE EXTENSION "aws_s3" CASCADE;');
    expect(r.stdout).toContain(
      'FAIL load ledger: lava.load_ledger is missing and "loader" may not create it',
    );
    expect(r.stdout).toContain("CREATE TABLE IF NOT EXISTS lava.load_ledger (");
    expect(r.stdout).toContain("-    rds_iam: password authentication: not needed");
    expect(r.stdout).toContain("FAIL schema sales: does not exist");
    expect(r.stdout).toContain('CREATE SCHEMA "sales" AUTHORIZATION "loader";');
    expect(r.stdout).toContain('GRANT SELECT, INSERT, UPDATE ON "lava"."load_ledger" TO "loader";');
    expect(r.stdout).toContain(
      'FAIL run log: lava.run_log is missing and "loader" may not create it',
    );
    expect(r.stdout).toContain("CREATE TABLE IF NOT EXISTS lava.run_log (");
    expect(r.stdout).toContain('GRANT SELECT, INSERT, DELETE ON "lava"."run_log" TO "loader";');
    expect(r.stdout).toContain(
      "4 problems: run the statements above as a DBA, or rerun with --admin CONN_ID --apply",
    );
  });

  it("on a set-up database creates the ledger, finds everything and exits 0", async () => {
    await installAwsS3Standin(world.cluster, DATABASE, world.s3.endpoint);
    const r = await runCli(["db-setup", "au", "--realm-file", await realmFile(DATABASE)], {
      env: env(),
    });
    expect(r.stdout).toContain(
      'ok   aws_s3 import: table_import_from_s3 (with and without credentials) executable by "loader"',
    );
    expect(r.stdout).toMatch(
      /ok {3}load ledger: lava\.load_ledger (created|present), readable and writable/,
    );
    expect(r.stdout).toMatch(/ok {3}run log: lava\.run_log (created|present), writable/);
    expect(r.stdout).toContain('ok   schema sales: "loader" may use it and create tables in it');
    expect(r.stdout).toContain("ready to load");
    expect(r.code).toBe(0);
    const again = await runCli(["db-setup", "au", "--realm-file", await realmFile(DATABASE)], {
      env: env(),
    });
    expect(again.stdout).toContain("load ledger: lava.load_ledger present");
    expect(again.stdout).toContain("run log: lava.run_log present, writable");
  });

  it("with --json prints the checks as JSON, with the same exit code", async () => {
    const r = await runCli(["db-setup", "au", "--realm-file", await realmFile("bare"), "--json"], {
      env: env(),
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ conn_id: "au", problems: 4, ready: false });
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual([
      "aws_s3 import",
      "load ledger",
      "run log",
      "rds_iam",
      "schema sales",
    ]);
    expect(report.checks[2].fixes[0]).toContain("CREATE TABLE IF NOT EXISTS lava.run_log (");
  });

  it("checks rds_iam for IAM-authenticated users", async () => {
    const client = new pg.Client({
      host: world.cluster.host,
      port: world.cluster.port,
      database: DATABASE,
      user: "loader",
      password: LOADER_PASSWORD,
      ssl: { ca: await readFile(world.cluster.caFile, "utf8") },
    });
    await client.connect();
    try {
      const conn = {
        connId: "au",
        type: "postgres-aurora",
        aurora: true,
        user: "loader",
        auth: "iam",
      } as ResolvedDb;
      const rdsIam = async () =>
        (await checkDatabaseSetup(client, conn, [])).find((c) => c.name === "rds_iam");
      expect(await rdsIam()).toMatchObject({
        ok: false,
        detail: "no rds_iam role here (not an RDS/Aurora database?)",
      });
      await world.rows("CREATE ROLE rds_iam NOLOGIN");
      expect(await rdsIam()).toMatchObject({
        ok: false,
        detail: '"loader" lacks rds_iam',
        fixes: ['GRANT "rds_iam" TO "loader";'],
      });
      await world.rows("GRANT rds_iam TO loader");
      expect(await rdsIam()).toMatchObject({ ok: true, detail: '"loader" has rds_iam' });
    } finally {
      await client.end();
    }
  });
});

describe("the fan-out staging registry", () => {
  it("is checked only for connections with fan-out jobs: created when the user may, else the DDL and GRANTs", async () => {
    const connect = async (database: string) => {
      const client = new pg.Client({
        host: world.cluster.host,
        port: world.cluster.port,
        database,
        user: "loader",
        password: LOADER_PASSWORD,
        ssl: { ca: await readFile(world.cluster.caFile, "utf8") },
      });
      await client.connect();
      return client;
    };
    const conn = { connId: "au", type: "postgres", aurora: false, user: "loader" } as ResolvedDb;
    const staging = async (database: string, fanOut: boolean) => {
      const client = await connect(database);
      try {
        return (await checkDatabaseSetup(client, conn, [], { fanOut })).find(
          (c) => c.name === "fan-out staging",
        );
      } finally {
        await client.end();
      }
    };
    expect(await staging(DATABASE, false)).toBeUndefined();
    // The loader owns the warehouse: the registry is created.
    expect(await staging(DATABASE, true)).toMatchObject({
      ok: true,
      detail: "lava.load_staging_runs and lava.load_staging_parts present and usable",
    });
    const bare = await staging("bare", true);
    expect(bare).toMatchObject({
      ok: false,
      detail:
        'lava.load_staging_runs and lava.load_staging_parts are missing and "loader" may not create them',
    });
    expect(bare?.fixes?.[0]).toContain("CREATE TABLE IF NOT EXISTS lava.load_staging_parts (");
    expect(bare?.fixes).toContain(
      'GRANT SELECT, INSERT, DELETE ON "lava"."load_staging_runs", "lava"."load_staging_parts" TO "loader";',
    );
    expect(fansOut([loadJob("j", { db_conn_id: "au", fan_out: true })], "au")).toBe(true);
    expect(fansOut([loadJob("j", { db_conn_id: "au", fan_out: false })], "au")).toBe(false);
  });
});

describe("targetSchemas", () => {
  it("lists the literal schemas of the connection's db_from_s3 jobs, folded, without templates or regexes", () => {
    const jobs = [
      { type: "db_from_s3", parameters: { db_conn_id: "au", schema: "Sales" } },
      { type: "db_from_s3", parameters: { db_conn_id: "au", schema: "{{ vars.s }}" } },
      { type: "db_from_s3", parameters: { db_conn_id: "au", schema: "/^(\\w+)" } },
      { type: "db_from_s3", parameters: { db_conn_id: "other", schema: "hr" } },
      { type: "exe", parameters: { db_conn_id: "au", schema: "x" } },
    ];
    expect(targetSchemas(jobs, "au", false)).toEqual(["sales"]);
    expect(targetSchemas(jobs, "au", true)).toEqual(["Sales"]);
  });
});
