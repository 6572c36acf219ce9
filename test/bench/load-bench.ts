/**
 * `npm run bench`: in one run, alternating, on a throwaway PostgreSQL and S3
 * server, over verified TLS:
 *  1. the streaming loader (plain PostgreSQL) vs `curl | gunzip | psql \copy`;
 *  2. the Aurora path (aws_s3 import, the stand-in extension) vs one bare psql
 *     call of `aws_s3.table_import_from_s3` on the same gzip object;
 *  3. an sqli SELECT of the loaded table streamed to S3 (docs/sql-jobs.md §5) vs
 *     `psql \copy (SELECT …) TO STDOUT | curl -T -` to the same S3 server, in a
 *     process of its own: its peak RSS is the SELECT's alone;
 *  4. fan-out loads into one indexed table vs the single stream (fan-out-bench.ts);
 *  5. quarantine: case 1's load with `on_bad_rows: quarantine` vs the default, on
 *     the same clean object, and with a few bad rows (row-care-bench.ts);
 *  6. merge: `mode: merge` of 1M changed rows into a 3M-row table vs an append of
 *     1M new rows into the same table (row-care-bench.ts).
 * Prints medians, ratios, rows/s, MB/s and each job process's peak RSS.
 * Options: BENCH_ROWS (default 2,000,000), BENCH_RUNS (default 5), BENCH_CASES
 * (default "stream,aurora,select,fanout,quarantine,merge"; e.g. BENCH_CASES=fanout),
 * and the fan-out, quarantine and merge cases' own (fan-out-bench.ts, row-care-bench.ts).
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import { installAwsS3Standin, startAwsStub, startPgCluster, startS3 } from "../support/index";
import { bundle, csvLines, loadJob, median, startChild } from "./bench-common";
import { fanOutCase } from "./fan-out-bench";
import { mergeCase, quarantineCase } from "./row-care-bench";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CASES = new Set(
  (process.env.BENCH_CASES ?? "stream,aurora,select,fanout,quarantine,merge")
    .split(",")
    .map((c) => c.trim()),
);
const PASSWORD = "bench:pw\\1";
const run = promisify(execFile);

function job(jobId: string, connId: string, key: string) {
  return loadJob(jobId, {
    db_conn_id: connId,
    key,
    table: "orders",
    mode: "truncate",
    args: ["FORMAT CSV", "HEADER", "GZIP"],
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lava-bench-"));
  const [cluster, s3, aws] = await Promise.all([
    // Room for every run's WAL, so no checkpoint lands in the middle of one side's run.
    startPgCluster({
      settings: { max_wal_size: "16GB", checkpoint_timeout: "1h", shared_buffers: "256MB" },
    }),
    startS3({ buckets: ["bench"] }),
    startAwsStub(),
  ]);
  try {
    const loads = ["stream", "aurora", "select", "quarantine"].some((c) => CASES.has(c));
    // Prepare: data file, objects (one plain, one with Content-Encoding: gzip for aws_s3), role, table.
    const file = join(dir, "orders.csv.gz");
    let rawBytes = 0;
    let gzBytes = 0;
    if (loads) {
      const counted = Readable.from(csvLines(ROWS)).map((chunk: string) => {
        rawBytes += Buffer.byteLength(chunk);
        return chunk;
      });
      await pipeline(counted, createGzip(), createWriteStream(file));
      gzBytes = (await stat(file)).size;
      const body = await readFile(file);
      await s3.put("bench", "orders.csv.gz", body);
      await s3.put("bench", "orders-enc.csv.gz", body, { contentEncoding: "gzip" });
    }
    await cluster.createRole("loader", { password: PASSWORD });
    await cluster.createDatabase("bench", "loader");
    if (CASES.has("aurora")) await installAwsS3Standin(cluster, "bench", s3.endpoint);
    aws.setParameter("/lava/bench/loader", PASSWORD, "SecureString");
    const env = { ...process.env, ...aws.env(), ...s3.env() };
    const psqlEnv = {
      ...env,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGDATABASE: "bench",
      PGUSER: "loader",
      PGPASSWORD: PASSWORD,
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: cluster.caFile,
    };
    /** A pipeline, failing if any part fails. */
    const shell = (command: string) =>
      run("bash", ["-o", "pipefail", "-c", command], { env: psqlEnv });
    const psql = (...args: string[]) =>
      run("psql", ["-q", "-v", "ON_ERROR_STOP=1", ...args], { env: psqlEnv });
    await psql(
      "-c",
      "CREATE TABLE orders (id bigint, customer text, amount numeric(12,2), created_at timestamptz, notes text)",
    );
    const connection = {
      enabled: true,
      host: cluster.host,
      port: cluster.port,
      database: "bench",
      user: "loader",
      password: "/lava/bench/loader",
      ssl: true,
    };
    const realmTop = {
      realm: "bench",
      region: "us-east-1",
      ssl_ca_file: cluster.caFile,
      connections: [
        { conn_id: "pg", type: "postgres", ...connection },
        { conn_id: "au", type: "postgres-aurora", ...connection },
      ],
      s3_temp: "s3://bench/tmp",
    };
    const realm = {
      ...realmTop,
      jobs: [
        job("bench/stream", "pg", "orders.csv.gz"),
        job("bench/aurora", "au", "orders-enc.csv.gz"),
        {
          job_id: "bench/select",
          type: "sqli",
          enabled: true,
          payload: "SELECT * FROM orders",
          parameters: { conn_id: "pg" },
        },
      ],
    };
    if (loads)
      console.log(
        `data: ${ROWS.toLocaleString()} rows, ${(rawBytes / 1e6).toFixed(1)} MB CSV, ${(gzBytes / 1e6).toFixed(1)} MB gzip; ${RUNS} runs each, alternating`,
      );

    // The loader runs bundled, as on Lambda, in a process of its own so its peak RSS is its own.
    const childJs = await bundle(
      new URL("./loader-child.ts", import.meta.url),
      join(dir, "loader-child.mjs"),
    );
    const newChild = () => startChild(childJs, env).ask;
    const ask = CASES.has("stream") || CASES.has("aurora") ? newChild() : undefined;

    /** One untimed warm-up of each side, then RUNS alternating timed runs; prints and returns the medians. */
    const compare = async (
      title: string,
      jobId: string,
      baselineName: string,
      baseline: () => Promise<unknown>,
      via = ask,
      parameters: Record<string, unknown> = { reload: true },
    ) => {
      if (!via) throw new Error("no job process");
      console.log(`\n${title}`);
      const loaderMs: number[] = [];
      const baselineMs: number[] = [];
      for (let i = -1; i < RUNS; i++) {
        // Each side starts from the same state: the previous run's dirty pages written out.
        await cluster.query("CHECKPOINT");
        const r = await via({ realm, jobId, parameters });
        if (r.status !== "ok" || r.rows !== ROWS)
          throw new Error(`loader run failed: ${JSON.stringify(r)}`);
        await cluster.query("CHECKPOINT");
        const t0 = performance.now();
        await baseline();
        const b = performance.now() - t0;
        const rss = `loader peak RSS so far ${(r.maxRssMiB as number).toFixed(0)} MiB`;
        if (i < 0) continue;
        loaderMs.push(r.ms as number);
        baselineMs.push(b);
        console.log(
          `  run ${i + 1}: loader ${(r.ms as number).toFixed(0)} ms, ${baselineName} ${b.toFixed(0)} ms (${rss})`,
        );
      }
      const l = median(loaderMs);
      const b = median(baselineMs);
      const line = (name: string, ms: number) =>
        `  ${name.padEnd(22)} median ${(ms / 1000).toFixed(2)} s  ${Math.round(ROWS / (ms / 1000)).toLocaleString()} rows/s  ${(rawBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s (uncompressed)`;
      console.log(line("lava-aurora", l));
      console.log(line(baselineName, b));
      // Runs alternate, so each pair shares the machine's state at that moment: the median
      // of the pairs' ratios is the steadier figure on a noisy machine; both are printed.
      const paired = median(loaderMs.map((ms, k) => ms / (baselineMs[k] as number)));
      console.log(
        `  ratio lava-aurora/${baselineName}: ${paired.toFixed(3)} (median of paired ratios), ${(l / b).toFixed(3)} (ratio of medians)`,
      );
    };

    const url = `${s3.endpoint}/bench/orders.csv.gz`;
    /** curl | gunzip | psql \\copy of the object into orders, emptied first (one transaction). */
    const psqlLoad = () =>
      shell(
        `curl -sf "${url}" | gunzip | psql -q -1 -v ON_ERROR_STOP=1 -c 'TRUNCATE orders' -c '\\copy orders from pstdin with (format csv, header)'`,
      );
    if (CASES.has("stream"))
      await compare(
        "1. plain PostgreSQL: streaming loader vs curl | gunzip | psql \\copy (target ratio <= 1.10)",
        "bench/stream",
        "curl|gunzip|psql",
        psqlLoad,
      );
    if (CASES.has("aurora"))
      await compare(
        "2. Aurora: aws_s3 path vs one bare psql call of aws_s3.table_import_from_s3 (target ratio <= 1.05)",
        "bench/aurora",
        "psql aws_s3 call",
        () =>
          psql(
            "-1",
            "-c",
            "TRUNCATE orders",
            "-c",
            "SELECT aws_s3.table_import_from_s3('public.orders', '', '(FORMAT csv, HEADER true)', 'bench', 'orders-enc.csv.gz', 'us-east-1')",
          ),
      );
    if (ask) {
      const { maxRssKiB } = await ask("exit");
      console.log(
        `\nloader peak RSS over all runs: ${((maxRssKiB as number) / 1024).toFixed(0)} MB (target < 200 MB)`,
      );
    }
    if (CASES.has("select")) {
      // The SELECT reads what case 1 or 2 loaded, else what psql loads now.
      if (!CASES.has("stream") && !CASES.has("aurora")) await psqlLoad();
      const select = newChild();
      await compare(
        "3. sqli SELECT * of the table, streamed to S3, vs psql \\copy (SELECT …) TO STDOUT | curl -T - (PUT to the same S3 server)",
        "bench/select",
        "psql|curl PUT",
        () =>
          shell(
            `psql -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT * FROM orders) TO STDOUT WITH (FORMAT csv, DELIMITER '|')" | curl -sf -T - "${s3.endpoint}/bench/baseline.out"`,
          ),
        select,
        {},
      );
      const selected = await select("exit");
      console.log(
        `SELECT process peak RSS over all runs: ${((selected.maxRssKiB as number) / 1024).toFixed(0)} MB (bounded: batches, not the result)`,
      );
    }
    // The world the fan-out, quarantine and merge cases share.
    const world = {
      dir,
      cluster,
      s3,
      bucket: "bench",
      realmTop,
      loaderJs: childJs,
      env,
      psqlEnv,
    };
    if (CASES.has("fanout"))
      await fanOutCase({
        ...world,
        pollerJs: await bundle(
          new URL("./poller-child.ts", import.meta.url),
          join(dir, "poller-child.mjs"),
        ),
      });
    if (CASES.has("quarantine"))
      await quarantineCase(world, {
        rows: ROWS,
        runs: RUNS,
        key: "orders.csv.gz",
        rawBytes,
        table: "orders",
        reference: { name: "curl|gunzip|psql \\copy", run: psqlLoad },
      });
    if (CASES.has("merge")) await mergeCase(world);
  } finally {
    await Promise.all([cluster.stop(), s3.stop(), aws.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
