/** `lava-aurora db-setup`'s check of the run log (docs/operations.md §3): present or creatable, and usable. */
import type { ClientBase } from "pg";
import type { ResolvedDb } from "../connectors/types";
import type { SetupCheck } from "./db-from-s3/db-setup";
import { quoteIdent } from "./db-from-s3/identifiers";
import { ensureRunLog, RUN_LOG_DDL, RUN_LOG_TABLE, runLogAccess, runLogGrants } from "./run-log";

/** The run log exists (created here when the user may) and the user may write and prune it. */
export async function checkRunLog(client: ClientBase, conn: ResolvedDb): Promise<SetupCheck> {
  const name = "run log";
  const access = await runLogAccess(client);
  if (access.state === "denied") {
    return {
      name,
      ok: false,
      detail: `${RUN_LOG_TABLE} is present but ${quoteIdent(access.user)} lacks ${access.lacks.join(", ")}`,
      fixes: runLogGrants(access.user),
    };
  }
  let created = false;
  try {
    created = (await ensureRunLog(client, conn.connId)) === "created";
  } catch {
    return {
      name,
      ok: false,
      detail: `${RUN_LOG_TABLE} is missing and ${quoteIdent(conn.user)} may not create it`,
      fixes: [RUN_LOG_DDL, ...runLogGrants(conn.user)],
    };
  }
  return {
    name,
    ok: true,
    detail: `${RUN_LOG_TABLE} ${created ? "created" : "present"}, writable`,
  };
}
