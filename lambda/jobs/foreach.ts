/**
 * The foreach job type (docs/pipelines.md §7), as lava's `lava/handlers/foreach.py`
 * and `lava/foreach.py` have it: one child job (`payload`) run once per item of a
 * generator — inline, range, csv, jsonl, s3list, query — in order, under the
 * foreach's run id, each item's values merged over the child's globals with
 * `globals.lava.foreach_index`; more items than `limit` fails before any child
 * runs; `can_fail: true` lets iterations fail. Items are generated where S3 and
 * the database are reachable: the runner (a Plan step of the state machine).
 */
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { jobApplicationName } from "../connectors/app-name";
import { connectPg } from "../connectors/pg-client";
import { resolveDbConnection } from "../connectors/resolve-connection";
import { LavaError, ObjectMissingError, SpecError } from "../shared/errors";
import { fnmatchAny } from "../shared/fnmatch";
import { headObject, openObject, parseS3Location, s3Url } from "../shared/s3-objects";
import { renderTemplate } from "../shared/templating";
import { formatIssues } from "../spec/format";
import {
  FOREACH_INLINE_ITEMS,
  FOREACH_LIMIT,
  foreachParamsSchema,
  type JobSpec,
} from "../spec/job";
import type { Realm } from "../spec/realm";
import { type ChainChild, childOf, undefinedJobs } from "./chain";
import { parseCsvRecords } from "./csv-records";
import { runContext } from "./run-context";
import type { JobRun } from "./types";

type Item = Record<string, unknown>;

/** lava: no generated name may begin with `lava` (its own globals). */
function checkNames(item: Item, at: string): Item {
  const bad = Object.keys(item).find((k) => k.toLowerCase().startsWith("lava"));
  if (bad !== undefined)
    throw new SpecError([
      `${at}: foreach field names may not start with "lava", got ${JSON.stringify(bad)}`,
    ]);
  return item;
}

async function objectText(run: JobRun, location: string, at: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!m)
    throw new SpecError([
      `${at}.filename: expected s3://bucket/key, got ${JSON.stringify(location)}`,
    ]);
  const [, bucket = "", key = ""] = m;
  const region = run.realm.top.region;
  const s3 = run.deps.s3(region ? { region } : {});
  const obj = await headObject(s3, bucket, key);
  if (!obj) throw new ObjectMissingError(`${at}.filename: ${s3Url(bucket, key)} does not exist`);
  const chunks: Buffer[] = [];
  for await (const c of await openObject(s3, obj)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The generator's items, in order (at most `limit + 1` read: one more fails the run). */
export async function foreachItems(run: JobRun): Promise<{ items: Item[]; limit: number }> {
  const at = `job ${run.job.job_id}: parameters.foreach`;
  const parsed = foreachParamsSchema.safeParse(run.params, { reportInput: true });
  if (!parsed.success)
    throw new SpecError(formatIssues(`job ${run.job.job_id}: parameters.`, parsed.error.issues));
  const p = parsed.data;
  const g = p.foreach;
  const limit = p.limit ?? FOREACH_LIMIT;
  const ctx = runContext(run, {});
  const render = (v: string, field: string) =>
    p.jinja === false ? v : renderTemplate(v, ctx, `${at}.${field}`);
  let items: Item[];
  switch (g.type) {
    case "inline":
      items = g.values.map((v) => ({ ...v }));
      break;
    case "range": {
      const { start = 0, stop, step = 1, name } = g;
      if (step === 0) throw new SpecError([`${at}.step: must not be zero`]);
      items = [];
      for (let v = start; step > 0 ? v < stop : v > stop; v += step) {
        items.push(name ? { [name]: v } : {});
        if (items.length > limit) break;
      }
      break;
    }
    case "csv":
      items = parseCsvRecords(await objectText(run, render(g.filename, "filename"), at), at);
      break;
    case "jsonl":
      items = (await objectText(run, render(g.filename, "filename"), at))
        .split(/\r?\n/)
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => line.trim() !== "")
        .map(({ line, i }) => {
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch (err) {
            throw new LavaError(`${at}: line ${i + 1} is not JSON: ${(err as Error).message}`);
          }
          if (typeof v !== "object" || v === null || Array.isArray(v))
            throw new LavaError(`${at}: line ${i + 1} is not a JSON object`);
          return v as Item;
        });
      break;
    case "s3list":
      items = await s3List(
        run,
        render(g.bucket, "bucket"),
        g.prefix === undefined ? "" : render(g.prefix, "prefix"),
        g.glob,
        limit,
      );
      break;
    case "query":
      items = await queryRows(run, g.conn_id, g.query, limit);
      break;
  }
  return { items: items.map((item, i) => checkNames(item, `${at} item ${i}`)), limit };
}

async function s3List(
  run: JobRun,
  bucket: string,
  prefix: string,
  glob: string | readonly string[] | undefined,
  limit: number,
): Promise<Item[]> {
  const region = run.realm.top.region;
  const s3 = run.deps.s3(region ? { region } : {});
  const items: Item[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (glob !== undefined && !fnmatchAny(o.Key ?? "", glob)) continue;
      // lava: list_objects_v2's entry with the bucket added.
      items.push({
        s3obj: {
          Bucket: bucket,
          Key: o.Key,
          LastModified: o.LastModified?.toISOString(),
          ETag: o.ETag,
          Size: o.Size,
          StorageClass: o.StorageClass,
        },
      });
      if (items.length > limit) return items;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return items;
}

async function queryRows(
  run: JobRun,
  connId: string,
  query: string,
  limit: number,
): Promise<Item[]> {
  const conn = await resolveDbConnection(run.realm, connId, run.deps.resolve);
  const client = await connectPg(conn, jobApplicationName(run.realm.name, run.job.job_id));
  try {
    // lava: the query as written, never rendered; rows past the limit are not needed.
    const { rows } = await client.query<Item>(query);
    return rows
      .slice(0, limit + 1)
      .map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
        ),
      );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What Resolve can check of a foreach before its items exist: the child and the parameters. */
export function checkForeach(realm: Realm, job: JobSpec, params: Record<string, unknown>): void {
  const child = typeof job.payload === "string" ? job.payload.trim() : "";
  const problems: string[] = [];
  problems.push(...undefinedJobs(realm, [child], `job ${job.job_id}: `));
  const parsed = foreachParamsSchema.safeParse(params, { reportInput: true });
  if (!parsed.success)
    problems.push(...formatIssues(`job ${job.job_id}: parameters.`, parsed.error.issues));
  if (problems.length > 0) throw new SpecError(problems);
}

/** The children of a foreach: one per item, in order; throws before any runs when over the limit. */
export async function planForeach(run: JobRun & { job: JobSpec }): Promise<ChainChild[]> {
  const { job } = run;
  if (job.type !== "foreach") throw new SpecError([`job ${job.job_id}: not a foreach job`]);
  const child = typeof job.payload === "string" ? job.payload.trim() : "";
  if (!run.realm.jobs.some((j) => j.job_id === child))
    throw new SpecError([
      `job ${job.job_id}: payload: job ${JSON.stringify(child)} is not defined in realm ${run.realm.name}`,
    ]);
  const { items, limit } = await foreachItems(run);
  if (items.length > limit)
    throw new SpecError([
      `job ${job.job_id}: the foreach has more than its limit of ${limit} items: nothing run`,
    ]);
  const canFail = run.params.can_fail === true ? "*" : [];
  return items.map((item, i) => {
    const c = childOf(job, child, { ...run.globals, ...item }, run, canFail);
    const globals = c.input.globals ?? {};
    const lava = { ...(globals.lava as Item), foreach_index: i };
    return { ...c, input: { ...c.input, globals: { ...globals, lava } } };
  });
}

/** Where a large foreach's children are: a JSON array the Distributed Map reads (docs/pipelines.md §7). */
export interface ForeachItems {
  readonly items_bucket: string;
  readonly items_key: string;
  readonly count: number;
}

/** Write the children to `<s3_temp>/<job_id>/<run_id>/foreach-items.json`. */
export async function storeForeachItems(
  realm: Realm,
  jobId: string,
  runId: string,
  children: readonly ChainChild[],
  deps: Pick<JobRun["deps"], "s3">,
): Promise<ForeachItems> {
  const temp = realm.top.s3_temp;
  if (!temp)
    throw new SpecError([
      `job ${jobId}: ${children.length} items need the realm's s3_temp (more than ${FOREACH_INLINE_ITEMS} run from S3)`,
    ]);
  const { bucket, prefix } = parseS3Location(temp);
  const key = `${prefix ? `${prefix}/` : ""}${jobId}/${runId}/foreach-items.json`;
  const region = realm.top.region;
  const s3 = deps.s3(region ? { region } : {});
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(children),
      ContentType: "application/json",
    }),
  );
  return { items_bucket: bucket, items_key: key, count: children.length };
}
