/**
 * What the benchmark's cases share: the deterministic CSV rows, medians, the
 * bundled child processes they talk to over IPC, and CPU accounting from /proc
 * (who used the machine's cores while one side ran).
 */
import { fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** The CSV's header line. */
export const CSV_HEADER = "id,customer,amount,created_at,notes\n";

/**
 * Deterministic CSV rows `from`..`to` (ids, inclusive), ~56 bytes each, in
 * chunks of 10,000 rows; the header first unless `header` is false. Any range
 * of the one sequence, so parts of a load concatenate to the whole.
 */
export function* csvRows(from: number, to: number, header = true): Generator<string> {
  if (header) yield CSV_HEADER;
  let batch = "";
  for (let i = from; i <= to; i++) {
    const day = String((i % 28) + 1).padStart(2, "0");
    batch += `${i},customer-${i % 9973},${(i % 100000) / 100},2026-01-${day}T12:34:56Z,note ${i % 7}\n`;
    if (i % 10_000 === 0) {
      yield batch;
      batch = "";
    }
  }
  if (batch) yield batch;
}

/** Rows 1..`rows` with the header. */
export const csvLines = (rows: number) => csvRows(1, rows);

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Bundle a child's entry point (as on Lambda: one ESM file, no loader needed) to `outfile`. */
export async function bundle(entry: URL, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry.pathname],
    outfile,
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
  return outfile;
}

/** A bundled child process answering one message with one message. */
export interface Child {
  readonly pid: number;
  ask(msg: unknown): Promise<Record<string, unknown>>;
}

/**
 * Fork a bundle; no inherited execArgv: the parent runs under tsx, the bundle needs no
 * loader. BENCH_CHILD_NODE_ARGS adds node options, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
export function startChild(js: string, env: NodeJS.ProcessEnv, args: string[] = []): Child {
  const execArgv = process.env.BENCH_CHILD_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = fork(js, args, { env, execArgv });
  return {
    pid: child.pid as number,
    ask: (msg) =>
      new Promise((resolve, reject) => {
        const exited = (code: number | null) =>
          reject(new Error(`${js} exited (${code}) before answering`));
        child.once("exit", exited);
        child.once("message", (m) => {
          child.off("exit", exited);
          resolve(m as Record<string, unknown>);
        });
        child.send(msg as never);
      }),
  };
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const HZ = 100;

/** /proc/<pid>/stat's fields after the command name (index 0: state, 1: ppid, 11/12: utime/stime, 13/14: cutime/cstime). */
function statFields(pid: number | "self"): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

const ticksOf = (f: string[] | undefined, from: number, to: number) =>
  f ? f.slice(from, to + 1).reduce((n, v) => n + Number(v), 0) : 0;

/** CPU seconds used so far, by group. */
export interface CpuSnapshot {
  /** Busy seconds of every core (user, nice, system, irq, softirq, steal). */
  readonly machine: number;
  /** The PostgreSQL server: postmaster, its live children, the children it reaped. */
  readonly pg: number;
  /** The job process. */
  readonly loader: number;
  /** This process: the S3 server (s3rver), the AWS stub, the harness. */
  readonly s3: number;
  /** The other processes of this benchmark: psql, curl, bash (reaped), the reader. */
  readonly tools: number;
}

/**
 * Where the CPU went so far. PostgreSQL's backends come and go (each fan-out item
 * has its own session): the live ones are counted from their own times, the
 * ended ones from the postmaster's cutime/cstime, so a delta counts each once;
 * likewise psql and curl, reaped by this process.
 */
export function cpuSnapshot(
  pgDataDir: string,
  children: { loader?: number; others?: readonly number[] },
): CpuSnapshot {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/) ?? [];
  // cpu user nice system idle iowait irq softirq steal
  const busy = [1, 2, 3, 6, 7, 8].reduce((n, i) => n + Number(cpu[i] ?? 0), 0);
  const postmaster = Number(readFileSync(join(pgDataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  let pg = ticksOf(statFields(postmaster), 11, 14);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === postmaster) pg += ticksOf(f, 11, 12);
  }
  const self = statFields("self");
  const others = (children.others ?? []).reduce(
    (n, pid) => n + ticksOf(statFields(pid), 11, 14),
    0,
  );
  return {
    machine: busy / HZ,
    pg: pg / HZ,
    loader: children.loader === undefined ? 0 : ticksOf(statFields(children.loader), 11, 14) / HZ,
    s3: ticksOf(self, 11, 12) / HZ,
    tools: (ticksOf(self, 13, 14) + others) / HZ,
  };
}

/**
 * Cores busy on average between two snapshots `ms` apart, by group; `foreign`: the
 * rest, not this benchmark's (other work on the machine, the kernel's own threads).
 */
export function coresBusy(a: CpuSnapshot, b: CpuSnapshot, ms: number) {
  const s = ms / 1000;
  const per = (k: keyof CpuSnapshot) => (b[k] - a[k]) / s;
  const [machine, pg, loader, s3, tools] = (
    ["machine", "pg", "loader", "s3", "tools"] as const
  ).map(per) as [number, number, number, number, number];
  return {
    machine,
    pg,
    loader,
    s3,
    tools,
    foreign: Math.max(0, machine - pg - loader - s3 - tools),
  };
}

export type CoresBusy = ReturnType<typeof coresBusy>;

/** A run during which more than this many cores went to other processes is run again. */
export const MAX_FOREIGN = Number(process.env.BENCH_MAX_FOREIGN ?? 0.25);

/**
 * One untimed warm-up run of every side, then `runs` runs, each side once per run in
 * the order `order(attempt)` gives. A run during which other processes of the machine
 * took more than BENCH_MAX_FOREIGN cores (`foreign` of a sample; a shared machine) is
 * not counted and run again, up to 3× `runs` runs (then every run is counted). Each
 * run's times are printed as it ends.
 */
export async function countedRuns<S extends { readonly name: string }, T extends { ms: number }>(
  sides: readonly S[],
  runs: number,
  oneRun: (order: readonly S[]) => Promise<Map<string, T>>,
  foreign: (sample: T) => number,
  order: (attempt: number) => readonly S[],
): Promise<Map<string, T>[]> {
  await oneRun(sides);
  const clean: Map<string, T>[] = [];
  const busy: Map<string, T>[] = [];
  for (let attempt = 0; clean.length < runs && attempt < 3 * runs; attempt++) {
    const ordered = order(attempt);
    const got = await oneRun(ordered);
    const most = Math.max(...[...got.values()].map(foreign));
    const ok = most <= MAX_FOREIGN;
    (ok ? clean : busy).push(got);
    console.log(
      `  run ${attempt + 1}${ok ? "" : ` (not counted: other work took up to ${most.toFixed(2)} cores)`}: ${ordered.map((x) => `${x.name}: ${Math.round(got.get(x.name)?.ms ?? 0)} ms`).join("; ")}`,
    );
  }
  if (clean.length >= runs) return clean;
  console.log(
    `  only ${clean.length} of ${clean.length + busy.length} runs were free of other work (BENCH_MAX_FOREIGN ${MAX_FOREIGN} cores): all are counted`,
  );
  return [...clean, ...busy];
}

/** A db_from_s3 job of the bench's realm: `public.<table>` over connection `pg` unless told. */
export function loadJob(jobId: string, parameters: Record<string, unknown>) {
  return {
    job_id: jobId,
    type: "db_from_s3",
    enabled: true,
    parameters: { db_conn_id: "pg", bucket: "bench", schema: "public", ...parameters },
  };
}
