/**
 * Header mapping and the header check (docs/db-from-s3.md §18) on real
 * PostgreSQL, streaming path: with columns_from_header each object's header
 * names the columns it fills (reordered, a subset, per manifest entry, gzip,
 * quoted names, merge, fan-out); unknown or repeated names fail before any row
 * loads; without it a header with another number of fields fails before
 * loading, other names load by position with an event line.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const MEMBERS = ["id INTEGER PRIMARY KEY", "name TEXT", "tier TEXT DEFAULT 'basic'"];

function headerJob(table: string, extra: Record<string, unknown> = {}) {
  return loadJob("h", {
    table,
    columns: MEMBERS,
    args: ["FORMAT CSV", "HEADER"],
    columns_from_header: true,
    ...extra,
  });
}

async function load(table: string, key: string, body: string | Buffer, extra = {}) {
  await world.s3.put(BUCKET, key, body);
  return world.run(world.realm([headerJob(table, extra)]), { job_id: "h", parameters: { key } });
}

async function loadManifest(table: string, parts: Record<string, string>, extra = {}) {
  for (const [key, body] of Object.entries(parts)) await world.s3.put(BUCKET, key, body);
  const key = `${table}/load.manifest`;
  const entries = Object.keys(parts).map((k) => ({ url: `s3://${BUCKET}/${k}` }));
  await world.s3.put(BUCKET, key, JSON.stringify({ entries }));
  const args = ["FORMAT CSV", "HEADER", "MANIFEST"];
  return world.run(world.realm([headerJob(table, { args, ...extra })]), {
    job_id: "h",
    parameters: { key },
  });
}

const rows = (table: string) => world.rows(`SELECT id, name, tier FROM sales.${table} ORDER BY id`);
const tableExists = async (table: string) =>
  (
    await world.rows<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`sales.${table}`])
  )[0]?.t != null;
const loadedLines = (events: readonly string[]) => events.filter((e) => / rows into /.test(e));

describe("columns_from_header", () => {
  it("fills the columns the header names, in its order", async () => {
    const r = await load("h_order", "h_order/1.csv", "tier,name,id\ngold,ann,1\n,bob,2\n");
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(await rows("h_order")).toEqual([
      { id: 1, name: "ann", tier: "gold" },
      { id: 2, name: "bob", tier: null },
    ]);
  });

  it("takes a subset: the columns the header leaves out get their defaults", async () => {
    await world.rows(
      "CREATE TABLE sales.h_subset (id serial PRIMARY KEY, name TEXT NOT NULL, tier TEXT DEFAULT 'basic', joined DATE DEFAULT '2020-01-01', score INTEGER GENERATED ALWAYS AS (length(name)) STORED)",
    );
    await world.rows("ALTER TABLE sales.h_subset OWNER TO loader");
    await world.s3.put(BUCKET, "h_subset/1.csv", "name\nann\nbo\n");
    const ok = await world.run(
      world.realm([
        loadJob("h", {
          table: "h_subset",
          args: ["FORMAT CSV", "HEADER"],
          columns_from_header: true,
          key: "h_subset/1.csv",
        }),
      ]),
      { job_id: "h" },
    );
    expect(ok).toMatchObject({ status: "ok", rows: 2 });
    expect(
      await world.rows(
        "SELECT id, name, tier, joined::text, score FROM sales.h_subset ORDER BY id",
      ),
    ).toEqual([
      { id: 1, name: "ann", tier: "basic", joined: "2020-01-01", score: 3 },
      { id: 2, name: "bo", tier: "basic", joined: "2020-01-01", score: 2 },
    ]);
  });

  it("fails on names that are not columns, naming the object, the names and the table's columns; nothing loads", async () => {
    const r = await loadManifest("h_unknown", {
      "h_unknown/1.csv": "id,name\n1,ann\n",
      "h_unknown/2.csv": "id,colour,name,size\n2,red,bob,L\n",
    });
    expect(r.status).toBe("failed");
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toBe(
      `bad data in s3://${BUCKET}/h_unknown/2.csv: line 1: the header names columns "colour", "size" that "sales"."h_unknown" does not have (its columns: "id", "name", "tier"): nothing loaded (columns_from_header)`,
    );
    // Every header is read before any row loads: not even the good part was copied.
    expect(loadedLines(r.events)).toEqual([]);
    expect(await tableExists("h_unknown")).toBe(false);
  });

  it("fails on a name given twice, folded as column names are", async () => {
    const r = await load("h_twice", "h_twice/1.csv", "id,name,ID\n1,ann,1\n");
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toContain(
      `bad data in s3://${BUCKET}/h_twice/1.csv: line 1: the header names "id" 2 times (fields 1, 3)`,
    );
    expect(loadedLines(r.events)).toEqual([]);
  });

  it("reads a GZIP object's header from its first bytes", async () => {
    const body = `name,id\n${Array.from({ length: 5000 }, (_, i) => `n${i},${i}`).join("\n")}\n`;
    const r = await load("h_gz", "h_gz/1.csv.gz", gzipSync(body), {
      args: ["FORMAT CSV", "HEADER", "GZIP"],
    });
    expect(r).toMatchObject({ status: "ok", rows: 5000 });
    expect(
      await world.rows("SELECT id, name, tier FROM sales.h_gz WHERE id IN (0, 4999) ORDER BY id"),
    ).toEqual([
      { id: 0, name: "n0", tier: "basic" },
      { id: 4999, name: "n4999", tier: "basic" },
    ]);
  });

  it("maps each manifest entry by its own header", async () => {
    const r = await loadManifest("h_parts", {
      "h_parts/1.csv": "id,name,tier\n1,ann,gold\n",
      "h_parts/2.csv": "tier,id,name\nsilver,2,bob\n",
      "h_parts/3.csv": "name,id\ncy,3\n",
    });
    expect(r).toMatchObject({ status: "ok", rows: 3 });
    expect(await rows("h_parts")).toEqual([
      { id: 1, name: "ann", tier: "gold" },
      { id: 2, name: "bob", tier: "silver" },
      { id: 3, name: "cy", tier: "basic" },
    ]);
  });

  it("reads quoted header names holding the delimiter and quotes, and a text-format header", async () => {
    const columns = ["id INTEGER", '"a,b" TEXT', '"q""x" TEXT'];
    const r = await load("h_quoted", "h_quoted/1.csv", '"q""x","a,b",id\nQ,"A,B",1\n', {
      columns,
    });
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(await world.rows('SELECT id, "a,b" AS ab, "q""x" AS qx FROM sales.h_quoted')).toEqual([
      { id: 1, ab: "A,B", qx: "Q" },
    ]);
    const t = await load("h_text", "h_text/1.tsv", "name\tid\nann\t1\n", {
      args: ["HEADER"],
    });
    expect(t).toMatchObject({ status: "ok", rows: 1 });
    expect(await rows("h_text")).toEqual([{ id: 1, name: "ann", tier: "basic" }]);
  });

  it("in mode merge, inserts and updates only the columns the header names", async () => {
    const base = { mode: "merge", columns: MEMBERS };
    await load("h_merge", "h_merge/0.csv", "id,name,tier\n1,ann,gold\n2,bob,silver\n", base);
    const r = await load("h_merge", "h_merge/1.csv", "tier,id\nplatinum,1\nbronze,3\n", base);
    expect(r).toMatchObject({ status: "ok", merged: { inserted: 1, updated: 1, deleted: 0 } });
    expect(await rows("h_merge")).toEqual([
      { id: 1, name: "ann", tier: "platinum" },
      { id: 2, name: "bob", tier: "silver" },
      { id: 3, name: null, tier: "bronze" },
    ]);
    const nokey = await load("h_merge", "h_merge/2.csv", "name,tier\nx,y\n", base);
    expect(nokey.error?.name).toBe("BadDataError");
    expect(nokey.error?.message).toContain(
      'the header does not name the merge\'s key column "id" (it names "name", "tier")',
    );
  });

  it("maps each part of a fan-out load by its header", async () => {
    for (const [i, body] of ["id,name\n1,a\n", "name,id\nb,2\n", "tier,id\nx,3\n"].entries())
      await world.s3.put(BUCKET, `h_fan/day/p${i}.csv`, body);
    const realm = world.realm([
      headerJob("h_fan", {
        key: "h_fan/day/",
        glob: "*.csv",
        fan_out: { workers: 2, item_size: 1 },
      }),
    ]);
    const r = await world.run(realm, { job_id: "h" });
    expect(r, JSON.stringify(r)).toMatchObject({ status: "ok", rows: 3, fan_out: { items: 3 } });
    expect(await rows("h_fan")).toEqual([
      { id: 1, name: "a", tier: "basic" },
      { id: 2, name: "b", tier: "basic" },
      { id: 3, name: null, tier: "x" },
    ]);
  });
});

describe("HEADER without columns_from_header", () => {
  const positional = (table: string) => ({
    columns_from_header: false,
    columns: ["id INTEGER", "name TEXT"],
    table,
  });

  it("fails before any row loads when the header has another number of fields, naming both lists", async () => {
    const r = await load(
      "hc_count",
      "hc_count/1.csv",
      "id,name,extra\n1,a,x\n",
      positional("hc_count"),
    );
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toBe(
      `bad data in s3://${BUCKET}/hc_count/1.csv: line 1: the header has 3 fields ("id", "name", "extra") where the load fills 2 columns ("id", "name"): nothing loaded; give columns matching the file, or columns_from_header: true to fill the columns the header names`,
    );
    expect(loadedLines(r.events)).toEqual([]);
  });

  it("loads by position when only the names differ, as lava does, and says so", async () => {
    const r = await load(
      "hc_names",
      "hc_names/1.csv",
      "ident,label\n1,a\n",
      positional("hc_names"),
    );
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(r.events.join("\n")).toContain(
      `s3://${BUCKET}/hc_names/1.csv: header ("ident", "label") differs from the columns loaded ("id", "name"): loaded by position, as lava does (columns_from_header: true maps by name)`,
    );
    expect(await world.rows("SELECT id, name FROM sales.hc_names")).toEqual([{ id: 1, name: "a" }]);
  });

  it("checks against the table's columns when the job gives none, and leaves HEADER match to PostgreSQL", async () => {
    await world.rows("CREATE TABLE sales.hc_table (id INTEGER, name TEXT)");
    await world.rows("ALTER TABLE sales.hc_table OWNER TO loader");
    const job = (args: string[]) => world.realm([loadJob("h", { table: "hc_table", args })]);
    await world.s3.put(BUCKET, "hc_table/1.csv", "id\n1\n");
    const r = await world.run(job(["FORMAT CSV", "HEADER"]), {
      job_id: "h",
      parameters: { key: "hc_table/1.csv" },
    });
    expect(r.error?.message).toContain(
      'the header has 1 fields ("id") where the load fills 2 columns ("id", "name")',
    );
    await world.s3.put(BUCKET, "hc_table/2.csv", "id,nom\n1,a\n");
    const m = await world.run(job(["FORMAT CSV", "HEADER match"]), {
      job_id: "h",
      parameters: { key: "hc_table/2.csv" },
    });
    expect(m.error?.message).toContain(
      'column name mismatch in header line field 2: got "nom", expected "name"',
    );
  });
});
