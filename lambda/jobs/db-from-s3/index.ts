/**
 * Job type db_from_s3 (docs/db-from-s3.md): S3 object(s) into a PostgreSQL table, one
 * transaction per run — table preparation, every file, the ledger — under a
 * per-table advisory lock and a statement_timeout below the deadline.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { jobApplicationName } from "../../connectors/app-name";
import { resolveAwsConnection } from "../../connectors/aws-connection";
import { connectPg } from "../../connectors/pg-client";
import { resolveDbConnection } from "../../connectors/resolve-connection";
import type { AwsCredentials, ResolvedDb } from "../../connectors/types";
import { asLavaError, ConnectionConfigError, ObjectMissingError } from "../../shared/errors";
import { headObject, parseS3Location, s3Url } from "../../shared/s3-objects";
import { renderTemplate } from "../../shared/templating";
import { runContext } from "../run-context";
import type { JobOutcome, JobRun } from "../types";
import { auroraLoader } from "./aurora-loader";
import { checkName, foldName, qualifiedName } from "./identifiers";
import type { Loader } from "./loader";
import { manifestObjects } from "./manifest";
import { checkLoadParams, type LoadParams } from "./params";
import { isRegexName, nameFromKey } from "./regex-name";
import { streamLoader } from "./stream-loader";
import { inTransaction } from "./transaction";

/** Render bucket/key, then schema/table (with bucket and key), then apply /regex names. */
function renderNames(run: JobRun, p: LoadParams) {
  const at = `job ${run.job.job_id}: parameters.`;
  const ctx = runContext(run, p.vars);
  const render = (v: string, field: string, extra: Record<string, unknown> = {}) =>
    p.jinja && !run.literal.has(field)
      ? renderTemplate(v, { ...ctx, ...extra }, `${at}${field}`)
      : v;
  const bucket = render(p.bucket, "bucket");
  const key = render(p.key, "key");
  const name = (field: "schema" | "table") => {
    const rendered = render(p[field], field, { bucket, key });
    const raw = isRegexName(rendered) ? nameFromKey(rendered, key, `${at}${field}`) : rendered;
    return checkName(foldName(raw, p.preserveCase), `${at}${field}`);
  };
  return { bucket, key, schema: name("schema"), table: name("table") };
}

/** How this run reads S3: client, region and (with `s3_conn_id`) the aws connection's credentials. */
interface S3Access {
  readonly s3: S3Client;
  readonly region: string | undefined;
  readonly credentials: (() => Promise<AwsCredentials>) | undefined;
}

function s3Access(run: JobRun, p: LoadParams, bucket: string): S3Access {
  const aws = p.s3ConnId
    ? resolveAwsConnection(run.realm, p.s3ConnId, {
        store: run.deps.resolve.store,
        applicationName: jobApplicationName(run.realm.name, run.job.job_id),
        ...(run.deps.assumeRole ? { assumeRole: run.deps.assumeRole } : {}),
      })
    : undefined;
  const source = run.realm.top.s3_sources?.find((s) => s.bucket === bucket);
  const region = aws?.region ?? source?.region ?? run.realm.top.region;
  const s3 = run.deps.s3({
    ...(region ? { region } : {}),
    ...(aws ? { credentials: aws.credentials } : {}),
  });
  return { s3, region, credentials: aws?.credentials };
}

/** Aurora/RDS connections import through `aws_s3`; plain PostgreSQL streams through client COPY. */
function loaderFor(run: JobRun, conn: ResolvedDb, access: S3Access): Loader {
  if (!conn.aurora) return streamLoader;
  if (!access.region) {
    throw new ConnectionConfigError(
      `connection ${conn.connId}: aws_s3 imports need the objects' region: set the realm's region, the s3_sources entry's or the aws connection's`,
    );
  }
  const temp = run.realm.top.s3_temp ? parseS3Location(run.realm.top.s3_temp) : undefined;
  return auroraLoader({
    region: access.region,
    ...(access.credentials ? { credentials: access.credentials } : {}),
    temp: temp && {
      bucket: temp.bucket,
      prefix: [temp.prefix, run.job.job_id, run.runId].filter(Boolean).join("/"),
    },
    events: run.events,
  });
}

/** Run one db_from_s3 job. Failures throw; the runner turns them into a failed result. */
export async function runDbFromS3(run: JobRun): Promise<JobOutcome> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  const { bucket, key, schema, table } = renderNames(run, p);
  const logical = qualifiedName(schema, table);
  const base = { bucket, key, table: `${schema}.${table}` };
  const url = s3Url(bucket, key);

  const conn = await resolveDbConnection(run.realm, p.dbConnId, run.deps.resolve);
  const access = s3Access(run, p, bucket);
  const { s3 } = access;
  const main = await headObject(s3, bucket, key);
  if (!main) {
    if (p.skipMissing) {
      run.events.add(`${url} does not exist: skipped (skip_missing)`);
      return { status: "skipped", reason: "missing", ...base };
    }
    throw new ObjectMissingError(`${url} does not exist`);
  }
  run.events.add(`${url}: ${main.size} bytes, ${main.identity}`);
  // min_size applies to each manifest entry, not to the manifest (lava's rule).
  const objects = p.copy.manifest
    ? await manifestObjects(s3, main, run.realm.top, p.minSize, run.events)
    : [main];
  const small =
    p.minSize !== undefined && (p.copy.manifest ? objects.length === 0 : main.size < p.minSize);
  if (small) {
    run.events.add(
      p.copy.manifest
        ? `${url}: every entry is smaller than min_size ${p.minSize}: skipped`
        : `${url}: smaller than min_size ${p.minSize}: skipped`,
    );
    return { status: "skipped", reason: "below_min_size", ...base };
  }

  const client = await connectPg(conn, jobApplicationName(run.realm.name, run.job.job_id));
  try {
    return await inTransaction(run, client, {
      p,
      loader: loaderFor(run, conn, access),
      s3,
      main,
      objects,
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
