/**
 * `npm run bench`'s fan-out case (docs/db-from-s3.md §14): one load of
 * BENCH_FANOUT_ROWS rows (default 3,000,000, ~56 bytes each) into ONE table
 * with a primary key, the same index on every side, each side starting from the
 * same state (the table holding the previous side's rows, vacuumed, a checkpoint
 * just before), the sides alternating within each run (their order rotated run by
 * run):
 *  (a) the single stream: the plain one-object load through the runner, mode drop;
 *  (b) fan-out of a manifest of parts, mode drop (items COPY into a logged staging
 *      table without the key; the publish step builds the key, then renames the table
 *      into place: data copied once), for each worker count and part count;
 *  (c) fan-out, mode truncate (items into an UNLOGGED staging table without indexes,
 *      published with INSERT … SELECT under the table's lock: data copied twice);
 *  references: psql \copy of the one object from a local file; two parallel psql
 *  \copy of the parts into a fresh indexed table then renamed, from local files and
 *  through `curl` from the same S3 server (what PostgreSQL alone scales to here, and
 *  what serving the bytes costs), and from local files with the primary key added
 *  once the rows are in (what interleaved inserts into one index cost).
 * A reader in a process of its own polls `SELECT 1 FROM <table> LIMIT 1` during each
 * side; its longest query is how long the load's lock blocked readers. /proc tells
 * where the cores went.
 * Options: BENCH_FANOUT_ROWS, BENCH_FANOUT_PARTS (default "8,4": the first for every
 * side, the others for the 2- and 4-worker drop sides), BENCH_FANOUT_RUNS (default
 * BENCH_RUNS, else 3), BENCH_POLL_MS (the reader's pause between queries, default 20),
 * BENCH_MAX_FOREIGN (default 0.25: a run during which other processes of the machine took
 * more cores than this is not counted and run again, up to 3× BENCH_FANOUT_RUNS runs),
 * BENCH_FANOUT_ONLY (comma-separated parts of side names: only those sides and (a)).
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";
import type { LocalS3, PgCluster } from "../support/index";
import {
  type Child,
  type CoresBusy,
  coresBusy,
  countedRuns,
  cpuSnapshot,
  csvRows,
  loadJob,
  median,
  startChild,
} from "./bench-common";

const run = promisify(execFile);

const ROWS = Number(process.env.BENCH_FANOUT_ROWS ?? 3_000_000);
const PARTS = (process.env.BENCH_FANOUT_PARTS ?? "8,4").split(",").map(Number);
const RUNS = Number(process.env.BENCH_FANOUT_RUNS ?? process.env.BENCH_RUNS ?? 3);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 20);
/** The 2-way fan-out's throughput over the single stream's, publish included (issue 17). */
const TARGET_SPEEDUP = 1.4;

const TABLE = "orders_fan";
/** The psql references' fresh table, renamed into place. */
const PSQL_STAGE = "orders_fan_ps";
const COLUMNS = [
  "id bigint PRIMARY KEY",
  "customer text",
  "amount numeric(12,2)",
  "created_at timestamptz",
  "notes text",
];
const COPY_WITH = "with (format csv, header)";

export interface FanOutWorld {
  readonly dir: string;
  readonly cluster: PgCluster;
  readonly s3: LocalS3;
  readonly bucket: string;
  /** The realm's top level and connections (`pg`: plain PostgreSQL over verified TLS); jobs are added here. */
  readonly realmTop: Record<string, unknown>;
  /** The bundled loader child and the poller's bundle. */
  readonly loaderJs: string;
  readonly pollerJs: string;
  /** The environment of the children (AWS stub, S3 server). */
  readonly env: NodeJS.ProcessEnv;
  /** The environment of psql (the loader role over verified TLS). */
  readonly psqlEnv: NodeJS.ProcessEnv;
}

interface Sample {
  readonly ms: number;
  readonly publishMs?: number;
  /** drop fan-outs: the key's build on the staging table, before the publish's lock. */
  readonly keysMs?: number;
  readonly readerMaxMs: number;
  readonly cores: CoresBusy;
  /** The table's and its primary key's size after the side, MB. */
  readonly heapMb: number;
  readonly indexMb: number;
}

interface Side {
  readonly name: string;
  /** Runs the side; its own time (in-process for the runner), and the publish's for a fan-out. */
  readonly run: () => Promise<{ ms: number; publishMs?: number; keysMs?: number }>;
}

/** `rows` rows of the sequence from `from`, with the header, to `file`; its size. */
async function writeCsv(file: string, from: number, to: number): Promise<number> {
  await pipeline(Readable.from(csvRows(from, to)), createWriteStream(file));
  return (await stat(file)).size;
}

export async function fanOutCase(w: FanOutWorld): Promise<void> {
  const { dir, cluster, s3, bucket } = w;
  const psql = (...args: string[]) =>
    run("psql", ["-q", "-v", "ON_ERROR_STOP=1", ...args], { env: w.psqlEnv });
  const shell = (command: string) =>
    run("bash", ["-o", "pipefail", "-c", command], { env: w.psqlEnv });

  // The data: one object, and for each part count its parts (each with the header) and a manifest.
  const single = { file: join(dir, "fan-orders.csv"), key: "fan/orders.csv", bytes: 0 };
  single.bytes = await writeCsv(single.file, 1, ROWS);
  await s3.put(bucket, single.key, await readFile(single.file));
  const parts = new Map<number, { file: string; key: string; bytes: number }[]>();
  for (const n of PARTS) {
    const list = [];
    for (let k = 0; k < n; k++) {
      const file = join(dir, `fan-p${n}-${k}.csv`);
      const key = `fan/p${n}/part-${String(k).padStart(3, "0")}.csv`;
      const bytes = await writeCsv(
        file,
        Math.floor((k * ROWS) / n) + 1,
        Math.floor(((k + 1) * ROWS) / n),
      );
      await s3.put(bucket, key, await readFile(file));
      list.push({ file, key, bytes });
    }
    parts.set(n, list);
    await s3.put(
      bucket,
      `fan/p${n}.manifest`,
      JSON.stringify({ entries: list.map((p) => ({ url: `s3://${bucket}/${p.key}` })) }),
    );
  }
  const mb = single.bytes / 1e6;
  console.log(
    `\n4. fan-out: ${ROWS.toLocaleString()} rows, ${single.bytes.toLocaleString()} bytes of CSV (${(single.bytes / ROWS).toFixed(1)} bytes a row) as one object and as ${PARTS.join(" or ")} parts with a manifest; ONE table, ${COLUMNS[0]}; ${RUNS} runs, alternating (order rotated each run), a checkpoint before each side; a reader polls SELECT 1 FROM ${TABLE} LIMIT 1 every ${POLL_MS} ms`,
  );

  // The jobs: the same columns (so the same index) on every side; fan_out is the job's to say.
  const jobs: Record<string, unknown>[] = [];
  const job = (
    jobId: string,
    key: string,
    mode: string,
    fanOut?: { workers: number; item_size: number },
    columns = COLUMNS,
  ) => {
    jobs.push(
      loadJob(jobId, {
        bucket,
        key,
        table: TABLE,
        mode,
        columns,
        args: ["FORMAT CSV", "HEADER", ...(fanOut ? ["MANIFEST"] : [])],
        ...(fanOut ? { fan_out: fanOut } : {}),
      }),
    );
    return jobId;
  };
  const loader: Child = startChild(w.loaderJs, w.env);
  const realm = () => ({ ...w.realmTop, jobs });
  const runner = (jobId: string, fan?: { workers: number; parts: number; mode: string }) => {
    return async () => {
      const r = await loader.ask({ realm: realm(), jobId, parameters: { reload: true } });
      if (r.status !== "ok" || r.rows !== ROWS)
        throw new Error(`${jobId} failed: ${JSON.stringify(r)}`);
      const f = r.fan_out as { workers: number; parts: number; publish_ms: number } | undefined;
      if (fan && (f?.workers !== fan.workers || f?.parts !== fan.parts))
        throw new Error(`${jobId}: not the fan-out asked for: ${JSON.stringify(r)}`);
      if (!fan && f) throw new Error(`${jobId}: fanned out: ${JSON.stringify(f)}`);
      return {
        ms: r.ms as number,
        publishMs: f?.publish_ms,
        keysMs: r.keys_ms as number | undefined,
      };
    };
  };

  const [first = 8, ...others] = PARTS;
  const sides: Side[] = [
    {
      name: "(a) single stream, 1 object (drop)",
      run: runner(job("fan/single", single.key, "drop")),
    },
  ];
  const fanSide = (workers: number, n: number, mode: string, tag: string) => {
    const list = parts.get(n) ?? [];
    const itemSize = Math.max(...list.map((p) => p.bytes));
    sides.push({
      name: `${tag} fan-out ${workers} worker${workers > 1 ? "s" : ""}, ${n} parts (${mode})`,
      run: runner(
        job(`fan/${mode}-w${workers}-p${n}`, `fan/p${n}.manifest`, mode, {
          workers,
          item_size: itemSize,
        }),
        { workers, parts: n, mode },
      ),
    });
  };
  for (const workers of [1, 2, 4]) fanSide(workers, first, "drop", "(b)");
  for (const n of others) for (const workers of [2, 4]) fanSide(workers, n, "drop", "(b)");
  fanSide(2, first, "truncate", "(c)");

  // References: psql's \copy over the same verified TLS, the same index.
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return { ms: performance.now() - t0 };
  };
  sides.push({
    name: "psql \\copy, 1 object from a file",
    run: () =>
      timed(() =>
        psql(
          "-1",
          "-c",
          `TRUNCATE ${TABLE}`,
          "-c",
          `\\copy ${TABLE} from '${single.file}' ${COPY_WITH}`,
        ),
      ),
  });
  /** `streams` psql sessions, round-robin over the parts, into a fresh indexed table renamed into place. */
  /**
   * `streams` psql sessions, round-robin over the parts, into a fresh table renamed into
   * place; `indexAfter`: the primary key is added once the rows are in (one sort, not
   * the streams' interleaved inserts).
   */
  const psqlParallel =
    (streams: number, via: "file" | "curl", indexAfter = false) =>
    async () => {
      const list = parts.get(first) ?? [];
      const copyOne = (p: { file: string; key: string }) =>
        via === "file"
          ? psql("-c", `\\copy ${PSQL_STAGE} from '${p.file}' ${COPY_WITH}`)
          : shell(
              `curl -sf "${s3.endpoint}/${bucket}/${p.key}" | psql -q -v ON_ERROR_STOP=1 -c '\\copy ${PSQL_STAGE} from pstdin ${COPY_WITH}'`,
            );
      return timed(async () => {
        await psql(
          "-c",
          `DROP TABLE IF EXISTS ${PSQL_STAGE}`,
          "-c",
          `CREATE TABLE ${PSQL_STAGE} (${(indexAfter ? COLUMNS.map((c) => c.replace(" PRIMARY KEY", "")) : COLUMNS).join(", ")})`,
        );
        await Promise.all(
          Array.from({ length: streams }, async (_, s) => {
            for (let k = s; k < list.length; k += streams) await copyOne(list[k] as never);
          }),
        );
        if (indexAfter) await psql("-c", `ALTER TABLE ${PSQL_STAGE} ADD PRIMARY KEY (id)`);
        await psql(
          "-1",
          "-c",
          `DROP TABLE ${TABLE}`,
          "-c",
          `ALTER TABLE ${PSQL_STAGE} RENAME TO ${TABLE}`,
          "-c",
          `ALTER INDEX ${PSQL_STAGE}_pkey RENAME TO ${TABLE}_pkey`,
        );
      });
    };
  sides.push({
    name: `psql \\copy, 2 streams, ${first} part files`,
    run: psqlParallel(2, "file"),
  });
  sides.push({
    name: `curl | psql \\copy, 2 streams, ${first} parts`,
    run: psqlParallel(2, "curl"),
  });
  sides.push({
    name: `psql \\copy, 2 streams, ${first} part files, key added after`,
    run: psqlParallel(2, "file", true),
  });

  // BENCH_FANOUT_ONLY: the sides whose names contain one of its strings, and (a).
  const only = process.env.BENCH_FANOUT_ONLY?.split(",").filter(Boolean);
  if (only) {
    const keep = sides.filter((x, k) => k === 0 || only.some((o) => x.name.includes(o)));
    sides.splice(0, sides.length, ...keep);
  }

  // The reader, over the unix socket as the superuser: only the table's lock delays it.
  const superuser = {
    host: cluster.socketDir,
    port: cluster.port,
    user: "postgres",
    database: "bench",
  };
  const poller = startChild(w.pollerJs, w.env, [
    JSON.stringify(superuser),
    `public.${TABLE}`,
    String(POLL_MS),
  ]);
  await psql("-c", `CREATE TABLE ${TABLE} (${COLUMNS.join(", ")})`);

  const procs = { loader: loader.pid, others: [poller.pid] };
  const admin = new pg.Client(superuser);
  await admin.connect();
  /** The table as every side leaves it: every row, its one index; its sizes. Then vacuumed. */
  const checkState = async (side: string) => {
    const { rows } = await admin.query(
      `SELECT (SELECT count(*) FROM public.${TABLE})::bigint AS n,
              (SELECT array_agg(indexrelid::regclass::text ORDER BY 1) FROM pg_index WHERE indrelid = 'public.${TABLE}'::regclass) AS idx,
              pg_relation_size('public.${TABLE}') AS heap, pg_relation_size('public.${TABLE}_pkey') AS index`,
    );
    const r = rows[0] as { n: string; idx: string[]; heap: string; index: string };
    if (Number(r.n) !== ROWS || r.idx.join() !== `${TABLE}_pkey`)
      throw new Error(`after ${side}: ${TABLE} holds ${r.n} rows, indexes ${r.idx}`);
    // Vacuumed now, so no autovacuum of these rows runs into the next side (it would hold
    // up the next side's DROP or TRUNCATE for deadlock_timeout, then be cancelled).
    await admin.query(`VACUUM public.${TABLE}`);
    return { heapMb: Number(r.heap) / 1e6, indexMb: Number(r.index) / 1e6 };
  };
  /** One run: every side once, in `order`, each from a checkpoint, the reader polling. */
  const oneRun = async (order: readonly Side[]) => {
    const got = new Map<string, Sample>();
    for (const side of order) {
      await cluster.query("CHECKPOINT");
      await poller.ask("start");
      const before = cpuSnapshot(cluster.dataDir, procs);
      const r = await side.run();
      // The ended sessions' backends reaped by the postmaster, so their CPU is counted.
      await sleep(100);
      const after = cpuSnapshot(cluster.dataDir, procs);
      const reader = (await poller.ask("stop")) as {
        maxMs: number;
        errors: number;
        queries: number;
        lastError: string;
      };
      if (reader.errors)
        throw new Error(`the reader failed during ${side.name}: ${reader.lastError}`);
      const sizes = await checkState(side.name);
      got.set(side.name, {
        ms: r.ms,
        publishMs: r.publishMs,
        keysMs: r.keysMs,
        readerMaxMs: reader.maxMs,
        cores: coresBusy(before, after, r.ms),
        ...sizes,
      });
    }
    return got;
  };
  // Warm-up untimed; runs during which other work took the cores are run again.
  const counted = await countedRuns(
    sides,
    RUNS,
    oneRun,
    (x) => x.cores.foreign,
    (attempt) => sides.map((_, k) => sides[(k + attempt) % sides.length] as Side),
  );
  const samples = new Map<string, Sample[]>(
    sides.map((x) => [x.name, counted.map((run) => run.get(x.name) as Sample)]),
  );
  await loader.ask("exit");
  await poller.ask("exit");
  await admin.end();
  // Autovacuum gives way to a lock request after deadlock_timeout (1 s): a DROP, RENAME or
  // TRUNCATE that waited for it shows in the server's log, with the relation it worked on.
  const log = (await readFile(cluster.logFile, "utf8").catch(() => "")).split("\n");
  const cancelled = new Map<string, number>();
  log.forEach((line, k) => {
    if (!line.includes("canceling autovacuum task")) return;
    const rel = /(?:relation|table) "([^"]+)"/.exec(log[k + 1] ?? "")?.[1] ?? "?";
    const name = rel.replace(/_lava_stage_[0-9a-f]+/, "_lava_stage_… (a fan-out's staging)");
    cancelled.set(name, (cancelled.get(name) ?? 0) + 1);
  });

  // The table: per side medians; speed-up over (a), paired (run by run) and of medians.
  const base = samples.get(sides[0]?.name as string) ?? [];
  const baseMs = median(base.map((s) => s.ms));
  const f = (x: number, d = 0) =>
    x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    "\n| side | median | rows/s | MB/s | speed-up over (a), paired / of medians | key built after the items (median) | publish, median / max of runs | reader's longest wait, median / max |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  const speedups = new Map<string, number>();
  for (const side of sides) {
    const xs = samples.get(side.name) ?? [];
    const ms = median(xs.map((s) => s.ms));
    const paired = median(xs.map((s, k) => (base[k]?.ms as number) / s.ms));
    speedups.set(side.name, paired);
    const publish = xs.map((s) => s.publishMs ?? 0);
    const pub = xs.some((s) => s.publishMs !== undefined)
      ? `${f(median(publish))} / ${f(Math.max(...publish))} ms`
      : "—";
    const wait = xs.map((s) => s.readerMaxMs);
    const keys = xs.some((s) => s.keysMs !== undefined)
      ? `${f(median(xs.map((s) => s.keysMs ?? 0)))} ms`
      : "—";
    console.log(
      `| ${side.name} | ${f(ms / 1000, 2)} s | ${f(ROWS / (ms / 1000))} | ${f(mb / (ms / 1000), 1)} | ${f(paired, 2)}× / ${f(baseMs / ms, 2)}× | ${keys} | ${pub} | ${f(median(wait))} / ${f(Math.max(...wait))} ms |`,
    );
  }
  console.log(
    "\nCores busy during each side (medians; 2 on this machine): all = PostgreSQL + job process + s3rver (this process) + psql/curl/reader + foreign (not this benchmark's)",
  );
  console.log(
    "| side | all | PostgreSQL | job process | s3rver | psql, curl, reader | foreign | table, index after (MB) |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const side of sides) {
    const xs = samples.get(side.name) ?? [];
    const c = (k: keyof CoresBusy) => f(median(xs.map((s) => s.cores[k])), 2);
    console.log(
      `| ${side.name} | ${c("machine")} | ${c("pg")} | ${c("loader")} | ${c("s3")} | ${c("tools")} | ${c("foreign")} | ${f(median(xs.map((s) => s.heapMb)))}, ${f(median(xs.map((s) => s.indexMb)))} |`,
    );
  }
  console.log(
    `\n  autovacuum tasks cancelled by a lock request, each after deadlock_timeout: ${[...cancelled].map(([rel, n]) => `${n}× on ${rel}`).join(", ") || "none"}`,
  );
  const two = sides.find((s) => s.name.startsWith(`(b) fan-out 2 workers, ${first} parts`));
  const got = speedups.get(two?.name ?? "") ?? 0;
  console.log(
    `  target: the 2-way fan-out (drop, ${first} parts), publish included, >= ${TARGET_SPEEDUP}× the single stream's throughput: ${f(got, 2)}× (paired): ${got >= TARGET_SPEEDUP ? "met" : "NOT met"}`,
  );
  const ps = (name: string) => median((samples.get(name) ?? []).map((s) => s.ms));
  // Unless BENCH_FANOUT_ONLY's filter took the one-stream psql side away.
  const oneStream = sides.find((s) => s.name.startsWith("psql \\copy, 1"));
  if (oneStream) {
    const one = ps(oneStream.name);
    for (const s of sides.filter((x) => x.name.includes("2 streams")))
      console.log(
        `  ${s.name} over psql \\copy, 1 object: ${f(one / ps(s.name), 2)}× (of medians)`,
      );
  }
}
