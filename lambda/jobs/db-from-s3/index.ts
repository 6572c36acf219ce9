/**
 * Job type db_from_s3 (docs/db-from-s3.md): S3 object(s) into a PostgreSQL table, one
 * transaction per run — table preparation, every file, the ledger — under a
 * per-table advisory lock and a statement_timeout below the deadline.
 */
import { jobApplicationName } from "../../connectors/app-name";
import { connectPg } from "../../connectors/pg-client";
import { resolveDbConnection } from "../../connectors/resolve-connection";
import { asLavaError } from "../../shared/errors";
import type { JobOutcome, JobRun } from "../types";
import { runFanOutHere } from "./fan-out";
import { qualifiedName } from "./identifiers";
import { checkLoadParams } from "./params";
import { loaderFor, renderNames, s3Access } from "./run-setup";
import { loadSources } from "./sources";
import { inTransaction } from "./transaction";

/** Run one db_from_s3 job. Failures throw; the runner turns them into a failed result. */
export async function runDbFromS3(run: JobRun): Promise<JobOutcome> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  if (p.fanOut) {
    // Many parts: items in parallel, one publish (fan-out.ts); one part: the transaction below.
    const outcome = await runFanOutHere(run);
    if (outcome) return outcome;
  }
  const { bucket, key, schema, table } = renderNames(run, p);
  const logical = qualifiedName(schema, table);
  const base = { bucket, key, table: `${schema}.${table}` };

  const conn = await resolveDbConnection(run.realm, p.dbConnId, run.deps.resolve);
  const access = s3Access(run, p, bucket);
  const { s3 } = access;
  const found = await loadSources(s3, p, { bucket, key }, run.realm.top, run.events);
  if ("skip" in found) return { status: "skipped", reason: found.skip, ...base };
  const { main, objects, via, listing } = found.sources;

  const client = await connectPg(conn, jobApplicationName(run.realm.name, run.job.job_id));
  try {
    return await inTransaction(run, client, {
      p,
      loader: loaderFor(
        run,
        conn,
        access,
        undefined,
        p.quarantine !== undefined || p.lineage !== undefined,
      ),
      s3,
      main,
      objects,
      via,
      listing,
      schema,
      table,
      logical,
      base,
    });
  } catch (err) {
    throw asLavaError(err, p.dbConnId);
  } finally {
    await client.end().catch(() => undefined);
  }
}
