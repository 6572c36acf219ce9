/**
 * lava.run_log (docs/operations.md §3): a row per db_from_s3 run, ok, skipped or
 * failed (also when the failed load's transaction rolled back); written in the
 * load's transaction with recordRun, else best effort; old rows pruned per the
 * realm's retention; a user who may not use it is told what to run.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { RunsReport } from "../../bin/cli/runs";
import {
  ensureRunLog,
  pruneRunLog,
  RUN_LOG_DDL,
  recordLoadRun,
  recordRun,
  runLogRow,
} from "../../lambda/jobs/run-log";
import { logUnloggedRun } from "../../lambda/jobs/run-log-writer";
import type { JobResult } from "../../lambda/jobs/types";
import { runCli } from "../support/cli";
import { BUCKET, DATABASE, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const ARN = "arn:aws:states:us-east-1:123456789012:execution:lava-dev-jobs:run-1";

const csvJob = (jobId: string, table: string, key: string, extra: Record<string, unknown> = {}) =>
  loadJob(jobId, { table, key, args: ["FORMAT CSV", "HEADER"], ...extra });

/** The run log rows of a job, oldest first. */
const rowsOf = (jobId: string) =>
  world.rows<Record<string, unknown>>(
    "SELECT * FROM lava.run_log WHERE job_id = $1 ORDER BY finished_at, started_at",
    [jobId],
  );

/** A session on the warehouse database as `role` (superuser over the socket, then SET ROLE). */
async function sessionAs(role: string, database = DATABASE): Promise<pg.Client> {
  const client = new pg.Client({
    host: world.cluster.socketDir,
    port: world.cluster.port,
    user: "postgres",
    database,
  });
  await client.connect();
  await client.query(`SET ROLE ${role}`);
  return client;
}

const open: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end().catch(() => undefined)));
});

describe("the run log after a run", () => {
  it("has one ok row with the object, table, rows, timings, realm and execution", async () => {
    // Prepare
    await world.s3.put(BUCKET, "log/ok.csv", "id,name\n1,a\n2,b\n");
    await world.rows("CREATE TABLE sales.log_ok (id int, name text)");
    await world.rows("GRANT ALL ON sales.log_ok TO loader");
    const realm = world.realm([csvJob("log/ok", "log_ok", "log/ok.csv")]);
    // Act
    const r = await world.run(realm, { job_id: "log/ok", execution: ARN }, { attempt: 2 });
    // Assess
    expect(r).toMatchObject({ status: "ok", rows: 2, run_logged: true });
    const [row, ...more] = await rowsOf("log/ok");
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      job_id: "log/ok",
      run_id: r.run_id,
      execution: ARN,
      attempt: 2,
      realm: "dev",
      job_type: "db_from_s3",
      status: "ok",
      reason: null,
      error_name: null,
      bucket: BUCKET,
      key: "log/ok.csv",
      target_table: "sales.log_ok",
      rows_loaded: "2",
    });
    const started = row?.started_at as Date;
    const finished = row?.finished_at as Date;
    expect(finished.getTime()).toBeGreaterThanOrEqual(started.getTime());
    expect(Number(row?.duration_ms)).toBe(finished.getTime() - started.getTime());
    // Written by the load's own transaction: the same xmin as its ledger row.
    const [tx] = await world.rows<{ log: string; ledger: string }>(
      `SELECT (SELECT xmin::text FROM lava.run_log WHERE run_id::text = $1) AS log,
              (SELECT xmin::text FROM lava.load_ledger WHERE run_id::text = $1 LIMIT 1) AS ledger`,
      [r.run_id],
    );
    expect(tx?.log).toBe(tx?.ledger);
  });

  it("has a skipped row with the reason, for a duplicate and for a missing object", async () => {
    await world.s3.put(BUCKET, "log/dup.csv", "id,name\n1,a\n");
    const realm = world.realm([
      csvJob("log/dup", "log_dup", "log/dup.csv", { columns: ["id int", "name text"] }),
      csvJob("log/missing", "log_dup", "log/nothing-here.csv", { skip_missing: true }),
    ]);
    const first = await world.run(realm, { job_id: "log/dup" });
    const again = await world.run(realm, { job_id: "log/dup" });
    const missing = await world.run(realm, { job_id: "log/missing" });
    expect([first.status, again.status, again.reason]).toEqual(["ok", "skipped", "duplicate"]);
    expect(missing).toMatchObject({ status: "skipped", reason: "missing", run_logged: true });
    expect((await rowsOf("log/dup")).map((x) => [x.status, x.reason, x.run_id])).toEqual([
      ["ok", null, first.run_id],
      ["skipped", "duplicate", again.run_id],
    ]);
    expect(await rowsOf("log/missing")).toMatchObject([
      { status: "skipped", reason: "missing", key: "log/nothing-here.csv", rows_loaded: null },
    ]);
  });

  it("has a failed row with the error when the load's transaction rolled back on a bad row", async () => {
    // Prepare: a good first object, then one whose second row is bad.
    await world.s3.put(BUCKET, "log/good.csv", "id,name\n1,a\n");
    await world.s3.put(BUCKET, "log/bad.csv", "id,name\n2,b\nthree,c\n");
    const realm = world.realm([
      csvJob("log/good", "log_bad", "log/good.csv", { columns: ["id int", "name text"] }),
      csvJob("log/bad", "log_bad", "log/bad.csv", { columns: ["id int", "name text"] }),
    ]);
    expect((await world.run(realm, { job_id: "log/good" })).status).toBe("ok");
    // Act
    const r = await world.run(realm, { job_id: "log/bad" });
    // Assess: nothing of the load is left, but its run log row is.
    expect(r.status).toBe("failed");
    expect(r.run_logged).toBe(true);
    expect(await world.rows("SELECT id FROM sales.log_bad ORDER BY id")).toEqual([{ id: 1 }]);
    expect(
      await world.rows("SELECT key FROM lava.load_ledger WHERE key LIKE 'log/%bad.csv'"),
    ).toEqual([]);
    expect(await rowsOf("log/bad")).toMatchObject([
      {
        run_id: r.run_id,
        status: "failed",
        error_name: "BadDataError",
        error_message: r.error?.message,
        bucket: BUCKET,
        key: "log/bad.csv",
        target_table: "sales.log_bad",
        rows_loaded: null,
        execution: null,
        attempt: 1,
      },
    ]);
    expect(r.error?.message).toContain('"three"');
  });

  it("has a failed row for a failure before the load's transaction (a missing manifest entry)", async () => {
    // A manifest naming an object that is not there: the load fails before it begins.
    await world.s3.put(
      BUCKET,
      "log/gone.manifest",
      JSON.stringify({ entries: [{ url: `s3://${BUCKET}/log/gone.csv`, mandatory: true }] }),
    );
    const realm = world.realm([
      csvJob("log/gone", "log_gone", "log/gone.manifest", {
        args: ["FORMAT CSV", "HEADER", "MANIFEST"],
        columns: ["id int"],
      }),
    ]);
    const r = await world.run(realm, { job_id: "log/gone" });
    expect(r.status).toBe("failed");
    expect(await rowsOf("log/gone")).toMatchObject([
      {
        status: "failed",
        error_name: r.error?.name,
        key: "log/gone.manifest",
        target_table: "sales.log_gone",
      },
    ]);
  });

  it("has no row for a run refused before any work, nor one whose database cannot be reached", async () => {
    const realm = world.realm([csvJob("log/refused", "log_refused", "log/x.csv")]);
    const refused = await world.run(realm, {
      job_id: "log/refused",
      parameters: { mode: "sideways" },
    });
    const unreachable = world.realm([csvJob("log/unreachable", "t", "log/x.csv")], { port: 1 });
    await world.s3.put(BUCKET, "log/x.csv", "id\n1\n");
    const down = await world.run(unreachable, { job_id: "log/unreachable" });
    expect(refused).toMatchObject({ status: "failed", error: { name: "SpecError" } });
    expect(refused.events.at(-1)).toBe("run log: not written to pg (refused before any work)");
    expect(down).toMatchObject({ status: "failed", error: { name: "DatabaseConnectError" } });
    expect(down.events.at(-1)).toBe(
      "run log: not written to pg (the database could not be reached)",
    );
    expect(await rowsOf("log/refused")).toEqual([]);
    expect(await rowsOf("log/unreachable")).toEqual([]);
  });

  it("is written by no one else when the load's transaction wrote it (run_logged)", async () => {
    const realm = world.realm([csvJob("log/marked", "log_marked", "log/marked.csv")]);
    const job = realm.jobs[0];
    if (!job) throw new Error("no job");
    const result: JobResult = {
      status: "ok",
      job_id: "log/marked",
      run_id: "r-marked",
      run_logged: true,
      events: [],
    };
    await logUnloggedRun(realm, job, { job_id: "log/marked" }, result, world.deps(), {
      start: new Date(),
    });
    expect(await rowsOf("log/marked")).toEqual([]);
    expect(result.events).toEqual([]);
  });
});

describe("recordRun in a load's transaction", () => {
  it("commits the row with the data, or rolls it back with it", async () => {
    // Prepare
    const client = await sessionAs("loader");
    open.push(client);
    await ensureRunLog(client, "pg");
    const realm = world.realm([csvJob("log/tx", "log_tx", "log/tx.csv")]);
    const job = realm.jobs[0];
    if (!job) throw new Error("no job");
    const run = { realm, job, runId: "r-tx", start: new Date(), options: {} };
    const outcome = { status: "ok" as const, bucket: BUCKET, key: "log/tx.csv", rows: 3 };
    // Act: one transaction rolled back, one committed.
    await client.query("BEGIN");
    await recordLoadRun(client, run, outcome, { bytes: 30, objects: 1 });
    await client.query("ROLLBACK");
    const rolledBack = await rowsOf("log/tx");
    await client.query("BEGIN");
    const logged = await recordLoadRun(client, run, outcome, { bytes: 30, objects: 1 });
    await client.query("COMMIT");
    // Assess
    expect(rolledBack).toEqual([]);
    expect(logged).toEqual({ ...outcome, run_logged: true });
    expect(await rowsOf("log/tx")).toMatchObject([
      { run_id: "r-tx", status: "ok", rows_loaded: "3", bytes_loaded: "30", objects: 1 },
    ]);
  });
});

describe("retention", () => {
  const old = (jobId: string, daysAgo: number) => {
    const finished = new Date(Date.now() - daysAgo * 86_400_000);
    return runLogRow(
      { job_id: jobId, run_id: `${jobId}-${daysAgo}`, status: "ok" },
      { realm: "dev", jobType: "db_from_s3", startedAt: finished, finishedAt: finished },
    );
  };

  it("deletes rows older than the realm's run_log.retention when a run is logged", async () => {
    // Prepare
    const client = await sessionAs("loader");
    open.push(client);
    await ensureRunLog(client, "pg");
    for (const days of [40, 31, 29, 1]) await recordRun(client, old("log/old", days));
    await world.s3.put(BUCKET, "log/ret.csv", "id\n1\n");
    const realm = world.realm(
      [csvJob("log/ret", "log_ret", "log/ret.csv", { columns: ["id int"] })],
      {},
      { run_log: { retention: "30d" } },
    );
    // Act
    const r = await world.run(realm, { job_id: "log/ret" });
    // Assess
    expect(r.run_logged).toBe(true);
    expect((await rowsOf("log/old")).map((x) => x.run_id)).toEqual(["log/old-29", "log/old-1"]);
    expect(await rowsOf("log/ret")).toHaveLength(1);
  });

  it("deletes at most the limit per run, the rest later", async () => {
    const client = await sessionAs("loader");
    open.push(client);
    await ensureRunLog(client, "pg");
    for (const days of [50, 51, 52]) await recordRun(client, old("log/many", days));
    expect(await pruneRunLog(client, 45 * 86_400_000, 2)).toBe(2);
    expect(await rowsOf("log/many")).toHaveLength(1);
    expect(await pruneRunLog(client, 45 * 86_400_000, 2)).toBe(1);
  });

  it("refuses a retention below an hour in the realm file", () => {
    expect(() => world.realm([], {}, { run_log: { retention: "10m" } })).toThrow(
      "run_log.retention: expected a duration of at least 1h, like 30d",
    );
  });
});

describe("a user who may not use the run log", () => {
  it("is told what to grant, and the run's result is unchanged by it", async () => {
    // Prepare: a reader who may use schema lava but not the run log.
    await world.cluster.createRole("log_reader", { password: "r3ader-pw" });
    await world.rows("GRANT USAGE ON SCHEMA lava TO log_reader");
    world.aws.setParameter("/lava/dev/log_reader", "r3ader-pw", "SecureString");
    const client = await sessionAs("log_reader");
    open.push(client);
    // Act
    const refused = ensureRunLog(client, "pg").catch((err: unknown) => err);
    const realm = world.realm([csvJob("log/denied", "log_denied", "log/none.csv")], {
      user: "log_reader",
      password: "/lava/dev/log_reader",
    });
    const r = await world.run(realm, { job_id: "log/denied" });
    // Assess
    expect(await refused).toMatchObject({
      name: "DatabasePermissionError",
      message: expect.stringContaining(
        'GRANT SELECT, INSERT, DELETE ON "lava"."run_log" TO "log_reader";',
      ),
    });
    expect(r.status).toBe("failed");
    expect(r.run_logged).toBeUndefined();
    expect(r.events.at(-1)).toMatch(
      /^run log: not written to pg: DatabasePermissionError: run log lava\.run_log exists but "log_reader" may not use it/,
    );
  });

  it("gets the DDL to run when the run log is missing and may not be created", async () => {
    await world.cluster.createDatabase("bare");
    await world.cluster.createRole("log_nobody", {});
    const client = await sessionAs("log_nobody", "bare");
    open.push(client);
    await expect(ensureRunLog(client, "pg")).rejects.toMatchObject({
      name: "DatabasePermissionError",
      code: "42501",
      message: expect.stringContaining(
        'lava.run_log is missing and cannot be created as this user (SQLSTATE 42501: permission denied for database bare): run "lava-aurora db-setup pg --admin ADMIN_CONN_ID --apply"',
      ),
    });
    expect(RUN_LOG_DDL).toContain("CREATE TABLE IF NOT EXISTS lava.run_log");
  });
});

describe("lava-aurora runs --conn", () => {
  it("shows the run log's rows next to the executions, filtered the same way", async () => {
    // Prepare: a realm file for the CLI, the deployed state machine, one execution.
    const dir = await mkdtemp(join(tmpdir(), "lava-run-log-"));
    const realmFile = join(dir, "dev.yaml");
    await writeFile(
      realmFile,
      stringify(world.realmDoc([csvJob("log/ok", "log_ok", "log/ok.csv")])),
    );
    const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-dev-jobs";
    world.aws.setParameter("/lava/dev/state-machine-arn", sm);
    world.aws.states.executions.set(ARN, {
      executionArn: ARN,
      stateMachineArn: sm,
      name: "run-1",
      input: '{"job_id":"log/ok"}',
      startDate: new Date(),
      status: "SUCCEEDED",
      output: '{"status":"ok","rows":2}',
    });
    const runs = (...args: string[]) =>
      runCli(["runs", "--realm-file", realmFile, "--conn", "pg", ...args], {
        env: { ...world.aws.env(), ...world.s3.env() },
      });
    try {
      // Act
      const all = await runs("--json");
      const okOnly = await runs("--job", "log/ok", "--json");
      const failed = await runs("--failed", "--json");
      const human = await runs("--job", "log/ok");
      // Assess
      expect(all.code, all.stderr).toBe(0);
      const report = JSON.parse(all.stdout) as RunsReport;
      expect(report.executions.map((e) => e.name)).toEqual(["run-1"]);
      const statuses = new Set(report.run_log?.map((r) => r.status));
      expect(statuses).toEqual(new Set(["ok", "skipped", "failed"]));
      const okRows = (JSON.parse(okOnly.stdout) as RunsReport).run_log ?? [];
      expect(okRows).toMatchObject([
        { job_id: "log/ok", execution: ARN, attempt: 2, rows_loaded: 2, key: "log/ok.csv" },
      ]);
      const failedRows = (JSON.parse(failed.stdout) as RunsReport).run_log ?? [];
      expect(failedRows.length).toBeGreaterThan(0);
      expect(failedRows.every((r) => r.status === "failed")).toBe(true);
      expect(human.stdout).toContain("1 row of lava.run_log in pg's database\n");
      expect(human.stdout).toMatch(
        /ok +[\d.]+s +log\/ok +ok, 2 rows +s3:\/\/landing\/log\/ok\.csv {2}run [0-9a-f-]+ attempt 2\n/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
