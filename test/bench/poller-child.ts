/**
 * The benchmark's concurrent reader: a session of its own that, between
 * "start" and "stop", runs a trivial `SELECT 1 FROM <table> LIMIT 1` every
 * interval and reports the longest any one took — how long a reader of the
 * table was blocked by the load's lock (its own process, so the load's CPU in
 * the other processes does not delay its clock).
 *
 * argv: a JSON pg.ClientConfig, the table, the interval in ms.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

const [config, table, interval] = process.argv.slice(2) as [string, string, string];
const client = new pg.Client(JSON.parse(config) as pg.ClientConfig);
const connected = client.connect();
const sql = `SELECT 1 FROM ${table} LIMIT 1`;

let running = false;
let loop: Promise<void> | undefined;
let stats = { queries: 0, maxMs: 0, errors: 0, lastError: "" };

async function poll(): Promise<void> {
  while (running) {
    const t0 = performance.now();
    try {
      await client.query(sql);
    } catch (err) {
      stats.errors++;
      stats.lastError = (err as Error).message;
    }
    const ms = performance.now() - t0;
    stats.queries++;
    if (ms > stats.maxMs) stats.maxMs = ms;
    await sleep(Number(interval));
  }
}

process.on("message", async (msg: "start" | "stop" | "exit") => {
  await connected;
  if (msg === "start") {
    stats = { queries: 0, maxMs: 0, errors: 0, lastError: "" };
    running = true;
    loop = poll();
    process.send?.({ started: true });
  } else if (msg === "stop") {
    running = false;
    await loop;
    process.send?.(stats);
  } else {
    await client.end();
    process.send?.({ done: true });
    process.disconnect();
  }
});
