/**
 * Job type sqlc (docs/sql-jobs.md §3, lava's handlers/sqlc.py): SQL files from
 * S3 — one key, or every object under a prefix in lexicographic order — each
 * rendered (unless `jinja: false`) and run by the runner's psql with `-f`, so
 * psql's messages name file and line. Per file: its own `timeout`, its stdout
 * and stderr saved as `<s3_temp>/<job_id>/<run_id>/<name>.stdout|.stderr`. The
 * first failure ends the run; a killed psql's sessions are ended on the server.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Client } from "pg";
import { jobApplicationName } from "../../connectors/app-name";
import { inheritedEnv } from "../../connectors/child-env";
import { connectPg, describeTarget } from "../../connectors/pg-client";
import { findPsql, preparePsql } from "../../connectors/psql";
import { resolveDbConnection } from "../../connectors/resolve-connection";
import type { ResolvedDb } from "../../connectors/types";
import { LavaError, PayloadError, PayloadTimeoutError } from "../../shared/errors";
import { s3Url } from "../../shared/s3-objects";
import { renderTemplate } from "../../shared/templating";
import type { JobSpec } from "../../spec/job";
import { DEADLINE_RESERVE_MS } from "../exe/index";
import { OutputSink } from "../exe/outputs";
import { download, payloadKeys } from "../exe/payload";
import { runProcess } from "../exe/process";
import { runContext } from "../run-context";
import type { JobOutcome, JobRun } from "../types";
import { checkSqlcParams, MAX_SQL_FILE_BYTES, type SqlcParams } from "./params";

type SqlcRun = JobRun & { job: JobSpec };

/** The run's psql sessions (never the one asking). */
const SESSIONS_SQL =
  "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()";

/** How much of stderr is kept for the error message. */
const TAIL_BYTES = 4096;

/** A sink that also keeps the last bytes of what it saved: psql's error for the message. */
class TailSink extends OutputSink {
  #tail = Buffer.alloc(0);

  override attach(stream: Readable): Promise<void> {
    stream.on("data", (chunk: Buffer) => {
      const all = Buffer.concat([this.#tail, chunk]);
      this.#tail = all.subarray(Math.max(0, all.length - TAIL_BYTES));
    });
    return super.attach(stream);
  }

  /** From psql's last `psql:<file>:<line>:` message on (it is followed by LINE and caret lines). */
  lastMessage(): string {
    const lines = this.#tail.toString("utf8").trimEnd().split("\n");
    const at = lines.findLastIndex((l) => l.startsWith("psql:"));
    const from = at >= 0 ? at : Math.max(0, lines.length - 5);
    return lines
      .slice(from, from + 5)
      .join("\n")
      .slice(0, 1000);
  }
}

/** A payload file in the private directory; `name` is `-f`'s argument and names its outputs. */
type SqlFile = { readonly url: string; readonly name: string };

/**
 * The file's name under the payload prefix (a single key: its base name). Lava uses
 * base names only (its v1 downloader refuses nested prefixes); the relative path keeps
 * `a/x.sql` and `b/x.sql` apart and equals the base name for flat prefixes.
 */
function localName(p: SqlcParams, key: string): string {
  const name = p.payload.isPrefix
    ? key.slice(p.payload.key.length)
    : key.slice(key.lastIndexOf("/") + 1);
  if (name.split("/").some((s) => s === "" || s === "." || s === ".."))
    throw new PayloadError(
      `payload ${s3Url(p.payload.bucket, key)}: cannot be stored as ${JSON.stringify(name)}`,
    );
  return name;
}

/** psql's application_name: the job's, made unique to the run so its sessions can be found. */
export function runApplicationName(realm: string, jobId: string, runId: string): string {
  const id = /^[A-Za-z0-9._-]{1,36}$/.test(runId)
    ? runId
    : createHash("sha256").update(runId).digest("hex").slice(0, 16);
  const suffix = `-${id}`;
  return jobApplicationName(realm, jobId).slice(0, 63 - suffix.length) + suffix;
}

/**
 * End the sessions a killed psql left on the server: killing psql does not stop
 * its statement (the server notices the client is gone only when it next
 * writes to it). Found by the run's application_name — a session whose SQL set
 * another one is missed — cancelled, then terminated if still there. Waits count
 * polls, not clock time (tests freeze Date). Best effort: failures are logged.
 */
async function endRunSessions(c: Ctx): Promise<void> {
  const { events } = c.run;
  let client: Client | undefined;
  try {
    const db = await connectPg(c.conn, jobApplicationName(c.run.realm.name, c.run.job.job_id));
    client = db;
    const left = async () =>
      (await db.query<{ pid: number }>(SESSIONS_SQL, [c.appName])).rows.map((r) => r.pid);
    let pids = await left();
    for (const fn of ["pg_cancel_backend", "pg_terminate_backend"] as const) {
      if (pids.length === 0) break;
      events.add(`psql killed: ${fn} on session(s) ${pids.join(", ")} of ${c.appName}`);
      for (const pid of pids)
        await db.query(`SELECT ${fn}($1)`, [pid]).catch((err: unknown) => {
          events.add(`${fn}(${pid}): ${(err as Error).message}`);
        });
      pids = await left();
      for (let i = 0; i < 20 && pids.length > 0; i++) pids = await sleep(50).then(left);
    }
    events.add(
      pids.length > 0
        ? `session(s) ${pids.join(", ")} of ${c.appName} still on the server`
        : `no session of ${c.appName} left on the server`,
    );
  } catch (err) {
    events.add(`ending the sessions of ${c.appName}: ${(err as Error).message}`);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** Everything the files of a run share. */
interface Ctx {
  readonly run: SqlcRun;
  readonly p: SqlcParams;
  readonly s3: S3Client;
  readonly conn: ResolvedDb;
  readonly psql: string;
  readonly dir: string;
  readonly appName: string;
  readonly env: Record<string, string>;
  readonly outputs: string[];
}

/** Download every file, then render them all: a template error fails before any SQL runs. */
async function prepare({ run, p, s3, dir }: Ctx): Promise<SqlFile[]> {
  const keys = await payloadKeys(s3, p.payload);
  if (p.payload.isPrefix)
    run.events.add(`${keys.length} payload(s) under ${s3Url(p.payload.bucket, p.payload.key)}`);
  const files: SqlFile[] = [];
  for (const key of keys) {
    const file = { url: s3Url(p.payload.bucket, key), name: localName(p, key) };
    await mkdir(dirname(join(dir, file.name)), { recursive: true, mode: 0o700 });
    await download(s3, p.payload.bucket, key, join(dir, file.name));
    files.push(file);
  }
  if (!p.jinja) return files;
  const ctx = runContext(run, p.vars);
  for (const { url, name } of files) {
    const path = join(dir, name);
    // Rendered whole, in memory; psql streams a file it runs as it is.
    if ((await stat(path)).size > MAX_SQL_FILE_BYTES)
      throw new PayloadError(
        `payload ${url}: over ${MAX_SQL_FILE_BYTES} bytes, too large to render (jinja: false runs it unrendered)`,
      );
    // The message of a TemplateError starts with the file's URL.
    await writeFile(path, renderTemplate(await readFile(path, "utf8"), ctx, url));
  }
  return files;
}

/** How long the file may run: `timeout`, but over a few seconds before the run's deadline. */
function timeLimit({ run, p }: Ctx): { ms: number; why: string } {
  const left =
    (run.options.deadline ?? Number.POSITIVE_INFINITY) - DEADLINE_RESERVE_MS - Date.now();
  if (left < p.timeoutMs) return { ms: left, why: "the run's deadline" };
  return { ms: p.timeoutMs, why: `its timeout of ${p.timeoutMs / 1000}s` };
}

/** Save both streams: an empty one leaves no object (lava, too, uploads non-empty files only). */
async function save(c: Ctx, sinks: readonly OutputSink[], failed: boolean): Promise<void> {
  let error: unknown;
  for (const sink of sinks) {
    try {
      await sink.finish();
      if (sink.bytes === 0) continue;
      c.outputs.push(sink.url);
      c.run.events.add(`${sink.url}: ${sink.bytes} bytes`);
    } catch (err) {
      c.run.events.add((err as Error).message);
      error ??= err;
    }
  }
  // A failed upload fails an otherwise good run; after a failure it is only logged.
  if (error !== undefined && !failed) throw error;
}

/** Run one file with psql; throws on a non-zero exit, a timeout or a signal. */
async function runFile(c: Ctx, file: SqlFile): Promise<void> {
  const { run, p } = c;
  const at = `${p.temp.prefix}/${file.name}`;
  const stdout = new TailSink(c.s3, p.temp.bucket, `${at}.stdout`);
  const stderr = new TailSink(c.s3, p.temp.bucket, `${at}.stderr`);
  // PSQL_OPTIONS already hold --no-psqlrc, --quiet and ON_ERROR_STOP=on (so does lava's
  // connector): a `-v ON_ERROR_STOP=0` in `args` comes later and wins. `-f -` reads stdin.
  const name = file.name === "-" ? "./-" : file.name;
  // Per file: an IAM token is signed afresh for each psql start. The environment: the
  // allow-listed runner variables (never its AWS credentials) and LAVA_*, as exe's.
  const inv = await preparePsql(c.conn, {
    applicationName: c.appName,
    extraArgs: [...p.args, "-f", name],
    baseEnv: { ...c.env, LAVA_S3_PAYLOAD: file.url },
  });
  const limit = timeLimit(c);
  run.events.add(`running ${file.url} with psql -f ${name} and ${p.args.length} argument(s)`);
  let failed = true;
  try {
    const outcome = await runProcess({
      program: c.psql,
      args: inv.argv,
      cwd: c.dir,
      // Every value is set: built from `baseEnv` and the connection.
      env: inv.env as Record<string, string>,
      fds: inv.fds,
      timeoutMs: limit.ms,
      stdout,
      stderr,
    }).finally(() => inv.cleanup());
    if (outcome.kind === "timeout" || outcome.kind === "signaled") await endRunSessions(c);
    switch (outcome.kind) {
      case "exited":
        run.events.add(`${file.url}: exit code ${outcome.code}`);
        if (outcome.code !== 0) {
          // psql's own message (`psql:x.sql:3: ERROR: …`); psql never prints the password.
          const why = stderr.lastMessage();
          throw new PayloadError(
            `payload ${file.url}: psql exited with code ${outcome.code}${why ? `: ${why}` : ""}`,
            { exitCode: outcome.code },
          );
        }
        break;
      case "timeout":
        throw new PayloadTimeoutError(
          `payload ${file.url} ran past ${limit.why}: psql killed with its process group`,
        );
      case "signaled":
        throw new PayloadError(`payload ${file.url}: psql was killed by ${outcome.signal}`);
      case "spawn-failed":
        throw new PayloadError(`payload ${file.url}: psql could not start: ${outcome.code}`);
    }
    failed = false;
  } finally {
    await save(c, [stdout, stderr], failed);
  }
}

/** Run one sqlc job. Failures throw; the runner turns them into a failed result. */
export async function runSqlc(run: SqlcRun): Promise<JobOutcome> {
  const p = checkSqlcParams(run);
  const psql = await findPsql();
  if (!psql)
    throw new LavaError(
      `sqlc jobs need psql on the runner's PATH: none in ${process.env.PATH ?? "(no PATH)"}`,
    );
  const conn = await resolveDbConnection(run.realm, p.connId, run.deps.resolve);
  run.events.add(`connection ${p.connId}: ${describeTarget(conn)}, psql ${psql}`);
  const region = run.realm.top.region;
  const s3 = run.deps.s3(region ? { region } : {});
  // mkdtemp makes it 0700: the rendered SQL and psql's own files are private.
  const dir = await mkdtemp(join(tmpdir(), "lava-sqlc-"));
  try {
    const appName = runApplicationName(run.realm.name, run.job.job_id, run.runId);
    const env = {
      ...inheritedEnv(process.env),
      LAVA_JOB_ID: run.job.job_id,
      LAVA_RUN_ID: run.runId,
      LAVA_REALM: run.realm.name,
      LAVA_S3_TMP: s3Url(p.temp.bucket, p.temp.prefix),
    };
    const c: Ctx = { run, p, s3, conn, psql, dir, appName, env, outputs: [] };
    const files = await prepare(c);
    for (const file of files) await runFile(c, file);
    return { status: "ok", exit_code: 0, outputs: c.outputs };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
      run.events.add(`removing the private directory: ${(err as Error).message}`);
    });
  }
}
