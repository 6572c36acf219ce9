/** `lava-aurora db-setup CONN_ID`: check (and where it can, make) what loads need in the database. */
import { jobApplicationName } from "../../lambda/connectors/app-name";
import { connectPg } from "../../lambda/connectors/pg-client";
import { resolveDbConnection } from "../../lambda/connectors/resolve";
import { checkDatabaseSetup, targetSchemas } from "../../lambda/jobs/db-from-s3/db-setup";
import { defaultResolveDeps } from "./deps";
import { EXIT, reportError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

export async function dbSetupCommand(connId: string, flags: RealmFlags): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const conn = await resolveDbConnection(realm, connId, defaultResolveDeps());
    const client = await connectPg(conn, jobApplicationName(realm.name, `db-setup-${connId}`));
    try {
      const schemas = targetSchemas(realm.jobs, connId, conn.preserveCase);
      const checks = await checkDatabaseSetup(client, conn, schemas);
      const out = process.stdout;
      out.write(`${connId}: ${conn.host}:${conn.port}/${conn.database} as ${conn.user}\n`);
      for (const c of checks) {
        const mark = c.ok === null ? "-" : c.ok ? "ok" : "FAIL";
        out.write(`  ${mark.padEnd(4)} ${c.name}: ${c.detail}\n`);
        if (c.fix) out.write(`${c.fix.replace(/^/gm, "         ")}\n`);
      }
      const failed = checks.filter((c) => c.ok === false).length;
      out.write(
        failed
          ? `${failed} problem${failed === 1 ? "" : "s"}: run the statements above as a DBA\n`
          : "ready to load\n",
      );
      return failed ? EXIT.failed : EXIT.ok;
    } finally {
      await client.end();
    }
  } catch (err) {
    return reportError(err);
  }
}
