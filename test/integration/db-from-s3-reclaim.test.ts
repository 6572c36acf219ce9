/**
 * switch mode's reclaim step (the TRUNCATE of the emptied table after commit):
 * delayed past another run's commit it must not wipe that run's data, and
 * behind a long reader it must give up quickly instead of queueing every new
 * reader behind it.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";
import { type PgProxy, startPgProxy } from "../support/pg-proxy";

const world = useLoadWorld();

const csv = (from: number, n: number) =>
  `id,name\n${Array.from({ length: n }, (_, i) => `${from + i},n${from + i}`).join("\n")}\n`;

function switchJob(jobId: string, table: string, connId = "pg") {
  return loadJob(jobId, {
    db_conn_id: connId,
    table,
    mode: "switch",
    columns: ["id INTEGER", "name TEXT"],
    args: ["FORMAT CSV", "HEADER"],
  });
}

/** A superuser session on the warehouse database (a reader, as a report would be). */
async function session(): Promise<pg.Client> {
  const c = world.cluster;
  const client = new pg.Client({
    host: c.socketDir,
    port: c.port,
    user: "postgres",
    database: "warehouse",
  });
  await client.connect();
  return client;
}

const ids = async (table: string) =>
  (await world.rows<{ id: number }>(`SELECT id FROM sales.${table} ORDER BY id`)).map((r) => r.id);

let proxy: PgProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

describe("switch: the reclaim step after commit", () => {
  it("does not wipe a table that a second run loaded while the step was delayed", async () => {
    // Prepare: t_a holds the first load; run "slow" goes through a proxy that
    // stalls it right after its COMMIT, before the reclaim step.
    const table = "race";
    proxy = await startPgProxy({ host: world.cluster.host, port: world.cluster.port }, /COMMIT/);
    const slowConn = {
      conn_id: "slow",
      type: "postgres",
      enabled: true,
      host: world.cluster.host,
      port: proxy.port,
      database: "warehouse",
      user: "loader",
      password: "/lava/dev/loader",
      ssl: false,
    };
    const realm = world.realm(
      [switchJob("first", table), switchJob("slow", table, "slow"), switchJob("next", table)],
      {},
      { connections: [slowConn] },
    );
    for (const [k, from] of [
      ["1.csv", 1],
      ["2.csv", 20],
      ["3.csv", 300],
    ] as const)
      await world.s3.put(BUCKET, `${table}/${k}`, csv(from, 2));
    expect(
      await world.run(realm, { job_id: "first", parameters: { key: `${table}/1.csv` } }),
    ).toMatchObject({ status: "ok", loaded_table: '"sales"."race_a"' });

    // Act: "slow" loads t_b and empties t_a, commits, stalls; "next" loads t_a meanwhile.
    const slow = world.run(realm, { job_id: "slow", parameters: { key: `${table}/2.csv` } });
    await proxy.held;
    const next = await world.run(realm, { job_id: "next", parameters: { key: `${table}/3.csv` } });
    proxy.release();
    const slowResult = await slow;

    // Assess: both committed; the table "next" loaded still holds its rows.
    expect(slowResult).toMatchObject({ status: "ok", loaded_table: '"sales"."race_b"', rows: 2 });
    expect(next).toMatchObject({ status: "ok", loaded_table: '"sales"."race_a"', rows: 2 });
    expect(await ids("race_a")).toEqual([300, 301]);
    expect(await ids("race_b")).toEqual([]);
    expect(slowResult.events.join("\n")).toMatch(
      /"sales"\."race_a" not truncated: a later run loaded it/,
    );
    expect(
      await world.rows(
        "SELECT key, loaded_table FROM lava.load_ledger WHERE target_table = $1 ORDER BY key",
        ['"sales"."race"'],
      ),
    ).toEqual([
      { key: "race/1.csv", loaded_table: '"sales"."race_a"' },
      { key: "race/2.csv", loaded_table: '"sales"."race_b"' },
      { key: "race/3.csv", loaded_table: '"sales"."race_a"' },
    ]);
  });

  it("gives up after a short lock_timeout behind a long reader, so new readers do not queue behind it", async () => {
    // Prepare: t_a full; a report holds ACCESS SHARE on t_a (the table the next run empties).
    const table = "readers";
    await world.s3.put(BUCKET, `${table}/1.csv`, csv(1, 3));
    await world.s3.put(BUCKET, `${table}/2.csv`, csv(10, 3));
    const realm = world.realm([switchJob("r", table)]);
    expect(
      await world.run(realm, { job_id: "r", parameters: { key: `${table}/1.csv` } }),
    ).toMatchObject({ status: "ok", loaded_table: '"sales"."readers_a"' });
    const report = await session();
    await report.query("BEGIN");
    await report.query("SELECT count(*) FROM sales.readers_a");
    let reportEnded = false;
    // Without a bound the run would wait for the report; end the report anyway after 15 s.
    const guard = setTimeout(() => {
      reportEnded = true;
      void report.query("COMMIT");
    }, 15_000);

    // Act
    const r = await world.run(realm, { job_id: "r", parameters: { key: `${table}/2.csv` } });
    // A reader arriving now is not stuck behind a queued ACCESS EXCLUSIVE request.
    const reader = await session();
    await reader.query("SET statement_timeout = 2000");
    const count = await reader.query("SELECT count(*)::int AS n FROM sales.readers_a");
    await reader.end();

    // Assess: the run finished while the report was still open, and said why it left t_a.
    const stillOpen = !reportEnded;
    clearTimeout(guard);
    if (!reportEnded) await report.query("COMMIT");
    await report.end();
    expect(stillOpen).toBe(true);
    expect(r).toMatchObject({ status: "ok", loaded_table: '"sales"."readers_b"', rows: 3 });
    expect(count.rows).toEqual([{ n: 0 }]);
    expect(r.events.join("\n")).toMatch(
      /"sales"\."readers_a" not truncated: other sessions hold it \(lock_timeout 500 ms\)/,
    );
    expect(await ids("readers_b")).toEqual([10, 11, 12]);
  });
});
