/**
 * The sql, sqli and sqlv job types (docs/sql-jobs.md): SQL statements run by the
 * runner's own client on a PostgreSQL connection, as lava's handlers run them
 * (lava/handlers/sql.py, sqli.py, sqlv.py): each source split into statements
 * (unless `raw`), each rendered with Jinja (sql/sqli: per statement, after the
 * split; sqlv: the whole file first), stripped of trailing `;`, run in order — in
 * one transaction with `transaction: true` — and each statement's result tuples
 * streamed to S3 (sql/sqli: one object per statement; sqlv: one for the run).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { jobApplicationName } from "../../connectors/app-name";
import { resolveDbConnection } from "../../connectors/resolve-connection";
import { asLavaError, SqlTimeoutError } from "../../shared/errors";
import { codeLine, splitSql } from "../../shared/sql-split";
import { renderTemplate } from "../../shared/templating";
import type { JobSpec } from "../../spec/job";
import { DEADLINE_RESERVE_MS } from "../exe/index";
import { OutputSink } from "../exe/outputs";
import { runContext } from "../run-context";
import type { JobOutcome, JobRun, StatementResult } from "../types";
import { checkSqlParams, type SqlParams } from "./params";
import { type RowFormat, rowFormat } from "./row-format";
import { SqlSession } from "./session";
import { readSqlSources, type SqlSource } from "./sources";

/** When every statement must be over: the job's `timeout` from now, a few seconds before the deadline. */
function timeLimit(run: JobRun, p: SqlParams): { at: number | undefined; why: string } {
  const byTimeout = p.timeoutMs === undefined ? undefined : Date.now() + p.timeoutMs;
  const deadline = run.options.deadline;
  if (
    deadline !== undefined &&
    (byTimeout === undefined || deadline - DEADLINE_RESERVE_MS < byTimeout)
  )
    return { at: deadline - DEADLINE_RESERVE_MS, why: "the run's deadline" };
  return { at: byTimeout, why: `its timeout of ${(p.timeoutMs ?? 0) / 1000}s` };
}

/** One statement, ready to run. */
interface Piece {
  readonly source: SqlSource;
  readonly n: number;
  readonly line: number;
  readonly text: string;
}

/** The source's statements as lava has them: split unless raw, rendered where lava renders. */
function* pieces(run: JobRun, p: SqlParams, source: SqlSource): Generator<Piece> {
  const ctx = runContext(run, p.vars);
  const render = (text: string, where: string) =>
    p.jinja ? renderTemplate(text, ctx, where) : text;
  // sqlv (lava-sql) gets the file rendered whole; sql and sqli render each statement.
  const text = p.kind === "sqlv" ? render(source.text, source.url) : source.text;
  const split = p.raw ? [{ text, line: 1 }] : splitSql(text);
  for (const [n, piece] of split.entries()) {
    const line = codeLine(piece);
    const where = `${source.url} statement ${n} (line ${line})`;
    const rendered = p.kind === "sqlv" ? piece.text : render(piece.text, where);
    // As lava: surrounding whitespace and every trailing `;` go; an empty statement is skipped.
    const sql = rendered.trim().replace(/;+$/, "");
    if (sql !== "") yield { source, n, line, text: sql };
  }
}

/** The statement's failure, naming source, statement and line; SQLSTATE kept. */
function statementError(err: unknown, piece: Piece, p: SqlParams, session: SqlSession): unknown {
  const where = `${piece.source.url} statement ${piece.n} (line ${piece.line})`;
  const code = (err as { code?: unknown }).code;
  if (session.timedOut || (code === "57014" && /statement timeout/.test(String(err))))
    return new SqlTimeoutError(`${where}: ${session.timeoutError().message}`, { cause: err });
  return asLavaError(err, p.connId, where);
}

/** Where a statement's result tuples go (sql/sqli): `[<output>/]<name>.<n>.out`. */
function outputKey(p: SqlParams, piece: Piece): string {
  const name = `${piece.source.name}.${piece.n}.out`;
  return `${p.temp.prefix}/${p.output ? `${p.output}/` : ""}${name}`;
}

/** Save an empty object where a statement returned no bytes: lava uploads its empty file too. */
async function ensureObject(s3: S3Client, sink: OutputSink, bucket: string, key: string) {
  if (sink.bytes === 0) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "" }));
}

async function runStatements(
  run: JobRun,
  p: SqlParams,
  s3: S3Client,
  session: SqlSession,
  sources: readonly SqlSource[],
): Promise<{ statements: StatementResult[]; outputs: string[] }> {
  const statements: StatementResult[] = [];
  const outputs: string[] = [];
  const format: RowFormat = rowFormat(p);
  // sqlv: every statement's rows into one object, as lava-sql's --output.
  const single =
    p.kind === "sqlv" ? new OutputSink(s3, p.temp.bucket, `${p.temp.prefix}/stdout`) : undefined;
  try {
    for (const source of sources) {
      for (const piece of pieces(run, p, source)) {
        let output: string | undefined;
        let outcome: Awaited<ReturnType<SqlSession["run"]>>;
        try {
          outcome = await session.run(piece.text, p.batchSize, async (columns, batches) => {
            const key = outputKey(p, piece);
            const sink = single ?? new OutputSink(s3, p.temp.bucket, key);
            try {
              await sink.attach(format.stream(columns, batches));
            } catch (err) {
              // A statement that fails part-way leaves no partial output behind.
              await sink.abort();
              throw err;
            }
            if (!single) {
              await sink.finish();
              await ensureObject(s3, sink, p.temp.bucket, key);
              output = sink.url;
              outputs.push(sink.url);
            }
          });
        } catch (err) {
          throw statementError(err, piece, p, session);
        }
        const rows = outcome.rowCount;
        statements.push({
          source: source.url,
          statement: piece.n,
          line: piece.line,
          command: outcome.command,
          rows,
          ...(output ? { output } : {}),
        });
        run.events.add(
          `${source.url} statement ${piece.n} (line ${piece.line}): ${outcome.command}${rows === null ? "" : ` ${rows}`}${output ? ` → ${output}` : ""}`,
        );
      }
    }
  } catch (err) {
    await single?.abort();
    throw err;
  }
  if (single) {
    await single.finish();
    if (single.bytes > 0) outputs.push(single.url);
  }
  return { statements, outputs };
}

/** Run one sql, sqli or sqlv job. Failures throw; the runner turns them into a failed result. */
export async function runSql(run: JobRun & { job: JobSpec }): Promise<JobOutcome> {
  const p = checkSqlParams(run);
  const region = run.realm.top.region;
  const s3 = run.deps.s3(region ? { region } : {});
  const sources = await readSqlSources(s3, p);
  const conn = await resolveDbConnection(run.realm, p.connId, run.deps.resolve);
  const session = await SqlSession.open(
    conn,
    jobApplicationName(run.realm.name, run.job.job_id),
    timeLimit(run, p),
  );
  try {
    if (p.transaction) await session.command("BEGIN");
    const done = await runStatements(run, p, s3, session, sources);
    if (p.transaction) {
      await session.command("COMMIT");
      run.events.add(`committed ${done.statements.length} statement(s) in one transaction`);
    }
    return { status: "ok", ...done };
  } catch (err) {
    if (p.transaction) {
      await session.command("ROLLBACK").catch(() => undefined);
      run.events.add("rolled back: nothing committed");
    }
    throw err;
  } finally {
    await session.close();
  }
}
