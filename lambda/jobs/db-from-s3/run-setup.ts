/**
 * What every db_from_s3 step sets up from a run: the rendered names, how it
 * reads S3, and the loader its connection type picks (docs/db-from-s3.md §3, §8).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { jobApplicationName } from "../../connectors/app-name";
import { resolveAwsConnection } from "../../connectors/aws-connection";
import type { AwsCredentials, ResolvedDb } from "../../connectors/types";
import { ConnectionConfigError } from "../../shared/errors";
import { parseS3Location } from "../../shared/s3-objects";
import { renderTemplate } from "../../shared/templating";
import { runContext } from "../run-context";
import type { JobRun } from "../types";
import { auroraLoader } from "./aurora-loader";
import { checkName, foldName } from "./identifiers";
import type { Loader } from "./loader";
import type { LoadParams } from "./params";
import { isRegexName, nameFromKey } from "./regex-name";
import { streamLoader } from "./stream-loader";

/** Render bucket/key, then schema/table (with bucket and key), then apply /regex names. */
export function renderNames(run: JobRun, p: LoadParams) {
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
export interface S3Access {
  readonly s3: S3Client;
  readonly region: string | undefined;
  readonly credentials: (() => Promise<AwsCredentials>) | undefined;
}

export function s3Access(run: JobRun, p: LoadParams, bucket: string): S3Access {
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
export function loaderFor(
  run: JobRun,
  conn: ResolvedDb,
  access: S3Access,
  /** Under the run's temporary prefix, e.g. a fan-out item's own `item-3`. */
  tempFolder?: string,
  /** Quarantine or lineage: records must pass through this process (docs/db-from-s3.md §16). */
  careful = false,
): Loader {
  if (!conn.aurora) return streamLoader;
  if (careful) {
    run.events.add(
      `connection ${conn.connId}: on_bad_rows/lineage load through client COPY from this process (aws_s3 cannot set rows aside or number them)`,
    );
    return streamLoader;
  }
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
      prefix: [temp.prefix, run.job.job_id, run.runId, tempFolder].filter(Boolean).join("/"),
    },
    events: run.events,
  });
}
