/**
 * Fan-out loads (docs/db-from-s3.md §14) against real PostgreSQL and S3: the plan,
 * items each in their own session into staging, one publish. Readers see the
 * old data or all of the new, a failed item leaves target and ledger unchanged
 * in every mode, a resumed run loads only the missing items, duplicates load
 * once, and two runs into one table serialize at publish.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  type FanOutItem,
  type FanOutPlan,
  loadFanOutItem,
  planFanOut,
  publishFanOut,
} from "../../lambda/jobs/db-from-s3/fan-out";
import { stagingTableName } from "../../lambda/jobs/db-from-s3/staging";
import { lockKey } from "../../lambda/jobs/db-from-s3/transaction";
import { planDispatch, runOf } from "../../lambda/jobs/dispatch";
import { EventLog } from "../../lambda/jobs/event-log";
import type { Dispatch, JobRun, Progress } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { BUCKET, DATABASE, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const COLUMNS = ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL"];
const ARGS = ["FORMAT CSV", "HEADER"];

/** `n` CSV parts of `rows` rows each under `prefix`, ids from `first`. */
async function putParts(prefix: string, n: number, rows: number, first = 1): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const lines = ["id,name"];
    for (let r = 0; r < rows; r++) lines.push(`${first + i * rows + r},n${first + i * rows + r}`);
    const key = `${prefix}part-${String(i).padStart(3, "0")}.csv`;
    await world.s3.put(BUCKET, key, `${lines.join("\n")}\n`);
    keys.push(key);
  }
  return keys;
}

async function putManifest(key: string, keys: readonly string[]): Promise<void> {
  await world.s3.put(
    BUCKET,
    key,
    JSON.stringify({ entries: keys.map((k) => ({ url: `s3://${BUCKET}/${k}` })) }),
  );
}

function fanJob(jobId: string, table: string, mode: string, extra: Record<string, unknown> = {}) {
  return loadJob(jobId, {
    table,
    mode,
    columns: COLUMNS,
    args: [...ARGS, "MANIFEST"],
    fan_out: { workers: 2, item_size: 1 },
    ...extra,
  });
}

const count = async (table: string) =>
  Number((await world.rows<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);
const ledger = (table: string) =>
  world.rows<{ key: string; via_manifest: string | null; rows_loaded: string }>(
    "SELECT key, via_manifest, rows_loaded FROM lava.load_ledger WHERE target_table = $1 ORDER BY key",
    [table],
  );
/** Staging tables of runs into `table` still there. */
const stagingOf = async (table: string) =>
  world.rows<{ staging_table: string }>(
    "SELECT staging_table FROM lava.load_staging_runs WHERE target_table = $1",
    [`"sales"."${table}"`],
  );
const tableExists = async (table: string) =>
  (await world.rows<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [table]))[0]?.t !==
  null;

/** A JobRun of the dispatch, as the runner's fan-out steps build one. */
function jobRun(realm: Realm, dispatch: Dispatch, runId: string): JobRun {
  const start = new Date();
  const plan = planDispatch(realm, dispatch, { runId, start });
  return runOf(realm, plan, {
    runId,
    start,
    deps: world.deps(),
    events: new EventLog(),
    options: {},
  });
}

async function planOf(realm: Realm, dispatch: Dispatch, runId: string) {
  const planned = await planFanOut(jobRun(realm, dispatch, runId), { store: false });
  if (planned.action !== "fan_out") throw new Error(`not a fan-out: ${JSON.stringify(planned)}`);
  return { plan: planned.plan, items: planned.items as FanOutItem[] };
}

const itemRun = (realm: Realm, plan: FanOutPlan) => jobRun(realm, plan.dispatch, plan.run_id);

describe("a 20-part manifest through the fan-out, two workers", () => {
  it("loads every part once, atomically, and leaves no staging behind", async () => {
    const keys = await putParts("in/twenty/", 20, 50);
    await putManifest("in/twenty.manifest", keys);
    const realm = world.realm([fanJob("twenty", "twenty", "append")]);
    const r = await world.run(realm, {
      job_id: "twenty",
      parameters: { key: "in/twenty.manifest" },
    });
    expect(r.status, JSON.stringify(r)).toBe("ok");
    expect(r).toMatchObject({ rows: 1000, fan_out: { items: 20, parts: 20, workers: 2 } });
    expect(r.fan_out?.failed_items).toEqual([]);
    expect(r.events.some((e) => /fan-out plan: 20 parts, \d+ bytes in 20 items/.test(e))).toBe(
      true,
    );
    expect(await count("sales.twenty")).toBe(1000);
    const rows = await ledger('"sales"."twenty"');
    expect(rows).toHaveLength(21);
    expect(rows.filter((x) => x.via_manifest === "in/twenty.manifest")).toHaveLength(20);
    expect(await stagingOf("twenty")).toEqual([]);
    expect(await tableExists(`sales.${stagingTableName(r.run_id)}`)).toBe(false);
  });

  it("reports each part's bytes and, with progressRows, its rows as the items load", async () => {
    const keys = await putParts("in/progress/", 3, 40);
    await putManifest("in/progress.manifest", keys);
    const realm = world.realm([fanJob("progress", "progress", "append")]);
    const seen: Progress[] = [];
    const r = await world.run(
      realm,
      { job_id: "progress", parameters: { key: "in/progress.manifest" } },
      { onProgress: (p) => seen.push(p), progressRows: true },
    );
    expect(r).toMatchObject({ status: "ok", rows: 120, fan_out: { items: 3 } });
    for (const key of keys) {
      const last = seen.filter((p) => p.object === `s3://${BUCKET}/${key}`).at(-1);
      expect(last).toMatchObject({ rows: 40 });
      expect(last?.bytes).toBe(last?.totalBytes);
    }
  });

  it("groups parts into items by bytes, and bounds the workers by the runner", async () => {
    const keys = await putParts("in/grouped/", 8, 20);
    await putManifest("in/grouped.manifest", keys);
    const realm = world.realm(
      [fanJob("grouped", "grouped", "append", { fan_out: { workers: 8 } })],
      {},
      { runner: { reserved_concurrency: 3 } },
    );
    const { plan, items } = await planOf(
      realm,
      { job_id: "grouped", parameters: { key: "in/grouped.manifest" } },
      randomUUID(),
    );
    // Two workers (reserved concurrency 3, less one); about two items per worker.
    expect(plan.workers).toBe(2);
    expect(items.length).toBeGreaterThanOrEqual(4);
    expect(items.length).toBeLessThan(8);
    expect(items.flatMap((i) => i.parts.map((p) => p.part))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("a prefix with a glob", () => {
  it("loads the objects under the prefix that match, as one load or fanned out", async () => {
    await putParts("in/drop-1/", 3, 10);
    await world.s3.put(BUCKET, "in/drop-1/README.txt", "not data\n");
    await world.s3.put(BUCKET, "in/drop-1/", "");
    const single = loadJob("pre1", {
      table: "prefix_one",
      mode: "append",
      columns: COLUMNS,
      args: ARGS,
      key: "in/drop-1/",
      glob: "*.csv",
    });
    const fanned = {
      ...single,
      job_id: "pre2",
      parameters: { ...single.parameters, table: "prefix_two", fan_out: { item_size: 1 } },
    };
    const realm = world.realm([single, fanned]);
    const one = await world.run(realm, { job_id: "pre1" });
    expect(one).toMatchObject({ status: "ok", rows: 30 });
    expect(one.fan_out).toBeUndefined();
    const two = await world.run(realm, { job_id: "pre2" });
    expect(two).toMatchObject({ status: "ok", rows: 30, fan_out: { parts: 3 } });
    // The same listing again is a duplicate; a new object under the prefix loads just that one.
    expect(await world.run(realm, { job_id: "pre2" })).toMatchObject({ status: "skipped" });
    await putParts("in/drop-1/b-", 1, 5, 1000);
    const more = await world.run(realm, { job_id: "pre1" });
    expect(more).toMatchObject({ status: "ok", rows: 5 });
    expect(await count("sales.prefix_one")).toBe(35);
  });

  it("refuses a dispatch that sets glob or fan_out", async () => {
    const realm = world.realm([fanJob("nope", "nope", "append")]);
    const r = await world.run(realm, {
      job_id: "nope",
      parameters: { key: "in/", glob: "*", fan_out: { workers: 16 } },
    });
    expect(r.status).toBe("failed");
    expect(r.error?.message).toContain("glob: only the job spec can set this");
    expect(r.error?.message).toContain("fan_out: only the job spec can set this");
  });
});

describe("a failing item leaves the target and the ledger unchanged", () => {
  it.each(["append", "truncate", "delete", "switch", "drop", "abort"])(
    "in mode %s",
    async (mode) => {
      const table = `fail_${mode}`;
      const realm = world.realm([fanJob("f", table, mode)]);
      // A first, good load (abort: into an empty table).
      const good = await putParts(`in/${table}/good-`, 3, 10);
      await putManifest(`in/${table}/good.manifest`, good);
      if (mode !== "abort") {
        const first = await world.run(realm, {
          job_id: "f",
          parameters: { key: `in/${table}/good.manifest` },
        });
        expect(first.status, JSON.stringify(first)).toBe("ok");
      }
      const physical = mode === "switch" ? `sales.${table}_a` : `sales.${table}`;
      const before =
        mode === "abort" ? [] : await world.rows(`SELECT * FROM ${physical} ORDER BY id`);
      const ledgerBefore = await ledger(`"sales"."${table}"`);
      const next = await putParts(`in/${table}/next-`, 4, 10, 500);
      await world.s3.put(BUCKET, next[2] as string, "id,name\n777,ok\nnot-a-number,x\n");
      await putManifest(`in/${table}/next.manifest`, next);
      const r = await world.run(realm, {
        job_id: "f",
        parameters: { key: `in/${table}/next.manifest` },
      });
      expect(r.status).toBe("failed");
      expect(r.error?.name).toBe("BadDataError");
      expect(r.error?.message).toContain(`s3://${BUCKET}/${next[2]}`);
      if (mode === "abort")
        expect(
          (
            await world.rows<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [physical])
          )[0]?.t,
        ).toBeNull();
      else expect(await world.rows(`SELECT * FROM ${physical} ORDER BY id`)).toEqual(before);
      expect(await ledger(`"sales"."${table}"`)).toEqual(ledgerBefore);
    },
  );
});

describe("resuming a run", () => {
  it("after one item failed, loads only the missing item, then publishes", async () => {
    const keys = await putParts("in/resume/", 5, 10);
    await putManifest("in/resume.manifest", keys);
    const realm = world.realm([fanJob("res", "resume", "append")]);
    const dispatch = { job_id: "res", parameters: { key: "in/resume.manifest" } };
    const runId = randomUUID();
    const { plan, items } = await planOf(realm, dispatch, runId);
    expect(items).toHaveLength(5);
    // Items 0, 1, 3, 4 load; item 2's invocation fails (never runs here).
    for (const item of items.filter((i) => i.index !== 2))
      expect((await loadFanOutItem(itemRun(realm, plan), plan, item)).status).toBe("staged");
    const early = await publishFanOut(itemRun(realm, plan), plan).catch((e: Error) => e);
    expect(early).toMatchObject({ name: "LoadItemsError" });
    expect((early as Error).message).toContain("1 of 5 items are not loaded (items 2)");
    expect(await tableExists("sales.resume")).toBe(false);
    // The redrive: the plan again (the same run id), every item again; only item 2 loads.
    const again = await planOf(realm, dispatch, runId);
    expect(again.plan.staging).toBe(plan.staging);
    const outcomes = [];
    for (const item of again.items)
      outcomes.push(await loadFanOutItem(itemRun(realm, again.plan), again.plan, item));
    expect(outcomes.map((o) => o.status)).toEqual([
      "already",
      "already",
      "staged",
      "already",
      "already",
    ]);
    const published = await publishFanOut(itemRun(realm, again.plan), again.plan);
    expect(published).toMatchObject({ status: "ok", rows: 50 });
    expect(await count("sales.resume")).toBe(50);
    expect(await ledger('"sales"."resume"')).toHaveLength(6);
  });

  it("publishes what loaded within tolerated_failures, and leaves the rest out of the ledger", async () => {
    const keys = await putParts("in/tolerate/", 4, 10);
    await world.s3.put(BUCKET, keys[1] as string, "id,name\nbad,row\n");
    await putManifest("in/tolerate.manifest", keys);
    const realm = world.realm([
      fanJob("tol", "tolerate", "append", { fan_out: { item_size: 1, tolerated_failures: 1 } }),
    ]);
    const r = await world.run(realm, {
      job_id: "tol",
      parameters: { key: "in/tolerate.manifest" },
    });
    expect(r).toMatchObject({ status: "ok", rows: 30, fan_out: { failed_items: [1] } });
    const rows = await ledger('"sales"."tolerate"');
    expect(rows.map((x) => x.key)).toEqual([keys[0], keys[2], keys[3]]);
  });
});

describe("readers and other runs", () => {
  it.each(["delete", "truncate", "drop"])(
    "a reader polling during a %s load sees the old rows or all of the new, never a part",
    async (mode) => {
      const table = `reader_${mode}`;
      const realm = world.realm([
        fanJob("rd", table, mode, { fan_out: { workers: 2, item_size: 1 } }),
      ]);
      const first = await putParts(`in/${table}/a-`, 6, 200);
      await putManifest(`in/${table}/a.manifest`, first);
      const load = (key: string) => world.run(realm, { job_id: "rd", parameters: { key } });
      expect((await load(`in/${table}/a.manifest`)).status).toBe("ok");
      const second = await putParts(`in/${table}/b-`, 8, 200, 10_000);
      await putManifest(`in/${table}/b.manifest`, second);
      const seen = new Set<number>();
      let done = false;
      const reader = new pg.Client({
        host: world.cluster.socketDir,
        port: world.cluster.port,
        user: "postgres",
        database: DATABASE,
      });
      await reader.connect();
      const poll = (async () => {
        while (!done) {
          const { rows } = await reader.query<{ n: string }>(
            `SELECT count(*) AS n FROM sales.${table}`,
          );
          seen.add(Number(rows[0]?.n));
        }
      })();
      const r = await world.run(realm, {
        job_id: "rd",
        parameters: { key: `in/${table}/b.manifest` },
      });
      done = true;
      await poll;
      await reader.end();
      expect(r.status, JSON.stringify(r)).toBe("ok");
      expect(
        [...seen].every((n) => n === 1200 || n === 1600),
        [...seen].join(","),
      ).toBe(true);
      expect(seen.has(1200)).toBe(true);
    },
  );

  it("a duplicate dispatch of the same manifest at the same time loads it once", async () => {
    const keys = await putParts("in/dup/", 4, 10);
    await putManifest("in/dup.manifest", keys);
    const realm = world.realm([fanJob("dup", "dup", "append")]);
    const dispatch = { job_id: "dup", parameters: { key: "in/dup.manifest" } };
    const [a, b] = await Promise.all([world.run(realm, dispatch), world.run(realm, dispatch)]);
    expect([a.status, b.status].sort()).toEqual(["ok", "skipped"]);
    expect(await count("sales.dup")).toBe(40);
    expect(await ledger('"sales"."dup"')).toHaveLength(5);
    expect(await stagingOf("dup")).toEqual([]);
  });

  it("two prefix loads that share parts publish each part once", async () => {
    await putParts("in/overlap/", 4, 10);
    const realm = world.realm([
      loadJob("ov", {
        table: "overlap",
        mode: "append",
        columns: COLUMNS,
        args: ARGS,
        key: "in/overlap/",
        glob: "*.csv",
        fan_out: { item_size: 1 },
      }),
    ]);
    // Both plan before either publishes; a fifth object lands between the plans.
    const one = await planOf(realm, { job_id: "ov" }, randomUUID());
    await putParts("in/overlap/z-", 1, 10, 500);
    const two = await planOf(realm, { job_id: "ov" }, randomUUID());
    expect([one.plan.parts, two.plan.parts]).toEqual([4, 5]);
    for (const p of [one, two])
      for (const item of p.items) await loadFanOutItem(itemRun(realm, p.plan), p.plan, item);
    expect(await publishFanOut(itemRun(realm, one.plan), one.plan)).toMatchObject({ rows: 40 });
    // The second publishes only the part the first did not.
    expect(await publishFanOut(itemRun(realm, two.plan), two.plan)).toMatchObject({
      status: "ok",
      rows: 10,
    });
    expect(await count("sales.overlap")).toBe(50);
    const keys = (await ledger('"sales"."overlap"'))
      .filter((x) => x.via_manifest)
      .map((x) => x.key);
    expect(new Set(keys).size).toBe(5);
    expect(keys).toHaveLength(5);
    expect(await stagingOf("overlap")).toEqual([]);
  });

  it("two runs into one table serialize at publish: the second waits for the table's lock", async () => {
    const realm = world.realm([fanJob("ser", "serial", "append")]);
    const a = await putParts("in/serial/a-", 2, 10);
    await putManifest("in/serial/a.manifest", a);
    const { plan, items } = await planOf(
      realm,
      { job_id: "ser", parameters: { key: "in/serial/a.manifest" } },
      randomUUID(),
    );
    for (const item of items) await loadFanOutItem(itemRun(realm, plan), plan, item);
    // Another run's publish holds the table's lock.
    const holder = new pg.Client({
      host: world.cluster.socketDir,
      port: world.cluster.port,
      user: "postgres",
      database: DATABASE,
    });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey('"sales"."serial"')]);
    let finished = false;
    const publishing = publishFanOut(itemRun(realm, plan), plan).then((r) => {
      finished = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(finished).toBe(false);
    expect(await tableExists("sales.serial")).toBe(false);
    await holder.query("COMMIT");
    await holder.end();
    expect(await publishing).toMatchObject({ status: "ok", rows: 20 });
  });
});

describe("modes at publish", () => {
  it("drop: the staging table is renamed into place, with its keys named after the table", async () => {
    const keys = await putParts("in/dropped/", 3, 10);
    await putManifest("in/dropped.manifest", keys);
    const realm = world.realm([fanJob("dr", "dropped", "drop")]);
    for (let i = 0; i < 2; i++) {
      await putManifest("in/dropped.manifest", i === 0 ? keys : keys.slice(0, 2));
      const r = await world.run(realm, {
        job_id: "dr",
        parameters: { key: "in/dropped.manifest" },
      });
      expect(r.status, JSON.stringify(r)).toBe("ok");
    }
    expect(await count("sales.dropped")).toBe(20);
    const idx = await world.rows<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'sales' AND tablename = 'dropped'",
    );
    expect(idx.map((x) => x.indexname)).toEqual(["dropped_pkey"]);
    // Staging is never autovacuumed (it would hold up the publish); the published table is.
    expect(
      await world.rows("SELECT reloptions FROM pg_class WHERE oid = 'sales.dropped'::regclass"),
    ).toEqual([{ reloptions: null }]);
  });

  /** The index-backed constraints of a table, `<contype> <name> (<columns>)`. */
  const keysOf = async (table: string) =>
    (
      await world.rows<{ k: string }>(
        `SELECT contype::text || ' ' || conname || ' (' || pg_get_constraintdef(oid) || ')' AS k
           FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname`,
        [table],
      )
    ).map((r) => r.k);
  const keyedColumns = ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL UNIQUE"];

  it("drop: the items load the staging table without its keys; the publish builds them once, before the table's lock", async () => {
    const keys = await putParts("in/keyed/", 4, 25);
    await putManifest("in/keyed.manifest", keys);
    const realm = world.realm([fanJob("keyed", "keyed", "drop", { columns: keyedColumns })]);
    const dispatch = { job_id: "keyed", parameters: { key: "in/keyed.manifest" } };
    const { plan, items } = await planOf(realm, dispatch, randomUUID());
    const stagingQ = `sales.${plan.staging}`;
    expect(await keysOf(stagingQ)).toEqual([]);
    // A row without a key still fails at its line: the primary key's NOT NULL stays.
    expect(
      await world.rows(
        "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum",
        [stagingQ],
      ),
    ).toEqual([
      { attname: "id", attnotnull: true },
      { attname: "name", attnotnull: true },
    ]);
    for (const item of items) await loadFanOutItem(itemRun(realm, plan), plan, item);
    expect(await keysOf(stagingQ)).toEqual([]);
    const publishing = itemRun(realm, plan);
    const out = await publishFanOut(publishing, plan);
    expect(out).toMatchObject({ status: "ok", rows: 100 });
    const built = publishing.events.lines.find((e) => / built /.test(e));
    expect(built).toMatch(
      /^\+[\d.]+s built PRIMARY KEY \(id\), UNIQUE \(name\) on "sales"\."_lava_stage_\w+" \(maintenance_work_mem 256 MB\) in \d+ ms, before the table's lock$/,
    );
    expect(await keysOf("sales.keyed")).toEqual([
      "u keyed_name_key (UNIQUE (name))",
      "p keyed_pkey (PRIMARY KEY (id))",
    ]);
    expect(await count("sales.keyed")).toBe(100);
  });

  it("drop: the key's build keeps a maintenance_work_mem above its own", async () => {
    const keys = await putParts("in/bigmem/", 2, 5);
    await putManifest("in/bigmem.manifest", keys);
    const realm = world.realm([
      fanJob("bigmem", "bigmem", "drop", { columns: ["id INTEGER PRIMARY KEY", "name TEXT"] }),
    ]);
    await world.rows(`ALTER DATABASE ${DATABASE} SET maintenance_work_mem = '1GB'`);
    try {
      const r = await world.run(realm, {
        job_id: "bigmem",
        parameters: { key: "in/bigmem.manifest" },
      });
      expect(r.status, JSON.stringify(r)).toBe("ok");
      expect(
        r.events.find((e) => / built PRIMARY KEY /.test(e)),
        r.events.join("\n"),
      ).toMatch(
        / built PRIMARY KEY \(id\) on "sales"\."_lava_stage_\w+" \(maintenance_work_mem 1024 MB\) in \d+ ms/,
      );
    } finally {
      await world.rows(`ALTER DATABASE ${DATABASE} RESET maintenance_work_mem`);
    }
    // Raised for the build's transaction only.
    expect(await world.rows("SHOW maintenance_work_mem")).toEqual([
      { maintenance_work_mem: "64MB" },
    ]);
  });

  it("drop: a publish whose keys an earlier attempt built does not build them again", async () => {
    const keys = await putParts("in/rekeyed/", 2, 5);
    await putManifest("in/rekeyed.manifest", keys);
    const realm = world.realm([fanJob("rekeyed", "rekeyed", "drop")]);
    const dispatch = { job_id: "rekeyed", parameters: { key: "in/rekeyed.manifest" } };
    const { plan, items } = await planOf(realm, dispatch, randomUUID());
    for (const item of items) await loadFanOutItem(itemRun(realm, plan), plan, item);
    await world.rows(`ALTER TABLE sales.${plan.staging} ADD PRIMARY KEY (id)`);
    const publishing = itemRun(realm, plan);
    expect(await publishFanOut(publishing, plan)).toMatchObject({ status: "ok", rows: 10 });
    expect(publishing.events.lines.filter((e) => / built /.test(e))).toEqual([]);
    expect(await keysOf("sales.rekeyed")).toEqual(["p rekeyed_pkey (PRIMARY KEY (id))"]);
  });

  it("drop: rows of two parts that repeat a key fail the run at the key's build, naming the key; nothing changes", async () => {
    const realm = world.realm([fanJob("dupkey", "dupkey", "drop")]);
    const first = await putParts("in/dupkey/a-", 2, 5);
    await putManifest("in/dupkey/a.manifest", first);
    const ok = await world.run(realm, {
      job_id: "dupkey",
      parameters: { key: "in/dupkey/a.manifest" },
    });
    expect(ok.status, JSON.stringify(ok)).toBe("ok");
    const before = await ledger('"sales"."dupkey"');
    // Parts 0 and 1 both hold ids 1..5.
    const keys = [
      ...(await putParts("in/dupkey/b-", 1, 5)),
      ...(await putParts("in/dupkey/c-", 1, 5)),
    ];
    await putManifest("in/dupkey/b.manifest", keys);
    const r = await world.run(realm, {
      job_id: "dupkey",
      parameters: { key: "in/dupkey/b.manifest" },
    });
    expect(r.error?.name, JSON.stringify(r)).toBe("BadDataError");
    expect(r.error?.message).toMatch(
      /^bad data in the parts of s3:\/\/[\w-]+\/in\/dupkey\/b\.manifest: building the keys of "sales"\."dupkey" once the items were in: could not create unique index "_lava_stage_\w+_pkey" \(Key \(id\)=\([1-5]\) is duplicated\.\) \(SQLSTATE 23505\): nothing published$/,
    );
    expect(await count("sales.dupkey")).toBe(10);
    expect(await ledger('"sales"."dupkey"')).toEqual(before);
    expect(await stagingOf("dupkey")).toEqual([]);
    expect(await tableExists(`sales.${stagingTableName(r.run_id)}`)).toBe(false);
  });

  it("drop: a load too large for the publish to build its keys in time loads them with the items", async () => {
    const keys = await putParts("in/bigkeys/", 2, 3000);
    await putManifest("in/bigkeys.manifest", keys);
    // A 1 ms runner: the publish builds keys after at most 20,000 bytes of parts; these are 2 × ~33 KB.
    const realm = world.realm(
      [fanJob("bigkeys", "bigkeys", "drop", { fan_out: { workers: 2, max_part_size: "1M" } })],
      {},
      { runner: { timeout: 0.001 } },
    );
    const dispatch = { job_id: "bigkeys", parameters: { key: "in/bigkeys.manifest" } };
    const run = jobRun(realm, dispatch, randomUUID());
    const planned = await planFanOut(run, { store: false });
    if (planned.action !== "fan_out") throw new Error(JSON.stringify(planned));
    expect(await keysOf(`sales.${planned.plan.staging}`)).toHaveLength(1);
    expect(run.events.lines.find((e) => e.includes("fan-out plan:"))).not.toContain(
      "keys built after",
    );
  });

  it("switch: loads the empty table, empties the other, and reclaims it", async () => {
    const realm = world.realm([fanJob("sw", "sw", "switch")]);
    for (const [i, first] of [
      [0, 1],
      [1, 100],
    ] as const) {
      const keys = await putParts(`in/sw/${i}-`, 3, 10, first);
      await putManifest(`in/sw/${i}.manifest`, keys);
      const r = await world.run(realm, {
        job_id: "sw",
        parameters: { key: `in/sw/${i}.manifest` },
      });
      expect(r.status, JSON.stringify(r)).toBe("ok");
      expect(r.loaded_table).toBe(i === 0 ? '"sales"."sw_a"' : '"sales"."sw_b"');
    }
    expect(await count("sales.sw_a")).toBe(0);
    expect(await count("sales.sw_b")).toBe(30);
  });

  it("refuses, before loading anything, a part larger than one invocation loads", async () => {
    const keys = await putParts("in/big/", 2, 200);
    await putManifest("in/big.manifest", keys);
    const realm = world.realm([
      fanJob("big", "big", "append", { fan_out: { max_part_size: "1K" } }),
    ]);
    const r = await world.run(realm, { job_id: "big", parameters: { key: "in/big.manifest" } });
    expect(r.error?.name, JSON.stringify(r)).toBe("LoadTooLargeError");
    expect(r.error?.message).toContain(`s3://${BUCKET}/${keys[0]}`);
    expect(await stagingOf("big")).toEqual([]);
  });
});
