/**
 * Bad-row quarantine (docs/db-from-s3.md §16) and lineage columns (§17) through the
 * runner on real PostgreSQL and S3: the rest loads in the one transaction, the bad
 * rows land in s3_temp with their object, line and error, too many change
 * nothing; lineage values are exact for gzip and manifest loads.
 */
import { gzipSync } from "node:zlib";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const TOP = { s3_temp: `s3://${BUCKET}/tmp` };

function job(table: string, extra: Record<string, unknown> = {}) {
  return loadJob("q", {
    table,
    mode: "append",
    columns: ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL"],
    args: ["FORMAT CSV", "HEADER"],
    on_bad_rows: "quarantine",
    max_bad_rows: 5,
    ...extra,
  });
}

async function run(table: string, key: string, body: string | Buffer, extra = {}) {
  await world.s3.put(BUCKET, key, body);
  return world.run(world.realm([job(table, extra)], {}, TOP), { job_id: "q", parameters: { key } });
}

const text = async (key: string) =>
  (
    await world.s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  ).Body?.transformToString();
const exists = (key: string) =>
  world.s3
    .client()
    .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
    .then(
      () => true,
      () => false,
    );
const ids = async (table: string) =>
  (await world.rows<{ id: number }>(`SELECT id FROM sales.${table} ORDER BY id`)).map((r) => r.id);

describe("on_bad_rows: quarantine", () => {
  it("with no bad row loads everything and writes no reject file", async () => {
    const r = await run("q0", "q/0.csv", "id,name\n1,a\n2,b\n");
    expect(r).toMatchObject({ status: "ok", rows: 2, rows_rejected: 0 });
    expect(r.rejects).toBeUndefined();
    expect(await exists(`tmp/q/${r.run_id}/rejects.csv`)).toBe(false);
  });

  it("sets two bad rows aside in s3_temp with object, line and error, and commits the rest", async () => {
    const r = await run("q2", "q/2.csv", 'id,name\n1,a\nx,"bad, id"\n3,c\n4,\n5,e\n');
    expect(r).toMatchObject({ status: "ok", rows: 3, rows_rejected: 2 });
    expect(r.rejects).toBe(`s3://${BUCKET}/tmp/q/${r.run_id}/rejects.csv`);
    expect(await ids("q2")).toEqual([1, 3, 5]);
    const file = (await text(`tmp/q/${r.run_id}/rejects.csv`))?.split("\n");
    expect(file?.[0]).toBe("object,line,sqlstate,error,record");
    expect(file?.[1]).toBe(
      `s3://${BUCKET}/q/2.csv,3,22P02,"invalid input syntax for type integer: ""x""","x,""bad, id"""`,
    );
    expect(file?.[2]).toMatch(new RegExp(`^s3://${BUCKET}/q/2.csv,5,23502,.*,"4,"$`));
  });

  it("over max_bad_rows fails and changes nothing", async () => {
    await run("qmax", "q/max-0.csv", "id,name\n100,kept\n");
    const r = await run("qmax", "q/max-1.csv", "id,name\n1,a\nx,b\ny,c\n", { max_bad_rows: 1 });
    expect(r.status).toBe("failed");
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toContain("more than 1 bad rows (max_bad_rows)");
    expect(r.error?.message).toContain(`s3://${BUCKET}/q/max-1.csv line 4`);
    expect(await ids("qmax")).toEqual([100]);
    expect(await exists(`tmp/q/${r.run_id}/rejects.csv`)).toBe(false);
  });

  it("holds a percentage limit against all the rows", async () => {
    const rows = (bad: number) =>
      `id,name\n${Array.from({ length: 20 }, (_, i) => (i < bad ? `x${i},b` : `${i},n`)).join("\n")}\n`;
    expect(await run("qpct", "q/pct-1.csv", rows(1), { max_bad_rows: "10%" })).toMatchObject({
      status: "ok",
      rows_rejected: 1,
    });
    const over = await run("qpct2", "q/pct-3.csv", rows(3), { max_bad_rows: "10%" });
    expect(over.error?.message).toContain(
      "3 of 20 rows are bad (15.00%), more than max_bad_rows 10%",
    );
  });

  it("works for GZIP objects", async () => {
    const r = await run("qgz", "q/gz.csv.gz", gzipSync("id,name\n1,a\nbad,x\n"), {
      args: ["FORMAT CSV", "HEADER", "GZIP"],
    });
    expect(r).toMatchObject({ status: "ok", rows: 1, rows_rejected: 1 });
  });
});

describe("lineage", () => {
  it("fills source key, line and run id for a manifest of gzip parts, the table created with them", async () => {
    await world.s3.put(BUCKET, "lin/a.csv.gz", gzipSync("id,name\n1,a\n2,b\n"));
    await world.s3.put(BUCKET, "lin/b.csv.gz", gzipSync('id,name\n3,"multi\nline"\n4,d\n'));
    await world.s3.put(
      BUCKET,
      "lin/m.manifest",
      JSON.stringify({
        entries: [{ url: `s3://${BUCKET}/lin/a.csv.gz` }, { url: `s3://${BUCKET}/lin/b.csv.gz` }],
      }),
    );
    const realm = world.realm(
      [
        loadJob("l", {
          table: "lineage",
          mode: "append",
          columns: ["id INTEGER", "name TEXT"],
          args: ["FORMAT CSV", "HEADER", "GZIP", "MANIFEST"],
          lineage: true,
        }),
      ],
      {},
      TOP,
    );
    const r = await world.run(realm, { job_id: "l", parameters: { key: "lin/m.manifest" } });
    expect(r.status, JSON.stringify(r)).toBe("ok");
    expect(
      await world.rows(
        "SELECT id, _lava_source_key AS key, _lava_source_line AS line, _lava_run_id AS run FROM sales.lineage ORDER BY id",
      ),
    ).toEqual([
      { id: 1, key: "lin/a.csv.gz", line: "2", run: r.run_id },
      { id: 2, key: "lin/a.csv.gz", line: "3", run: r.run_id },
      { id: 3, key: "lin/b.csv.gz", line: "2", run: r.run_id },
      { id: 4, key: "lin/b.csv.gz", line: "4", run: r.run_id },
    ]);
  });

  it("takes column names, and refuses a table without them with the ALTER TABLE to run", async () => {
    await world.rows("CREATE TABLE sales.lin2 (id INTEGER, name TEXT)");
    await world.rows("ALTER TABLE sales.lin2 OWNER TO loader");
    await world.s3.put(BUCKET, "lin2/1.csv", "1,a\n");
    const realm = world.realm(
      [
        loadJob("l", {
          table: "lin2",
          mode: "append",
          args: ["FORMAT CSV"],
          lineage: { source_key: "src", run_id: "loaded_by" },
        }),
      ],
      {},
      TOP,
    );
    const r = await world.run(realm, { job_id: "l", parameters: { key: "lin2/1.csv" } });
    expect(r.error?.name).toBe("TargetStateError");
    expect(r.error?.message).toContain(
      'ALTER TABLE "sales"."lin2" ADD COLUMN "src" text; ALTER TABLE "sales"."lin2" ADD COLUMN "loaded_by" text;',
    );
    await world.rows("ALTER TABLE sales.lin2 ADD COLUMN src text, ADD COLUMN loaded_by text");
    const ok = await world.run(realm, { job_id: "l", parameters: { key: "lin2/1.csv" } });
    expect(ok.status, JSON.stringify(ok)).toBe("ok");
    expect(await world.rows("SELECT id, name, src, loaded_by FROM sales.lin2")).toEqual([
      { id: 1, name: "a", src: "lin2/1.csv", loaded_by: ok.run_id },
    ]);
  });
});
