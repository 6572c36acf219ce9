/**
 * sql, sqli and sqlv jobs against the local world (docs/sql-jobs.md): PostgreSQL 15
 * over verified TLS, s3rver for payloads and outputs, the SSM and Secrets Manager
 * stubs. A staging load then a merge in one transaction, lava's output files,
 * timeouts that leave no session behind, every kind of connection.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { JobResult } from "../../lambda/jobs/types";
import { BUCKET, LOADER_PASSWORD, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const TEMP = "s3://landing/tmp";
const PAYLOADS = "s3://landing/payloads";
const SECRET_PASSWORD = "s3cr3t:pw\\'x";

let s3: S3Client;

beforeAll(async () => {
  await world.rows(`CREATE TABLE sales.main (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  await world.rows(`ALTER TABLE sales.main OWNER TO loader`);
  await world.rows(`INSERT INTO sales.main VALUES (1, 'old one'), (2, 'old two')`);
  await world.cluster.createRole("secuser", { password: SECRET_PASSWORD });
  await world.rows("GRANT CONNECT ON DATABASE warehouse TO secuser");
  await world.cluster.createRole("iamuser", { password: "not-yet" });
  await world.rows("GRANT CONNECT ON DATABASE warehouse TO iamuser");
});

function realm(jobs: Record<string, unknown>[], extraConnections: Record<string, unknown>[] = []) {
  return world.realm(
    jobs,
    {},
    {
      s3_temp: TEMP,
      s3_payloads: PAYLOADS,
      connections: extraConnections,
    },
  );
}

const sqli = (jobId: string, payload: unknown, parameters: Record<string, unknown> = {}) => ({
  job_id: jobId,
  type: "sqli",
  enabled: true,
  payload,
  parameters: { conn_id: "pg", ...parameters },
});

async function text(key: string): Promise<string> {
  s3 ??= world.s3.client();
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await out.Body?.transformToString()) ?? "";
}

async function keysUnder(prefix: string): Promise<string[]> {
  s3 ??= world.s3.client();
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
}

const main = () => world.rows<{ id: number; name: string }>("SELECT * FROM sales.main ORDER BY id");

function ok(r: JobResult): JobResult {
  expect(r.error, JSON.stringify(r.events)).toBeUndefined();
  expect(r.status).toBe("ok");
  return r;
}

describe("a staging load merged into the main table with sqli", () => {
  it("loads staging, then DELETE + INSERT in one transaction (lava's own example)", async () => {
    await world.s3.put(BUCKET, "staging/1.csv", "10,new ten\n11,new eleven\n");
    const r = realm([
      loadJob("stage", {
        key: "staging/1.csv",
        table: "staging",
        mode: "truncate",
        columns: ["id INTEGER", "name TEXT"],
        args: ["FORMAT CSV"],
      }),
      sqli(
        "merge",
        ["DELETE FROM sales.main", "INSERT INTO sales.main (SELECT * FROM sales.staging)"],
        { transaction: true },
      ),
    ]);
    ok(await world.run(r, { job_id: "stage" }));
    const merged = ok(await world.run(r, { job_id: "merge" }));
    expect(await main()).toEqual([
      { id: 10, name: "new ten" },
      { id: 11, name: "new eleven" },
    ]);
    expect(merged.statements).toMatchObject([
      { source: "payload[0]", statement: 0, line: 1, command: "DELETE", rows: 2 },
      { source: "payload[1]", statement: 0, line: 1, command: "INSERT", rows: 2 },
    ]);
    expect(merged.events.join("\n")).toContain("committed 2 statement(s) in one transaction");
  });

  it("changes nothing when the 3rd statement of the transaction fails, and names it", async () => {
    const before = await main();
    const r = realm([
      sqli(
        "merge",
        "DELETE FROM sales.main;\nCREATE TABLE sales.side (x int);\n\nINSERT INTO sales.main VALUES (1, NULL);",
        { transaction: true },
      ),
    ]);
    const res = await world.run(r, { job_id: "merge" });
    expect(res.status).toBe("failed");
    expect(res.error?.name).toBe("DatabaseServerError");
    expect(res.error?.message).toMatch(
      /^payload\[0\] statement 2 \(line 4\): null value in column "name" .* \(SQLSTATE 23502\)$/,
    );
    expect(await main()).toEqual(before);
    expect(await world.rows("SELECT to_regclass('sales.side') AS t")).toEqual([{ t: null }]);
    expect(res.events.join("\n")).toContain("rolled back: nothing committed");
  });

  it("without transaction, commits each statement as it runs (as lava: autocommit)", async () => {
    const r = realm([
      sqli(
        "auto",
        "CREATE TABLE sales.auto (x int); INSERT INTO sales.auto VALUES (1); SELECT 1/0",
      ),
    ]);
    const res = await world.run(r, { job_id: "auto" });
    expect(res.error?.message).toMatch(/^payload\[0\] statement 2 \(line 1\): division by zero/);
    expect(await world.rows("SELECT x FROM sales.auto")).toEqual([{ x: 1 }]);
  });
});

describe("result tuples", () => {
  it("go to <s3_temp>/<job_id>/<run_id>/[<output>/]<m>.<n>.out, pipe-separated, header on request", async () => {
    const r = realm([
      sqli(
        "report",
        [
          "SELECT id, name FROM sales.main ORDER BY id; SELECT 'a|b' AS t, NULL AS n, true AS b",
          "UPDATE sales.main SET name = name WHERE false",
        ],
        { output: "out", header: true },
      ),
    ]);
    const res = ok(await world.run(r, { job_id: "report" }, { runId: "r1" }));
    expect(await keysUnder("tmp/report/r1/")).toEqual([
      "tmp/report/r1/out/0.0.out",
      "tmp/report/r1/out/0.1.out",
    ]);
    const rows = await main();
    expect(await text("tmp/report/r1/out/0.0.out")).toBe(
      `id|name\r\n${rows.map((x) => `${x.id}|${x.name}\r\n`).join("")}`,
    );
    expect(await text("tmp/report/r1/out/0.1.out")).toBe('t|n|b\r\n"a|b"||True\r\n');
    expect(res.statements?.map((s) => [s.command, s.rows, s.output])).toEqual([
      ["SELECT", rows.length, `s3://${BUCKET}/tmp/report/r1/out/0.0.out`],
      ["SELECT", 1, `s3://${BUCKET}/tmp/report/r1/out/0.1.out`],
      ["UPDATE", 0, undefined],
    ]);
    expect(res.outputs).toHaveLength(2);
  });

  it("honour lava's csv parameters (quoting all, unix dialect, delimiter)", async () => {
    const r = realm([
      sqli("csv", "SELECT 1 AS a, 'x,y' AS b", { quoting: "ALL", dialect: "unix", delimiter: "," }),
    ]);
    ok(await world.run(r, { job_id: "csv" }, { runId: "r2" }));
    expect(await text("tmp/csv/r2/0.0.out")).toBe('"1","x,y"\n');
  });

  it("of an empty SELECT still leave an object, as lava uploads its empty file", async () => {
    const r = realm([sqli("empty", "SELECT * FROM sales.main WHERE false")]);
    ok(await world.run(r, { job_id: "empty" }, { runId: "r3" }));
    expect(await text("tmp/empty/r3/0.0.out")).toBe("");
  });
});

describe("sql: statements from files under s3_payloads", () => {
  it("runs every file under a prefix in order, renders each statement, names outputs <file>.<n>.out", async () => {
    await world.s3.put(
      BUCKET,
      "payloads/reports/b.sql",
      "-- second\nSELECT '{{ vars.label }}' AS label, '{{ job.run_id }}' AS run;\n",
    );
    await world.s3.put(
      BUCKET,
      "payloads/reports/a.sql",
      "CREATE TABLE IF NOT EXISTS sales.runs (day text);\nINSERT INTO sales.runs VALUES ('{{ start.strftime(\"%Y-%m-%d\") }}');",
    );
    const r = realm([
      {
        job_id: "reports",
        type: "sql",
        enabled: true,
        payload: "reports/",
        parameters: { conn_id: "pg", vars: { label: "north" } },
      },
    ]);
    const start = new Date("2026-03-04T05:06:07Z");
    const res = ok(await world.run(r, { job_id: "reports" }, { runId: "r4", start }));
    expect(res.statements?.map((s) => [s.source.split("/").pop(), s.statement, s.line])).toEqual([
      ["a.sql", 0, 1],
      ["a.sql", 1, 2],
      ["b.sql", 0, 2],
    ]);
    expect(await text("tmp/reports/r4/b.sql.0.out")).toBe("north|r4\r\n");
    expect((await world.rows<{ day: string }>("SELECT day FROM sales.runs"))[0]?.day).toMatch(
      /^2026-03-0[34]$/,
    );
  });

  it("renders lava's template idioms in each statement", async () => {
    const r = realm([
      sqli(
        "idioms",
        [
          "SELECT '{{ ustart.strftime('%Y-%m-%d') }}' AS d, '{{ (ustart - utils.timedelta(days=1)).strftime('%Y%m%d') }}' AS y",
          "SELECT '{{ (ustart + utils.dateutil.relativedelta.relativedelta(months=1)).strftime('%b') }}' AS m, '{{ realm.realm }}' AS r, '{{ job.job_id }}' AS j, '{{ globals.region | default('none') }}' AS g",
        ],
        { vars: { n: 3 } },
      ),
    ]);
    const start = new Date("2026-03-04T05:06:07Z");
    ok(
      await world.run(r, { job_id: "idioms", globals: { region: "apac" } }, { runId: "r8", start }),
    );
    expect(await text("tmp/idioms/r8/0.0.out")).toBe("2026-03-04|20260303\r\n");
    expect(await text("tmp/idioms/r8/1.0.out")).toBe("Apr|dev|idioms|apac\r\n");
  });

  it("leaves the SQL as it is with jinja: false", async () => {
    await world.s3.put(BUCKET, "payloads/raw.sql", "SELECT '{{ x }}' AS t");
    const r = realm([
      {
        job_id: "raw",
        type: "sql",
        enabled: true,
        payload: "raw.sql",
        parameters: { conn_id: "pg", jinja: false },
      },
    ]);
    ok(await world.run(r, { job_id: "raw" }, { runId: "r5" }));
    expect(await text("tmp/raw/r5/raw.sql.0.out")).toBe("{{ x }}\r\n");
  });
});

describe("sqlv", () => {
  it("writes every SELECT into one stdout object, as jsonl when asked", async () => {
    await world.s3.put(
      BUCKET,
      "payloads/v.sql",
      "SELECT 1 AS n, 'a' AS s;\nSELECT 2 AS n, NULL AS s;",
    );
    const r = realm([
      {
        job_id: "v",
        type: "sqlv",
        enabled: true,
        payload: "v.sql",
        parameters: { conn_id: "pg", format: "jsonl" },
      },
    ]);
    const res = ok(await world.run(r, { job_id: "v" }, { runId: "r6" }));
    expect(await text("tmp/v/r6/stdout")).toBe('{"n": 1, "s": "a"}\n{"n": 2, "s": null}\n');
    expect(res.outputs).toEqual([`s3://${BUCKET}/tmp/v/r6/stdout`]);
  });
});

describe("time", () => {
  it("cancels a statement past the job's timeout and leaves no session behind", async () => {
    const r = realm([sqli("slow", "SELECT pg_sleep(30)", { timeout: "2s", transaction: true })]);
    const t0 = Date.now();
    const res = await world.run(r, { job_id: "slow" });
    expect(res.status).toBe("failed");
    expect(res.error).toMatchObject({ name: "SqlTimeoutError", retryable: false });
    expect(res.error?.message).toMatch(
      /^payload\[0\] statement 0 \(line 1\): ran past its timeout of 2s/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    await vi.waitFor(
      async () =>
        expect(
          await world.rows(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lv-dev-slow%'",
          ),
        ).toEqual([]),
      { timeout: 5_000 },
    );
  });

  it("cancels a long streaming SELECT whose batches each come fast (the watchdog, not statement_timeout)", async () => {
    const r = realm([
      sqli("stream", "SELECT g, pg_sleep(0.02) FROM generate_series(1, 1000) g", {
        timeout: "2s",
        batch_size: 1,
      }),
    ]);
    const res = await world.run(r, { job_id: "stream" }, { runId: "r7" });
    expect(res.error?.name).toBe("SqlTimeoutError");
    expect(await keysUnder("tmp/stream/r7/")).toEqual([]);
    await vi.waitFor(
      async () =>
        expect(
          await world.rows(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lv-dev-stream%'",
          ),
        ).toEqual([]),
      { timeout: 5_000 },
    );
  });
});

describe("connections", () => {
  it("runs on password, Secrets Manager and IAM-token connections, and no secret shows", async () => {
    world.putDbSecret("/lava/dev/secuser", "secuser", SECRET_PASSWORD);
    // A frozen clock makes the token reproducible (near now: s3rver refuses skewed requests).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(Math.floor(Date.now() / 1000) * 1000));
    const token = await world.iamToken("iamuser");
    await world.rows(`ALTER ROLE iamuser PASSWORD '${token.replace(/'/g, "''")}'`);
    await world.s3.put(BUCKET, "payloads/who.sql", "SELECT current_user");
    const file = (jobId: string, type: string, conn: string) => ({
      job_id: jobId,
      type,
      enabled: true,
      payload: "who.sql",
      parameters: { conn_id: conn },
    });
    const kinds = [
      ["pw", "pg"],
      ["sec", "sec"],
      ["iam", "iam"],
    ] as const;
    const r = realm(
      kinds.flatMap(([kind, conn]) => [
        sqli(`who-${kind}`, "SELECT current_user", { conn_id: conn }),
        file(`who-sql-${kind}`, "sql", conn),
        file(`who-sqlv-${kind}`, "sqlv", conn),
      ]),
      [
        {
          conn_id: "sec",
          type: "postgres-aurora",
          enabled: true,
          secret_id: "/lava/dev/secuser",
          database: "warehouse",
          ssl: true,
        },
        {
          conn_id: "iam",
          type: "postgres-aurora",
          enabled: true,
          host: world.cluster.host,
          port: world.cluster.port,
          database: "warehouse",
          user: "iamuser",
          ssl: true,
        },
      ],
    );
    const users = { pw: "loader", sec: "secuser", iam: "iamuser" } as const;
    for (const [kind] of kinds) {
      const runs = [
        [`who-${kind}`, "0.0.out"],
        [`who-sql-${kind}`, "who.sql.0.out"],
        [`who-sqlv-${kind}`, "stdout"],
      ] as const;
      for (const [job, out] of runs) {
        const res = ok(await world.run(r, { job_id: job }, { runId: `c-${job}` }));
        expect(await text(`tmp/${job}/c-${job}/${out}`)).toBe(`${users[kind]}\r\n`);
        const shown = JSON.stringify(res);
        for (const secret of [LOADER_PASSWORD, SECRET_PASSWORD, token.slice(-40)])
          expect(shown).not.toContain(secret);
      }
    }
  });
});

describe("bad specs fail before any database work", () => {
  it("names every bad parameter of a dispatch", async () => {
    const r = realm([sqli("bad", "SELECT 1")]);
    const res = await world.run(r, {
      job_id: "bad",
      parameters: { conn_id: "nope", quoting: "sometimes", output: "a/b" },
    });
    expect(res.error?.name).toBe("SpecError");
    expect(res.error?.message).toContain("parameters.conn_id: connection nope is not defined");
    expect(res.error?.message).toContain("parameters.quoting");
    expect(res.error?.message).toContain("parameters.output");
  });
});
