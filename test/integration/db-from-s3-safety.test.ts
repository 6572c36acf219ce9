/**
 * db_from_s3 data safety: a failed load leaves the target exactly as it was
 * (bad data, a killed backend, the deadline), in every mode; duplicates and
 * stale objects are skipped; concurrent runs into one table serialize.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { LOAD_MODES } from "../../lambda/spec/job";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

/** Each row costs 10 ms in the domain's CHECK, so a load of a few hundred rows lasts seconds. */
const SLOW_COLUMNS = ["id INTEGER", "name sales.slow_text"];
const rowsCsv = (from: number, n: number) =>
  `id,name\n${Array.from({ length: n }, (_, i) => `${from + i},n${from + i}`).join("\n")}\n`;

beforeAll(async () => {
  await world.rows(
    `CREATE FUNCTION sales.slow_ok(v text) RETURNS boolean LANGUAGE sql AS $$ SELECT pg_sleep(0.01) IS NULL OR v IS NOT NULL $$`,
  );
  await world.rows("GRANT EXECUTE ON FUNCTION sales.slow_ok(text) TO loader");
  // A domain with the slow CHECK: column specs accept no expressions (CHECK included).
  await world.rows("CREATE DOMAIN sales.slow_text AS text CHECK (sales.slow_ok(VALUE))");
});

function job(jobId: string, table: string, mode: string, params: Record<string, unknown> = {}) {
  return loadJob(jobId, {
    table,
    mode,
    columns: SLOW_COLUMNS,
    args: ["FORMAT CSV", "HEADER"],
    ...params,
  });
}

/** Everything a load could change: the rows of the table (both tables in switch) and its ledger rows. */
async function snapshot(table: string) {
  const physical = (
    await world.rows<{ t: string }>(
      "SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sales' AND c.relname IN ($1, $2, $3) ORDER BY 1",
      [table, `${table}_a`, `${table}_b`],
    )
  ).map((r) => r.t);
  const contents: Record<string, unknown> = {};
  for (const t of physical)
    contents[t] = await world.rows(`SELECT id, name FROM sales.${t} ORDER BY id`);
  contents.ledger = await world.rows(
    "SELECT key, object_identity, run_id FROM lava.load_ledger WHERE target_table = $1 ORDER BY key",
    [`"sales"."${table}"`],
  );
  return contents;
}

/** Load a first good object so the target holds something to lose (its key sorts first: objects of the same second are ordered by key). */
async function seed(table: string, mode: string) {
  await world.s3.put(BUCKET, `${table}/0-seed.csv`, rowsCsv(1, 2));
  const r = await world.run(
    world.realm([job("seed", table, mode, { key: `${table}/0-seed.csv` })]),
    {
      job_id: "seed",
    },
  );
  expect(r).toMatchObject({ status: "ok", rows: 2 });
}

describe.each(LOAD_MODES.filter((m) => m !== "abort"))(
  "a failed load in mode %s leaves the target as it was",
  (mode) => {
    it("when the third of three manifest entries holds a bad row", async () => {
      // Prepare
      const table = `bad_${mode}`;
      await seed(table, mode);
      const before = await snapshot(table);
      await world.s3.put(BUCKET, `${table}/1.csv`, rowsCsv(10, 3));
      await world.s3.put(BUCKET, `${table}/2.csv`, rowsCsv(20, 3));
      await world.s3.put(BUCKET, `${table}/3.csv`, "id,name\n30,ok\nthirty-one,bad\n");
      const manifest = {
        entries: [1, 2, 3].map((i) => ({
          url: `s3://${BUCKET}/${table}/${i}.csv`,
          mandatory: true,
        })),
      };
      await world.s3.put(BUCKET, `${table}/load.manifest`, JSON.stringify(manifest));
      const realm = world.realm([
        job("m", table, mode, {
          key: `${table}/load.manifest`,
          args: ["FORMAT CSV", "HEADER", "MANIFEST"],
        }),
      ]);
      // Act
      const r = await world.run(realm, { job_id: "m" });
      // Assess
      expect(r.status).toBe("failed");
      expect(r.error).toMatchObject({ name: "BadDataError", retryable: false });
      expect(r.error?.message).toBe(
        `bad data in s3://${BUCKET}/${table}/3.csv: line 3, column id: invalid input syntax for type integer: "thirty-one"`,
      );
      expect(await snapshot(table)).toEqual(before);
    });

    it("when the deadline comes during the COPY", async () => {
      const table = `late_${mode}`;
      await seed(table, mode);
      const before = await snapshot(table);
      await world.s3.put(BUCKET, `${table}/big.csv`, rowsCsv(100, 400));
      const realm = world.realm([job("late", table, mode, { key: `${table}/big.csv` })]);
      // 3 s margin + 1 s: the statement_timeout cancels the COPY after about a second.
      const r = await world.run(realm, { job_id: "late" }, { deadline: Date.now() + 4_000 });
      expect(r.error).toMatchObject({ name: "LoadTimeoutError", retryable: true });
      expect(await snapshot(table)).toEqual(before);
    });

    it("when the backend is killed during the COPY", async () => {
      const table = `kill_${mode}`;
      await seed(table, mode);
      const before = await snapshot(table);
      await world.s3.put(BUCKET, `${table}/big.csv`, rowsCsv(100, 400));
      const realm = world.realm([job("sales/kill", table, mode, { key: `${table}/big.csv` })]);
      // Act: start the load, find its COPY by application_name, terminate it.
      const running = world.run(realm, { job_id: "sales/kill" });
      let killed = false;
      for (let i = 0; i < 100 && !killed; i++) {
        await sleep(50);
        const rows = await world.rows<{ t: boolean }>(
          "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = 'lv-dev-sales/kill' AND query LIKE 'COPY%'",
        );
        killed = rows.some((row) => row.t);
      }
      const r = await running;
      // Assess
      expect(killed).toBe(true);
      expect(r.status).toBe("failed");
      expect(await snapshot(table)).toEqual(before);
    });
  },
);

describe("a failed load in mode abort", () => {
  it("leaves an empty target empty when the third manifest entry is bad", async () => {
    const table = "bad_abort";
    await world.s3.put(BUCKET, `${table}/1.csv`, rowsCsv(1, 2));
    await world.s3.put(BUCKET, `${table}/2.csv`, "id,name\nx,y\n");
    const manifest = { entries: [1, 2].map((i) => ({ url: `s3://${BUCKET}/${table}/${i}.csv` })) };
    await world.s3.put(BUCKET, `${table}/m.manifest`, JSON.stringify(manifest));
    const realm = world.realm([
      job("m", table, "abort", {
        key: `${table}/m.manifest`,
        args: ["FORMAT CSV", "HEADER", "MANIFEST"],
      }),
    ]);
    const r = await world.run(realm, { job_id: "m" });
    expect(r.error?.name).toBe("BadDataError");
    // The table created inside the failed transaction is gone again.
    expect(await snapshot(table)).toEqual({ ledger: [] });
  });
});

describe("exactly once", () => {
  it("skips a duplicate dispatch of the same object, and reload: true loads it again", async () => {
    await world.s3.put(BUCKET, "dup/1.csv", rowsCsv(1, 3));
    const realm = world.realm([job("dup", "dup", "append", { key: "dup/1.csv" })]);
    const first = await world.run(realm, { job_id: "dup" });
    const again = await world.run(realm, { job_id: "dup" });
    const reload = await world.run(realm, { job_id: "dup", parameters: { reload: true } });
    expect(first).toMatchObject({ status: "ok", rows: 3 });
    expect(again).toMatchObject({ status: "skipped", reason: "duplicate" });
    expect(again.events.join("\n")).toContain(
      `already loaded into sales.dup by run ${first.run_id}`,
    );
    expect(reload).toMatchObject({ status: "ok", rows: 3 });
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.dup")).toEqual([{ n: 6 }]);
  });

  it("loads a re-upload of the same file again (a new identity)", async () => {
    await world.s3.put(BUCKET, "reup/1.csv", rowsCsv(1, 1));
    const realm = world.realm([job("reup", "reup", "append", { key: "reup/1.csv" })]);
    expect((await world.run(realm, { job_id: "reup" })).status).toBe("ok");
    await sleep(1100);
    await world.s3.put(BUCKET, "reup/1.csv", rowsCsv(1, 1));
    expect((await world.run(realm, { job_id: "reup" })).status).toBe("ok");
  });

  it("skips an object older than the newest loaded in truncate mode (stale)", async () => {
    await world.s3.put(BUCKET, "st/old.csv", rowsCsv(1, 1));
    await sleep(1100);
    await world.s3.put(BUCKET, "st/new.csv", rowsCsv(50, 1));
    const realm = world.realm([job("st", "st", "truncate")]);
    const newer = await world.run(realm, { job_id: "st", parameters: { key: "st/new.csv" } });
    const older = await world.run(realm, { job_id: "st", parameters: { key: "st/old.csv" } });
    expect(newer.status).toBe("ok");
    expect(older).toMatchObject({ status: "skipped", reason: "stale" });
    expect(await world.rows("SELECT id FROM sales.st")).toEqual([{ id: 50 }]);
    const forced = await world.run(realm, {
      job_id: "st",
      parameters: { key: "st/old.csv", reload: true },
    });
    expect(forced.status).toBe("ok");
  });

  /** Put two objects whose Last-Modified (1 s resolution) is the same second. */
  async function sameSecond(a: string, b: string) {
    for (;;) {
      await world.s3.put(BUCKET, a, rowsCsv(1, 1));
      await world.s3.put(BUCKET, b, rowsCsv(50, 1));
      const head = (key: string) =>
        world.s3.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      const [ha, hb] = [await head(a), await head(b)];
      if (ha.LastModified?.getTime() === hb.LastModified?.getTime()) return;
    }
  }

  it("orders objects modified in the same second by key: the table ends with the same one in either order (truncate)", async () => {
    // Prepare: tie/1.csv and tie/2.csv in the same second; 2 sorts last, so it is "newer".
    await sameSecond("tie/1.csv", "tie/2.csv");
    const realm = world.realm([job("tie", "tie1", "truncate"), job("tie2", "tie2", "truncate")]);
    // Act: the newer first, then the older one late; and the other order into another table.
    const newer = await world.run(realm, { job_id: "tie", parameters: { key: "tie/2.csv" } });
    const late = await world.run(realm, { job_id: "tie", parameters: { key: "tie/1.csv" } });
    const first = await world.run(realm, { job_id: "tie2", parameters: { key: "tie/1.csv" } });
    const second = await world.run(realm, { job_id: "tie2", parameters: { key: "tie/2.csv" } });
    // Assess
    expect(newer.status).toBe("ok");
    expect(late).toMatchObject({ status: "skipped", reason: "stale" });
    expect(late.events.join("\n")).toContain("modified in the same second, sorts after");
    expect([first.status, second.status]).toEqual(["ok", "ok"]);
    expect(await world.rows("SELECT id FROM sales.tie1")).toEqual([{ id: 50 }]);
    expect(await world.rows("SELECT id FROM sales.tie2")).toEqual([{ id: 50 }]);
  });

  it("loads a re-upload of the same key in the same second (what S3 holds now is the newest)", async () => {
    await world.s3.put(BUCKET, "tie/same.csv", rowsCsv(1, 1));
    const realm = world.realm([job("same", "tie3", "truncate", { key: "tie/same.csv" })]);
    expect((await world.run(realm, { job_id: "same" })).status).toBe("ok");
    // Each upload different content: the same content in the same second is the same object.
    let id = 70;
    for (; ; id++) {
      const before = await world.rows<{ t: Date }>(
        'SELECT max(last_modified) AS t FROM lava.load_ledger WHERE target_table = \'"sales"."tie3"\'',
      );
      await world.s3.put(BUCKET, "tie/same.csv", rowsCsv(id, 1));
      const h = await world.s3
        .client()
        .send(new HeadObjectCommand({ Bucket: BUCKET, Key: "tie/same.csv" }));
      if (h.LastModified?.getTime() === before[0]?.t.getTime()) break;
      // Crossed a second boundary: load this one and try again within a second.
      expect((await world.run(realm, { job_id: "same" })).status).toBe("ok");
    }
    const again = await world.run(realm, { job_id: "same" });
    expect(again.status).toBe("ok");
    expect(await world.rows("SELECT id FROM sales.tie3")).toEqual([{ id }]);
  });

  it("serializes concurrent runs into one table: abort lets exactly one through", async () => {
    await world.s3.put(BUCKET, "conc/1.csv", rowsCsv(1, 30));
    await world.s3.put(BUCKET, "conc/2.csv", rowsCsv(100, 30));
    const realm = world.realm([job("conc", "conc", "abort")]);
    const results = await Promise.all([
      world.run(realm, { job_id: "conc", parameters: { key: "conc/1.csv" } }),
      world.run(realm, { job_id: "conc", parameters: { key: "conc/2.csv" } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["failed", "ok"]);
    expect(results.find((r) => r.status === "failed")?.error?.name).toBe("TargetStateError");
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.conc")).toEqual([{ n: 30 }]);
  });

  it("loads one object dispatched twice at once exactly once", async () => {
    await world.s3.put(BUCKET, "twice/1.csv", rowsCsv(1, 30));
    const realm = world.realm([job("twice", "twice", "append", { key: "twice/1.csv" })]);
    const results = await Promise.all([
      world.run(realm, { job_id: "twice" }),
      world.run(realm, { job_id: "twice" }),
    ]);
    expect(results.map((r) => `${r.status}/${r.reason ?? ""}`).sort()).toEqual([
      "ok/",
      "skipped/duplicate",
    ]);
    expect(await world.rows("SELECT count(*)::int AS n FROM sales.twice")).toEqual([{ n: 30 }]);
  });

  it("in append mode loads only the manifest entries not loaded before", async () => {
    // Prepare
    for (const i of [1, 2, 3]) await world.s3.put(BUCKET, `man/${i}.csv`, rowsCsv(i * 10, 2));
    const manifest = (...n: number[]) =>
      JSON.stringify({ entries: n.map((i) => ({ url: `s3://${BUCKET}/man/${i}.csv` })) });
    await world.s3.put(BUCKET, "man/a.manifest", manifest(1, 2));
    await world.s3.put(BUCKET, "man/b.manifest", manifest(2, 3));
    const realm = world.realm([
      job("man", "man", "append", { args: ["FORMAT CSV", "HEADER", "MANIFEST"] }),
    ]);
    // Act
    const a = await world.run(realm, { job_id: "man", parameters: { key: "man/a.manifest" } });
    const b = await world.run(realm, { job_id: "man", parameters: { key: "man/b.manifest" } });
    // Assess
    expect(a).toMatchObject({ status: "ok", rows: 4 });
    expect(b).toMatchObject({ status: "ok", rows: 2 });
    expect(b.events.join("\n")).toContain(
      `s3://${BUCKET}/man/2.csv already loaded by run ${a.run_id}: not loaded again`,
    );
    expect(
      (await world.rows<{ id: number }>("SELECT id FROM sales.man ORDER BY id")).map((r) => r.id),
    ).toEqual([10, 11, 20, 21, 30, 31]);
    const ledger = await world.rows(
      'SELECT key, via_manifest FROM lava.load_ledger WHERE target_table = \'"sales"."man"\' ORDER BY key',
    );
    expect(ledger).toEqual([
      { key: "man/1.csv", via_manifest: "man/a.manifest" },
      { key: "man/2.csv", via_manifest: "man/a.manifest" },
      { key: "man/3.csv", via_manifest: "man/b.manifest" },
      { key: "man/a.manifest", via_manifest: null },
      { key: "man/b.manifest", via_manifest: null },
    ]);
  });

  it("fails cleanly when the object is replaced during the load", async () => {
    await world.s3.put(BUCKET, "chg/1.csv", rowsCsv(1, 150));
    const realm = world.realm([job("chg", "chg", "append", { key: "chg/1.csv" })]);
    const running = world.run(realm, { job_id: "chg" });
    await sleep(700);
    await world.s3.put(BUCKET, "chg/1.csv", rowsCsv(500, 2));
    const r = await running;
    expect(r.error?.name).toBe("ObjectChangedError");
    expect(r.error?.message).toMatch(/^s3:\/\/landing\/chg\/1\.csv was replaced during the load/);
    expect(await world.rows("SELECT to_regclass('sales.chg') AS t")).toEqual([{ t: null }]);
  });
});
