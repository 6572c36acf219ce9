/**
 * Job type db_from_s3 (SPEC §5): S3 object(s) into a PostgreSQL table, one
 * transaction per run — table preparation, every file, the ledger — under a
 * per-table advisory lock and a statement_timeout below the deadline.
 */
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Client } from "pg";
import { jobApplicationName } from "../../connectors/app-name";
import { resolveAwsConnection } from "../../connectors/aws-connection";
import { connectPg } from "../../connectors/pg-client";
import { resolveDbConnection } from "../../connectors/resolve";
import type { ResolvedDb } from "../../connectors/types";
import { LoadTimeoutError, ObjectMissingError } from "../../shared/errors";
import { baseContext, renderTemplate } from "../../shared/templating";
import type { JobSpec } from "../../spec/job";
import type { Realm } from "../../spec/validate";
import type { EventLog } from "../events";
import type { JobDeps, JobResult, RunOptions } from "../types";
import { copyOptionsSql } from "./copy-options";
import { checkName, foldName, quoteIdent } from "./identifiers";
import { ensureLedger, findLoaded, newestLoaded, recordLoaded } from "./ledger";
import type { Loader } from "./loader";
import { checkLoadParams, type LoadParams } from "./params";
import { isRegexName, nameFromKey } from "./regex-name";
import { checkUnchanged, headObject, readManifest, type SourceObject, s3Url } from "./s3-objects";
import { streamLoader } from "./stream-loader";
import { type LoadMode, prepareTarget } from "./target";

/** Kept between the statement_timeout and the deadline, so the database gives up first. */
export const DEADLINE_MARGIN_MS = 3_000;
const REPLACING: readonly LoadMode[] = ["truncate", "drop", "delete", "switch"];

export interface DbFromS3Run {
  readonly realm: Realm;
  readonly job: JobSpec;
  readonly params: Record<string, unknown>;
  readonly globals: Record<string, unknown>;
  readonly runId: string;
  readonly start: Date;
  readonly deps: JobDeps;
  readonly events: EventLog;
  readonly options: RunOptions;
  /** The loader for a connection; default: client COPY for every type (Aurora's import plugs in here). */
  readonly loaderFor?: (conn: ResolvedDb) => Loader;
}

type Outcome = Omit<JobResult, "job_id" | "run_id" | "events">;

/** Render bucket/key, then schema/table (with bucket and key), then apply /regex names. */
function renderNames(run: DbFromS3Run, p: LoadParams) {
  const at = `job ${run.job.job_id}: parameters.`;
  const ctx = {
    ...baseContext({
      realm: run.realm.name,
      job: run.job,
      globals: run.globals,
      vars: p.vars,
      start: run.start,
    }),
  };
  const render = (v: string, field: string, extra: Record<string, unknown> = {}) =>
    p.jinja ? renderTemplate(v, { ...ctx, ...extra }, `${at}${field}`) : v;
  const bucket = render(p.bucket, "bucket");
  const key = render(p.key, "key");
  const name = (field: "schema" | "table") => {
    const rendered = render(p[field], field, { bucket, key });
    const raw = isRegexName(rendered) ? nameFromKey(rendered, key, `${at}${field}`) : rendered;
    return checkName(foldName(raw, p.preserveCase), `${at}${field}`);
  };
  return { bucket, key, schema: name("schema"), table: name("table") };
}

/** A 64-bit advisory lock key for a logical table. */
export function lockKey(table: string): string {
  return createHash("sha256").update(`lava-aurora:${table}`).digest().readBigInt64BE(0).toString();
}

function s3For(run: DbFromS3Run, p: LoadParams, bucket: string): S3Client {
  const aws = p.s3ConnId
    ? resolveAwsConnection(run.realm, p.s3ConnId, {
        store: run.deps.resolve.store,
        ...(run.deps.assumeRole ? { assumeRole: run.deps.assumeRole } : {}),
      })
    : undefined;
  const source = run.realm.top.s3_sources?.find((s) => s.bucket === bucket);
  const region = aws?.region ?? source?.region ?? run.realm.top.region;
  return run.deps.s3({
    ...(region ? { region } : {}),
    ...(aws ? { credentials: aws.credentials } : {}),
  });
}

/** The objects to load: the object itself, or the entries of its manifest. */
async function objectsToLoad(
  run: DbFromS3Run,
  s3: S3Client,
  main: SourceObject,
  manifest: boolean,
): Promise<SourceObject[]> {
  if (!manifest) return [main];
  const entries = await readManifest(s3, main);
  const found: SourceObject[] = [];
  for (const e of entries) {
    const obj = await headObject(s3, e.bucket, e.key);
    if (obj) found.push(obj);
    else if (e.mandatory)
      throw new ObjectMissingError(
        `${s3Url(e.bucket, e.key)}: mandatory manifest entry missing (manifest ${s3Url(main.bucket, main.key)})`,
      );
    else run.events.add(`manifest entry ${s3Url(e.bucket, e.key)} missing, not mandatory: skipped`);
  }
  run.events.add(`manifest lists ${entries.length} objects, ${found.length} found`);
  return found;
}

/** Run one db_from_s3 job. Failures throw; the runner turns them into a failed result. */
export async function runDbFromS3(run: DbFromS3Run): Promise<Outcome> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  const { bucket, key, schema, table } = renderNames(run, p);
  const logical = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const base = { bucket, key, table: `${schema}.${table}` };
  const url = s3Url(bucket, key);

  const conn = await resolveDbConnection(run.realm, p.dbConnId, run.deps.resolve);
  const s3 = s3For(run, p, bucket);
  const main = await headObject(s3, bucket, key);
  if (!main) {
    if (p.skipMissing) {
      run.events.add(`${url} does not exist: skipped (skip_missing)`);
      return { status: "skipped", reason: "missing", ...base };
    }
    throw new ObjectMissingError(`${url} does not exist`);
  }
  run.events.add(`${url}: ${main.size} bytes, ${main.identity}`);
  if (p.minSize !== undefined && main.size < p.minSize) {
    run.events.add(`${url}: smaller than min_size ${p.minSize}: skipped`);
    return { status: "skipped", reason: "below_min_size", ...base };
  }
  const objects = await objectsToLoad(run, s3, main, p.copy.manifest);

  const client = await connectPg(conn, jobApplicationName(run.realm.name, run.job.job_id));
  try {
    return await inTransaction(run, client, {
      p,
      conn,
      s3,
      main,
      objects,
      schema,
      table,
      logical,
      base,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface LoadState {
  readonly p: LoadParams;
  readonly conn: ResolvedDb;
  readonly s3: S3Client;
  readonly main: SourceObject;
  readonly objects: readonly SourceObject[];
  readonly schema: string;
  readonly table: string;
  readonly logical: string;
  readonly base: { bucket: string; key: string; table: string };
}

/**
 * The objects to load. In append mode the table still holds what earlier runs
 * loaded, so manifest entries already in the ledger are not loaded again; the
 * replacing modes start from an empty table and need every entry.
 */
async function notYetAppended(
  run: DbFromS3Run,
  client: Client,
  s: LoadState,
): Promise<readonly SourceObject[]> {
  if (s.p.mode !== "append" || s.p.reload || !s.p.copy.manifest) return s.objects;
  const fresh: SourceObject[] = [];
  for (const obj of s.objects) {
    const seen = await findLoaded(client, s.logical, obj);
    if (seen)
      run.events.add(
        `${s3Url(obj.bucket, obj.key)} already loaded by run ${seen.runId}: not loaded again`,
      );
    else fresh.push(obj);
  }
  return fresh;
}

/** Quoted column names of a table, in order (for `FORCE_NULL *` when no columns are given). */
async function tableColumns(client: Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    [table],
  );
  return rows.map((r) => quoteIdent(r.attname));
}

/** statement_timeout (ms) leaving DEADLINE_MARGIN_MS before the deadline; undefined without one. */
export function statementTimeout(
  deadline: number | undefined,
  now = Date.now(),
): number | undefined {
  if (deadline === undefined) return undefined;
  const ms = Math.floor(deadline - now - DEADLINE_MARGIN_MS);
  if (ms < 1000)
    throw new LoadTimeoutError(
      `too little time left before the deadline to start a load (${deadline - now} ms)`,
    );
  return ms;
}

async function inTransaction(run: DbFromS3Run, client: Client, s: LoadState): Promise<Outcome> {
  const { p, main, logical, base } = s;
  const ledger = await ensureLedger(client);
  if (ledger === "created") run.events.add("created the load ledger lava.load_ledger");
  const timeout = statementTimeout(run.options.deadline);
  await client.query("BEGIN");
  let committed = false;
  try {
    if (timeout !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(logical)]);
    if (!p.reload) {
      const seen = await findLoaded(client, logical, main);
      if (seen) {
        run.events.add(
          `${s3Url(main.bucket, main.key)} already loaded into ${base.table} by run ${seen.runId}: skipped`,
        );
        await client.query("ROLLBACK");
        committed = true;
        return { status: "skipped", reason: "duplicate", ...base };
      }
      const newest = REPLACING.includes(p.mode) ? await newestLoaded(client, logical) : undefined;
      if (newest && newest > main.lastModified) {
        run.events.add(
          `${base.table} already holds an object modified ${newest.toISOString()}, newer than this one: skipped`,
        );
        await client.query("ROLLBACK");
        committed = true;
        return { status: "skipped", reason: "stale", ...base };
      }
    }
    const target = await prepareTarget(client, p.mode, {
      schema: s.schema,
      table: s.table,
      columnDefs: p.columns?.map((c) => c.definition),
    });
    for (const e of target.events) run.events.add(e);
    const loader = run.loaderFor?.(s.conn) ?? streamLoader;
    const columns = p.columns?.map((c) => quoteIdent(c.name));
    const every = columns ?? (await tableColumns(client, target.physical));
    const options = copyOptionsSql(p.copy, (_force, cols) =>
      // Names were folded per preserve_case when parsed; quoted ones are exact.
      cols === "*" ? every : cols.map((c) => quoteIdent(c)),
    );
    let rows = 0;
    const loaded: { obj: SourceObject; rows: number }[] = [];
    for (const obj of await notYetAppended(run, client, s)) {
      const n = await loader.load({
        client,
        s3: s.s3,
        object: obj,
        table: target.physical,
        columns,
        options,
        gzip: p.copy.gzip,
        onBytes: (bytes) =>
          run.options.onProgress?.({
            object: s3Url(obj.bucket, obj.key),
            bytes,
            totalBytes: obj.size,
          }),
      });
      run.events.add(
        `${s3Url(obj.bucket, obj.key)}: ${n} rows into ${target.physical} (${loader.name})`,
      );
      rows += n;
      loaded.push({ obj, rows: n });
    }
    for (const { obj } of loaded) await checkUnchanged(s.s3, obj);
    const via = p.copy.manifest ? main.key : undefined;
    await recordLoaded(
      client,
      [
        ...loaded.map((l) => ({ obj: l.obj, viaManifest: via, rows: l.rows })),
        ...(via ? [{ obj: main, viaManifest: undefined, rows }] : []),
      ].map((e) => ({
        ...e,
        table: logical,
        loadedTable: target.physical,
        jobId: run.job.job_id,
        runId: run.runId,
      })),
    );
    await client.query("COMMIT");
    committed = true;
    run.events.add(`committed: ${rows} rows`);
    if (target.emptied) {
      await client.query(`TRUNCATE ${target.emptied}`).then(
        () => run.events.add(`truncated ${target.emptied}`),
        (err: Error) =>
          run.events.add(`could not truncate ${target.emptied} after commit: ${err.message}`),
      );
    }
    return { status: "ok", ...base, loaded_table: target.physical, rows };
  } finally {
    if (!committed) await client.query("ROLLBACK").catch(() => undefined);
  }
}
