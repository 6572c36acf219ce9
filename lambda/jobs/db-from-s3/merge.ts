/**
 * mode merge (`upsert`), docs/db-from-s3.md §15: the objects load with the fast
 * path (COPY or aws_s3) into a session staging table, then, in the same
 * transaction, the last row of each key updates the table's row or inserts a new
 * one (`INSERT … ON CONFLICT (keys) DO UPDATE`, unchanged rows left alone), or —
 * with `delete_column` — deletes it.
 */
import { randomBytes } from "node:crypto";
import type { ClientBase } from "pg";
import { BadDataError, TargetStateError } from "../../shared/errors";
import { quoteIdent } from "./identifiers";
import type { MergeSettings } from "./params";
import { fillableColumns } from "./target";

/** The row order within a load: the file's order, manifest entry after entry. */
const SEQ = "_lava_seq";

/** What a merge loads into and applies from. */
export interface MergeStage {
  /** Quoted name of the session's staging table (dropped at commit). */
  readonly staging: string;
  /** Quoted COPY column list: the file's columns (an operation column not in the table first, as DMS writes). */
  readonly fileColumns: readonly string[];
  /** Unquoted key columns, the table's columns the file fills, and the operation column. */
  readonly keys: readonly string[];
  readonly columns: readonly string[];
  readonly op: string | undefined;
}

/** How many rows a merge inserted, updated (changed rows only) and deleted. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

async function names(client: ClientBase, sql: string, params: unknown[]): Promise<string[]> {
  return (await client.query<{ n: string }>(sql, params)).rows.map((r) => r.n);
}

/**
 * Check the keys (given, else the primary key; a unique index on exactly them,
 * for ON CONFLICT) and create the staging table, shaped like the table without
 * its NOT NULLs (a delete row may leave columns empty), plus the operation
 * column when the table has none and the row order.
 *
 * @param fileColumns the job's `columns` names (unquoted, folded), else the table's
 */
export async function stageMerge(
  client: ClientBase,
  table: string,
  settings: MergeSettings,
  fileColumns: readonly string[] | undefined,
): Promise<MergeStage> {
  const all = await fillableColumns(client, table);
  const pk = await names(
    client,
    `SELECT a.attname AS n FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [table],
  );
  const keys = settings.keyColumns ?? pk;
  if (keys.length === 0)
    throw new TargetStateError(
      `mode merge: table ${table} has no primary key: give key_columns (the columns that identify a row)`,
    );
  const unknown = keys.filter((k) => !all.includes(k));
  if (unknown.length)
    throw new TargetStateError(
      `mode merge: key_columns ${unknown.map((k) => quoteIdent(k)).join(", ")} not in table ${table} (it has ${all.map((c) => quoteIdent(c)).join(", ")})`,
    );
  const { rows: unique } = await client.query<{ ok: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_index i
        WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))
              = (SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) AS k)) AS ok`,
    [table, keys],
  );
  if (!unique[0]?.ok)
    throw new TargetStateError(
      `mode merge: table ${table} has no unique index on exactly (${keys.map((k) => quoteIdent(k)).join(", ")}); create one: CREATE UNIQUE INDEX ON ${table} (${keys.map((k) => quoteIdent(k)).join(", ")})`,
    );
  const data = fileColumns ?? all;
  const missing = data.filter((c) => !all.includes(c) && c !== settings.deleteColumn);
  if (missing.length)
    throw new TargetStateError(
      `mode merge: columns ${missing.map((c) => quoteIdent(c)).join(", ")} not in table ${table}`,
    );
  const op = settings.deleteColumn;
  const opInFile = op !== undefined && !all.includes(op) && !data.includes(op);
  const staging = quoteIdent(`lava_merge_${randomBytes(6).toString("hex")}`);
  await client.query(
    `CREATE TEMP TABLE ${staging} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`,
  );
  for (const c of all.filter((c) => !keys.includes(c)))
    await client.query(`ALTER TABLE ${staging} ALTER COLUMN ${quoteIdent(c)} DROP NOT NULL`);
  if (op !== undefined && !all.includes(op))
    await client.query(`ALTER TABLE ${staging} ADD COLUMN ${quoteIdent(op)} text`);
  await client.query(
    `ALTER TABLE ${staging} ADD COLUMN ${quoteIdent(SEQ)} bigint GENERATED ALWAYS AS IDENTITY`,
  );
  const file = [...(opInFile ? [op] : []), ...data];
  return {
    staging,
    fileColumns: file.map((c) => quoteIdent(c)),
    keys,
    columns: data.filter((c) => c !== op || all.includes(op)),
    op,
  };
}

/** Apply the staged rows to the table; the last row of a key decides (or duplicates fail). */
export async function applyMerge(
  client: ClientBase,
  table: string,
  stage: MergeStage,
  settings: MergeSettings,
): Promise<MergeCounts> {
  const q = (c: string) => quoteIdent(c);
  const keys = stage.keys.map(q).join(", ");
  if (settings.duplicateKeys === "error") {
    const { rows } = await client.query<{ key: string; n: string; first: string; last: string }>(
      `SELECT (${stage.keys.map((k) => `${q(k)}::text`).join(" || ', ' || ")}) AS key, count(*) AS n,
              min(${q(SEQ)}) AS first, max(${q(SEQ)}) AS last
         FROM ${stage.staging} GROUP BY ${keys} HAVING count(*) > 1 ORDER BY min(${q(SEQ)}) LIMIT 1`,
    );
    const d = rows[0];
    if (d)
      throw new BadDataError(
        `mode merge: key (${stage.keys.join(", ")})=(${d.key}) appears ${d.n} times in the load (rows ${d.first} and ${d.last}); duplicate_keys: error`,
        {},
      );
  }
  const src = `(SELECT DISTINCT ON (${keys}) * FROM ${stage.staging} ORDER BY ${keys}, ${q(SEQ)} DESC) s`;
  const deletes = settings.deleteValues;
  let deleted = 0;
  const op = stage.op === undefined ? undefined : q(stage.op);
  if (op) {
    const match = stage.keys.map((k) => `t.${q(k)} = s.${q(k)}`).join(" AND ");
    deleted =
      (
        await client.query(
          `DELETE FROM ${table} t USING ${src} WHERE ${match} AND s.${op} = ANY($1)`,
          [deletes],
        )
      ).rowCount ?? 0;
  }
  const cols = stage.columns.map(q);
  const rest = stage.columns.filter((c) => !stage.keys.includes(c)).map(q);
  const action =
    settings.insertOnly || rest.length === 0
      ? "DO NOTHING"
      : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}
           WHERE (${rest.map((c) => `t.${c}`).join(", ")}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${c}`).join(", ")})`;
  const keep = op ? `WHERE s.${op} IS NULL OR NOT (s.${op} = ANY($1))` : "";
  const { rows } = await client.query<{ inserted: string; updated: string }>(
    `WITH applied AS (
       INSERT INTO ${table} AS t (${cols.join(", ")})
       SELECT ${cols.map((c) => `s.${c}`).join(", ")} FROM ${src} ${keep}
       ON CONFLICT (${keys}) ${action}
       RETURNING (xmax = 0) AS inserted)
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM applied`,
    op ? [deletes] : [],
  );
  return {
    inserted: Number(rows[0]?.inserted ?? 0),
    updated: Number(rows[0]?.updated ?? 0),
    deleted,
  };
}
