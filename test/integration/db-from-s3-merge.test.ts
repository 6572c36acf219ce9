/**
 * mode merge (docs/db-from-s3.md §15) on real PostgreSQL, streaming path: new keys
 * inserted, changed rows updated (unchanged ones left alone), keys flagged by
 * the operation column deleted, duplicates within a load, tables without a key,
 * manifests, and a failure leaving the table unchanged.
 */
import { describe, expect, it } from "vitest";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const MEMBERS = ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL", "tier TEXT"];

function mergeJob(table: string, extra: Record<string, unknown> = {}) {
  return loadJob("m", {
    table,
    mode: "merge",
    columns: MEMBERS,
    args: ["FORMAT CSV"],
    ...extra,
  });
}

const rows = (table: string) =>
  world.rows<{ id: number; name: string; tier: string | null }>(
    `SELECT id, name, tier FROM sales.${table} ORDER BY id`,
  );

async function load(table: string, key: string, body: string, extra: Record<string, unknown> = {}) {
  await world.s3.put(BUCKET, key, body);
  const realm = world.realm([mergeJob(table, extra)]);
  return world.run(realm, { job_id: "m", parameters: { key } });
}

describe("mode merge", () => {
  it("inserts new keys, updates changed rows and leaves unchanged ones alone", async () => {
    const first = await load("mg", "mg/1.csv", "1,ann,gold\n2,bob,silver\n3,cy,\n");
    expect(first).toMatchObject({
      status: "ok",
      rows: 3,
      merged: { inserted: 3, updated: 0, deleted: 0 },
    });
    const second = await load("mg", "mg/2.csv", "2,bob,gold\n3,cy,\n4,di,bronze\n");
    expect(second).toMatchObject({
      status: "ok",
      rows: 3,
      merged: { inserted: 1, updated: 1, deleted: 0 },
    });
    expect(await rows("mg")).toEqual([
      { id: 1, name: "ann", tier: "gold" },
      { id: 2, name: "bob", tier: "gold" },
      { id: 3, name: "cy", tier: null },
      { id: 4, name: "di", tier: "bronze" },
    ]);
    // The same object again is a duplicate, as in every mode.
    const again = await world.run(world.realm([mergeJob("mg")]), {
      job_id: "m",
      parameters: { key: "mg/2.csv" },
    });
    expect(again).toMatchObject({ status: "skipped", reason: "duplicate" });
  });

  it("deletes keys flagged by delete_column, DMS's Op first in the file", async () => {
    await load("cdc", "cdc/0.csv", "1,ann,gold\n2,bob,silver\n3,cy,bronze\n");
    const r = await load(
      "cdc",
      "cdc/1.csv",
      "U,1,ann,platinum\nD,2,bob,silver\nI,5,ed,\nD,9,nobody,\n",
      { delete_column: "Op" },
    );
    expect(r).toMatchObject({
      status: "ok",
      rows: 4,
      merged: { inserted: 1, updated: 1, deleted: 1 },
    });
    expect(await rows("cdc")).toEqual([
      { id: 1, name: "ann", tier: "platinum" },
      { id: 3, name: "cy", tier: "bronze" },
      { id: 5, name: "ed", tier: null },
    ]);
  });

  it("lets the last row of a key win, or fails with duplicate_keys: error naming the key", async () => {
    const r = await load("dupk", "dupk/1.csv", "1,first,\n2,x,\n1,second,gold\n");
    expect(r).toMatchObject({ status: "ok", merged: { inserted: 2 } });
    expect((await rows("dupk"))[0]).toEqual({ id: 1, name: "second", tier: "gold" });
    const e = await load("dupk", "dupk/2.csv", "7,a,\n8,b,\n7,c,\n", { duplicate_keys: "error" });
    expect(e.status).toBe("failed");
    expect(e.error?.name).toBe("BadDataError");
    expect(e.error?.message).toContain("key (id)=(7) appears 2 times in the load (rows 1 and 3)");
    expect((await rows("dupk")).map((x) => x.id)).toEqual([1, 2]);
  });

  it("with insert_only inserts new keys and never changes existing rows", async () => {
    await load("ins", "ins/1.csv", "1,ann,gold\n");
    const r = await load("ins", "ins/2.csv", "1,changed,x\n2,bob,\n", { insert_only: true });
    expect(r).toMatchObject({ merged: { inserted: 1, updated: 0, deleted: 0 } });
    expect(await rows("ins")).toEqual([
      { id: 1, name: "ann", tier: "gold" },
      { id: 2, name: "bob", tier: null },
    ]);
  });

  it("takes upsert as a synonym, and key_columns with a unique index", async () => {
    await world.rows("CREATE TABLE sales.byname (id serial, name TEXT NOT NULL UNIQUE, tier TEXT)");
    await world.rows("ALTER TABLE sales.byname OWNER TO loader");
    await world.s3.put(BUCKET, "byname/1.csv", "ann,gold\nbob,\n");
    await world.s3.put(BUCKET, "byname/2.csv", "ann,silver\n");
    const realm = world.realm([
      loadJob("u", {
        table: "byname",
        mode: "upsert",
        key_columns: ["name"],
        columns: ["name TEXT", "tier TEXT"],
        args: ["FORMAT CSV"],
      }),
    ]);
    expect(
      await world.run(realm, { job_id: "u", parameters: { key: "byname/1.csv" } }),
    ).toMatchObject({
      merged: { inserted: 2 },
    });
    expect(
      await world.run(realm, { job_id: "u", parameters: { key: "byname/2.csv" } }),
    ).toMatchObject({
      merged: { inserted: 0, updated: 1 },
    });
    expect(await world.rows("SELECT name, tier FROM sales.byname ORDER BY name")).toEqual([
      { name: "ann", tier: "silver" },
      { name: "bob", tier: null },
    ]);
  });

  it("refuses a table without a primary key and no key_columns, and keys without a unique index", async () => {
    await world.rows("CREATE TABLE sales.nokey (id INTEGER, name TEXT)");
    await world.rows("ALTER TABLE sales.nokey OWNER TO loader");
    await world.s3.put(BUCKET, "nokey/1.csv", "1,a\n");
    const job = (extra: Record<string, unknown>) =>
      loadJob("n", { table: "nokey", mode: "merge", args: ["FORMAT CSV"], ...extra });
    const none = await world.run(world.realm([job({})]), {
      job_id: "n",
      parameters: { key: "nokey/1.csv" },
    });
    expect(none.error?.name).toBe("TargetStateError");
    expect(none.error?.message).toContain(
      'table "sales"."nokey" has no primary key: give key_columns',
    );
    const loose = await world.run(world.realm([job({ key_columns: ["id"] })]), {
      job_id: "n",
      parameters: { key: "nokey/1.csv" },
    });
    expect(loose.error?.message).toContain(
      'has no unique index on exactly ("id"); create one: CREATE UNIQUE INDEX ON "sales"."nokey" ("id")',
    );
    expect(await world.rows("SELECT * FROM sales.nokey")).toEqual([]);
  });

  it("merges a manifest's entries in order, and a bad row in any entry leaves the table unchanged", async () => {
    await load("mm", "mm/0.csv", "1,ann,gold\n");
    await world.s3.put(BUCKET, "mm/a.csv", "1,ann,silver\n2,bob,\n");
    await world.s3.put(BUCKET, "mm/b.csv", "1,ann,bronze\n");
    await world.s3.put(
      BUCKET,
      "mm/m.manifest",
      JSON.stringify({
        entries: [{ url: `s3://${BUCKET}/mm/a.csv` }, { url: `s3://${BUCKET}/mm/b.csv` }],
      }),
    );
    const realm = world.realm([mergeJob("mm", { args: ["FORMAT CSV", "MANIFEST"] })]);
    const r = await world.run(realm, { job_id: "m", parameters: { key: "mm/m.manifest" } });
    expect(r).toMatchObject({ status: "ok", rows: 3, merged: { inserted: 1, updated: 1 } });
    expect(await rows("mm")).toEqual([
      { id: 1, name: "ann", tier: "bronze" },
      { id: 2, name: "bob", tier: null },
    ]);
    await world.s3.put(BUCKET, "mm/c.csv", "1,ann,x\n");
    await world.s3.put(BUCKET, "mm/d.csv", "3,cy,\nnot-a-number,z,\n");
    await world.s3.put(
      BUCKET,
      "mm/n.manifest",
      JSON.stringify({
        entries: [{ url: `s3://${BUCKET}/mm/c.csv` }, { url: `s3://${BUCKET}/mm/d.csv` }],
      }),
    );
    const bad = await world.run(realm, { job_id: "m", parameters: { key: "mm/n.manifest" } });
    expect(bad.error?.name).toBe("BadDataError");
    expect(bad.error?.message).toContain(`s3://${BUCKET}/mm/d.csv`);
    expect((await rows("mm"))[0]).toEqual({ id: 1, name: "ann", tier: "bronze" });
  });

  it("skips an older object after a newer one (stale), as the replacing modes do", async () => {
    await world.s3.put(BUCKET, "st/old.csv", "1,old,\n");
    await new Promise((r) => setTimeout(r, 1100));
    await world.s3.put(BUCKET, "st/new.csv", "1,new,\n");
    const realm = world.realm([mergeJob("st")]);
    expect(
      await world.run(realm, { job_id: "m", parameters: { key: "st/new.csv" } }),
    ).toMatchObject({ status: "ok" });
    expect(
      await world.run(realm, { job_id: "m", parameters: { key: "st/old.csv" } }),
    ).toMatchObject({
      status: "skipped",
      reason: "stale",
    });
    expect(await rows("st")).toEqual([{ id: 1, name: "new", tier: null }]);
  });
});
