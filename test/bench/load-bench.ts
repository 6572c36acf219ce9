/**
 * `npm run bench`: the streaming loader against `curl | gunzip | psql \copy`
 * of the same gzip object, alternating in one run on a throwaway PostgreSQL
 * and S3 server. Prints medians, the ratio, rows/s, MB/s and the loader's
 * peak RSS. Options: BENCH_ROWS (default 2,000,000), BENCH_RUNS (default 5).
 */
import { execFile, fork } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import { build } from "esbuild";
import { startAwsStub, startPgCluster, startS3 } from "../support/index";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROWS = Number(process.env.BENCH_ROWS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PASSWORD = "bench:pw\\1";
const run = promisify(execFile);

/** Deterministic CSV rows, ~60 bytes each. */
function* csvLines(rows: number): Generator<string> {
  yield "id,customer,amount,created_at,notes\n";
  let batch = "";
  for (let i = 1; i <= rows; i++) {
    const day = String((i % 28) + 1).padStart(2, "0");
    batch += `${i},customer-${i % 9973},${(i % 100000) / 100},2026-01-${day}T12:34:56Z,note ${i % 7}\n`;
    if (i % 10_000 === 0) {
      yield batch;
      batch = "";
    }
  }
  if (batch) yield batch;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lava-bench-"));
  const [cluster, s3, aws] = await Promise.all([
    startPgCluster(),
    startS3({ buckets: ["bench"] }),
    startAwsStub(),
  ]);
  try {
    // Prepare: data file, object, role, table.
    const file = join(dir, "orders.csv.gz");
    let rawBytes = 0;
    const counted = Readable.from(csvLines(ROWS)).map((chunk: string) => {
      rawBytes += Buffer.byteLength(chunk);
      return chunk;
    });
    await pipeline(counted, createGzip(), createWriteStream(file));
    const gzBytes = (await stat(file)).size;
    await s3.put("bench", "orders.csv.gz", await readFile(file));
    await cluster.createRole("loader", { password: PASSWORD });
    await cluster.createDatabase("bench", "loader");
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
    await run(
      "psql",
      [
        "-q",
        "-c",
        "CREATE TABLE orders (id bigint, customer text, amount numeric(12,2), created_at timestamptz, notes text)",
      ],
      { env: psqlEnv },
    );
    const realm = {
      realm: "bench",
      region: "us-east-1",
      ssl_ca_file: cluster.caFile,
      connections: [
        {
          conn_id: "pg",
          type: "postgres",
          enabled: true,
          host: cluster.host,
          port: cluster.port,
          database: "bench",
          user: "loader",
          password: "/lava/bench/loader",
          ssl: true,
        },
      ],
      jobs: [
        {
          job_id: "bench/load",
          type: "db_from_s3",
          enabled: true,
          parameters: {
            db_conn_id: "pg",
            bucket: "bench",
            key: "orders.csv.gz",
            schema: "public",
            table: "orders",
            mode: "truncate",
            args: ["FORMAT CSV", "HEADER", "GZIP"],
          },
        },
      ],
    };
    const url = `${s3.endpoint}/bench/orders.csv.gz`;
    console.log(
      `data: ${ROWS.toLocaleString()} rows, ${(rawBytes / 1e6).toFixed(1)} MB CSV, ${(gzBytes / 1e6).toFixed(1)} MB gzip; ${RUNS} runs each, alternating`,
    );

    // The loader runs bundled, as on Lambda, in a process of its own so its peak RSS is its own.
    const childJs = join(dir, "loader-child.mjs");
    await build({
      entryPoints: [new URL("./loader-child.ts", import.meta.url).pathname],
      outfile: childJs,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      mainFields: ["module", "main"],
      logLevel: "warning",
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    // No inherited execArgv: the parent runs under tsx, the bundle needs no loader.
    const child = fork(childJs, [], { env, execArgv: [] });
    const ask = (msg: unknown) =>
      new Promise<Record<string, unknown>>((resolve) => {
        child.once("message", (m) => resolve(m as Record<string, unknown>));
        child.send(msg as never);
      });
    const loaderMs: number[] = [];
    const baselineMs: number[] = [];
    // One untimed warm-up of each, then alternate.
    for (let i = -1; i < RUNS; i++) {
      const r = await ask({ realm, jobId: "bench/load" });
      if (r.status !== "ok" || r.rows !== ROWS) {
        throw new Error(`loader run failed: ${JSON.stringify(r)}`);
      }
      const rss = `loader peak RSS so far ${(r.maxRssMiB as number).toFixed(0)} MiB`;
      if (i < 0) console.log(`warm-up: ${rss}`);
      const t0 = performance.now();
      await run(
        "bash",
        [
          "-o",
          "pipefail",
          "-c",
          `curl -sf "${url}" | gunzip | psql -q -1 -v ON_ERROR_STOP=1 -c 'TRUNCATE orders' -c '\\copy orders from pstdin with (format csv, header)'`,
        ],
        { env: psqlEnv },
      );
      const baseline = performance.now() - t0;
      if (i >= 0) {
        loaderMs.push(r.ms as number);
        baselineMs.push(baseline);
        console.log(
          `run ${i + 1}: loader ${(r.ms as number).toFixed(0)} ms, curl|gunzip|psql ${baseline.toFixed(0)} ms (${rss})`,
        );
      }
    }
    const { maxRssKiB } = await ask("exit");
    const l = median(loaderMs);
    const b = median(baselineMs);
    console.log("");
    console.log(
      `streaming loader      median ${(l / 1000).toFixed(2)} s  ${Math.round(ROWS / (l / 1000)).toLocaleString()} rows/s  ${(rawBytes / 1e6 / (l / 1000)).toFixed(1)} MB/s (uncompressed)`,
    );
    console.log(
      `curl|gunzip|psql      median ${(b / 1000).toFixed(2)} s  ${Math.round(ROWS / (b / 1000)).toLocaleString()} rows/s  ${(rawBytes / 1e6 / (b / 1000)).toFixed(1)} MB/s (uncompressed)`,
    );
    console.log(`ratio loader/baseline ${(l / b).toFixed(3)} (target <= 1.10)`);
    console.log(
      `loader peak RSS       ${((maxRssKiB as number) / 1024).toFixed(0)} MB (target < 200 MB)`,
    );
  } finally {
    await Promise.all([cluster.stop(), s3.stop(), aws.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
