/**
 * `npm run bench`'s bad-row and merge cases (docs/db-from-s3.md §15, §16), each
 * side through the real runner (bundled, in a process of its own), the sides
 * alternating within each run (their order rotated run by run), a checkpoint
 * before each side:
 *
 *  5. quarantine (BENCH_CASES=quarantine): the streaming loader of the same clean
 *     gzip CSV (load-bench.ts's object, plain PostgreSQL) with `on_bad_rows:
 *     quarantine` (max_bad_rows 100: batches under savepoints, the header skipped
 *     by the runner) vs the default `on_bad_rows: fail` (one COPY); the psql \copy
 *     reference; then, in runs of their own (so that its WAL and rolled-back batches
 *     do not stand between the clean sides), the default path against the quarantine
 *     job on a copy of the object with BENCH_BAD_ROWS (default 10, 0: none) bad ids
 *     spread through it: what searching the refused batches costs. Target:
 *     quarantine <= 1.05× fail.
 *  6. merge (BENCH_CASES=merge): a table of BENCH_MERGE_BASE rows (default
 *     3,000,000, `id bigint PRIMARY KEY`) restored before each side from a prepared
 *     copy (outside the timed part: INSERT … SELECT, the key added, VACUUM ANALYZE);
 *     `mode: merge` (key: the primary key) of BENCH_MERGE_ROWS rows (default
 *     1,000,000) whose keys all exist, spread over the table, with changed values;
 *     the same with half of the keys new (BENCH_MERGE_VARIANTS, default
 *     "changed,half-new"); vs `mode: append` of as many rows of new keys into the
 *     same table; and a hand-written psql upsert of the changed file (temp table,
 *     \copy, INSERT … ON CONFLICT DO UPDATE) for reference. No target: reported.
 *     BENCH_MERGE_RUNS (default BENCH_RUNS, else 3).
 * Prints per side the median, rows/s, the ratios (median of paired ratios, ratio of
 * medians) and each job process's peak RSS.
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import type { LocalS3, PgCluster } from "../support/index";
import {
  type Child,
  CSV_HEADER,
  coresBusy,
  countedRuns,
  cpuSnapshot,
  csvLines,
  csvRows,
  loadJob,
  median,
  startChild,
} from "./bench-common";

const run = promisify(execFile);

/** psql as the loader role (the bench database), stopping at the first error. */
const psqlAs = (w: RowCareWorld, ...args: string[]) =>
  run("psql", ["-q", "-v", "ON_ERROR_STOP=1", ...args], { env: w.psqlEnv });

export interface RowCareWorld {
  readonly dir: string;
  readonly cluster: PgCluster;
  readonly s3: LocalS3;
  readonly bucket: string;
  /** The realm's top level (s3_temp set) and connections (`pg`: plain PostgreSQL over verified TLS). */
  readonly realmTop: Record<string, unknown>;
  readonly loaderJs: string;
  readonly env: NodeJS.ProcessEnv;
  readonly psqlEnv: NodeJS.ProcessEnv;
}

/** One side of a comparison: its time, and the job process's peak RSS when it is the runner's. */
interface Side {
  readonly name: string;
  /** The job process, whose CPU time is counted. */
  readonly pid?: number;
  /** Untimed preparation (the table's state), before the side's checkpoint. */
  readonly before?: () => Promise<void>;
  readonly run: () => Promise<{ ms: number; rssMiB?: number }>;
  /** Checks the side's result (the table's rows), untimed. */
  readonly after?: () => Promise<void>;
}

const f = (x: number, d = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * `runs` rounds of every side after a warm-up (bench-common's countedRuns: a round
 * other work disturbed is run again), the order rotated every other round and the
 * rounds between reversed; per side its times, CPU, WAL and peak RSS.
 */
async function alternate(
  cluster: PgCluster,
  sides: readonly Side[],
  runs: number,
): Promise<Map<string, Samples>> {
  const rss = new Map<string, number>();
  const round = async (order: readonly Side[]) => {
    const got = new Map<
      string,
      { ms: number; pgCpu: number; jobCpu: number; walMb: number; foreign: number }
    >();
    const lsn = async () =>
      String((await cluster.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0]?.l);
    for (const side of order) {
      await side.before?.();
      await cluster.query("CHECKPOINT");
      const w0 = await lsn();
      const c0 = cpuSnapshot(cluster.dataDir, { loader: side.pid });
      const t0 = performance.now();
      const r = await side.run();
      // The ended sessions' backends reaped by the postmaster, so their CPU is counted.
      await sleep(100);
      const c1 = cpuSnapshot(cluster.dataDir, { loader: side.pid });
      const cores = coresBusy(c0, c1, performance.now() - t0);
      const wal = await cluster.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b", [
        w0,
      ]);
      await side.after?.();
      rss.set(side.name, Math.max(rss.get(side.name) ?? 0, r.rssMiB ?? 0));
      got.set(side.name, {
        ms: r.ms,
        pgCpu: c1.pg - c0.pg,
        jobCpu: c1.loader - c0.loader,
        walMb: Number(wal.rows[0]?.b) / 1e6,
        foreign: cores.foreign,
      });
    }
    return got;
  };
  // Rotated, and reversed every other run: each side follows each other side in turn
  // (a side inherits what the previous one left: its WAL, its dropped table's buffers).
  const counted = await countedRuns(
    sides,
    runs,
    round,
    (x) => x.foreign,
    (attempt) => {
      // Runs 2k and 2k+1: rotated by k, then that reversed (with two sides, each first in turn).
      const k = Math.floor(attempt / 2);
      const rotated = sides.map((_, i) => sides[(i + k) % sides.length] as Side);
      return attempt % 2 ? rotated.reverse() : rotated;
    },
  );
  return new Map(
    sides.map((side) => {
      const xs = counted.map((g) => g.get(side.name) as NonNullable<ReturnType<typeof g.get>>);
      return [
        side.name,
        {
          ms: xs.map((x) => x.ms),
          pgCpu: xs.map((x) => x.pgCpu),
          jobCpu: xs.map((x) => x.jobCpu),
          walMb: xs.map((x) => x.walMb),
          rssMiB: rss.get(side.name) ?? 0,
        },
      ];
    }),
  );
}

/** A side's runs: times, CPU seconds of PostgreSQL (all its processes) and of the job process. */
interface Samples {
  readonly ms: number[];
  readonly pgCpu: number[];
  readonly jobCpu: number[];
  /** WAL written during the side, MB. */
  readonly walMb: number[];
  rssMiB: number;
}

/** The results as a table, each side against `base` (paired run by run, and of medians). */
function report(
  got: Map<string, Samples>,
  base: string,
  rows: (side: string) => number,
  rawBytes?: (side: string) => number,
): Map<string, { paired: number; ofMedians: number; ms: number }> {
  const b = got.get(base)?.ms ?? [];
  const bMs = median(b);
  const out = new Map<string, { paired: number; ofMedians: number; ms: number }>();
  console.log(
    `\n| side | median | rows/s |${rawBytes ? " MB/s |" : ""} ratio to ${base} (paired / of medians) | CPU s, PostgreSQL / job process (medians) | WAL MB (median) | job process peak RSS |`,
  );
  console.log(`|---|---|---|${rawBytes ? "---|" : ""}---|---|---|---|`);
  for (const [name, g] of got) {
    const ms = median(g.ms);
    const paired = median(g.ms.map((x, k) => x / (b[k] as number)));
    out.set(name, { paired, ofMedians: ms / bMs, ms });
    const mbs = rawBytes ? ` ${f(rawBytes(name) / 1e6 / (ms / 1000), 1)} |` : "";
    console.log(
      `| ${name} | ${f(ms / 1000, 2)} s | ${f(rows(name) / (ms / 1000))} |${mbs} ${f(paired, 3)} / ${f(ms / bMs, 3)} | ${f(median(g.pgCpu), 2)} / ${g.rssMiB ? f(median(g.jobCpu), 2) : "—"} | ${f(median(g.walMb))} | ${g.rssMiB ? `${f(g.rssMiB)} MiB` : "—"} |`,
    );
  }
  return out;
}

/** A job of the runner in a process of its own: its time (in-process) and peak RSS; `check` sees its result. */
function runnerSide(
  w: RowCareWorld,
  realm: () => unknown,
  jobId: string,
  check: (r: Record<string, unknown>) => string | undefined,
): { child: Child; pid: number; run: Side["run"] } {
  const child = startChild(w.loaderJs, w.env);
  return {
    child,
    pid: child.pid,
    run: async () => {
      const r = await child.ask({ realm: realm(), jobId, parameters: { reload: true } });
      const wrong = r.status === "ok" ? check(r) : "not ok";
      if (wrong) throw new Error(`${jobId}: ${wrong}: ${JSON.stringify(r)}`);
      return { ms: r.ms as number, rssMiB: r.maxRssMiB as number };
    },
  };
}

export interface QuarantineCase {
  readonly rows: number;
  readonly runs: number;
  /** The clean gzip CSV object (with a header) and its uncompressed size. */
  readonly key: string;
  readonly rawBytes: number;
  /** An existing table of the CSV's columns (no key), emptied by each load (mode truncate). */
  readonly table: string;
  /** The psql \copy reference of the same object into the same table. */
  readonly reference: { readonly name: string; readonly run: () => Promise<unknown> };
}

/** BENCH_BAD_ROWS ids spread evenly through rows 1..`rows`. */
function badIds(rows: number, bad: number): number[] {
  return Array.from({ length: bad }, (_, k) => Math.floor(((k + 0.5) * rows) / bad) + 1);
}

export async function quarantineCase(w: RowCareWorld, c: QuarantineCase): Promise<void> {
  const bad = Number(process.env.BENCH_BAD_ROWS ?? 10);
  const maxBad = 100;
  // The same rows with `bad` ids made invalid (`123x` in a bigint column: 22P02).
  const badKey = c.key.replace(/\.csv\.gz$/, "-bad.csv.gz");
  const ids = new Set(badIds(c.rows, bad));
  if (bad > 0) {
    const file = join(w.dir, "orders-bad.csv.gz");
    const spoilt = Readable.from(csvLines(c.rows)).map((chunk: string) =>
      chunk.replace(/(^|\n)(\d+),/g, (m, nl: string, id: string) =>
        ids.has(Number(id)) ? `${nl}${id}x,` : m,
      ),
    );
    await pipeline(spoilt, createGzip(), createWriteStream(file));
    await w.s3.put(w.bucket, badKey, await readFile(file));
  }
  const job = (jobId: string, key: string, quarantine: boolean) =>
    loadJob(jobId, {
      bucket: w.bucket,
      key,
      table: c.table,
      mode: "truncate",
      args: ["FORMAT CSV", "HEADER", "GZIP"],
      ...(quarantine ? { on_bad_rows: "quarantine", max_bad_rows: maxBad } : {}),
    });
  const realm = {
    ...w.realmTop,
    jobs: [
      job("bench/q-fail", c.key, false),
      job("bench/q-quarantine", c.key, true),
      job("bench/q-bad", badKey, true),
    ],
  };
  console.log(
    `\n5. quarantine on clean data: ${c.rows.toLocaleString()} rows, ${(c.rawBytes / 1e6).toFixed(1)} MB CSV (gzip), streaming loader (plain PostgreSQL), mode truncate; on_bad_rows: quarantine (max_bad_rows ${maxBad}) vs the default on_bad_rows: fail; ${c.runs} runs, alternating (order rotated), a checkpoint before each side (target ratio <= 1.05)`,
  );
  const FAIL = "on_bad_rows: fail (default)";
  const QUAR = "on_bad_rows: quarantine, clean";
  const BAD = `on_bad_rows: quarantine, ${bad} bad rows spread`;
  const clean = (r: Record<string, unknown>) =>
    r.rows !== c.rows
      ? `${r.rows} rows, not ${c.rows}`
      : r.rows_rejected !== undefined && r.rows_rejected !== 0
        ? "rows rejected"
        : undefined;
  const sideOf = (
    name: string,
    jobId: string,
    check: (r: Record<string, unknown>) => string | undefined,
  ): { child: Child; side: Side } => {
    const s = runnerSide(w, () => realm, jobId, check);
    return { child: s.child, side: { name, pid: s.pid, run: s.run } };
  };
  const fail = sideOf(FAIL, "bench/q-fail", clean);
  const quarantine = sideOf(QUAR, "bench/q-quarantine", clean);
  const reference: Side = {
    name: c.reference.name,
    run: async () => {
      const t0 = performance.now();
      await c.reference.run();
      return { ms: performance.now() - t0 };
    },
  };
  // No autovacuum of one side's 2M rows running into the next side (its CPU counted there,
  // and the next TRUNCATE waiting deadlock_timeout for it to be cancelled).
  await psqlAs(w, "-c", `ALTER TABLE ${c.table} SET (autovacuum_enabled = false)`);
  // The clean sides alone: the bad-row side (more WAL, rolled-back batches) is measured
  // apart, so it does not stand between them.
  const got = await alternate(w.cluster, [fail.side, quarantine.side, reference], c.runs);
  const ratios = report(
    got,
    FAIL,
    () => c.rows,
    () => c.rawBytes,
  );
  const q = ratios.get(QUAR);
  if (q)
    console.log(
      `\n  target: quarantine on clean data <= 1.05× the default path: ${f(q.paired, 3)} (median of paired ratios), ${f(q.ofMedians, 3)} (ratio of medians): ${q.paired <= 1.05 ? "met" : "NOT met"}`,
    );
  const children = [fail.child, quarantine.child];
  if (bad > 0) {
    const badSide = sideOf(BAD, "bench/q-bad", (r) =>
      r.rows !== c.rows - bad || r.rows_rejected !== bad
        ? `${r.rows} rows, ${r.rows_rejected} rejected, not ${c.rows - bad}, ${bad}`
        : undefined,
    );
    children.push(badSide.child);
    const badRuns = Math.max(2, Math.ceil(c.runs / 2));
    console.log(
      `\n  ${bad} bad rows (ids ${[...ids].join(", ")}) spread through a copy of the object; each refused batch rolled back and searched; ${badRuns} runs against the default path's clean load:`,
    );
    const withBad = await alternate(w.cluster, [fail.side, badSide.side], badRuns);
    const b = report(
      withBad,
      FAIL,
      (name) => (name === BAD ? c.rows - bad : c.rows),
      () => c.rawBytes,
    ).get(BAD);
    if (b) {
      const failMs = median(withBad.get(FAIL)?.ms ?? []);
      console.log(
        `  with ${bad} bad rows: ${f(b.paired, 3)}× the default path's clean load (paired), ${f((b.ms - failMs) / bad)} ms more a bad row (of medians)`,
      );
    }
  }
  await psqlAs(w, "-c", `ALTER TABLE ${c.table} RESET (autovacuum_enabled)`);
  for (const child of children) await child.ask("exit");
}

/** Rows of existing or new keys with values other than csvRows' (amount, date, notes changed). */
function* changedRows(ids: Iterable<number>): Generator<string> {
  yield CSV_HEADER;
  let batch = "";
  let n = 0;
  for (const i of ids) {
    const day = String(((i + 3) % 28) + 1).padStart(2, "0");
    batch += `${i},customer-${i % 9973},${((i * 7) % 100000) / 100},2026-02-${day}T08:00:00Z,changed ${i % 5}\n`;
    if (++n % 10_000 === 0) {
      yield batch;
      batch = "";
    }
  }
  if (batch) yield batch;
}

export async function mergeCase(w: RowCareWorld): Promise<void> {
  const BASE = Number(process.env.BENCH_MERGE_BASE ?? 3_000_000);
  const ROWS = Number(process.env.BENCH_MERGE_ROWS ?? 1_000_000);
  const RUNS = Number(process.env.BENCH_MERGE_RUNS ?? process.env.BENCH_RUNS ?? 3);
  const variants = (process.env.BENCH_MERGE_VARIANTS ?? "changed,half-new")
    .split(",")
    .map((v) => v.trim());
  if (ROWS > BASE) throw new Error("BENCH_MERGE_ROWS must not exceed BENCH_MERGE_BASE");
  const { cluster, s3, bucket } = w;
  const psql = (...args: string[]) => psqlAs(w, ...args);
  const TABLE = "orders_m";
  const PREPARED = "orders_m_base";
  const COLS =
    "id bigint NOT NULL, customer text, amount numeric(12,2), created_at timestamptz, notes text";

  // Existing keys spread over the whole table (every BASE/ROWS-th id), and new ones past it.
  const existing = function* (n: number) {
    for (let k = 1; k <= n; k++) yield Math.floor((k * BASE) / n);
  };
  const halfNew = function* () {
    const old = existing(Math.ceil(ROWS / 2));
    let fresh = BASE;
    for (let j = 1; j <= ROWS; j++) yield j % 2 ? (old.next().value as number) : ++fresh;
  };
  const files: Record<string, Iterable<string>> = {
    base: csvRows(1, BASE),
    changed: changedRows(existing(ROWS)),
    "half-new": changedRows(halfNew()),
    append: csvRows(BASE + 1, BASE + ROWS),
  };
  const local: Record<string, string> = {};
  for (const [name, rows] of Object.entries(files)) {
    if (name === "half-new" && !variants.includes(name)) continue;
    const file = join(w.dir, `merge-${name}.csv`);
    await pipeline(Readable.from(rows), createWriteStream(file));
    local[name] = file;
    if (name !== "base") await s3.put(bucket, `merge/${name}.csv`, await readFile(file));
  }
  await psql(
    "-c",
    `DROP TABLE IF EXISTS ${PREPARED}`,
    "-c",
    `CREATE TABLE ${PREPARED} (${COLS}) WITH (autovacuum_enabled = false)`,
    "-c",
    `\\copy ${PREPARED} from '${local.base}' with (format csv, header)`,
  );
  await psql("-c", `VACUUM (ANALYZE) ${PREPARED}`);
  /** The table as every side starts: the prepared rows, the key built, vacuumed and analyzed. */
  const restore = async () => {
    await psql(
      "-c",
      `DROP TABLE IF EXISTS ${TABLE}`,
      "-c",
      // No autovacuum of the side's rows running into the next restore (the timed parts
      // end at commit, before autovacuum could start on them).
      `CREATE TABLE ${TABLE} (${COLS}) WITH (autovacuum_enabled = false)`,
      "-c",
      `INSERT INTO ${TABLE} SELECT * FROM ${PREPARED} ORDER BY id`,
      "-c",
      `ALTER TABLE ${TABLE} ADD PRIMARY KEY (id)`,
      "-c",
      `VACUUM (ANALYZE) ${TABLE}`,
    );
  };
  const count = async () =>
    Number((await psql("-At", "-c", `SELECT count(*) FROM ${TABLE}`)).stdout.trim());
  const expectRows = (n: number) => async () => {
    const got = await count();
    if (got !== n) throw new Error(`${TABLE} holds ${got} rows, not ${n}`);
  };

  const job = (jobId: string, key: string, mode: string) =>
    loadJob(jobId, { bucket, key, table: TABLE, mode, args: ["FORMAT CSV", "HEADER"] });
  const realm = {
    ...w.realmTop,
    jobs: [
      job("bench/merge-changed", "merge/changed.csv", "merge"),
      job("bench/merge-half-new", "merge/half-new.csv", "merge"),
      job("bench/merge-append", "merge/append.csv", "append"),
    ],
  };
  const halfOld = Math.ceil(ROWS / 2);
  const APPEND = `append, ${f(ROWS)} new keys`;
  const variantSides: Record<string, { name: string; merged: [number, number]; total: number }> = {
    changed: { name: `merge, ${f(ROWS)} changed rows`, merged: [0, ROWS], total: BASE },
    "half-new": {
      name: `merge, ${f(halfOld)} changed + ${f(ROWS - halfOld)} new`,
      merged: [ROWS - halfOld, halfOld],
      total: BASE + ROWS - halfOld,
    },
  };
  const children: Child[] = [];
  const sides: Side[] = [];
  for (const v of variants) {
    const s = variantSides[v];
    if (!s) throw new Error(`BENCH_MERGE_VARIANTS: unknown variant ${v} (changed, half-new)`);
    const [inserted, updated] = s.merged;
    const side = runnerSide(
      w,
      () => realm,
      `bench/merge-${v}`,
      (r) => {
        const m = r.merged as { inserted: number; updated: number; deleted: number } | undefined;
        return r.rows !== ROWS || m?.inserted !== inserted || m?.updated !== updated
          ? `not ${ROWS} rows, ${inserted} inserted, ${updated} updated`
          : undefined;
      },
    );
    children.push(side.child);
    sides.push({
      name: s.name,
      pid: side.pid,
      before: restore,
      run: side.run,
      after: expectRows(s.total),
    });
  }
  const append = runnerSide(
    w,
    () => realm,
    "bench/merge-append",
    (r) => (r.rows !== ROWS ? `not ${ROWS} rows` : undefined),
  );
  children.push(append.child);
  sides.push({
    name: APPEND,
    pid: append.pid,
    before: restore,
    run: append.run,
    after: expectRows(BASE + ROWS),
  });
  // What the same merge costs written by hand in psql (one transaction, like the runner's).
  const REF = `psql hand-written upsert of the ${f(ROWS)} changed rows`;
  sides.push({
    name: REF,
    before: restore,
    run: async () => {
      const t0 = performance.now();
      await psql(
        "-1",
        "-c",
        `CREATE TEMP TABLE s (LIKE ${TABLE}) ON COMMIT DROP`,
        "-c",
        `\\copy s from '${local.changed}' with (format csv, header)`,
        "-c",
        `INSERT INTO ${TABLE} AS t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer, amount = EXCLUDED.amount, created_at = EXCLUDED.created_at, notes = EXCLUDED.notes WHERE (t.customer, t.amount, t.created_at, t.notes) IS DISTINCT FROM (EXCLUDED.customer, EXCLUDED.amount, EXCLUDED.created_at, EXCLUDED.notes)`,
      );
      return { ms: performance.now() - t0 };
    },
    after: expectRows(BASE),
  });

  console.log(
    `\n6. merge: a ${f(BASE)}-row table (id bigint PRIMARY KEY), restored before each side (untimed); ${f(ROWS)}-row files (plain CSV), keys of existing rows spread over the table; streaming loader (plain PostgreSQL); ${RUNS} runs, alternating (order rotated), a checkpoint before each side`,
  );
  const got = await alternate(cluster, sides, RUNS);
  for (const child of children) await child.ask("exit");
  const ratios = report(got, APPEND, () => ROWS);
  for (const v of variants) {
    const s = variantSides[v];
    const r = s && ratios.get(s.name);
    if (r)
      console.log(
        `  ${s.name} / append: ${f(r.paired, 2)} (median of paired ratios), ${f(r.ofMedians, 2)} (ratio of medians)`,
      );
  }
  const changed = ratios.get(variantSides.changed?.name ?? "");
  const ref = ratios.get(REF);
  if (changed && ref)
    console.log(
      `  merge of the changed rows over the hand-written psql upsert: ${f(changed.ms / ref.ms, 2)} (of medians)`,
    );
  await psql("-c", `DROP TABLE IF EXISTS ${TABLE}`, "-c", `DROP TABLE ${PREPARED}`);
}
