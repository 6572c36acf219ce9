/**
 * The careful COPY path (docs/db-from-s3.md §16) against real PostgreSQL: records
 * cut into batches exactly where PostgreSQL's reader would end them, a bad record
 * in every position of a batch found and set aside with its file line, and the
 * rest loaded; lineage fields appended per record.
 */
import { Readable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyInBatches, type RejectedRow } from "../../lambda/jobs/db-from-s3/batched-copy";
import { parseCopyArgs } from "../../lambda/jobs/db-from-s3/copy-options";
import { recordSyntax } from "../../lambda/jobs/db-from-s3/records";
import { DATABASE, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({
    host: world.cluster.socketDir,
    port: world.cluster.port,
    user: "postgres",
    database: DATABASE,
  });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
});

/** Load `text` (in chunks of `chunk` bytes) into a fresh table; the rows, the rejects, the table. */
async function load(
  text: string,
  opts: {
    args?: string[];
    batchBytes?: number;
    chunk?: number;
    header?: boolean;
    quarantine?: boolean;
  } = {},
) {
  const table = `bc_${Math.random().toString(36).slice(2, 8)}`;
  await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL)`);
  const copy = parseCopyArgs(opts.args ?? ["FORMAT CSV"], "args");
  const rejects: RejectedRow[] = [];
  const bytes = Buffer.from(text);
  const chunk = opts.chunk ?? 7;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  await client.query("BEGIN");
  const rows = await copyInBatches(Readable.from(chunks), {
    client,
    sql: `COPY ${table} (id, name) FROM STDIN WITH (FORMAT ${copy.format})`,
    syntax: recordSyntax(copy),
    header: opts.header ?? false,
    bucket: "b",
    key: "k.csv",
    batchBytes: opts.batchBytes ?? 16,
    ...(opts.quarantine === false ? {} : { reject: (r: RejectedRow) => rejects.push(r) }),
  });
  await client.query("COMMIT");
  const ids = (await client.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map(
    (r) => r.id,
  );
  return { rows, rejects, ids };
}

const csv = (n: number, bad: number[] = []) =>
  Array.from({ length: n }, (_, i) =>
    bad.includes(i + 1) ? `x${i + 1},bad` : `${i + 1},n${i + 1}`,
  )
    .join("\n")
    .concat("\n");

describe("copyInBatches", () => {
  it("loads clean data in batches of whole records, whatever the chunking", async () => {
    for (const chunk of [1, 3, 7, 1000]) {
      const r = await load(csv(40), { chunk });
      expect(r).toMatchObject({ rows: 40, rejects: [] });
      expect(r.ids).toHaveLength(40);
    }
  });

  it.each([
    ["the first record of a batch", [1]],
    ["the last record", [40]],
    ["a record alone in its batch", [17]],
    ["several in one batch and across batches", [2, 3, 9, 31, 32]],
  ])("sets aside %s, with its file line", async (_what, bad) => {
    const r = await load(csv(40, bad));
    expect(r.rows).toBe(40 - bad.length);
    expect(r.rejects.map((x) => x.line)).toEqual(bad);
    expect(r.rejects[0]).toMatchObject({
      object: "s3://b/k.csv",
      sqlstate: "22P02",
      record: `x${bad[0]},bad`,
    });
    expect(r.ids).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1).filter((i) => !bad.includes(i)),
    );
  });

  it("sets aside every record when all are bad, and integrity errors too", async () => {
    const all = await load("a,1\nb,2\nc,3\n");
    expect(all.rows).toBe(0);
    expect(all.rejects.map((x) => x.line)).toEqual([1, 2, 3]);
    const dup = await load("1,a\n2,b\n1,again\n3,c\n4,\n", { batchBytes: 1000 });
    expect(dup.rows).toBe(3);
    expect(dup.rejects).toMatchObject([
      { line: 3, sqlstate: "23505" },
      { line: 5, sqlstate: "23502" },
    ]);
  });

  it("keeps quoted newlines inside a record and counts physical lines, header included", async () => {
    const text = 'id,name\n1,"two\nlines"\n2,"a ""quoted"" ,comma"\nbad,"x\ny"\n3,ok\n';
    const r = await load(text, { header: true, chunk: 2, batchBytes: 8 });
    expect(r.rows).toBe(3);
    expect(r.rejects).toMatchObject([{ line: 5, record: 'bad,"x\ny"' }]);
  });

  it("reads text format with backslash escapes, a last record without a newline", async () => {
    const r = await load("1\tone\\\nstill one\n2\ttwo\nno\tnumber\n3\tthree", {
      args: ["FORMAT text"],
      chunk: 3,
    });
    expect(r.rows).toBe(3);
    expect(r.rejects).toMatchObject([{ line: 4, record: "no\tnumber" }]);
  });

  it("streams long batches, quoted newlines across chunks, with bad records spread", async () => {
    // Record i spans two lines when i % 7 == 0; bad ids spread; lines counted physically.
    const n = 3000;
    const bad = [1, 499, 500, 1234, 2999, 3000];
    const lines: number[] = [];
    let at = 1;
    let text = "";
    for (let i = 1; i <= n; i++) {
      lines.push(at);
      const name = i % 7 === 0 ? `"n${i}\nsecond line"` : `"n ""${i}"""`;
      text += `${bad.includes(i) ? `x${i}` : i},${name}\n`;
      at += i % 7 === 0 ? 2 : 1;
    }
    for (const [chunk, batchBytes] of [
      [1000, 4000],
      [4096, 64 * 1024],
      [333, 1_000_000],
    ] as const) {
      const r = await load(text, { chunk, batchBytes });
      expect(r.rows).toBe(n - bad.length);
      expect(r.rejects.map((x) => x.line)).toEqual(bad.map((i) => lines[i - 1]));
      expect(r.ids).toHaveLength(n - bad.length);
    }
  });

  it("stops writing a batch PostgreSQL refused, small chunks queued behind it", async () => {
    const n = 100_000;
    const bad = [7, 50_007];
    const text = Array.from(
      { length: n },
      (_, k) => `${bad.includes(k + 1) ? "x" : k + 1},name ${k + 1} padded to a longer record\n`,
    ).join("");
    const r = await load(text, { chunk: 1000, batchBytes: 8 << 20 });
    expect(r.rows).toBe(n - bad.length);
    expect(r.rejects.map((x) => x.line)).toEqual(bad);
  });

  it("a source failing in the middle of a batch ends its COPY and leaves the session usable", async () => {
    await client.query("CREATE TABLE bc_broken (id integer PRIMARY KEY, name text NOT NULL)");
    const copy = parseCopyArgs(["FORMAT CSV"], "args");
    async function* body() {
      yield Buffer.from(csv(50));
      throw new Error("the object's stream broke");
    }
    await client.query("BEGIN");
    await expect(
      copyInBatches(body(), {
        client,
        sql: "COPY bc_broken (id, name) FROM STDIN WITH (FORMAT csv)",
        syntax: recordSyntax(copy),
        header: false,
        bucket: "b",
        key: "k.csv",
        batchBytes: 1_000_000,
        reject: () => undefined,
      }),
    ).rejects.toThrow("the object's stream broke");
    await client.query("ROLLBACK");
    expect((await client.query("SELECT count(*)::int AS n FROM bc_broken")).rows).toEqual([
      { n: 0 },
    ]);
  });

  it("without quarantine fails on the first bad record", async () => {
    await expect(load(csv(10, [5]), { quarantine: false })).rejects.toMatchObject({
      code: "22P02",
    });
    await client.query("ROLLBACK");
  });
});
