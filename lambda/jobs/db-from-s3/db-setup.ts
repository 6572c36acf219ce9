/**
 * What a database needs before db_from_s3 can load into it, checked as the
 * loading connection: the aws_s3 import (Aurora), the ledger, rds_iam for IAM
 * users, and privileges on the realm's target schemas.
 */
import type { ClientBase } from "pg";
import type { ResolvedDb } from "../../connectors/types";
import { isTemplated } from "../../spec/validate";
import {
  ensureLavaTable,
  type LavaTable,
  tableAccess,
  tableGrants,
  tableName,
} from "../lava-table";
import { RUN_LOG } from "../run-log";
import { foldName, quoteIdent } from "./identifiers";
import { LEDGER } from "./ledger";
import { isRegexName } from "./regex-name";
import { ensureStaging, STAGING_DDL } from "./staging";

/** One line of the report. `ok: null` means "does not apply". */
export interface SetupCheck {
  readonly name: string;
  readonly ok: boolean | null;
  readonly detail: string;
  /** What to run (as a DBA) to fix it, step by step (a step may hold several statements); identifiers quoted. */
  readonly fixes?: readonly string[];
}

const IMPORT_SIGNATURES = [
  "aws_s3.table_import_from_s3(text,text,text,text,text,text)",
  "aws_s3.table_import_from_s3(text,text,text,text,text,text,text,text,text)",
] as const;

async function one<T>(
  client: ClientBase,
  sql: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  return (await client.query(sql, params)).rows[0] as T | undefined;
}

async function checkImport(client: ClientBase, conn: ResolvedDb): Promise<SetupCheck> {
  const name = "aws_s3 import";
  if (!conn.aurora)
    return { name, ok: null, detail: `${conn.type} connection: loads stream through client COPY` };
  const missing: string[] = [];
  const denied: string[] = [];
  for (const sig of IMPORT_SIGNATURES) {
    const row = await one<{ oid: string | null }>(
      client,
      "SELECT to_regprocedure($1)::oid::text AS oid",
      [sig],
    );
    if (!row?.oid) missing.push(sig);
    else {
      const can = await one<{ ok: boolean }>(
        client,
        "SELECT has_schema_privilege('aws_s3', 'USAGE') AND has_function_privilege($1::oid, 'EXECUTE') AS ok",
        [row.oid],
      );
      if (!can?.ok) denied.push(sig);
    }
  }
  if (missing.length > 0) {
    return {
      name,
      ok: false,
      detail: `missing ${missing.join(", ")}`,
      fixes: ['CREATE EXTENSION "aws_s3" CASCADE;'],
    };
  }
  if (denied.length > 0) {
    return {
      name,
      ok: false,
      detail: `${quoteIdent(conn.user)} may not execute ${denied.join(", ")}`,
      fixes: [
        `GRANT USAGE ON SCHEMA "aws_s3", "aws_commons" TO ${quoteIdent(conn.user)};`,
        `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "aws_s3", "aws_commons" TO ${quoteIdent(conn.user)};`,
      ],
    };
  }
  const ext = await one<{ v: string }>(
    client,
    "SELECT extversion AS v FROM pg_extension WHERE extname = 'aws_s3'",
  );
  return {
    name,
    ok: true,
    detail: `table_import_from_s3 (with and without credentials) executable by ${quoteIdent(conn.user)}${ext ? ` (aws_s3 ${ext.v})` : ""}`,
  };
}

/** One of the project's tables (lava-table.ts): present or created here when the user may, and usable. */
async function checkLavaTable(
  client: ClientBase,
  conn: ResolvedDb,
  t: LavaTable,
  name: string,
  usable: string,
): Promise<SetupCheck> {
  const table = tableName(t);
  const access = await tableAccess(client, t);
  if (access.state === "denied") {
    return {
      name,
      ok: false,
      detail: `${table} is present but ${quoteIdent(access.user)} lacks ${access.lacks.join(", ")}`,
      fixes: tableGrants(access.user, t),
    };
  }
  let created = false;
  try {
    created = (await ensureLavaTable(client, conn.connId, t)) === "created";
  } catch {
    return {
      name,
      ok: false,
      detail: `${table} is missing and ${quoteIdent(conn.user)} may not create it`,
      fixes: [t.ddl, ...tableGrants(conn.user, t)],
    };
  }
  return { name, ok: true, detail: `${table} ${created ? "created" : "present"}, ${usable}` };
}

const STAGING_TABLES = ["lava.load_staging_runs", "lava.load_staging_parts"] as const;

/** The fan-out staging registry (docs/db-from-s3.md §14): present or creatable, and usable. */
async function checkStaging(client: ClientBase, conn: ResolvedDb): Promise<SetupCheck> {
  const name = "fan-out staging";
  const who = quoteIdent(conn.user);
  const grants = [
    `GRANT USAGE ON SCHEMA "lava" TO ${who};`,
    `GRANT SELECT, INSERT, DELETE ON "lava"."load_staging_runs", "lava"."load_staging_parts" TO ${who};`,
  ];
  try {
    await ensureStaging(client, conn.connId);
  } catch {
    return {
      name,
      ok: false,
      detail: `${STAGING_TABLES.join(" and ")} are missing and ${who} may not create them`,
      fixes: [STAGING_DDL, ...grants],
    };
  }
  const row = await one<{ ok: boolean }>(
    client,
    `SELECT bool_and(has_table_privilege(t, 'SELECT') AND has_table_privilege(t, 'INSERT')
                     AND has_table_privilege(t, 'DELETE')) AS ok
       FROM unnest($1::text[]) AS t`,
    [STAGING_TABLES],
  );
  if (!row?.ok)
    return {
      name,
      ok: false,
      detail: `${STAGING_TABLES.join(" and ")} are present but ${who} lacks SELECT, INSERT or DELETE`,
      fixes: grants,
    };
  return { name, ok: true, detail: `${STAGING_TABLES.join(" and ")} present and usable` };
}

async function checkRdsIam(client: ClientBase, conn: ResolvedDb): Promise<SetupCheck> {
  const name = "rds_iam";
  if (conn.auth !== "iam") return { name, ok: null, detail: "password authentication: not needed" };
  const role = await one<{ member: boolean }>(
    client,
    "SELECT pg_has_role(current_user, oid, 'MEMBER') AS member FROM pg_roles WHERE rolname = 'rds_iam'",
  );
  const who = quoteIdent(conn.user);
  if (role?.member) return { name, ok: true, detail: `${who} has rds_iam` };
  return {
    name,
    ok: false,
    detail: role ? `${who} lacks rds_iam` : "no rds_iam role here (not an RDS/Aurora database?)",
    fixes: [`GRANT "rds_iam" TO ${who};`],
  };
}

async function checkSchema(
  client: ClientBase,
  conn: ResolvedDb,
  schema: string,
): Promise<SetupCheck> {
  const name = `schema ${schema}`;
  const who = quoteIdent(conn.user);
  const row = await one<{ usage: boolean; create: boolean }>(
    client,
    "SELECT has_schema_privilege(n.oid, 'USAGE') AS usage, has_schema_privilege(n.oid, 'CREATE') AS create FROM pg_namespace n WHERE n.nspname = $1",
    [schema],
  );
  if (!row)
    return {
      name,
      ok: false,
      detail: "does not exist",
      fixes: [`CREATE SCHEMA ${quoteIdent(schema)} AUTHORIZATION ${who};`],
    };
  if (!row.usage || !row.create) {
    return {
      name,
      ok: false,
      detail: `${who} lacks ${[!row.usage && "USAGE", !row.create && "CREATE"].filter(Boolean).join(" and ")} (CREATE is needed to create tables, and by drop and switch)`,
      fixes: [`GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(schema)} TO ${who};`],
    };
  }
  return { name, ok: true, detail: `${who} may use it and create tables in it` };
}

/** Target schemas of the realm's db_from_s3 jobs on a connection (templated and /regex ones cannot be known). */
export function targetSchemas(
  jobs: readonly { type: string; parameters?: Record<string, unknown> }[],
  connId: string,
  preserveCase: boolean,
): string[] {
  const out = new Set<string>();
  for (const job of jobs) {
    const p = job.parameters ?? {};
    if (job.type !== "db_from_s3" || p.db_conn_id !== connId || typeof p.schema !== "string")
      continue;
    if (isTemplated(p.schema) || isRegexName(p.schema)) continue;
    out.add(foldName(p.schema, preserveCase));
  }
  return [...out].sort();
}

/** Whether a db_from_s3 job on the connection fans out (and so needs the staging registry). */
export function fansOut(
  jobs: readonly { type: string; parameters?: Record<string, unknown> }[],
  connId: string,
): boolean {
  return jobs.some(
    (j) =>
      j.type === "db_from_s3" &&
      j.parameters?.db_conn_id === connId &&
      j.parameters.fan_out !== undefined &&
      j.parameters.fan_out !== false,
  );
}

/** Run every check; the ledger (and with `fanOut` the staging registry) is created when missing and the user may. */
export async function checkDatabaseSetup(
  client: ClientBase,
  conn: ResolvedDb,
  schemas: readonly string[],
  options: { readonly fanOut?: boolean } = {},
): Promise<SetupCheck[]> {
  const checks = [
    await checkImport(client, conn),
    await checkLavaTable(client, conn, LEDGER, "load ledger", "readable and writable"),
    // The run log (docs/operations.md §3): written and pruned by every run.
    await checkLavaTable(client, conn, RUN_LOG, "run log", "writable"),
    ...(options.fanOut ? [await checkStaging(client, conn)] : []),
    await checkRdsIam(client, conn),
  ];
  for (const schema of schemas) checks.push(await checkSchema(client, conn, schema));
  return checks;
}

/** One fixing step run by `db-setup --apply`, and how it went. */
export interface AppliedFix {
  readonly sql: string;
  readonly error?: string;
}

/**
 * Run the fixes of the failed checks on an admin session, one step at a time;
 * a failing step is reported and the rest still run.
 */
export async function applyFixes(
  admin: ClientBase,
  checks: readonly SetupCheck[],
): Promise<AppliedFix[]> {
  const out: AppliedFix[] = [];
  for (const sql of checks.filter((c) => c.ok === false).flatMap((c) => c.fixes ?? [])) {
    try {
      await admin.query(sql);
      out.push({ sql });
    } catch (err) {
      const code = (err as { code?: string }).code;
      out.push({ sql, error: `${(err as Error).message}${code ? ` (SQLSTATE ${code})` : ""}` });
    }
  }
  return out;
}
