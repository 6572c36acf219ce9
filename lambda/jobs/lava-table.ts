/**
 * The project's own tables in schema `lava` of a target database (the load ledger,
 * the run log): what the session may do with one, read from the catalogs (which
 * need no privileges), the GRANTs that let a user use it, and its creation on
 * first use — with an error that says what to run when the user may not.
 */
import type { ClientBase } from "pg";
import {
  DatabasePermissionError,
  DatabaseServerError,
  isRetryableSqlState,
} from "../shared/errors";
import { quoteIdent } from "./db-from-s3/identifiers";

/** One of the project's tables in schema `lava`. */
export interface LavaTable {
  /** Its name in schema `lava`, e.g. `load_ledger`. */
  readonly relname: string;
  /** How messages name it, e.g. `ledger`. */
  readonly what: string;
  /** The table privileges a loading user needs on it. */
  readonly privileges: readonly ("SELECT" | "INSERT" | "UPDATE" | "DELETE")[];
  /** Its DDL (schema, table, indexes; IF NOT EXISTS throughout). */
  readonly ddl: string;
}

/** `lava.<relname>`. */
export const tableName = (t: LavaTable) => `lava.${t.relname}`;

/** What the session may do with the table. */
export type LavaTableAccess =
  | { readonly state: "missing" }
  | { readonly state: "ok" }
  /** Present, but `lacks` lists the privileges the current user needs. */
  | { readonly state: "denied"; readonly user: string; readonly lacks: readonly string[] };

export async function tableAccess(client: ClientBase, t: LavaTable): Promise<LavaTableAccess> {
  // One privilege per call: a list would mean "any of them".
  const checks = t.privileges
    .map((p, i) => `c.oid IS NOT NULL AND has_table_privilege(c.oid, '${p}') AS p${i}`)
    .join(",\n            ");
  const { rows } = await client.query<Record<string, unknown> & { user: string }>(
    `SELECT current_user AS user, c.oid IS NOT NULL AS has_table,
            has_schema_privilege(n.oid, 'USAGE') AS usage,
            ${checks}
       FROM pg_namespace n
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $1
      WHERE n.nspname = 'lava'`,
    [t.relname],
  );
  const row = rows[0];
  if (!row?.has_table) return { state: "missing" };
  const table = t.privileges.filter((_, i) => row[`p${i}`] !== true);
  const lacks = [
    ...(row.usage ? [] : ["USAGE on schema lava"]),
    ...(table.length ? [`${table.join(", ")} on ${tableName(t)}`] : []),
  ];
  return lacks.length ? { state: "denied", user: row.user, lacks } : { state: "ok" };
}

/** The GRANTs that let `user` use the table, identifiers quoted. */
export function tableGrants(user: string, t: LavaTable): string[] {
  const who = quoteIdent(user);
  return [
    `GRANT USAGE ON SCHEMA "lava" TO ${who};`,
    `GRANT ${t.privileges.join(", ")} ON "lava".${quoteIdent(t.relname)} TO ${who};`,
  ];
}

/**
 * Create the table if it is missing; outside any load transaction. When the user
 * may not create it, or it exists but the user may not use it, the error says so,
 * with the SQLSTATE and what to run.
 */
export async function ensureLavaTable(
  client: ClientBase,
  connId: string,
  t: LavaTable,
): Promise<"exists" | "created"> {
  const access = await tableAccess(client, t);
  const setup = `run "lava-aurora db-setup ${connId} --admin ADMIN_CONN_ID --apply"`;
  if (access.state === "denied") {
    const who = quoteIdent(access.user);
    throw new DatabasePermissionError(
      `${t.what} ${tableName(t)} exists but ${who} may not use it (SQLSTATE 42501: lacks ${access.lacks.join(", ")}): ${setup}, or as a DBA: ${tableGrants(access.user, t).join(" ")}`,
      { code: "42501" },
    );
  }
  if (access.state === "ok") return "exists";
  try {
    await client.query(t.ddl);
    return "created";
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Two first runs racing to create it: the other one won.
    if (code === "23505" || code === "42P07" || code === "42710") return "exists";
    const detail = `${tableName(t)} is missing and cannot be created as this user (SQLSTATE ${code ?? "none"}: ${(err as Error).message})`;
    if (code === "42501")
      throw new DatabasePermissionError(
        `${detail}: ${setup}, or have a DBA run the DDL that "lava-aurora db-setup ${connId}" prints`,
        { cause: err, code },
      );
    throw new DatabaseServerError(`${detail}; "lava-aurora db-setup ${connId}" prints the DDL`, {
      cause: err,
      code,
      retryable: isRetryableSqlState(code),
    });
  }
}
