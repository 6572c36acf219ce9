/**
 * Preparing the target table for each mode (docs/db-from-s3.md §9), inside the load
 * transaction: nothing here commits on its own, so a failed load leaves the
 * table exactly as it was.
 */
import type { ClientBase } from "pg";
import { TargetStateError } from "../../shared/errors";
import type { LOAD_MODES } from "../../spec/job";
import { checkName, qualifiedName } from "./identifiers";

/** lava's six modes and ours, `merge` (`upsert` is read as merge). */
export type LoadMode = (typeof LOAD_MODES)[number] | "merge";

/** The logical target, its names already folded and checked. */
export interface TargetTable {
  readonly schema: string;
  readonly table: string;
  /** Column definitions (`"id" INTEGER …`) to create it with, when given. */
  readonly columnDefs: readonly string[] | undefined;
}

/** What the load goes into. */
export interface PreparedTarget {
  /** Quoted `"schema"."table"` loaded (the `_a`/`_b` table in switch mode). */
  readonly physical: string;
  /** switch: the other table, emptied in the transaction and reclaimed after commit ({@link reclaimEmptied}). */
  readonly emptied?: string;
  readonly events: readonly string[];
}

/** Whether a table (a quoted, qualified name) exists. */
export async function tableExists(client: ClientBase, name: string): Promise<boolean> {
  const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [
    name,
  ]);
  return Boolean(rows[0]?.t);
}

/** Unquoted names of the columns COPY can fill, in table order (not generated, not dropped). */
export async function fillableColumns(client: ClientBase, table: string): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
    [table],
  );
  return rows.map((r) => r.attname);
}

/** Whether the table holds any row. */
export async function hasRows(client: ClientBase, name: string): Promise<boolean> {
  const { rows } = await client.query<{ any: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${name}) AS any`,
  );
  return rows[0]?.any === true;
}

async function create(
  client: ClientBase,
  name: string,
  target: TargetTable,
  events: string[],
): Promise<void> {
  if (!target.columnDefs) {
    throw new TargetStateError(
      `table ${name} does not exist and no columns are given to create it`,
    );
  }
  await client.query(`CREATE TABLE ${name} (${target.columnDefs.join(", ")})`);
  events.push(`created ${name}`);
}

async function ensure(
  client: ClientBase,
  name: string,
  target: TargetTable,
  events: string[],
): Promise<void> {
  if (!(await tableExists(client, name))) await create(client, name, target, events);
}

/** Prepare the target for `mode`; returns the physical table to load. */
export async function prepareTarget(
  client: ClientBase,
  mode: LoadMode,
  target: TargetTable,
): Promise<PreparedTarget> {
  const events: string[] = [];
  const name = qualifiedName(target.schema, target.table);
  switch (mode) {
    case "append":
    case "merge":
      await ensure(client, name, target, events);
      return { physical: name, events };
    case "abort":
      if (await tableExists(client, name)) {
        if (await hasRows(client, name))
          throw new TargetStateError(`table ${name} holds rows (mode abort)`);
      } else await create(client, name, target, events);
      return { physical: name, events };
    case "delete":
      await ensure(client, name, target, events);
      events.push(
        `deleted ${(await client.query(`DELETE FROM ${name}`)).rowCount ?? 0} rows from ${name}`,
      );
      return { physical: name, events };
    case "truncate":
      await ensure(client, name, target, events);
      await client.query(`TRUNCATE ${name}`);
      events.push(`truncated ${name}`);
      return { physical: name, events };
    case "drop":
      if (!target.columnDefs)
        throw new TargetStateError(`mode drop recreates ${name}: give columns`);
      await client.query(`DROP TABLE IF EXISTS ${name}`);
      await create(client, name, target, events);
      return { physical: name, events };
    case "switch":
      return prepareSwitch(client, target, events);
  }
}

async function prepareSwitch(
  client: ClientBase,
  target: TargetTable,
  events: string[],
): Promise<PreparedTarget> {
  const [a, b] = ["_a", "_b"].map((suffix) =>
    qualifiedName(
      target.schema,
      checkName(`${target.table}${suffix}`, `switch table for ${target.table}`),
    ),
  ) as [string, string];
  await ensure(client, a, target, events);
  await ensure(client, b, target, events);
  const [aFull, bFull] = [await hasRows(client, a), await hasRows(client, b)];
  if (aFull && bFull) throw new TargetStateError(`neither ${a} nor ${b} is empty (mode switch)`);
  const [into, other] = aFull ? [b, a] : [a, b];
  events.push(`switch: loading ${into}, emptying ${other}`);
  await client.query(`DELETE FROM ${other}`);
  return { physical: into, emptied: other, events };
}

/** How long the reclaim step waits for other sessions' locks on the emptied table (new readers queue behind it meanwhile). */
export const RECLAIM_LOCK_TIMEOUT_MS = 500;

/**
 * switch: after commit, TRUNCATE the table the load emptied, to save vacuuming.
 * Its own transaction, under the logical table's advisory lock (skipped when a
 * run holds it), only while that table is still empty (a later run may have
 * loaded it since), and with a short lock_timeout (skipped behind readers).
 * Never throws: the load is committed; a skipped reclaim costs only space that
 * VACUUM recovers. Returns the event to log.
 */
export async function reclaimEmptied(
  client: ClientBase,
  emptied: string,
  advisoryKey: string,
): Promise<string> {
  try {
    await client.query("BEGIN");
    await client.query(`SET LOCAL lock_timeout = ${RECLAIM_LOCK_TIMEOUT_MS}`);
    await client.query("SET LOCAL statement_timeout = 10000");
    const { rows } = await client.query<{ got: boolean }>(
      "SELECT pg_try_advisory_xact_lock($1::bigint) AS got",
      [advisoryKey],
    );
    if (rows[0]?.got !== true) {
      await client.query("ROLLBACK");
      return `${emptied} not truncated: another run into the table holds its lock; VACUUM reclaims the space`;
    }
    await client.query(`LOCK TABLE ${emptied} IN ACCESS EXCLUSIVE MODE`);
    if (await hasRows(client, emptied)) {
      await client.query("ROLLBACK");
      return `${emptied} not truncated: a later run loaded it`;
    }
    await client.query(`TRUNCATE ${emptied}`);
    await client.query("COMMIT");
    return `truncated ${emptied}`;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    const code = (err as { code?: string }).code;
    if (code === "55P03")
      return `${emptied} not truncated: other sessions hold it (lock_timeout ${RECLAIM_LOCK_TIMEOUT_MS} ms); VACUUM reclaims the space`;
    return `${emptied} not truncated after commit: ${(err as Error).message}`;
  }
}
