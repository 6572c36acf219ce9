/** db_from_s3 through the streaming loader: every mode, against real PostgreSQL and S3. */
import { describe, expect, it } from "vitest";
import type { Progress } from "../../lambda/jobs/types";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const COLUMNS = ["id INTEGER PRIMARY KEY", "name TEXT"];
const csv = (...rows: [number, string][]) =>
  `id,name\n${rows.map(([i, n]) => `${i},${n}`).join("\n")}\n`;

/** Put `body` at `key` and run a job loading it into sales.<table> in `mode`. */
async function load(
  table: string,
  mode: string,
  key: string,
  body: string | undefined,
  extra: Record<string, unknown> = {},
) {
  if (body !== undefined) await world.s3.put(BUCKET, key, body);
  const realm = world.realm([
    loadJob("sales/load", {
      key,
      table,
      mode,
      columns: COLUMNS,
      args: ["FORMAT CSV", "HEADER"],
      ...extra,
    }),
  ]);
  return world.run(realm, { job_id: "sales/load" });
}

const ids = async (table: string) =>
  (await world.rows<{ id: number }>(`SELECT id FROM sales.${table} ORDER BY id`)).map((r) => r.id);

describe("db_from_s3 modes", () => {
  it("append creates the table from columns and adds rows", async () => {
    // Act
    const first = await load("app", "append", "app/1.csv", csv([1, "a"], [2, "b"]));
    const second = await load("app", "append", "app/2.csv", csv([3, "c"]));
    // Assess
    expect(first).toMatchObject({
      status: "ok",
      rows: 2,
      table: "sales.app",
      loaded_table: '"sales"."app"',
    });
    expect(second).toMatchObject({ status: "ok", rows: 1 });
    expect(await ids("app")).toEqual([1, 2, 3]);
    expect(first.events.join("\n")).toContain('created "sales"."app"');
  });

  it("truncate replaces the rows", async () => {
    await load("tr", "truncate", "tr/1.csv", csv([1, "a"], [2, "b"]));
    const r = await load("tr", "truncate", "tr/2.csv", csv([7, "x"]));
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(await ids("tr")).toEqual([7]);
  });

  it("delete deletes every row first", async () => {
    await load("del", "delete", "del/1.csv", csv([1, "a"]));
    const r = await load("del", "delete", "del/2.csv", csv([5, "e"], [6, "f"]));
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await ids("del")).toEqual([5, 6]);
    expect(r.events.join("\n")).toContain('deleted 1 rows from "sales"."del"');
  });

  it("drop recreates the table from columns", async () => {
    await load("dr", "append", "dr/0.csv", "id\n1\n", { columns: ["id INTEGER"] });
    const r = await load("dr", "drop", "dr/1.csv", csv([9, "n"]));
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    const cols = await world.rows<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sales' AND table_name = 'dr' ORDER BY ordinal_position",
    );
    expect(cols.map((c) => c.column_name)).toEqual(["id", "name"]);
    expect(await ids("dr")).toEqual([9]);
  });

  it("abort loads into an empty table and fails when the table holds rows", async () => {
    const first = await load("ab", "abort", "ab/1.csv", csv([1, "a"]));
    const second = await load("ab", "abort", "ab/2.csv", csv([2, "b"]));
    expect(first).toMatchObject({ status: "ok", rows: 1 });
    expect(second).toMatchObject({
      status: "failed",
      error: { name: "TargetStateError", message: 'table "sales"."ab" holds rows (mode abort)' },
    });
    expect(await ids("ab")).toEqual([1]);
  });

  it("abort loads into an existing empty table", async () => {
    await world.rows("CREATE TABLE sales.ab2 (id INTEGER PRIMARY KEY, name TEXT)");
    await world.rows("ALTER TABLE sales.ab2 OWNER TO loader");
    expect(await load("ab2", "abort", "ab2/1.csv", csv([4, "d"]))).toMatchObject({
      status: "ok",
      rows: 1,
    });
  });

  it("switch alternates between _a and _b, emptying the other, and fails when neither is empty", async () => {
    // Act
    const r1 = await load("sw", "switch", "sw/1.csv", csv([1, "a"]));
    const r2 = await load("sw", "switch", "sw/2.csv", csv([2, "b"], [3, "c"]));
    const r3 = await load("sw", "switch", "sw/3.csv", csv([4, "d"]));
    // Assess
    expect([r1.loaded_table, r2.loaded_table, r3.loaded_table]).toEqual([
      '"sales"."sw_a"',
      '"sales"."sw_b"',
      '"sales"."sw_a"',
    ]);
    expect(await ids("sw_a")).toEqual([4]);
    expect(await ids("sw_b")).toEqual([]);
    await world.rows("INSERT INTO sales.sw_b VALUES (99, 'z')");
    const r4 = await load("sw", "switch", "sw/4.csv", csv([5, "e"]));
    expect(r4).toMatchObject({
      status: "failed",
      error: {
        name: "TargetStateError",
        message: 'neither "sales"."sw_a" nor "sales"."sw_b" is empty (mode switch)',
      },
    });
    expect(await ids("sw_a")).toEqual([4]);
  });

  it("fails when the table is missing and there are no columns to create it", async () => {
    const r = await load("nocols", "append", "nocols/1.csv", csv([1, "a"]), { columns: undefined });
    expect(r).toMatchObject({
      status: "failed",
      error: {
        name: "TargetStateError",
        message: 'table "sales"."nocols" does not exist and no columns are given to create it',
      },
    });
    expect(await world.rows("SELECT to_regclass('sales.nocols') AS t")).toEqual([{ t: null }]);
  });

  it("loads gzip objects with GZIP and reports progress in bytes", async () => {
    const { gzipSync } = await import("node:zlib");
    await world.s3.put(BUCKET, "gz/1.csv.gz", gzipSync(csv([1, "a"], [2, "b"])));
    const seen: number[] = [];
    const realm = world.realm([
      loadJob("sales/gz", {
        key: "gz/1.csv.gz",
        table: "gz",
        columns: COLUMNS,
        args: ["FORMAT CSV", "HEADER", "GZIP"],
      }),
    ]);
    const r = await world.run(
      realm,
      { job_id: "sales/gz" },
      { onProgress: (p) => seen.push(p.bytes) },
    );
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(seen.at(-1)).toBeGreaterThan(0);
  });

  it("reports rows with progressRows: the lines passed to COPY while it streams, then its count", async () => {
    const { gzipSync } = await import("node:zlib");
    const lines = Array.from({ length: 60_000 }, (_, i) => `${i},name number ${i}`);
    const text = `id,name\n${lines.join("\n")}\n`;
    await world.s3.put(BUCKET, "rows/big.csv", text);
    await world.s3.put(BUCKET, "rows/big.csv.gz", gzipSync(text));
    const job = (id: string, key: string, args: string[]) =>
      loadJob(id, { key, table: `rows_${id}`, columns: COLUMNS, args });
    const realm = world.realm([
      job("plain", "rows/big.csv", ["FORMAT CSV", "HEADER"]),
      job("gz", "rows/big.csv.gz", ["FORMAT CSV", "HEADER", "GZIP"]),
      job("uncounted", "rows/big.csv", ["FORMAT CSV", "HEADER"]),
    ]);
    const progressOf = async (jobId: string, progressRows: boolean) => {
      const seen: Progress[] = [];
      const r = await world.run(
        realm,
        { job_id: jobId },
        { onProgress: (p) => seen.push(p), progressRows },
      );
      expect(r).toMatchObject({ status: "ok", rows: 60_000 });
      return seen;
    };
    for (const jobId of ["plain", "gz"]) {
      const seen = await progressOf(jobId, true);
      const last = seen.at(-1);
      // The end: every byte and COPY's own count (the header line is not a row).
      expect(last).toMatchObject({ bytes: last?.totalBytes, rows: 60_000 });
      // On the way: lines counted so far, never fewer as it goes, some before the end.
      const during = seen.slice(0, -1).map((p) => p.rows ?? -1);
      expect(during.length).toBeGreaterThan(0);
      expect(during.every((n, i) => n >= 0 && n >= (during[i - 1] ?? 0))).toBe(true);
      expect(seen.slice(0, -1).every((p) => p.bytes < p.totalBytes)).toBe(true);
    }
    // Without progressRows nothing is counted (the runner's metrics need bytes only).
    const bytesOnly = await progressOf("uncounted", false);
    expect(bytesOnly.every((p) => p.rows === undefined)).toBe(true);
    expect(bytesOnly.at(-1)?.bytes).toBe(bytesOnly.at(-1)?.totalBytes);
  });

  it("records every load in the ledger with the object's identity, run and rows", async () => {
    const r = await load("led", "append", "led/1.csv", csv([1, "a"], [2, "b"]));
    const rows = await world.rows(
      'SELECT target_table, bucket, key, loaded_table, run_id, rows_loaded, job_id FROM lava.load_ledger WHERE target_table = \'"sales"."led"\'',
    );
    expect(rows).toEqual([
      {
        target_table: '"sales"."led"',
        bucket: BUCKET,
        key: "led/1.csv",
        loaded_table: '"sales"."led"',
        run_id: r.run_id,
        rows_loaded: "2",
        job_id: "sales/load",
      },
    ]);
  });
});
