/**
 * A second database role in a database whose ledger another role created: the
 * load fails with the project's own error (SQLSTATE, the ledger, what to run),
 * `db-setup` tells "present but not permitted" from "missing" and prints quoted
 * GRANTs, and `--admin CONN --apply` runs them.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { BUCKET, DATABASE, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
/** Needs quoting: upper case and a hyphen. */
const ROLE = "Ana-Lyst";
const PW = "an:alyst\\pw";
let dir: string;

const connections = () => [
  {
    conn_id: "second",
    type: "postgres",
    enabled: true,
    host: world.cluster.host,
    port: world.cluster.port,
    database: DATABASE,
    user: ROLE,
    password: "/lava/dev/analyst",
    ssl: true,
  },
  {
    conn_id: "dba",
    type: "postgres",
    enabled: true,
    host: world.cluster.host,
    port: world.cluster.port,
    database: DATABASE,
    user: "dba",
    password: "/lava/dev/dba",
    ssl: true,
  },
];

const jobs = () => [
  loadJob("first", { table: "t1", key: "roles/1.csv", columns: ["id INTEGER"] }),
  loadJob("second", {
    db_conn_id: "second",
    table: "t2",
    key: "roles/1.csv",
    columns: ["id INTEGER"],
  }),
];

async function realmFile(): Promise<string> {
  const file = join(dir, "dev.json");
  await writeFile(file, JSON.stringify(world.realmDoc(jobs(), {}, { connections: connections() })));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-roles-"));
  await world.cluster.createRole(ROLE, { password: PW });
  await world.cluster.createRole("dba", { password: "dba-pw" });
  await world.cluster.query("ALTER ROLE dba SUPERUSER");
  world.aws.setParameter("/lava/dev/analyst", PW, "SecureString", "alias/lava-dev-sys");
  world.aws.setParameter("/lava/dev/dba", "dba-pw", "SecureString", "alias/lava-dev-sys");
  await world.s3.put(BUCKET, "roles/1.csv", "1\n2\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = () => ({ ...world.aws.env(), ...world.s3.env() });

describe("a second role and the ledger", () => {
  it("fails the load with the project's error naming the ledger, the SQLSTATE and the fix", async () => {
    const realm = world.realm(jobs(), {}, { connections: connections() });
    expect((await world.run(realm, { job_id: "first" })).status).toBe("ok");
    const r = await world.run(realm, { job_id: "second" });
    expect(r.status).toBe("failed");
    expect(r.error).toMatchObject({ name: "DatabasePermissionError", retryable: false });
    expect(r.error?.message).toBe(
      `ledger lava.load_ledger exists but "${ROLE}" may not use it (SQLSTATE 42501: lacks USAGE on schema lava, SELECT, INSERT, UPDATE on lava.load_ledger): run "lava-aurora db-setup second --admin ADMIN_CONN_ID --apply", or as a DBA: GRANT USAGE ON SCHEMA "lava" TO "${ROLE}"; GRANT SELECT, INSERT, UPDATE ON "lava"."load_ledger" TO "${ROLE}";`,
    );
  });

  it("db-setup says present but not permitted, prints quoted GRANTs, and --admin --apply runs them", async () => {
    const file = await realmFile();
    const check = await runCli(["db-setup", "second", "--realm-file", file], { env: env() });
    expect(check.code, check.stderr).toBe(1);
    expect(check.stdout).toContain(
      `FAIL load ledger: lava.load_ledger is present but "${ROLE}" lacks USAGE on schema lava, SELECT, INSERT, UPDATE on lava.load_ledger`,
    );
    expect(check.stdout).toContain(`GRANT USAGE ON SCHEMA "lava" TO "${ROLE}";`);
    expect(check.stdout).toContain(
      `GRANT SELECT, INSERT, UPDATE ON "lava"."load_ledger" TO "${ROLE}";`,
    );
    expect(check.stdout).toContain(`GRANT USAGE, CREATE ON SCHEMA "sales" TO "${ROLE}";`);
    expect(check.stdout).not.toContain("is missing");

    const apply = await runCli(
      ["db-setup", "second", "--admin", "dba", "--apply", "--realm-file", file],
      { env: env() },
    );
    expect(apply.stdout).toContain("applying as dba:");
    expect(apply.stdout.split("applying as dba:")[1]).not.toMatch(/^ {2}FAIL/m);
    expect(apply.stdout).toContain(`  ok   GRANT USAGE ON SCHEMA "lava" TO "${ROLE}";`);
    expect(apply.stdout).toContain("ready to load");
    expect(apply.code).toBe(0);

    const realm = world.realm(jobs(), {}, { connections: connections() });
    expect(await world.run(realm, { job_id: "second" })).toMatchObject({ status: "ok", rows: 2 });
  });

  it("refuses --apply without --admin, and --admin without --apply (exit 2)", async () => {
    const file = await realmFile();
    const a = await runCli(["db-setup", "second", "--apply", "--realm-file", file], { env: env() });
    expect(a.code, a.stderr).toBe(2);
    expect(a.stderr).toContain("--apply needs --admin CONN_ID");
    const b = await runCli(["db-setup", "second", "--admin", "dba", "--realm-file", file], {
      env: env(),
    });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--admin needs --apply");
  });
});
