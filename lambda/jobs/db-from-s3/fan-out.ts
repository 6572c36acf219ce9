/**
 * Fan-out loads (docs/db-from-s3.md §14): a load of many parts (a manifest's
 * entries or a prefix's objects) split into work items, each loaded in its own
 * session and transaction into a staging table readers never see, then made
 * visible in one short publish transaction under the table's advisory lock,
 * with the ledger rows. A failed item leaves the target untouched; its staging
 * rows record what finished, so another attempt or a redrive loads only the rest.
 *
 * Three steps, each its own invocation on AWS (the state machine's Plan load,
 * Load items, Publish load) and in one process for `lava-aurora run`.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { ClientBase } from "pg";
import { jobApplicationName } from "../../connectors/app-name";
import { connectPg } from "../../connectors/pg-client";
import { resolveDbConnection } from "../../connectors/resolve-connection";
import {
  asLavaError,
  BadDataError,
  DatabaseServerError,
  LoadItemsError,
  LoadTooLargeError,
  SpecError,
  TargetStateError,
} from "../../shared/errors";
import { parseS3Location, type SourceObject, s3Url } from "../../shared/s3-objects";
import { parseDuration } from "../../spec/units";
import { ensureRunLog, recordLoadRun } from "../run-log";
import type { JobOutcome, JobRun } from "../types";
import { columnsFromHeaders } from "./header";
import { checkName, qualifiedName, quoteIdent } from "./identifiers";
import { ensureLedger, findLoaded, recordLoaded } from "./ledger";
import { checkLoadParams, type LoadParams } from "./params";
import { loaderFor, renderNames, s3Access } from "./run-setup";
import { checkUnchanged } from "./s3-objects";
import { loadSources, mapLimit } from "./sources";
import {
  dropStaging,
  ensureStaging,
  itemStaged,
  recordStaged,
  stagedParts,
  stagingRun,
  stagingTableName,
  sweepStaging,
} from "./staging";
import { fillableColumns, prepareTarget, reclaimEmptied, tableExists } from "./target";
import {
  copyOptionsFor,
  lockKey,
  notYetAppended,
  skipReason,
  statementTimeout,
} from "./transaction";

/** Items carried in the state machine's state; more are written to s3_temp for the Distributed Map's reader. */
export const FAN_OUT_INLINE_ITEMS = 40;

/**
 * Bytes per second one item loads, for sizing items and the largest part
 * (docs/db-from-s3.md §14): below what `npm run bench`'s fan-out case measured for
 * one stream into an indexed table here (30 MB/s of CSV), so an item plans
 * with room to spare.
 */
export const ITEM_THROUGHPUT_BYTES_PER_S = 20_000_000;

/** Share of the runner's timeout one item plans to use; the rest is headroom. */
export const ITEM_BUDGET_SHARE = 0.5;

/**
 * Bytes of loaded CSV per second over which PostgreSQL builds a key once the rows
 * are in, for deciding whether the publish step's invocation has the time to build
 * it (docs/db-from-s3.md §14): below what `npm run bench`'s fan-out case measured here.
 */
export const KEY_BUILD_BYTES_PER_S = 40_000_000;

/**
 * maintenance_work_mem for building the keys after the items (raised to this, for the
 * build's transaction only, when the session's is lower): a sort of about 5M bigint
 * keys in memory.
 */
export const KEY_BUILD_MEMORY_BYTES = 256 * 1024 * 1024;

/** The runner's timeout unless the realm sets one (lib/realm-stack.ts). */
const DEFAULT_RUNNER_TIMEOUT_MS = 15 * 60_000;

/** An S3 object in a plan (JSON: the state machine carries it). */
export interface PartRef {
  /** Its position among the load's parts, from 0 (`main`: -1). */
  readonly part: number;
  readonly bucket: string;
  readonly key: string;
  readonly identity: string;
  readonly etag?: string;
  readonly version_id?: string;
  readonly last_modified: string;
  readonly size: number;
  readonly content_encoding?: string;
}

/** One invocation's work: parts loaded together in one transaction. */
export interface FanOutItem {
  readonly index: number;
  readonly bytes: number;
  readonly parts: readonly PartRef[];
}

/** What the items and the publish need, fixed at plan time (names are never rendered again). */
export interface FanOutPlan {
  readonly run_id: string;
  readonly job_id: string;
  /** The dispatch, for the job's merged parameters (run_id set). */
  readonly dispatch: {
    readonly job_id: string;
    readonly parameters?: Record<string, unknown>;
    readonly globals?: Record<string, unknown>;
    readonly literal_parameters?: readonly string[];
    readonly run_id: string;
  };
  readonly bucket: string;
  readonly key: string;
  /** Folded, checked names of the logical target. */
  readonly schema: string;
  readonly table: string;
  /** The staging table's name in `schema`. */
  readonly staging: string;
  /** `rename`: the staging table becomes the table (drop); `insert`: its rows are inserted (the other modes). */
  readonly strategy: "rename" | "insert";
  /** Columns COPY fills and publish inserts, unquoted, in order. */
  readonly columns: readonly string[];
  /** The manifest, or the prefix's listing. */
  readonly main: PartRef;
  readonly via: string;
  readonly listing: boolean;
  readonly items: number;
  readonly parts: number;
  readonly bytes: number;
  readonly workers: number;
  readonly tolerated_failures: number;
}

/** What the plan step says to do. */
export type LoadPlanResult =
  /** Nothing to fan out (one part): the one-transaction load. */
  | { readonly action: "run" }
  /** Nothing to load (skipped: duplicate, stale, missing, below min_size). */
  | { readonly action: "done"; readonly outcome: JobOutcome }
  | {
      readonly action: "fan_out";
      readonly plan: FanOutPlan;
      /** The items, when at most FAN_OUT_INLINE_ITEMS; else they are in `items_bucket`/`items_key`. */
      readonly items?: readonly FanOutItem[];
      readonly items_bucket?: string;
      readonly items_key?: string;
    };

const toRef = (o: SourceObject, part: number): PartRef => ({
  part,
  bucket: o.bucket,
  key: o.key,
  identity: o.identity,
  ...(o.etag ? { etag: o.etag } : {}),
  ...(o.versionId ? { version_id: o.versionId } : {}),
  last_modified: o.lastModified.toISOString(),
  size: o.size,
  ...(o.contentEncoding ? { content_encoding: o.contentEncoding } : {}),
});

export const fromRef = (r: PartRef): SourceObject => ({
  bucket: r.bucket,
  key: r.key,
  identity: r.identity,
  etag: r.etag,
  versionId: r.version_id,
  lastModified: new Date(r.last_modified),
  size: r.size,
  contentEncoding: r.content_encoding,
});

const runnerTimeoutMs = (runnerTimeout: string | number | undefined) =>
  (runnerTimeout === undefined ? undefined : parseDuration(runnerTimeout)) ??
  DEFAULT_RUNNER_TIMEOUT_MS;

/** The item budget in bytes: what one item loads in its share of the runner's timeout. */
export function itemBudgetBytes(runnerTimeout: string | number | undefined): number {
  const ms = runnerTimeoutMs(runnerTimeout);
  return Math.floor((ms / 1000) * ITEM_BUDGET_SHARE * ITEM_THROUGHPUT_BYTES_PER_S);
}

/** The most bytes of parts whose keys the publish step builds after the items, in its share of the runner's timeout. */
export function keyBuildBudgetBytes(runnerTimeout: string | number | undefined): number {
  const ms = runnerTimeoutMs(runnerTimeout);
  return Math.floor((ms / 1000) * ITEM_BUDGET_SHARE * KEY_BUILD_BYTES_PER_S);
}

/**
 * The keys (`PRIMARY KEY`, `UNIQUE`) a drop load's `columns` declare, as
 * `ALTER TABLE … ADD` clauses, with the columns' definitions without them. Two
 * primary keys: none (the staging table's CREATE refuses them, as the target's would).
 */
export function columnKeys(p: LoadParams): {
  readonly keys: readonly {
    readonly kind: "p" | "u";
    readonly column: string;
    readonly clause: string;
  }[];
  readonly unkeyed: readonly string[];
} {
  const columns = p.columns ?? [];
  const keys = columns.flatMap((c) =>
    c.key
      ? [
          {
            kind: c.key === "PRIMARY KEY" ? ("p" as const) : ("u" as const),
            column: c.name,
            clause: `ADD ${c.key} (${quoteIdent(c.name)})`,
          },
        ]
      : [],
  );
  if (keys.filter((k) => k.kind === "p").length > 1) return { keys: [], unkeyed: [] };
  return { keys, unkeyed: columns.map((c) => c.unkeyed ?? c.definition) };
}

/**
 * Group parts into items, in key order, none above `capacity` bytes unless one
 * part alone is. Capacity: the job's `item_size`, else enough for about two
 * items per worker (so a slow item does not leave a worker idle), never above
 * the budget. Deterministic: the same parts give the same items, so a re-plan
 * of a run finds its items where they were.
 */
export function groupParts(
  parts: readonly PartRef[],
  settings: { itemSize: number | undefined; workers: number; budget: number },
): FanOutItem[] {
  const total = parts.reduce((n, p) => n + p.size, 0);
  const capacity =
    settings.itemSize ??
    Math.min(settings.budget, Math.max(1, Math.ceil(total / (2 * settings.workers))));
  const items: { parts: PartRef[]; bytes: number }[] = [];
  for (const part of parts) {
    const last = items.at(-1);
    if (last && last.bytes + part.size <= capacity) {
      last.parts.push(part);
      last.bytes += part.size;
    } else items.push({ parts: [part], bytes: part.size });
  }
  return items.map((it, index) => ({ index, bytes: it.bytes, parts: it.parts }));
}

/**
 * Items loading at once: the job's `workers`, bounded by the database (half the
 * connections it has free, so other clients keep theirs) and by the runner's
 * reserved concurrency less one (the plan, publish and other jobs need one).
 */
async function boundWorkers(
  client: ClientBase,
  requested: number,
  reserved: number | undefined,
): Promise<{ workers: number; why: string }> {
  const { rows } = await client.query<{ max: number; reserved: number; used: number }>(
    `SELECT current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int AS reserved,
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used`,
  );
  const r = rows[0] ?? { max: 100, reserved: 3, used: 1 };
  const byDb = Math.max(1, Math.floor((r.max - r.reserved - r.used) / 2));
  const byRunner = Math.max(1, (reserved ?? 5) - 1);
  const workers = Math.max(1, Math.min(requested, byDb, byRunner));
  const why =
    workers === requested
      ? `${workers} workers`
      : workers === byDb
        ? `${workers} workers (asked ${requested}; the database has ${r.max - r.reserved - r.used} connections free)`
        : `${workers} workers (asked ${requested}; the runner's reserved concurrency is ${reserved ?? 5})`;
  return { workers, why };
}

/**
 * Staging tables are written once and read once: autovacuum on them only makes the
 * publish wait (deadlock_timeout, 1 s) for it to be cancelled while holding the
 * table's lock. The rename path turns it back on for the published table.
 */
const NO_AUTOVACUUM = "WITH (autovacuum_enabled = off)";

/** Column the `append` staging table tags each row with: the part it came from. */
export const PART_COLUMN = "_lava_part";

/**
 * The staging table's DDL. drop: a table like the one the mode creates, from
 * `columns` with their keys, logged (it becomes the table). Other modes: an
 * UNLOGGED table shaped like the target (defaults, NOT NULL and CHECK constraints,
 * generated columns; no indexes), so items load fast; in append each row also
 * records its part.
 */
async function stagingDdl(
  client: ClientBase,
  p: LoadParams,
  names: { schema: string; table: string },
  staging: string,
  keysAfter: boolean,
): Promise<string> {
  const stagingQ = qualifiedName(names.schema, staging);
  if (p.mode === "drop") {
    if (!p.columns)
      throw new TargetStateError(
        `mode drop recreates ${qualifiedName(names.schema, names.table)}: give columns`,
      );
    const defs = keysAfter ? columnKeys(p).unkeyed : p.columns.map((c) => c.definition);
    return `CREATE TABLE ${stagingQ} (${defs.join(", ")}) ${NO_AUTOVACUUM}`;
  }
  const like = qualifiedName(
    names.schema,
    p.mode === "switch" ? checkName(`${names.table}_a`, "switch table") : names.table,
  );
  const shape = (await tableExists(client, like))
    ? `LIKE ${like} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED`
    : p.columns
      ? p.columns.map((c) => c.definition).join(", ")
      : undefined;
  if (!shape)
    throw new TargetStateError(
      `table ${like} does not exist and no columns are given to create it`,
    );
  const part =
    p.mode === "append"
      ? `, ${quoteIdent(PART_COLUMN)} integer NOT NULL DEFAULT current_setting('lava.part')::integer`
      : "";
  return `CREATE UNLOGGED TABLE ${stagingQ} (${shape}${part}) ${NO_AUTOVACUUM}`;
}

/** The job's parameters, the connection and a session for one fan-out step. */
async function session<T>(
  run: JobRun,
  fn: (ctx: { p: LoadParams; client: ClientBase }) => Promise<T>,
): Promise<T> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  const conn = await resolveDbConnection(run.realm, p.dbConnId, run.deps.resolve);
  const client = await connectPg(conn, jobApplicationName(run.realm.name, run.job.job_id));
  try {
    return await fn({ p, client });
  } catch (err) {
    throw asLavaError(err, p.dbConnId);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Plan a load: list and check its parts, consult the ledger, size the items,
 * bound the workers, and create the run's staging table (committed: items of
 * other sessions load into it). Re-planning the same run (another attempt)
 * keeps its staging and the items that finished, while the parts are the same.
 *
 * @param store write more than FAN_OUT_INLINE_ITEMS items to s3_temp (the state machine's reader); `lava-aurora run` keeps them
 */
export async function planFanOut(
  run: JobRun,
  options: { readonly store: boolean } = { store: true },
): Promise<LoadPlanResult> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  if (!p.fanOut) return { action: "run" };
  const fan = p.fanOut;
  const names = renderNames(run, p);
  const logical = qualifiedName(names.schema, names.table);
  const base = { bucket: names.bucket, key: names.key, table: `${names.schema}.${names.table}` };
  const access = s3Access(run, p, names.bucket);
  const found = await loadSources(access.s3, p, names, run.realm.top, run.events);
  if ("skip" in found)
    return { action: "done", outcome: { status: "skipped", reason: found.skip, ...base } };
  const { main, objects, via, listing } = found.sources;
  if (objects.length < 2 || via === undefined) {
    run.events.add("one part: loaded in one transaction, no fan-out");
    return { action: "run" };
  }
  return session(run, async ({ client }) => {
    await ensureLedger(client, p.dbConnId);
    await ensureStaging(client, p.dbConnId);
    const state = { p, main, logical, base, via, objects };
    const skip = p.reload ? undefined : await skipReason(run, client, state);
    if (skip) return { action: "done", outcome: { status: "skipped", reason: skip, ...base } };
    const fresh = await notYetAppended(run, client, state);
    if (fresh.length === 0) {
      run.events.add("every part is already loaded: skipped");
      return { action: "done", outcome: { status: "skipped", reason: "duplicate", ...base } };
    }
    if (fresh.length < 2) {
      run.events.add("one part left to load: loaded in one transaction, no fan-out");
      return { action: "run" };
    }
    const budget = itemBudgetBytes(run.realm.top.runner?.timeout);
    const maxPart = fan.maxPartSize ?? budget;
    const big = fresh.find((o) => o.size > maxPart);
    if (big)
      throw new LoadTooLargeError(
        `${s3Url(big.bucket, big.key)}: ${big.size} bytes is more than one invocation loads (max_part_size ${maxPart} bytes: ${ITEM_BUDGET_SHARE * 100}% of the runner's timeout at ${ITEM_THROUGHPUT_BYTES_PER_S / 1e6} MB/s); split the object into parts, or raise fan_out.max_part_size if the runner's timeout allows`,
      );
    const { workers, why } = await boundWorkers(
      client,
      fan.workers,
      run.realm.top.runner?.reserved_concurrency,
    );
    const refs = fresh.map((o, i) => toRef(o, i));
    const items = groupParts(refs, { itemSize: fan.itemSize, workers, budget });
    const staging = stagingTableName(run.runId);
    const columns = p.columns ? p.columns.map((c) => c.name) : p.mode === "drop" ? [] : undefined;
    const bytes = refs.reduce((n, r) => n + r.size, 0);
    // drop: the items load a table without its keys, and the publish step builds them
    // once (one sort, not the items' interleaved inserts into one index), when its
    // invocation has the time to.
    const keysAfter =
      p.mode === "drop" &&
      columnKeys(p).keys.length > 0 &&
      bytes <= keyBuildBudgetBytes(run.realm.top.runner?.timeout);
    const known = await stagingRun(client, run.runId);
    if (known && (known.identity !== main.identity || known.target !== logical)) {
      run.events.add(`run ${run.runId}: its parts changed since the last plan: staging again`);
      await dropStaging(client, run.runId, known.staging);
    }
    const stagingQ = qualifiedName(names.schema, staging);
    if (known && known.identity === main.identity && known.target === logical) {
      const staged = new Set((await stagedParts(client, run.runId)).map((s) => s.item));
      run.events.add(
        `run ${run.runId}: resuming, ${staged.size} of ${items.length} items already staged`,
      );
    } else {
      await client.query("BEGIN");
      try {
        await client.query(await stagingDdl(client, p, names, staging, keysAfter));
        await client.query(
          "INSERT INTO lava.load_staging_runs (run_id, target_table, staging_table, object_identity) VALUES ($1, $2, $3, $4)",
          [run.runId, logical, stagingQ, main.identity],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    }
    const cols =
      columns ??
      (await fillableColumns(client, stagingQ)).filter(
        (c) => c !== PART_COLUMN || p.mode !== "append",
      );
    const plan: FanOutPlan = {
      run_id: run.runId,
      job_id: run.job.job_id,
      dispatch: {
        job_id: run.job.job_id,
        parameters: run.params,
        globals: run.globals,
        ...(run.literal.size ? { literal_parameters: [...run.literal] } : {}),
        run_id: run.runId,
      },
      bucket: names.bucket,
      key: names.key,
      schema: names.schema,
      table: names.table,
      staging,
      strategy: p.mode === "drop" ? "rename" : "insert",
      columns: cols,
      main: toRef(main, -1),
      via,
      listing,
      items: items.length,
      parts: refs.length,
      bytes,
      workers,
      tolerated_failures: fan.toleratedFailures,
    };
    const line = `fan-out plan: ${refs.length} parts, ${bytes} bytes in ${items.length} items (up to ${Math.max(...items.map((i) => i.bytes))} bytes each), ${why}, staging ${stagingQ} (${plan.strategy}${keysAfter ? ", keys built after the items" : ""})`;
    run.events.add(line);
    run.options.onPlan?.(line);
    if (items.length <= FAN_OUT_INLINE_ITEMS || !options.store)
      return { action: "fan_out", plan, items };
    return { action: "fan_out", plan, ...(await storeItems(run, items)) };
  });
}

/** Write the items to `<s3_temp>/<job_id>/<run_id>/load-items.json` for the Distributed Map's reader. */
async function storeItems(
  run: JobRun,
  items: readonly FanOutItem[],
): Promise<{ items_bucket: string; items_key: string }> {
  const temp = run.realm.top.s3_temp;
  if (!temp)
    throw new SpecError([
      `job ${run.job.job_id}: ${items.length} work items need the realm's s3_temp (more than ${FAN_OUT_INLINE_ITEMS} are read from S3)`,
    ]);
  const { bucket, prefix } = parseS3Location(temp);
  const key = [prefix, run.job.job_id, run.runId, "load-items.json"].filter(Boolean).join("/");
  const region = run.realm.top.region;
  await run.deps.s3(region ? { region } : {}).send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(items),
      ContentType: "application/json",
    }),
  );
  return { items_bucket: bucket, items_key: key };
}

/** What an item did. */
export interface ItemOutcome {
  readonly item: number;
  readonly rows: number;
  /** `staged`: loaded now; `already`: an earlier try of this item had committed. */
  readonly status: "staged" | "already";
}

/**
 * Load one item into the run's staging table: its parts, re-checked unchanged
 * in S3, and their staging rows, in one transaction. An item already staged
 * (a retry after a commit whose answer was lost, a redrive) loads nothing.
 */
export async function loadFanOutItem(
  run: JobRun,
  plan: FanOutPlan,
  item: FanOutItem,
): Promise<ItemOutcome> {
  const p = checkLoadParams(run.realm, run.job.job_id, run.params);
  const conn = await resolveDbConnection(run.realm, p.dbConnId, run.deps.resolve);
  const access = s3Access(run, p, plan.bucket);
  const loader = loaderFor(run, conn, access, `item-${item.index}`);
  return session(run, async ({ client }) => {
    const timeout = statementTimeout(run.options.deadline);
    await client.query("BEGIN");
    let open = true;
    try {
      if (timeout !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeout}`);
      // Two tries of one item (a retry while the first still runs) queue here.
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [
        lockKey(`item:${plan.run_id}:${item.index}`),
      ]);
      const before = await itemStaged(client, plan.run_id, item.index);
      if (before !== undefined) {
        await client.query("ROLLBACK");
        open = false;
        run.events.add(`item ${item.index}: already staged (${before} rows)`);
        return { item: item.index, rows: before, status: "already" };
      }
      const stagingQ = qualifiedName(plan.schema, plan.staging);
      if (!(await tableExists(client, stagingQ)))
        throw new TargetStateError(
          `run ${plan.run_id}: staging table ${stagingQ} is gone (published, or swept after ${24} h): start a new run`,
        );
      const columns = plan.columns.length ? plan.columns.map((c) => quoteIdent(c)) : undefined;
      const options = await copyOptionsFor(client, p, stagingQ, columns);
      const staged = [];
      let rows = 0;
      // §18: the item's headers, read (mapped or checked) before any of its rows load.
      const headers = await columnsFromHeaders({
        p,
        s3: access.s3,
        client,
        table: stagingQ,
        shown: qualifiedName(plan.schema, plan.table),
        fileColumns: columns,
        exclude: [quoteIdent(PART_COLUMN)],
        objects: item.parts.map(fromRef),
        events: run.events,
        at: `job ${run.job.job_id}: parameters.`,
      });
      for (const [i, ref] of item.parts.entries()) {
        const obj = fromRef(ref);
        const own = headers.perObject[i];
        await client.query("SELECT set_config('lava.part', $1, true)", [String(ref.part)]);
        const n = await loader.load({
          client,
          s3: access.s3,
          object: obj,
          table: stagingQ,
          columns: own?.columns ?? columns,
          options: own
            ? await copyOptionsFor(client, { ...p, copy: own.copy }, stagingQ, own.columns)
            : options,
          gzip: p.copy.gzip,
          countRows: run.options.progressRows === true,
          onBytes: (bytes, rowsSoFar) =>
            run.options.onProgress?.({
              object: s3Url(obj.bucket, obj.key),
              bytes,
              totalBytes: obj.size,
              ...(rowsSoFar === undefined ? {} : { rows: rowsSoFar }),
            }),
        });
        run.events.add(
          `item ${item.index}: ${s3Url(obj.bucket, obj.key)}: ${n} rows into ${stagingQ}`,
        );
        staged.push({ item: item.index, part: ref.part, obj, rows: n });
        rows += n;
      }
      for (const s of staged) await checkUnchanged(access.s3, s.obj);
      await recordStaged(client, plan.run_id, staged);
      await client.query("COMMIT");
      open = false;
      return { item: item.index, rows, status: "staged" };
    } finally {
      if (open) await client.query("ROLLBACK").catch(() => undefined);
    }
  });
}

/** Rename a renamed staging table's indexes after the table (`_lava_stage_…_pkey` → `<table>_pkey`). */
async function renameIndexes(client: ClientBase, plan: FanOutPlan, table: string): Promise<void> {
  const { rows } = await client.query<{ relname: string }>(
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass",
    [table],
  );
  for (const { relname } of rows) {
    if (!relname.startsWith(plan.staging)) continue;
    const name = `${plan.table}${relname.slice(plan.staging.length)}`;
    if (Buffer.byteLength(name) > 63) continue;
    await client.query(
      `ALTER INDEX ${qualifiedName(plan.schema, relname)} RENAME TO ${quoteIdent(name)}`,
    );
  }
}

/**
 * drop: build the keys the columns declare that the staging table lacks (the plan
 * left them out, so the items loaded an unindexed table), in a transaction of its
 * own before the publish's: readers of the target are not held up by it. Once
 * built they are kept, so another attempt of the publish does not build them again.
 * Rows that repeat a key fail the run (nothing published) and the staging is dropped:
 * no attempt can publish those rows.
 */
async function buildKeys(
  run: JobRun,
  client: ClientBase,
  p: LoadParams,
  plan: FanOutPlan,
): Promise<void> {
  const stagingQ = qualifiedName(plan.schema, plan.staging);
  const wanted = columnKeys(p).keys;
  if (wanted.length === 0) return;
  const { rows } = await client.query<{ contype: "p" | "u"; columns: string[] }>(
    `SELECT c.contype, array_agg(a.attname::text ORDER BY k.n) AS columns
       FROM pg_constraint c
       CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
      WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u')
      GROUP BY c.oid, c.contype`,
    [stagingQ],
  );
  const has = (k: { kind: string; column: string }) =>
    rows.some((r) => r.contype === k.kind && r.columns.length === 1 && r.columns[0] === k.column);
  const missing = wanted.filter((k) => !has(k));
  if (missing.length === 0) return;
  const timeout = statementTimeout(run.options.deadline);
  const t0 = Date.now();
  let memory: string | undefined;
  await client.query("BEGIN");
  try {
    if (timeout !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    // An index build sorts its keys, in memory when maintenance_work_mem holds them
    // (PostgreSQL's default, 64MB, does not hold a few million: the sort spills to disk).
    // Raised for this transaction only, never lowered.
    const mem = await client.query<{ mem: string }>(
      `SELECT pg_size_pretty(m) AS mem, set_config('maintenance_work_mem', (m / 1024)::text || 'kB', true)
         FROM (SELECT GREATEST(pg_size_bytes(current_setting('maintenance_work_mem')), $1::bigint) AS m) s`,
      [KEY_BUILD_MEMORY_BYTES],
    );
    memory = mem.rows[0]?.mem;
    await client.query(`ALTER TABLE ${stagingQ} ${missing.map((k) => k.clause).join(", ")}`);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    const { code, detail } = err as { code?: string; detail?: string };
    if (code === "23505" || code === "23502") {
      await dropStaging(client, plan.run_id, stagingQ).catch(() => undefined);
      throw new BadDataError(
        `bad data in the parts of ${s3Url(plan.main.bucket, plan.main.key)}: building the keys of ${qualifiedName(plan.schema, plan.table)} once the items were in: ${(err as Error).message}${detail ? ` (${detail})` : ""} (SQLSTATE ${code}): nothing published`,
        { cause: err, code },
      );
    }
    throw asLavaError(err, p.dbConnId, `building the keys of ${stagingQ}`);
  }
  run.events.add(
    `built ${missing.map((k) => `${k.kind === "p" ? "PRIMARY KEY" : "UNIQUE"} (${k.column})`).join(", ")} on ${stagingQ} (maintenance_work_mem ${memory}) in ${Date.now() - t0} ms, before the table's lock`,
  );
}

/**
 * Publish a fan-out load: one transaction under the table's advisory lock. The
 * ledger is checked again (another run may have loaded the same objects since
 * the plan), the items' rows become the table's — drop: the staging table is
 * renamed into place; the other modes: the mode's preparation, then one
 * `INSERT … SELECT` from staging, its row count checked against what the items
 * recorded — and the ledger rows are written; the staging goes with the commit.
 */
export async function publishFanOut(run: JobRun, plan: FanOutPlan): Promise<JobOutcome> {
  const base = { bucket: plan.bucket, key: plan.key, table: `${plan.schema}.${plan.table}` };
  const logical = qualifiedName(plan.schema, plan.table);
  const stagingQ = qualifiedName(plan.schema, plan.staging);
  let emptied: string | undefined;
  let outcome: JobOutcome | undefined;
  await session(run, async ({ p, client }) => {
    await ensureLedger(client, p.dbConnId);
    await ensureRunLog(client, p.dbConnId);
    if (plan.strategy === "rename") {
      // Keys are built only for a publish that can go ahead: every item (but the tolerated) in.
      const done = new Set((await stagedParts(client, plan.run_id)).map((s) => s.item));
      if (
        plan.items - done.size <= plan.tolerated_failures &&
        (await tableExists(client, stagingQ))
      )
        await buildKeys(run, client, p, plan);
    }
    const timeout = statementTimeout(run.options.deadline);
    await client.query("BEGIN");
    let open = true;
    try {
      if (timeout !== undefined) await client.query(`SET LOCAL statement_timeout = ${timeout}`);
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(logical)]);
      const locked = Date.now();
      const staged = await stagedParts(client, plan.run_id);
      const done = new Set(staged.map((s) => s.item));
      const failed = Array.from({ length: plan.items }, (_, i) => i).filter((i) => !done.has(i));
      if (failed.length > plan.tolerated_failures)
        throw new LoadItemsError(
          `run ${plan.run_id}: ${failed.length} of ${plan.items} items are not loaded (items ${failed.join(", ")}); ${plan.tolerated_failures} may fail (fan_out.tolerated_failures): nothing published, the staging is kept, another attempt or a redrive loads only those items`,
        );
      const main = fromRef(plan.main);
      const skip = p.reload ? undefined : await skipReason(run, client, { p, main, logical, base });
      if (skip) {
        await dropStaging(client, plan.run_id, stagingQ);
        await client.query("COMMIT");
        open = false;
        outcome = { status: "skipped", reason: skip, ...base };
        return;
      }
      // append: parts another run loaded since the plan are not loaded twice.
      const excluded: number[] = [];
      if (p.mode === "append" && !p.reload)
        for (const s of staged) {
          const seen = await findLoaded(client, logical, s.obj);
          if (seen) {
            excluded.push(s.part);
            run.events.add(
              `${s3Url(s.obj.bucket, s.obj.key)} was loaded by run ${seen.runId} meanwhile: not published again`,
            );
          }
        }
      const included = staged.filter((s) => !excluded.includes(s.part));
      const expected = included.reduce((n, s) => n + s.rows, 0);
      let physical = logical;
      if (plan.strategy === "rename") {
        await client.query(`DROP TABLE IF EXISTS ${logical}`);
        await client.query(`ALTER TABLE ${stagingQ} RENAME TO ${quoteIdent(plan.table)}`);
        await client.query(`ALTER TABLE ${logical} RESET (autovacuum_enabled)`);
        await renameIndexes(client, plan, logical);
        await client.query("DELETE FROM lava.load_staging_runs WHERE run_id = $1", [plan.run_id]);
        run.events.add(`dropped ${logical}; ${stagingQ} renamed into its place`);
      } else {
        const target = await prepareTarget(client, p.mode, {
          schema: plan.schema,
          table: plan.table,
          columnDefs: p.columns?.map((c) => c.definition),
        });
        for (const e of target.events) run.events.add(e);
        physical = target.physical;
        emptied = target.emptied;
        const cols = plan.columns.map((c) => quoteIdent(c)).join(", ");
        const where = excluded.length ? ` WHERE ${quoteIdent(PART_COLUMN)} <> ALL($1::int[])` : "";
        const res = await client.query(
          `INSERT INTO ${physical} (${cols}) SELECT ${cols} FROM ${stagingQ}${where}`,
          excluded.length ? [excluded] : [],
        );
        if ((res.rowCount ?? 0) !== expected)
          throw new DatabaseServerError(
            `run ${plan.run_id}: staging ${stagingQ} holds ${res.rowCount} rows where its items loaded ${expected} (lost in a crash of the database?): nothing published; start a new run`,
            { retryable: false },
          );
        run.events.add(`${expected} rows from ${stagingQ} into ${physical}`);
        await dropStaging(client, plan.run_id, stagingQ);
      }
      await recordLoaded(
        client,
        [
          ...included.map((s) => ({ obj: s.obj, viaManifest: plan.via, rows: s.rows })),
          // With failed items the load is not the whole manifest or listing: a new
          // dispatch of it loads again rather than being a duplicate.
          ...(failed.length === 0 ? [{ obj: main, viaManifest: undefined, rows: expected }] : []),
        ].map((e) => ({
          ...e,
          table: logical,
          loadedTable: physical,
          jobId: run.job.job_id,
          runId: plan.run_id,
        })),
      );
      const swept = await sweepStaging(client, logical, plan.run_id);
      if (swept) run.events.add(`dropped ${swept} abandoned staging table(s) of ${logical}`);
      const publishMs = Date.now() - locked;
      // The run's row in lava.run_log commits with the publish (docs/operations.md §3).
      outcome = await recordLoadRun(
        client,
        run,
        {
          status: "ok" as const,
          ...base,
          loaded_table: physical,
          rows: expected,
          fan_out: {
            items: plan.items,
            parts: plan.parts,
            workers: plan.workers,
            failed_items: failed,
            publish_ms: publishMs,
          },
        },
        { bytes: included.reduce((n, s) => n + s.obj.size, 0), objects: included.length },
      );
      await client.query("COMMIT");
      open = false;
      run.events.add(`published: ${expected} rows in ${publishMs} ms under the table's lock`);
      if (failed.length)
        run.events.add(
          `items not loaded (tolerated): ${failed.join(", ")}: their parts are not in the ledger`,
        );
    } finally {
      if (open) await client.query("ROLLBACK").catch(() => undefined);
    }
    if (emptied) run.events.add(await reclaimEmptied(client, emptied, lockKey(logical)));
  });
  return outcome as JobOutcome;
}

/**
 * A fan-out load in this process (`lava-aurora run`, or a runner given one
 * directly): plan, the items with `workers` at once, publish. A failure beyond
 * `tolerated_failures` is the first failed item's error; the staging stays,
 * and a run with the same run id resumes.
 */
export async function runFanOutHere(run: JobRun): Promise<JobOutcome | undefined> {
  const planned = await planFanOut(run, { store: false });
  if (planned.action === "run") return undefined;
  if (planned.action === "done") return planned.outcome;
  const { plan } = planned;
  const items = planned.items ?? [];
  const errors: { item: number; err: unknown }[] = [];
  await mapLimit(items, plan.workers, async (item) => {
    try {
      const r = await loadFanOutItem(run, plan, item);
      run.events.add(`item ${r.item}: ${r.status}, ${r.rows} rows`);
    } catch (err) {
      errors.push({ item: item.index, err });
      run.events.add(`item ${item.index}: failed: ${(err as Error).message}`);
    }
  });
  if (errors.length > plan.tolerated_failures) {
    const first = errors.sort((a, b) => a.item - b.item)[0];
    throw first?.err;
  }
  return publishFanOut(run, plan);
}
