/**
 * One database session of a SQL job (docs/sql-jobs.md §5): statements run one at
 * a time through a server-side portal (pg-cursor), rows fetched `batchSize` at a
 * time as PostgreSQL's text, so a SELECT of any size streams with bounded memory.
 * Time is bounded twice: before each statement `statement_timeout` is set to what
 * is left of the run's limit (the server cancels itself), and a watchdog, a second
 * after the limit, cancels the backend from a second session (a SELECT whose
 * batches each come fast, a stall), then terminates it; the session is always closed.
 */
import type { Client, FieldDef } from "pg";
import Cursor from "pg-cursor";
import { connectPg } from "../../connectors/pg-client";
import type { ResolvedDb } from "../../connectors/types";
import { SqlTimeoutError } from "../../shared/errors";

/** The watchdog fires this long after the limit, so the server's statement_timeout acts first. */
const WATCHDOG_MARGIN_MS = 1_000;
/** After a cancel, how long the statement gets to stop before its backend is terminated. */
const TERMINATE_AFTER_MS = 3_000;
/** Longest delay a Node timer takes. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Every column as PostgreSQL's text output: the formatters convert by type OID. */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

export interface Column {
  readonly name: string;
  readonly typeOid: number;
}

/** What a statement did. */
export interface StatementOutcome {
  /** The command tag's word (`SELECT`, `INSERT`, `CREATE`, …). */
  readonly command: string;
  readonly rowCount: number | null;
  /** Present when the statement returned a row description (result tuples). */
  readonly columns: readonly Column[] | undefined;
}

/** Rows of a statement with result tuples, a batch at a time, text or null per column. */
export type RowBatches = (
  columns: readonly Column[],
  batches: AsyncIterable<readonly (string | null)[][]>,
) => Promise<void>;

interface CursorResult {
  readonly command: string | null;
  readonly rowCount: number | null;
  readonly fields: readonly FieldDef[];
}

interface Batch {
  readonly rows: (string | null)[][];
  /** pg-cursor passes no result once the portal is done; the last one seen holds the tag. */
  readonly result: CursorResult | undefined;
}

function read(cursor: Cursor, n: number): Promise<Batch> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => {
      if (err) reject(err);
      else
        resolve({ rows: rows as (string | null)[][], result: result as CursorResult | undefined });
    });
  });
}

/** pg-cursor's state: after an error or the end it must not be closed again (it would wait for a ReadyForQuery that came already). */
function finished(cursor: Cursor): boolean {
  const state = (cursor as unknown as { state: string }).state;
  return state === "done" || state === "error";
}

export class SqlSession {
  #timedOut = false;
  #watchdog: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: Client,
    private readonly conn: ResolvedDb,
    private readonly applicationName: string,
    private readonly pid: number,
    /** Epoch ms by which every statement must be over; undefined: no limit. */
    private readonly limitAt: number | undefined,
    /** For messages: "its timeout of 30s", "the run's deadline". */
    private readonly limitWhy: string,
  ) {}

  static async open(
    conn: ResolvedDb,
    applicationName: string,
    limit: { at: number | undefined; why: string },
  ): Promise<SqlSession> {
    const client = await connectPg(conn, applicationName);
    try {
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const session = new SqlSession(
        client,
        conn,
        applicationName,
        Number(rows[0]?.pid),
        limit.at,
        limit.why,
      );
      session.#arm();
      return session;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  /** Whether the watchdog fired (the statement that failed was cancelled for time). */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  #arm(): void {
    if (this.limitAt === undefined) return;
    const ms = Math.min(Math.max(this.limitAt + WATCHDOG_MARGIN_MS - Date.now(), 0), MAX_TIMER_MS);
    this.#watchdog = setTimeout(() => void this.#cancel(), ms);
    this.#watchdog.unref();
  }

  /** Cancel the backend from a second session; terminate it if the cancel does not end it. */
  async #cancel(): Promise<void> {
    this.#timedOut = true;
    let other: Client | undefined;
    try {
      other = await connectPg(this.conn, `${this.applicationName}-cancel`);
      await other.query("SELECT pg_cancel_backend($1)", [this.pid]);
      await new Promise((r) => setTimeout(r, TERMINATE_AFTER_MS).unref());
      const { rows } = await other.query(
        "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
        [this.pid],
      );
      if (rows.length > 0) await other.query("SELECT pg_terminate_backend($1)", [this.pid]);
    } catch {
      // Best effort: closing the session below ends the backend's work too.
    } finally {
      await other?.end().catch(() => undefined);
    }
  }

  /** Fail now if the limit has passed; else set statement_timeout to what is left. */
  async #budget(): Promise<void> {
    if (this.limitAt === undefined) return;
    const left = Math.floor(this.limitAt - Date.now());
    if (left <= 0) throw this.timeoutError();
    await this.client.query(`SET statement_timeout = ${left}`);
  }

  timeoutError(cause?: unknown): SqlTimeoutError {
    return new SqlTimeoutError(`ran past ${this.limitWhy}: cancelled, session closed`, { cause });
  }

  /** A plain command (BEGIN, COMMIT, ROLLBACK). */
  async command(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  /**
   * Run one statement; its rows, if it returns any, go to `onRows` as batches it
   * pulls (the next batch is fetched only when it asks: backpressure).
   */
  async run(sql: string, batchSize: number, onRows: RowBatches): Promise<StatementOutcome> {
    await this.#budget();
    const cursor = this.client.query(
      new Cursor(sql, undefined, { rowMode: "array", types: AS_TEXT }),
    );
    try {
      const first = await read(cursor, batchSize);
      let result = first.result;
      const fields = result?.fields ?? [];
      if (fields.length === 0)
        return {
          command: result?.command ?? "",
          rowCount: result?.rowCount ?? null,
          columns: undefined,
        };
      const columns = fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }));
      let rows = 0;
      async function* batches() {
        let current = first;
        while (current.rows.length > 0) {
          rows += current.rows.length;
          yield current.rows;
          current = await read(cursor, batchSize);
          result = current.result ?? result;
        }
      }
      await onRows(columns, batches());
      // A portal fetched in batches reports only its last batch's count: count here.
      return { command: result?.command ?? "SELECT", rowCount: rows, columns };
    } finally {
      if (!finished(cursor)) await new Promise<void>((resolve) => cursor.close(() => resolve()));
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#watchdog);
    await this.client.end().catch(() => undefined);
  }
}
