/**
 * db_from_s3 parameters against real PostgreSQL and S3: names taken from keys
 * (hostile ones included), odd keys, FORCE_NULL *, min_size, skip_missing,
 * disabled jobs, parameter checks before any work, lava template idioms, and
 * that no result ever carries the database password.
 */
import { describe, expect, it } from "vitest";
import type { Dispatch, JobResult, RunOptions } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { BUCKET, LOADER_PASSWORD, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const COLUMNS = ["id INTEGER PRIMARY KEY", "name TEXT"];
const ARGS = ["FORMAT CSV", "HEADER"];
const csv = (...rows: [number, string][]) =>
  `id,name\n${rows.map(([i, n]) => `${i},${n}`).join("\n")}\n`;
/** A regex table name: the first path segment after `drops/`, up to the suffixes. */
const DROPS = "/^drops\\/([^/]+)";

/** A quoted identifier, for the test's own superuser SQL. */
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Pieces of the loader's password that must never show up in a result. */
const SECRET_PIECES = [
  LOADER_PASSWORD,
  JSON.stringify(LOADER_PASSWORD).slice(1, -1),
  "l0ad:er",
  "l0ad",
  "er\\pw",
  "pw'",
];

function expectNoSecrets(result: JobResult) {
  const text = JSON.stringify(result);
  for (const piece of SECRET_PIECES) expect(text).not.toContain(piece);
}

/** Every run of this file goes through here: no result may hold the password. */
const results: JobResult[] = [];
async function run(realm: Realm, dispatch: Dispatch, options?: RunOptions): Promise<JobResult> {
  const result = await world.run(realm, dispatch, options);
  results.push(result);
  expectNoSecrets(result);
  return result;
}

/** Run and report how many AWS stub calls the run made. */
async function runCounting(realm: Realm, dispatch: Dispatch) {
  const before = world.aws.calls.length;
  const result = await run(realm, dispatch);
  return { result, awsCalls: world.aws.calls.length - before };
}

/** Create `schema.name (id, name)` as the superuser and give it to the loader. */
async function existingTable(
  name: string,
  columns = "id INTEGER PRIMARY KEY, name TEXT",
  schema = "sales",
) {
  await world.rows(`CREATE TABLE ${q(schema)}.${q(name)} (${columns})`);
  await world.rows(`ALTER TABLE ${q(schema)}.${q(name)} OWNER TO loader`);
}

const ids = async (name: string, schema = "sales") =>
  (await world.rows<{ id: number }>(`SELECT id FROM ${q(schema)}.${q(name)} ORDER BY id`)).map(
    (r) => r.id,
  );

const exists = async (name: string, schema = "sales") =>
  (
    await world.rows<{ t: string | null }>("SELECT to_regclass($1) AS t", [
      `${q(schema)}.${q(name)}`,
    ])
  )[0]?.t !== null;

/** Put `csv` at `key` and load it with a /regex table name. */
async function loadByRegex(
  key: string,
  body: string,
  connection?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  await world.s3.put(BUCKET, key, body);
  const realm = world.realm(
    [loadJob("sales/drops", { key, table: DROPS, args: ARGS, ...extra })],
    connection,
  );
  return run(realm, { job_id: "sales/drops" });
}

describe("db_from_s3 names from S3 keys (regex table)", () => {
  it("loads into the existing table named by the capture group, without the key's suffixes", async () => {
    await existingTable("plain");
    const r = await loadByRegex("drops/plain.csv.gz.txt", csv([1, "a"], [2, "b"]));
    expect(r).toMatchObject({
      status: "ok",
      rows: 2,
      table: "sales.plain",
      loaded_table: '"sales"."plain"',
    });
    expect(await ids("plain")).toEqual([1, 2]);
  });

  it("quotes a name holding a double quote by doubling it", async () => {
    await existingTable('we"ird');
    const r = await loadByRegex('drops/we"ird.csv', csv([1, "q"]));
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      table: 'sales.we"ird',
      loaded_table: '"sales"."we""ird"',
    });
    expect(await ids('we"ird')).toEqual([1]);
  });

  it("treats ';' and spaces as part of the name: no SQL injection, the victim table survives", async () => {
    await existingTable("victim");
    await world.rows("INSERT INTO sales.victim VALUES (42, 'keep')");
    // The key's suffix starts at the first '.' of the last segment: the name is "x; drop table sales".
    await existingTable("x; drop table sales");
    const r = await loadByRegex("drops/x; drop table sales.victim.csv", csv([3, "c"]));
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      loaded_table: '"sales"."x; drop table sales"',
    });
    expect(await ids("x; drop table sales")).toEqual([3]);
    expect(await exists("victim")).toBe(true);
    expect(await ids("victim")).toEqual([42]);
  });

  it("loads into a table with a non-ASCII name", async () => {
    await existingTable("café");
    const r = await loadByRegex("drops/café.csv", csv([5, "crème"]));
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      table: "sales.café",
      loaded_table: '"sales"."café"',
    });
    expect(await world.rows('SELECT id, name FROM sales."café"')).toEqual([
      { id: 5, name: "crème" },
    ]);
  });

  it("refuses a name longer than 63 bytes (counted in UTF-8) before any AWS or database work", async () => {
    const long = "é".repeat(32); // 32 characters, 64 bytes
    await world.s3.put(BUCKET, `drops/${long}.csv`, csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/drops", { key: `drops/${long}.csv`, table: DROPS, args: ARGS }),
    ]);
    const { result, awsCalls } = await runCounting(realm, { job_id: "sales/drops" });
    expect(result).toMatchObject({
      status: "failed",
      error: { name: "SpecError", retryable: false },
    });
    expect(result.error?.message).toContain("job sales/drops: parameters.table:");
    expect(result.error?.message).toContain("is 64 bytes long; PostgreSQL allows at most 63");
    expect(awsCalls).toBe(0);
  });

  it("folds the captured name to lower case", async () => {
    await existingTable("upper");
    const r = await loadByRegex("drops/UPPER.csv", csv([7, "u"]));
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      table: "sales.upper",
      loaded_table: '"sales"."upper"',
    });
    expect(await ids("upper")).toEqual([7]);
  });

  it("keeps the captured name's case with preserve_case: true on the connection", async () => {
    await existingTable("UPPER");
    const r = await loadByRegex("drops/UPPER.txt", csv([8, "U"]), { preserve_case: true });
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      table: "sales.UPPER",
      loaded_table: '"sales"."UPPER"',
    });
    expect(await ids("UPPER")).toEqual([8]);
  });

  it("fails with SpecError when the regex does not match the key", async () => {
    const r = await loadByRegex("elsewhere/nomatch.csv", csv([1, "a"]));
    expect(r).toMatchObject({ status: "failed", error: { name: "SpecError" } });
    expect(r.error?.message).toContain('does not match key "elsewhere/nomatch.csv"');
  });

  it("refuses columns together with a regex name in the job spec when the realm is validated", () => {
    expect(() =>
      world.realm([loadJob("sales/drops", { table: DROPS, args: ARGS, columns: COLUMNS })]),
    ).toThrow(
      "job sales/drops: parameters.columns: not allowed with a /regex schema or table name",
    );
  });

  it("refuses dispatched columns together with a regex name, before any S3, SSM or database work", async () => {
    await world.s3.put(BUCKET, "drops/withcols.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/drops", {
        key: "drops/withcols.csv",
        table: DROPS,
        args: ARGS,
        allow_dispatch_columns: true,
      }),
    ]);
    const { result, awsCalls } = await runCounting(realm, {
      job_id: "sales/drops",
      parameters: { columns: COLUMNS },
    });
    expect(result).toMatchObject({ status: "failed", error: { name: "SpecError" } });
    expect(result.error?.message).toContain(
      "parameters.columns: not allowed with a /regex schema or table name",
    );
    expect(awsCalls).toBe(0);
    expect(await exists("withcols")).toBe(false);
  });
});

describe("db_from_s3 object keys", () => {
  it("loads a key with spaces and plus signs", async () => {
    const key = "my dir/a b+c.csv";
    await world.s3.put(BUCKET, key, csv([1, "a"], [2, "b"]));
    const realm = world.realm([
      loadJob("sales/odd", { key, table: "oddkey", columns: COLUMNS, args: ARGS }),
    ]);
    const r = await run(realm, { job_id: "sales/odd" });
    expect(r).toMatchObject({ status: "ok", rows: 2, bucket: BUCKET, key });
    expect(await ids("oddkey")).toEqual([1, 2]);
    expect(r.events.join("\n")).toContain(`s3://${BUCKET}/${key}`);
  });
});

describe("db_from_s3 FORCE_NULL *", () => {
  const COLS3 = ["id INTEGER PRIMARY KEY", "name TEXT", "note TEXT"];
  const BODY = 'id,name,note\n1,"",""\n2,x,""\n';
  const rowsOf = (table: string) =>
    world.rows(`SELECT id, name, note FROM sales.${q(table)} ORDER BY id`);

  async function loadQuoted(
    table: string,
    key: string,
    args: string[],
    columns: string[] | undefined,
  ) {
    await world.s3.put(BUCKET, key, BODY);
    const realm = world.realm([
      loadJob("sales/fn", { key, table, args, ...(columns ? { columns } : {}) }),
    ]);
    return run(realm, { job_id: "sales/fn" });
  }

  it("without it, quoted empty strings stay empty strings", async () => {
    const r = await loadQuoted("fn_off", "fn/off.csv", ARGS, COLS3);
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await rowsOf("fn_off")).toEqual([
      { id: 1, name: "", note: "" },
      { id: 2, name: "x", note: "" },
    ]);
  });

  it("turns quoted empty strings into NULL in every column given by columns", async () => {
    const r = await loadQuoted("fn_cols", "fn/cols.csv", [...ARGS, "FORCE_NULL *"], COLS3);
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await rowsOf("fn_cols")).toEqual([
      { id: 1, name: null, note: null },
      { id: 2, name: "x", note: null },
    ]);
  });

  it("turns quoted empty strings into NULL in every column of an existing table (no columns)", async () => {
    await existingTable("fn_tab", "id INTEGER PRIMARY KEY, name TEXT, note TEXT");
    const r = await loadQuoted("fn_tab", "fn/tab.csv", [...ARGS, "FORCE NULL *"], undefined);
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await rowsOf("fn_tab")).toEqual([
      { id: 1, name: null, note: null },
      { id: 2, name: "x", note: null },
    ]);
  });

  it("with preserve_case: true, FORCE_NULL lists name mixed-case columns exactly", async () => {
    await existingTable("FnCase", 'id INTEGER PRIMARY KEY, "Name" TEXT, note TEXT');
    await world.s3.put(BUCKET, "fn/case.csv", BODY);
    const realm = world.realm(
      [
        loadJob("sales/fn", {
          key: "fn/case.csv",
          table: "FnCase",
          args: [...ARGS, "FORCE_NULL (Name)"],
        }),
      ],
      { preserve_case: true },
    );
    const r = await run(realm, { job_id: "sales/fn" });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: "ok", rows: 2, loaded_table: '"sales"."FnCase"' });
    expect(await world.rows('SELECT id, "Name", note FROM sales."FnCase" ORDER BY id')).toEqual([
      { id: 1, Name: null, note: "" },
      { id: 2, Name: "x", note: "" },
    ]);
  });
  it("without preserve_case, a quoted column in FORCE_NULL is taken exactly", async () => {
    await existingTable("fn_quoted", 'id INTEGER PRIMARY KEY, "Name" TEXT, note TEXT');
    await world.s3.put(BUCKET, "fn/quoted.csv", BODY);
    const realm = world.realm([
      loadJob("sales/fn", {
        key: "fn/quoted.csv",
        table: "fn_quoted",
        args: [...ARGS, 'FORCE_NULL ("Name")'],
      }),
    ]);
    const r = await run(realm, { job_id: "sales/fn" });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await world.rows('SELECT id, "Name", note FROM sales.fn_quoted ORDER BY id')).toEqual([
      { id: 1, Name: null, note: "" },
      { id: 2, Name: "x", note: "" },
    ]);
  });
});

describe("db_from_s3 min_size", () => {
  /** A 1010-byte object: over 1KB (1000), under 1KiB (1024). */
  const BODY_1010 = `id,name\n1,${"x".repeat(999)}\n`;

  async function sized(table: string, key: string, body: string, minSize: string | number) {
    await world.s3.put(BUCKET, key, body);
    const realm = world.realm([
      loadJob("sales/min", { key, table, columns: COLUMNS, args: ARGS, min_size: minSize }),
    ]);
    return run(realm, { job_id: "sales/min" });
  }

  it("skips an object smaller than min_size and loads nothing", async () => {
    const r = await sized("min_small", "min/small.csv", csv([1, "a"]), "1KB");
    expect(r).toMatchObject({
      status: "skipped",
      reason: "below_min_size",
      bucket: BUCKET,
      key: "min/small.csv",
      table: "sales.min_small",
    });
    expect(r.error).toBeUndefined();
    expect(await exists("min_small")).toBe(false);
    expect(r.events.join("\n")).toContain("smaller than min_size 1000");
  });

  it("reads KB as 1000 bytes and KiB as 1024, case-insensitively", async () => {
    expect(Buffer.byteLength(BODY_1010)).toBe(1010);
    const kib = await sized("min_kib", "min/1010.csv", BODY_1010, "1kib");
    const kb = await sized("min_kb", "min/1010.csv", BODY_1010, "1kb");
    expect(kib).toMatchObject({ status: "skipped", reason: "below_min_size" });
    expect(kb).toMatchObject({ status: "ok", rows: 1 });
    expect(await exists("min_kib")).toBe(false);
    expect(await ids("min_kb")).toEqual([1]);
  });

  it("takes a bare number as bytes; an object of exactly min_size loads", async () => {
    const body = csv([1, "a"]); // 12 bytes
    expect(await sized("min_13", "min/12a.csv", body, 13)).toMatchObject({
      status: "skipped",
      reason: "below_min_size",
    });
    expect(await sized("min_12", "min/12b.csv", body, "12")).toMatchObject({
      status: "ok",
      rows: 1,
    });
  });
});

describe("db_from_s3 skip_missing", () => {
  const job = (skipMissing?: boolean) =>
    world.realm([
      loadJob("sales/miss", {
        key: "missing/none.csv",
        table: "missing_t",
        columns: COLUMNS,
        args: ARGS,
        ...(skipMissing === undefined ? {} : { skip_missing: skipMissing }),
      }),
    ]);

  it("skips a missing object with skip_missing: true", async () => {
    const r = await run(job(true), { job_id: "sales/miss" });
    expect(r).toMatchObject({
      status: "skipped",
      reason: "missing",
      bucket: BUCKET,
      key: "missing/none.csv",
      table: "sales.missing_t",
    });
    expect(await exists("missing_t")).toBe(false);
  });

  it("fails with ObjectMissingError naming the s3:// URL without it", async () => {
    const r = await run(job(), { job_id: "sales/miss" });
    expect(r).toMatchObject({
      status: "failed",
      error: { name: "ObjectMissingError", retryable: false },
    });
    expect(r.error?.message).toContain(`s3://${BUCKET}/missing/none.csv`);
    expect(r.error?.message).toContain("does not exist");
    expect(r.reason).toBeUndefined();
    expect(await exists("missing_t")).toBe(false);
  });
});

describe("db_from_s3 disabled jobs", () => {
  it("skips a job with enabled: false without any AWS call", async () => {
    await world.s3.put(BUCKET, "dis/1.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob(
        "sales/off",
        { key: "dis/1.csv", table: "dis_off", columns: COLUMNS, args: ARGS },
        { enabled: false },
      ),
    ]);
    const { result, awsCalls } = await runCounting(realm, { job_id: "sales/off" });
    expect(result).toMatchObject({ status: "skipped", reason: "disabled", job_id: "sales/off" });
    expect(awsCalls).toBe(0);
    expect(await exists("dis_off")).toBe(false);
  });

  it("renders a templated enabled: only 'true' (any case, surrounding space) enables", async () => {
    await world.s3.put(BUCKET, "dis/2.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob(
        "sales/tpl",
        { key: "dis/2.csv", table: "dis_tpl", columns: COLUMNS, args: ARGS },
        { enabled: "{{ globals.on }}" },
      ),
    ]);
    const off = await run(realm, { job_id: "sales/tpl", globals: { on: "false" } });
    expect(off).toMatchObject({ status: "skipped", reason: "disabled" });
    expect(await exists("dis_tpl")).toBe(false);
    const on = await run(realm, { job_id: "sales/tpl", globals: { on: " True " } });
    expect(on).toMatchObject({ status: "ok", rows: 1 });
    expect(await ids("dis_tpl")).toEqual([1]);
  });
});

describe("db_from_s3 parameter checks before any work", () => {
  const strict = () =>
    world.realm([
      loadJob("sales/strict", {
        key: "strict/1.csv",
        table: "strict_t",
        columns: COLUMNS,
        args: ARGS,
      }),
      loadJob("sales/nokey", { table: "strict_nokey", columns: COLUMNS, args: ARGS }),
    ]);

  it.each([
    [
      "an unknown parameter",
      { colour: "red" },
      "job sales/strict: parameters.colour: unknown field",
    ],
    [
      "a bad mode",
      { mode: "replace" },
      "parameters.mode: expected one of abort, append, delete, drop, switch, truncate",
    ],
    [
      "OIDS in args",
      { args: ["FORMAT CSV", "OIDS"] },
      "parameters.args[1]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS",
    ],
    [
      "an unknown COPY option",
      { args: ["FORMAT CSV", "COMPRESSION gzip"] },
      'parameters.args[1]: unknown COPY option "COMPRESSION"',
    ],
    [
      "an unparsable min_size",
      { min_size: "10 XB" },
      "parameters.min_size: expected a size like 100, 10KB or 1MiB",
    ],
    [
      "columns, which the job does not allow a dispatch to set",
      { columns: ["id INTEGER", "name TEXT DEFAULT 'x'"] },
      "job sales/strict: parameters.columns: a dispatch may not set columns unless the job has parameters.allow_dispatch_columns: true",
    ],
    [
      "allow_dispatch_columns",
      { allow_dispatch_columns: true, columns: ["id INTEGER", "name TEXT"] },
      "job sales/strict: parameters.allow_dispatch_columns: only the job spec can set this, not a dispatch, got true",
    ],
  ])("refuses %s in the dispatch parameters", async (_what, parameters, message) => {
    await world.s3.put(BUCKET, "strict/1.csv", csv([1, "a"]));
    const { result, awsCalls } = await runCounting(strict(), {
      job_id: "sales/strict",
      parameters,
    });
    expect(result).toMatchObject({
      status: "failed",
      error: { name: "SpecError", retryable: false },
    });
    expect(result.error?.message).toContain(message);
    expect(awsCalls).toBe(0);
    expect(await exists("strict_t")).toBe(false);
  });

  it("refuses a job without key when the dispatch gives none", async () => {
    const { result, awsCalls } = await runCounting(strict(), { job_id: "sales/nokey" });
    expect(result).toMatchObject({ status: "failed", error: { name: "SpecError" } });
    expect(result.error?.message).toContain("job sales/nokey: parameters.key: required");
    expect(awsCalls).toBe(0);
    expect(await exists("strict_nokey")).toBe(false);
  });

  it("refuses an unknown parameter in the job spec already when the realm is validated", () => {
    expect(() =>
      world.realm([loadJob("sales/bad", { key: "k", table: "t", colour: "red" })]),
    ).toThrow("job sales/bad: parameters.colour: unknown field");
  });

  it("merges dispatch parameters over the job's: the dispatch key is loaded", async () => {
    await world.s3.put(BUCKET, "merge/present.csv", csv([1, "a"], [2, "b"]));
    const realm = world.realm([
      loadJob("sales/merge", {
        key: "merge/absent.csv",
        table: "merged",
        columns: COLUMNS,
        args: ARGS,
      }),
    ]);
    const r = await run(realm, { job_id: "sales/merge", parameters: { key: "merge/present.csv" } });
    expect(r).toMatchObject({
      status: "ok",
      rows: 2,
      key: "merge/present.csv",
      table: "sales.merged",
    });
    expect(await ids("merged")).toEqual([1, 2]);
  });

  it("gives a key to a job without one through the dispatch", async () => {
    await world.s3.put(BUCKET, "strict/nokey.csv", csv([3, "c"]));
    const r = await run(strict(), {
      job_id: "sales/nokey",
      parameters: { key: "strict/nokey.csv" },
    });
    expect(r).toMatchObject({ status: "ok", rows: 1, key: "strict/nokey.csv" });
    expect(await ids("strict_nokey")).toEqual([3]);
  });

  it("loads with the same job and valid parameters (control)", async () => {
    await world.s3.put(BUCKET, "strict/1.csv", csv([1, "a"]));
    const r = await run(strict(), {
      job_id: "sales/strict",
      parameters: { mode: "truncate", min_size: "10B" },
    });
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(await ids("strict_t")).toEqual([1]);
  });
});

describe("db_from_s3 column specs", () => {
  it("creates a table PostgreSQL accepts from every kind of column spec the grammar allows", async () => {
    // Prepare
    const columns = [
      "id BIGINT PRIMARY KEY",
      `"Name" CHARACTER VARYING(20) NOT NULL DEFAULT 'n/a'`,
      "amount NUMERIC(12,2) DEFAULT -0.5",
      "ratio DOUBLE PRECISION",
      "at TIMESTAMP(3) WITH TIME ZONE",
      "span INTERVAL DAY TO SECOND(0)",
      "tags TEXT[] DEFAULT '{}'",
      "grid INTEGER ARRAY[3]",
      "flag BOOLEAN DEFAULT FALSE",
      "note TEXT NULL UNIQUE",
      "path TEXT DEFAULT 'C:\\dir'",
    ];
    const body = `${columns.map((c) => c.split(" ")[0]).join(",")}\n1,x,2.5,0.1,2020-01-01 00:00:00+00,1 day,{a},{1},true,n,p\n`;
    await world.s3.put(BUCKET, "coltypes/1.csv", body);
    const realm = world.realm([
      loadJob("sales/coltypes", { key: "coltypes/1.csv", table: "coltypes", columns, args: ARGS }),
    ]);
    // Act
    const r = await run(realm, { job_id: "sales/coltypes" });
    await world.rows("INSERT INTO sales.coltypes (id) VALUES (2)");
    // Assess
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    const types = await world.rows<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'sales' AND table_name = 'coltypes' ORDER BY ordinal_position",
    );
    expect(types.map((t) => `${t.column_name} ${t.data_type}`)).toEqual([
      "id bigint",
      "Name character varying",
      "amount numeric",
      "ratio double precision",
      "at timestamp with time zone",
      "span interval",
      "tags ARRAY",
      "grid ARRAY",
      "flag boolean",
      "note text",
      "path text",
    ]);
    const [defaults] = await world.rows(
      `SELECT "Name" AS name, amount::text AS amount, tags::text AS tags, flag, path FROM sales.coltypes WHERE id = 2`,
    );
    expect(defaults).toEqual({
      name: "n/a",
      amount: "-0.50",
      tags: "{}",
      flag: false,
      path: "C:\\dir",
    });
  });

  it("with allow_dispatch_columns: true, creates the table from the columns a dispatch gives", async () => {
    await world.s3.put(BUCKET, "dispcols/1.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/dispcols", {
        key: "dispcols/1.csv",
        table: "dispcols",
        args: ARGS,
        allow_dispatch_columns: true,
      }),
    ]);
    const r = await run(realm, {
      job_id: "sales/dispcols",
      parameters: { columns: ["id INTEGER PRIMARY KEY", "name VARCHAR(5) NOT NULL"] },
    });
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(await ids("dispcols")).toEqual([1]);
  });

  it("refuses an expression in a column spec a dispatch gives, before any S3, SSM or database work", async () => {
    await world.s3.put(BUCKET, "dispcols/2.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/dispexpr", {
        key: "dispcols/2.csv",
        table: "dispexpr",
        args: ARGS,
        allow_dispatch_columns: true,
      }),
    ]);
    const { result, awsCalls } = await runCounting(realm, {
      job_id: "sales/dispexpr",
      parameters: { columns: ["id int DEFAULT (pg_sleep(5))", "name TEXT"] },
    });
    expect(result).toMatchObject({ status: "failed", error: { name: "SpecError" } });
    expect(result.error?.message).toContain(
      `job sales/dispexpr: parameters.columns[0]: column "id": DEFAULT must be a constant`,
    );
    expect(awsCalls).toBe(0);
    expect(await exists("dispexpr")).toBe(false);
  });
});

describe("db_from_s3 lava template idioms", () => {
  it("renders the key from ustart.strftime (today's UTC date)", async () => {
    const now = new Date();
    const day = now.toISOString().slice(0, 10).replaceAll("-", "");
    await world.s3.put(BUCKET, `daily/${day}.csv`, csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/daily", {
        key: "daily/{{ ustart.strftime('%Y%m%d') }}.csv",
        table: "daily",
        columns: COLUMNS,
        args: ARGS,
      }),
    ]);
    const r = await run(realm, { job_id: "sales/daily" }, { start: now });
    expect(r).toMatchObject({ status: "ok", rows: 1, key: `daily/${day}.csv` });
  });

  it("renders the table from the key with Python indexing and method chains (then folds it)", async () => {
    await world.s3.put(BUCKET, "tpl/Orders_2024.csv.gz.bak", csv([1, "a"]));
    const realm = world.realm([
      loadJob("sales/tpl", {
        key: "tpl/Orders_2024.csv.gz.bak",
        table: "{{ key.split('/')[-1].split('.')[0] }}",
        columns: COLUMNS,
        args: ARGS,
      }),
    ]);
    const r = await run(realm, { job_id: "sales/tpl" });
    expect(r).toMatchObject({
      status: "ok",
      rows: 1,
      table: "sales.orders_2024",
      loaded_table: '"sales"."orders_2024"',
    });
    expect(await ids("orders_2024")).toEqual([1]);
  });

  it("renders the schema from vars with a default", async () => {
    await world.rows("CREATE SCHEMA tplvars AUTHORIZATION loader");
    await world.s3.put(BUCKET, "tplv/1.csv", csv([1, "a"]));
    const job = (vars?: Record<string, unknown>) =>
      world.realm([
        loadJob("sales/vars", {
          key: "tplv/1.csv",
          schema: "{{ vars.schema | default('sales') }}",
          table: "tpl_vars",
          columns: COLUMNS,
          args: ARGS,
          ...(vars ? { vars } : {}),
        }),
      ]);
    const byDefault = await run(job(), { job_id: "sales/vars" });
    const bySales = await run(job({ schema: "sales" }), {
      job_id: "sales/vars",
      parameters: { mode: "truncate", reload: true },
    });
    const byOther = await run(job({ schema: "tplvars" }), { job_id: "sales/vars" });
    expect(byDefault).toMatchObject({ status: "ok", rows: 1, table: "sales.tpl_vars" });
    expect(bySales).toMatchObject({ status: "ok", rows: 1, table: "sales.tpl_vars" });
    expect(byOther).toMatchObject({
      status: "ok",
      rows: 1,
      table: "tplvars.tpl_vars",
      loaded_table: '"tplvars"."tpl_vars"',
    });
    expect(await ids("tpl_vars", "tplvars")).toEqual([1]);
  });

  it("leaves {{ }} literally with jinja: false", async () => {
    const key = "raw/{{ ustart.strftime('%Y') }}.csv";
    await world.s3.put(BUCKET, key, csv([9, "r"]));
    const realm = world.realm([
      loadJob("sales/raw", { key, table: "rawjinja", columns: COLUMNS, args: ARGS, jinja: false }),
    ]);
    const r = await run(realm, { job_id: "sales/raw" });
    expect(r).toMatchObject({ status: "ok", rows: 1, key, table: "sales.rawjinja" });
    expect(await ids("rawjinja")).toEqual([9]);
  });

  it("with jinja: false a templated key that does not exist literally is missing", async () => {
    const realm = world.realm([
      loadJob("sales/raw2", {
        key: "raw2/{{ realm }}.csv",
        table: "raw2",
        columns: COLUMNS,
        args: ARGS,
        jinja: false,
        skip_missing: true,
      }),
    ]);
    await world.s3.put(BUCKET, "raw2/dev.csv", csv([1, "a"]));
    expect(await run(realm, { job_id: "sales/raw2" })).toMatchObject({
      status: "skipped",
      reason: "missing",
      key: "raw2/{{ realm }}.csv",
    });
  });
});

describe("db_from_s3 secrets", () => {
  it("fails with DatabaseConnectError on a wrong password, without the password in the result", async () => {
    world.aws.setParameter("/lava/dev/loader2", "wrong-pw", "SecureString", "alias/lava-dev-sys");
    await world.s3.put(BUCKET, "pw/1.csv", csv([1, "a"]));
    const realm = world.realm(
      [loadJob("sales/pw", { key: "pw/1.csv", table: "pw_t", columns: COLUMNS, args: ARGS })],
      {
        password: "/lava/dev/loader2",
      },
    );
    const r = await run(realm, { job_id: "sales/pw" });
    expect(r).toMatchObject({ status: "failed", error: { name: "DatabaseConnectError" } });
    expect(r.error?.message).toContain("connection pg: cannot connect to");
    expect(r.error?.message).toContain("password authentication failed");
    expect(JSON.stringify(r)).not.toContain("wrong-pw");
    expect(world.aws.callsTo("ssm").some((c) => c.body.Name === "/lava/dev/loader2")).toBe(true);
    expect(await exists("pw_t")).toBe(false);
  });

  it("no result of this file, ok, skipped or failed, holds the loader's password", () => {
    // Every run above went through run(), which checked each result as it came.
    const statuses = new Set(results.map((r) => r.status));
    expect(statuses).toEqual(new Set(["ok", "skipped", "failed"]));
    expect(results.length).toBeGreaterThan(20);
    for (const r of results) expectNoSecrets(r);
  });
});

describe("templates and dispatched values", () => {
  it("takes parameters the dispatch marks literal_parameters literally: a key holding template syntax is never run as a template", async () => {
    // Prepare: an object whose key a trigger passes on already rendered (and marked so).
    const key = "tpl/{{ realm }}-{% if true %}x{% endif %}.csv";
    await world.s3.put(BUCKET, key, csv([1, "a"]));
    const realm = world.realm([loadJob("lit", { table: "lit", columns: COLUMNS, args: ARGS })]);
    // Act
    const r = await run(realm, {
      job_id: "lit",
      parameters: { key },
      literal_parameters: ["key"],
    });
    // Assess
    expect(r).toMatchObject({ status: "ok", key, rows: 1 });
  });

  it("renders other dispatched parameters as lava does", async () => {
    await world.s3.put(BUCKET, "tpl/rendered-dev.csv", csv([1, "a"]));
    const realm = world.realm([loadJob("rnd", { table: "rnd", columns: COLUMNS, args: ARGS })]);
    const r = await run(realm, {
      job_id: "rnd",
      parameters: { key: "tpl/rendered-{{ globals.day }}.csv" },
      globals: { day: "dev" },
    });
    expect(r).toMatchObject({ status: "ok", key: "tpl/rendered-dev.csv", rows: 1 });
  });

  it("refuses a literal_parameters that is not a list of parameter names", async () => {
    const realm = world.realm([loadJob("rnd", { table: "rnd", columns: COLUMNS, args: ARGS })]);
    const r = await run(realm, {
      job_id: "rnd",
      parameters: { key: "x.csv" },
      literal_parameters: "key" as unknown as string[],
    });
    expect(r.error).toMatchObject({
      name: "SpecError",
      message: 'dispatch: literal_parameters: expected a list of parameter names, got "key"',
    });
  });

  it("still renders templates written in the job's own parameters", async () => {
    await world.s3.put(BUCKET, "tpl/dev.csv", csv([1, "a"]));
    const realm = world.realm([
      loadJob("own", {
        key: "tpl/{{ realm.realm }}.csv",
        table: "own",
        columns: COLUMNS,
        args: ARGS,
      }),
    ]);
    expect(await run(realm, { job_id: "own" })).toMatchObject({ status: "ok", key: "tpl/dev.csv" });
  });
});
