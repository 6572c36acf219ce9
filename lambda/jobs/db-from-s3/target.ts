/**
 * Preparing the target table for each mode (SPEC §5.6), inside the load
 * transaction: nothing here commits on its own, so a failed load leaves the
 * table exactly as it was.
 */
import type { ClientBase } from "pg";
import { TargetStateError } from "../../shared/errors";
import type { LOAD_MODES } from "../../spec/job";
import { checkName, qualifiedName } from "./identifiers";

export type LoadMode = (typeof LOAD_MODES)[number];

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
  /** switch: the other table, emptied in the transaction and truncated after commit. */
  readonly emptied?: string;
  readonly events: readonly string[];
}

async function exists(client: ClientBase, name: string): Promise<boolean> {
  const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [
    name,
  ]);
  return Boolean(rows[0]?.t);
}

async function hasRows(client: ClientBase, name: string): Promise<boolean> {
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
  if (!(await exists(client, name))) await create(client, name, target, events);
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
      await ensure(client, name, target, events);
      return { physical: name, events };
    case "abort":
      if (await exists(client, name)) {
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
