/**
 * sqlc jobs end to end (docs/sql-jobs.md §3): SQL files from S3 rendered and run
 * by the real psql against PostgreSQL with TLS — payload prefixes in order,
 * meta-commands, per-file stdout/stderr in s3_temp, ON_ERROR_STOP, `args`,
 * timeouts that leave no session behind, and SSM-password, Secrets Manager and
 * IAM-token connections whose secrets appear nowhere.
 */
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { pgpassEscape } from "../../lambda/connectors/psql";
import type { Dispatch, JobResult, RunOptions } from "../../lambda/jobs/types";
import { LOADER_PASSWORD, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const TOP = { s3_payloads: "s3://payloads/dev", s3_temp: "s3://lava-temp/dev" };
const SECRET_PASSWORD = "s3cret:from\\the'vault";

beforeAll(async () => {
  await world.s3.createBucket("payloads");
  await world.s3.createBucket("lava-temp");
  await world.cluster.createRole("secuser", { password: SECRET_PASSWORD });
  await world.cluster.createRole("iamrunner");
  await world.rows("GRANT CONNECT ON DATABASE warehouse TO iamrunner, secuser");
  world.putDbSecret("/lava/dev/secuser", "secuser", SECRET_PASSWORD);
});

afterEach(() => {
  vi.useRealTimers();
  // Every run removes its private directory, whatever the outcome.
  expect(readdirSync(tmpdir()).filter((n) => n.startsWith("lava-sqlc-"))).toEqual([]);
});

const put = (key: string, body: string) => world.s3.put("payloads", `dev/${key}`, body);

function sqlcJob(
  jobId: string,
  payload: string,
  parameters: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    job_id: jobId,
    type: "sqlc",
    enabled: true,
    payload,
    parameters: { conn_id: "pg", ...parameters },
    ...extra,
  };
}

async function run(
  job: Record<string, unknown>,
  options?: RunOptions & { connection?: Record<string, unknown> },
): Promise<JobResult> {
  const realm = world.realm([job], options?.connection ?? {}, TOP);
  const dispatch: Dispatch = { job_id: job.job_id as string };
  return world.run(realm, dispatch, options);
}

/** The run's objects in s3_temp: name (after `<job_id>/<run_id>/`) → content. */
async function saved(r: JobResult): Promise<Record<string, string>> {
  const prefix = `dev/${r.job_id}/${r.run_id}/`;
  const page = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: "lava-temp", Prefix: prefix }));
  const out: Record<string, string> = {};
  for (const o of page.Contents ?? []) {
    const key = o.Key as string;
    out[key.slice(prefix.length)] = (await world.s3.get("lava-temp", key)).toString("utf8");
  }
  return out;
}

/** Neither the result (events included) nor any saved output holds a secret. */
async function expectNoSecret(r: JobResult, secrets: readonly string[]): Promise<void> {
  const texts = [JSON.stringify(r), ...Object.values(await saved(r))];
  for (const secret of secrets)
    for (const text of texts) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(pgpassEscape(secret));
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
}

const temp = (r: JobResult, name: string) => `s3://lava-temp/dev/${r.job_id}/${r.run_id}/${name}`;

describe("sqlc jobs", () => {
  it("runs a prefix's files in order with meta-commands, rendered SQL and per-file stdout", async () => {
    await put(
      "sqlc/report/01-setup.sql",
      [
        "\\set tag '{{ vars.tag }}'",
        "CREATE TABLE sales.sqlc_demo (id int, tag text, yr text);",
        "INSERT INTO sales.sqlc_demo VALUES (1, :'tag', '{{ start.strftime('%Y') }}');",
        "\\copy (SELECT 2, 'copied', 'x') TO 'rows.csv' WITH (FORMAT csv)",
        "\\echo setup done",
      ].join("\n"),
    );
    await put(
      "sqlc/report/02-report.sql",
      [
        "\\copy sales.sqlc_demo FROM 'rows.csv' WITH (FORMAT csv)",
        "SELECT count(*) AS n FROM sales.sqlc_demo \\gset",
        "\\getenv realm LAVA_REALM",
        "\\echo :n rows in {{ job.job_id }} of :realm",
        "\\! pwd",
        "SELECT id, tag, yr FROM sales.sqlc_demo ORDER BY id;",
      ].join("\n"),
    );
    const job = sqlcJob("sqlc/report", "sqlc/report/", { args: ["-A", "-t"], vars: { tag: "hi" } });
    const r = await run(job, { runId: "run-1", start: new Date("2024-03-05T10:00:00Z") });
    expect(r).toMatchObject({ status: "ok", exit_code: 0, run_id: "run-1" });
    expect(r.outputs).toEqual([temp(r, "01-setup.sql.stdout"), temp(r, "02-report.sql.stdout")]);
    const out = await saved(r);
    // Empty streams leave no object: no .stderr at all.
    expect(Object.keys(out).sort()).toEqual(["01-setup.sql.stdout", "02-report.sql.stdout"]);
    expect(out["01-setup.sql.stdout"]).toBe("setup done\n");
    const [first, cwd, ...rows] = (out["02-report.sql.stdout"] ?? "").split("\n");
    expect(first).toBe("2 rows in sqlc/report of dev");
    expect(rows).toEqual(["1|hi|2024", "2|copied|x", ""]);
    // psql ran in the private directory (shared by the files: rows.csv), now gone.
    expect(cwd).toMatch(/\/lava-sqlc-[^/]+$/);
    expect(existsSync(cwd as string)).toBe(false);
    const events = r.events.join("\n");
    expect(events).toContain("2 payload(s) under s3://payloads/dev/sqlc/report/");
    expect(events.indexOf("running s3://payloads/dev/sqlc/report/01-setup.sql")).toBeLessThan(
      events.indexOf("running s3://payloads/dev/sqlc/report/02-report.sql"),
    );
    expect(events).toContain("s3://payloads/dev/sqlc/report/02-report.sql: exit code 0");
    expect(events).toContain(`${temp(r, "02-report.sql.stdout")}: `);
    await expectNoSecret(r, [LOADER_PASSWORD]);
  });

  it("fails on a failing statement with exit code 3 and psql's file:line message; later files do not run", async () => {
    await put(
      "sqlc/fail/a.sql",
      "SELECT 'one';\nSELECT 'two';\nSELECT * FROM no_such_table;\nSELECT 'after';\n",
    );
    await put("sqlc/fail/b.sql", "CREATE TABLE sales.sqlc_fail_b (x int);\n");
    const r = await run(sqlcJob("sqlc/fail", "sqlc/fail/", { args: ["-At"] }));
    expect(r).toMatchObject({
      status: "failed",
      exit_code: 3,
      error: { name: "PayloadError", retryable: false },
    });
    expect(r.error?.message).toContain("payload s3://payloads/dev/sqlc/fail/a.sql");
    expect(r.error?.message).toContain(
      'psql:a.sql:3: ERROR:  relation "no_such_table" does not exist',
    );
    const out = await saved(r);
    expect(out["a.sql.stdout"]).toBe("one\ntwo\n");
    expect(out["a.sql.stderr"]).toContain("psql:a.sql:3: ERROR:");
    expect(Object.keys(out).some((k) => k.startsWith("b.sql"))).toBe(false);
    expect(r.events.join("\n")).not.toContain("running s3://payloads/dev/sqlc/fail/b.sql");
    expect(await world.rows("SELECT to_regclass('sales.sqlc_fail_b') AS t")).toEqual([{ t: null }]);
    await expectNoSecret(r, [LOADER_PASSWORD]);
  });

  it("passes `args` after its own options: a later -v ON_ERROR_STOP=0 wins", async () => {
    await put("sqlc/lenient.sql", "SELECT * FROM no_such_table;\nSELECT :'greeting';\n");
    const args = ["-v", "ON_ERROR_STOP=0", "--tuples-only", "--no-align", "-v", "greeting=hey"];
    const r = await run(sqlcJob("sqlc/lenient", "sqlc/lenient.sql", { args }));
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    const out = await saved(r);
    expect(out["lenient.sql.stdout"]).toBe("hey\n");
    expect(out["lenient.sql.stderr"]).toContain("psql:lenient.sql:1: ERROR:");
    expect(r.outputs).toEqual([temp(r, "lenient.sql.stdout"), temp(r, "lenient.sql.stderr")]);
  });

  it("kills psql on timeout and leaves no session of the run on the server", async () => {
    await put("sqlc/sleep.sql", "\\echo sleeping\nSELECT pg_sleep(30);\n");
    const t0 = Date.now();
    const r = await run(sqlcJob("sqlc/sleep", "sqlc/sleep.sql", { timeout: "2s" }), {
      runId: "sleep-1",
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r).toMatchObject({
      status: "failed",
      error: { name: "PayloadTimeoutError", retryable: false },
    });
    expect(r.exit_code).toBeUndefined();
    expect(r.error?.message).toContain("payload s3://payloads/dev/sqlc/sleep.sql ran past");
    expect(r.error?.message).toContain("its timeout of 2s");
    const left = await world.rows(
      "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lv-dev-sqlc/sleep%'",
    );
    expect(left).toEqual([]);
    const events = r.events.join("\n");
    expect(events).toContain("psql killed: pg_cancel_backend on session(s) ");
    expect(events).toContain("no session of lv-dev-sqlc/sleep-sleep-1 left on the server");
    expect((await saved(r))["sleep.sql.stdout"]).toBe("sleeping\n");
  });

  it("caps each file's timeout by the run's deadline", async () => {
    await put("sqlc/late.sql", "SELECT pg_sleep(30);\n");
    const t0 = Date.now();
    const r = await run(sqlcJob("sqlc/late", "sqlc/late.sql"), { deadline: Date.now() + 8_000 });
    expect(r.error?.name).toBe("PayloadTimeoutError");
    expect(r.error?.message).toContain("ran past the run's deadline");
    expect(Date.now() - t0).toBeLessThan(8_000);
    const left = await world.rows(
      "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lv-dev-sqlc/late%'",
    );
    expect(left).toEqual([]);
  });

  it("names the file in a template error, before any file runs", async () => {
    await put("sqlc/tpl/1.sql", "CREATE TABLE sales.sqlc_tpl_1 (x int);\n");
    await put("sqlc/tpl/2.sql", "SELECT {{ vars.nope.deeper }};\n");
    const r = await run(sqlcJob("sqlc/tpl", "sqlc/tpl/"));
    expect(r.error?.name).toBe("TemplateError");
    expect(r.error?.message).toMatch(/^s3:\/\/payloads\/dev\/sqlc\/tpl\/2\.sql: template error/);
    expect(await world.rows("SELECT to_regclass('sales.sqlc_tpl_1') AS t")).toEqual([{ t: null }]);
  });

  it("runs the file as it is with jinja: false", async () => {
    await put("sqlc/raw.sql", "SELECT '{{ not rendered }}';\n");
    const r = await run(sqlcJob("sqlc/raw", "sqlc/raw.sql", { jinja: false, args: ["-At"] }));
    expect(r.status).toBe("ok");
    expect((await saved(r))["raw.sql.stdout"]).toBe("{{ not rendered }}\n");
  });

  it("says psql is needed when the runner's PATH has none", async () => {
    await put("sqlc/nopsql.sql", "SELECT 1;\n");
    vi.stubEnv("PATH", "/nonexistent-lava-bin");
    const r = await run(sqlcJob("sqlc/nopsql", "sqlc/nopsql.sql"));
    expect(r.status).toBe("failed");
    expect(r.error?.message).toMatch(/^sqlc jobs need psql on the runner's PATH: /);
  });
});

describe("sqlc connections", () => {
  const WHO =
    "SELECT current_user, current_setting('application_name'), s.ssl\n" +
    "FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid();\n";

  it("connects with an SSM password holding : \\ and quotes (pgpass), never seen", async () => {
    await put("sqlc/who.sql", WHO);
    const r = await run(sqlcJob("sqlc/who", "sqlc/who.sql", { args: ["-At"] }), { runId: "w-1" });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect((await saved(r))["who.sql.stdout"]).toBe("loader|lv-dev-sqlc/who-w-1|t\n");
    await expectNoSecret(r, [LOADER_PASSWORD]);
  });

  it("connects with everything but the database from a Secrets Manager secret", async () => {
    await put("sqlc/who.sql", WHO);
    const connection = {
      type: "postgres-aurora",
      secret_id: "/lava/dev/secuser",
      host: undefined,
      port: undefined,
      user: undefined,
      password: undefined,
    };
    const r = await run(sqlcJob("sqlc/sec", "sqlc/who.sql", { args: ["-At"] }), {
      runId: "s-1",
      connection,
    });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect((await saved(r))["who.sql.stdout"]).toBe("secuser|lv-dev-sqlc/sec-s-1|t\n");
    await expectNoSecret(r, [SECRET_PASSWORD]);
  });

  it("connects with an IAM token signed for the psql start, never seen", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // Frozen at the current second: S3 requests must stay within the server's allowed clock skew.
    vi.setSystemTime(new Date(Math.floor(Date.now() / 1000) * 1000));
    const token = await world.iamToken("iamrunner");
    await world.rows(`ALTER ROLE iamrunner PASSWORD '${token.replace(/'/g, "''")}'`);
    await put("sqlc/who.sql", WHO);
    const connection = { type: "postgres-aurora", user: "iamrunner", password: undefined };
    const r = await run(sqlcJob("sqlc/iam", "sqlc/who.sql", { args: ["-At"] }), {
      runId: "i-1",
      connection,
    });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect((await saved(r))["who.sql.stdout"]).toBe("iamrunner|lv-dev-sqlc/iam-i-1|t\n");
    await expectNoSecret(r, [token, token.slice(-40)]);
  });

  it("fails a refused login with psql's exit code 2 and its message, the password not in it", async () => {
    world.aws.setParameter(
      "/lava/dev/wrong",
      "wr0ng:pass\\word",
      "SecureString",
      "alias/lava-dev-sys",
    );
    await put("sqlc/who.sql", WHO);
    const r = await run(sqlcJob("sqlc/wrong", "sqlc/who.sql"), {
      connection: { password: "/lava/dev/wrong" },
    });
    expect(r).toMatchObject({ status: "failed", exit_code: 2, error: { name: "PayloadError" } });
    expect(r.error?.message).toContain('password authentication failed for user "loader"');
    await expectNoSecret(r, ["wr0ng:pass\\word", "wr0ng", LOADER_PASSWORD]);
  });
});
