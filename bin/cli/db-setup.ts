/**
 * `lava-aurora db-setup CONN_ID [--admin ADMIN_CONN_ID --apply]`: check (and where
 * it can, make) what loads need in the database; with `--admin` and `--apply`,
 * run the fixing statements on the admin connection, showing each, then check again.
 */
import type { ClientBase } from "pg";
import { jobApplicationName } from "../../lambda/connectors/app-name";
import { connectPg } from "../../lambda/connectors/pg-client";
import { resolveDbConnection } from "../../lambda/connectors/resolve-connection";
import type { ResolvedDb } from "../../lambda/connectors/types";
import {
  type AppliedFix,
  applyFixes,
  checkDatabaseSetup,
  fansOut,
  type SetupCheck,
  targetSchemas,
} from "../../lambda/jobs/db-from-s3/db-setup";
import { defaultResolveDeps } from "./deps";
import { EXIT, reportError, UsageError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

export interface DbSetupFlags extends RealmFlags {
  readonly admin?: string;
  readonly apply?: boolean;
  readonly json?: boolean;
}

/** What `db-setup --json` prints. */
export interface DbSetupReport {
  readonly conn_id: string;
  readonly target: string;
  readonly checks: readonly SetupCheck[];
  /** With `--apply`: each fixing step run as the admin connection, then the checks again. */
  readonly applied?: readonly AppliedFix[];
  readonly checks_after?: readonly SetupCheck[];
  readonly problems: number;
  readonly ready: boolean;
}

const indent = (text: string) => text.replace(/^/gm, "         ");

function printChecks(
  connId: string,
  conn: ResolvedDb,
  checks: readonly SetupCheck[],
  quiet = false,
): number {
  const failed = checks.filter((c) => c.ok === false).length;
  if (quiet) return failed;
  const out = process.stdout;
  out.write(`${connId}: ${conn.host}:${conn.port}/${conn.database} as ${conn.user}\n`);
  for (const c of checks) {
    const mark = c.ok === null ? "-" : c.ok ? "ok" : "FAIL";
    out.write(`  ${mark.padEnd(4)} ${c.name}: ${c.detail}\n`);
    for (const fix of c.fixes ?? []) out.write(`${indent(fix)}\n`);
  }
  return failed;
}

async function withClient<T>(
  conn: ResolvedDb,
  appName: string,
  use: (client: ClientBase) => Promise<T>,
): Promise<T> {
  const client = await connectPg(conn, appName);
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dbSetupCommand(connId: string, flags: DbSetupFlags): Promise<number> {
  try {
    if (flags.apply && !flags.admin)
      throw new UsageError(
        "db-setup: --apply needs --admin CONN_ID (a connection with the rights)",
      );
    if (flags.admin && !flags.apply)
      throw new UsageError("db-setup: --admin needs --apply (without it nothing runs as admin)");
    const realm = await loadRealm(flags);
    const deps = defaultResolveDeps();
    const conn = await resolveDbConnection(realm, connId, deps);
    const schemas = targetSchemas(realm.jobs, connId, conn.preserveCase);
    const appName = jobApplicationName(realm.name, `db-setup-${connId}`);
    const fanOut = fansOut(realm.jobs, connId);
    const check = () =>
      withClient(conn, appName, (c) => checkDatabaseSetup(c, conn, schemas, { fanOut }));
    const quiet = flags.json === true;
    const first = await check();
    let checks = first;
    let failed = printChecks(connId, conn, checks, quiet);
    let applied: AppliedFix[] | undefined;
    if (failed && flags.admin) {
      const admin = await resolveDbConnection(realm, flags.admin, deps);
      if (!quiet) process.stdout.write(`applying as ${flags.admin}:\n`);
      applied = await withClient(admin, appName, (c) => applyFixes(c, first));
      for (const a of quiet ? [] : applied) {
        process.stdout.write(
          `  ${(a.error ? "FAIL" : "ok").padEnd(4)} ${a.sql.split("\n").join("\n       ")}\n`,
        );
        if (a.error) process.stdout.write(`${indent(a.error)}\n`);
      }
      checks = await check();
      failed = printChecks(connId, conn, checks, quiet);
    }
    if (quiet) {
      const report: DbSetupReport = {
        conn_id: connId,
        target: `${conn.host}:${conn.port}/${conn.database} as ${conn.user}`,
        checks: first,
        ...(applied ? { applied, checks_after: checks } : {}),
        problems: failed,
        ready: failed === 0,
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return failed ? EXIT.failed : EXIT.ok;
    }
    process.stdout.write(
      failed
        ? `${failed} problem${failed === 1 ? "" : "s"}: run the statements above as a DBA${flags.admin ? "" : ", or rerun with --admin CONN_ID --apply"}\n`
        : "ready to load\n",
    );
    return failed ? EXIT.failed : EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
