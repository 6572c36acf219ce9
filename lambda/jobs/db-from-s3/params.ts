/**
 * db_from_s3 parameters after the dispatch merge, validated before any S3 or
 * database work (docs/db-from-s3.md §1): unknown or mistyped parameters, missing required
 * ones, bad COPY options and column specs, regex names that do not compile or
 * come with `columns`, and columns a dispatch may not set.
 */
import { isDeepStrictEqual } from "node:util";
import { SpecError } from "../../shared/errors";
import { formatIssues, showValue } from "../../spec/format";
import {
  DB_FROM_S3_REQUIRED,
  type DbFromS3Params,
  dbFromS3ParamsSchema,
  LINEAGE_DEFAULT_COLUMNS,
  type LINEAGE_FIELDS,
} from "../../spec/job";
import type { Realm } from "../../spec/realm";
import { isTemplated } from "../../spec/template-syntax";
import { parseSize } from "../../spec/units";
import { type ColumnSpec, parseColumnSpec } from "./column-spec";
import { type CopyArgs, copyArgsProblems, parseCopyArgs } from "./copy-options";
import { foldName } from "./identifiers";
import { compileRegexName, isRegexName } from "./regex-name";
import type { LoadMode } from "./target";

/** Everything a run needs from its parameters, checked. */
export interface LoadParams {
  readonly dbConnId: string;
  readonly s3ConnId: string | undefined;
  readonly bucket: string;
  readonly key: string;
  readonly schema: string;
  readonly table: string;
  readonly mode: LoadMode;
  readonly preserveCase: boolean;
  /** Column names (folded per preserve_case, unquoted) and their definitions. */
  readonly columns: readonly ColumnSpec[] | undefined;
  readonly copy: CopyArgs;
  readonly minSize: number | undefined;
  readonly skipMissing: boolean;
  readonly jinja: boolean;
  readonly vars: Record<string, unknown>;
  readonly reload: boolean;
  /** With `key` a prefix: globs the rest of each object's key must match (docs/db-from-s3.md §7.1). */
  readonly glob: readonly string[] | undefined;
  /** Set when the load may fan out (docs/db-from-s3.md §14). */
  readonly fanOut: FanOutSettings | undefined;
  /** mode merge (docs/db-from-s3.md §15). */
  readonly merge: MergeSettings | undefined;
  /** on_bad_rows: quarantine, with its limit (docs/db-from-s3.md §16); undefined: bad rows fail the run. */
  readonly quarantine:
    | { readonly maxRows: number; readonly maxPercent: number | undefined }
    | undefined;
  /** Lineage columns to fill, by what they record (docs/db-from-s3.md §17). */
  readonly lineage:
    | { readonly sourceKey?: string; readonly sourceLine?: string; readonly runId?: string }
    | undefined;
  /** With HEADER, the header names the columns (docs/db-from-s3.md §18). */
  readonly columnsFromHeader: boolean;
}

function lineageColumns(
  v: DbFromS3Params["lineage"],
  preserveCase: boolean,
): LoadParams["lineage"] {
  if (v === undefined || v === false) return undefined;
  const picked: Partial<Record<(typeof LINEAGE_FIELDS)[number], string>> =
    v === true
      ? { ...LINEAGE_DEFAULT_COLUMNS }
      : Array.isArray(v)
        ? Object.fromEntries(v.map((f) => [f, LINEAGE_DEFAULT_COLUMNS[f]]))
        : Object.fromEntries(Object.entries(v).map(([f, c]) => [f, foldName(c, preserveCase)]));
  return {
    ...(picked.source_key ? { sourceKey: picked.source_key } : {}),
    ...(picked.source_line ? { sourceLine: picked.source_line } : {}),
    ...(picked.run_id ? { runId: picked.run_id } : {}),
  };
}

function quarantineSettings(p: DbFromS3Params): LoadParams["quarantine"] {
  if (p.on_bad_rows !== "quarantine") return undefined;
  const max = p.max_bad_rows ?? 0;
  return typeof max === "number"
    ? { maxRows: max, maxPercent: undefined }
    : { maxRows: Number.POSITIVE_INFINITY, maxPercent: Number.parseFloat(max) };
}

/** How a merge applies the loaded rows. */
export interface MergeSettings {
  /** Key columns, folded; undefined: the table's primary key. */
  readonly keyColumns: readonly string[] | undefined;
  readonly insertOnly: boolean;
  /** The operation column, folded, and the values that delete. */
  readonly deleteColumn: string | undefined;
  readonly deleteValues: readonly string[];
  readonly duplicateKeys: "last" | "error";
}

/** Parameters only a merge takes. */
const MERGE_ONLY = [
  "key_columns",
  "insert_only",
  "delete_column",
  "delete_values",
  "duplicate_keys",
] as const;

/** Problems of on_bad_rows, lineage and columns_from_header that show without a run. */
function rowProblems(params: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  if (params.max_bad_rows !== undefined && params.on_bad_rows !== "quarantine")
    problems.push(`${at}max_bad_rows: only with on_bad_rows: quarantine`);
  let header = false;
  try {
    header =
      Array.isArray(params.args) &&
      parseCopyArgs(params.args as string[], `${at}args`).options.some(
        (o) => o.name === "HEADER" && o.value !== false,
      );
  } catch {
    // Bad or templated args: their own problems are reported elsewhere, or at run time.
    header = true;
  }
  const fanOut = params.fan_out !== undefined && params.fan_out !== false;
  if (fanOut && params.on_bad_rows === "quarantine")
    problems.push(
      `${at}on_bad_rows: quarantine is not available with fan_out yet (its items would each need the run's limit)`,
    );
  if (fanOut && params.lineage !== undefined && params.lineage !== false)
    problems.push(`${at}lineage: not available with fan_out yet`);
  if (params.columns_from_header === true && !header)
    problems.push(`${at}columns_from_header: needs HEADER in args (the header names the columns)`);
  return problems;
}

/** Problems of merge's parameters, from the raw (merged) parameters. */
function mergeProblems(params: Record<string, unknown>, at: string): string[] {
  const mode = params.mode;
  if (typeof mode === "string" && mode !== "merge" && mode !== "upsert")
    return MERGE_ONLY.filter((k) => params[k] !== undefined).map(
      (k) => `${at}${k}: only with mode merge (or upsert), got mode ${mode}`,
    );
  const problems: string[] = [];
  if (params.insert_only === true && params.delete_column !== undefined)
    problems.push(
      `${at}delete_column: not with insert_only (an insert-only merge deletes nothing)`,
    );
  if (params.delete_values !== undefined && params.delete_column === undefined)
    problems.push(`${at}delete_values: needs delete_column`);
  if (
    (mode === "merge" || mode === "upsert") &&
    params.fan_out !== undefined &&
    params.fan_out !== false
  )
    problems.push(
      `${at}fan_out: not with mode merge yet (the last row of a key is the file's last, which parallel items do not keep)`,
    );
  return problems;
}

/** A fan-out's settings, defaults filled in except what depends on the realm and the database. */
export interface FanOutSettings {
  /** Items loading at once, as asked (the plan bounds it by the database and the runner). */
  readonly workers: number;
  /** Target bytes per work item; undefined: from the runner's timeout and the measured throughput. */
  readonly itemSize: number | undefined;
  /** Largest part one invocation may load; undefined: from the runner's timeout. */
  readonly maxPartSize: number | undefined;
  /** Items that may fail while the rest is still published. */
  readonly toleratedFailures: number;
}

/** Items loading at once unless the job says: two streams measured fastest into one table on two cores. */
export const DEFAULT_FAN_OUT_WORKERS = 2;

function fanOutSettings(v: DbFromS3Params["fan_out"]): FanOutSettings | undefined {
  if (v === undefined || v === false) return undefined;
  const o = v === true ? {} : v;
  return {
    workers: o.workers ?? DEFAULT_FAN_OUT_WORKERS,
    itemSize: o.item_size === undefined ? undefined : parseSize(o.item_size),
    maxPartSize: o.max_part_size === undefined ? undefined : parseSize(o.max_part_size),
    toleratedFailures: o.tolerated_failures ?? 0,
  };
}

/**
 * What a dispatch may not do to a job's parameters (docs/db-from-s3.md §2:
 * dispatch parameters are merged over the job's). Column specs are SQL, so they come
 * from the job spec; a dispatch may set them only when the job itself says
 * `allow_dispatch_columns: true` — which in turn only the job spec can say.
 * Merged values equal to the job's own are not an override.
 *
 * @param own the job spec's parameters
 * @param merged the parameters with the dispatch's merged over `own`
 * @param at prefix of the messages, e.g. `job sales/load: parameters.`
 * @param job how the messages name the job
 */
export function dispatchProblems(
  own: Record<string, unknown>,
  merged: Record<string, unknown>,
  at: string,
  job = "the job",
): string[] {
  const problems: string[] = [];
  if (!isDeepStrictEqual(merged.allow_dispatch_columns, own.allow_dispatch_columns)) {
    problems.push(
      `${at}allow_dispatch_columns: only the job spec can set this, not a dispatch, got ${showValue(merged.allow_dispatch_columns)}`,
    );
  }
  // What a load reads and how widely it fans out are the job's to say: a trigger's
  // rendered value (an S3 key) must not widen a load to a whole prefix or a dispatch
  // raise its connections.
  for (const field of ["glob", "fan_out"] as const) {
    if (!isDeepStrictEqual(merged[field], own[field]))
      problems.push(
        `${at}${field}: only the job spec can set this, not a dispatch, got ${showValue(merged[field])}`,
      );
  }
  if (own.allow_dispatch_columns !== true && !isDeepStrictEqual(merged.columns, own.columns)) {
    problems.push(
      `${at}columns: a dispatch may not set columns unless ${job} has parameters.allow_dispatch_columns: true, got ${showValue(merged.columns)}`,
    );
  }
  return problems;
}

const isRegexValue = (v: unknown): v is string => typeof v === "string" && isRegexName(v);

/** The problem of `columns` given with a /regex schema or table (templated or not), if any. */
function regexWithColumns(params: Record<string, unknown>, at: string): string[] {
  const regexNamed = isRegexValue(params.schema) || isRegexValue(params.table);
  return regexNamed && params.columns !== undefined
    ? [
        `${at}columns: not allowed with a /regex schema or table name (the table must already exist)`,
      ]
    : [];
}

/**
 * The problems of db_from_s3 values that show without a run — column specs,
 * COPY options, /regex names, `columns` with a /regex name — found with the
 * parsers a run uses, for `lava-aurora check` and synth. Values holding
 * template syntax are left to the run; values of the wrong type are left to
 * the schema.
 *
 * @param at prefix of the messages, e.g. `realms/dev.yaml: job sales/load: parameters.`
 * @param preserveCase the `preserve_case` of the job's connection
 */
export function specValueProblems(
  params: Record<string, unknown>,
  at: string,
  preserveCase: boolean,
): string[] {
  const problems: string[] = [];
  const collect = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      problems.push(...err.problems);
    }
  };
  const plain = (v: unknown): v is string => typeof v === "string" && !isTemplated(v);
  if (Array.isArray(params.columns)) {
    params.columns.forEach((spec, i) => {
      if (plain(spec)) collect(() => parseColumnSpec(spec, preserveCase, `${at}columns[${i}]`));
    });
  }
  if (Array.isArray(params.args)) {
    problems.push(...copyArgsProblems(params.args, `${at}args`, { preserveCase }, isTemplated));
  }
  for (const field of ["schema", "table"] as const) {
    const value = params[field];
    if (isRegexValue(value) && plain(value))
      collect(() => compileRegexName(value, `${at}${field}`));
  }
  problems.push(
    ...regexWithColumns(params, at),
    ...partsProblems(params, at),
    ...mergeProblems(params, at),
    ...rowProblems(params, at),
  );
  return problems;
}

/** What `glob` and `fan_out` need: a prefix key, and parts to fan out over (docs/db-from-s3.md §7.1, §14). */
function partsProblems(params: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const manifest =
    Array.isArray(params.args) &&
    params.args.some((a) => typeof a === "string" && /^\s*MANIFEST\s*$/i.test(a));
  const globbed = params.glob !== undefined;
  const key = params.key;
  if (globbed && typeof key === "string" && !isTemplated(key) && !key.endsWith("/"))
    problems.push(
      `${at}key: with glob the key is a prefix ending in "/", got ${JSON.stringify(key)}`,
    );
  if (globbed && manifest)
    problems.push(`${at}glob: a load reads a manifest or a prefix, not both (args has MANIFEST)`);
  const fanOut = params.fan_out !== undefined && params.fan_out !== false;
  if (fanOut && !globbed && !manifest)
    problems.push(
      `${at}fan_out: fans out over parts: give a MANIFEST (args) or a key prefix with glob`,
    );
  return problems;
}

/**
 * Validate the job's parameters with a dispatch's merged over them; the job's
 * own come from `realm` (to tell what the dispatch changed). Throws
 * `SpecError` listing every problem.
 */
export function checkLoadParams(
  realm: Realm,
  jobId: string,
  raw: Record<string, unknown>,
): LoadParams {
  const at = `job ${jobId}: parameters.`;
  const parsed = dbFromS3ParamsSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(at, parsed.error.issues);
  const job = realm.jobs.find((j) => j.job_id === jobId);
  const own = job?.type === "db_from_s3" ? (job.parameters ?? {}) : {};
  problems.push(...dispatchProblems(own, raw, at));
  const p: DbFromS3Params = parsed.success ? parsed.data : {};
  for (const name of DB_FROM_S3_REQUIRED) {
    if (raw[name] === undefined) problems.push(`${at}${name}: required`);
  }
  let preserveCase = false;
  if (p.db_conn_id !== undefined) {
    const conn = realm.connections.find((c) => c.conn_id === p.db_conn_id);
    if (!conn || conn.type === "aws")
      problems.push(
        `${at}db_conn_id: expected a PostgreSQL connection of realm ${realm.name}, got ${JSON.stringify(p.db_conn_id)}`,
      );
    else preserveCase = conn.preserve_case ?? false;
  }
  if (
    p.s3_conn_id !== undefined &&
    realm.connections.find((c) => c.conn_id === p.s3_conn_id)?.type !== "aws"
  ) {
    problems.push(
      `${at}s3_conn_id: expected an aws connection of realm ${realm.name}, got ${JSON.stringify(p.s3_conn_id)}`,
    );
  }
  problems.push(...regexWithColumns(p, at), ...mergeProblems(raw, at), ...rowProblems(raw, at));
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  // Templates are compiled once rendered (index.ts), with the same function.
  for (const field of ["schema", "table"] as const) {
    const value = p[field];
    if (isRegexValue(value) && !isTemplated(value)) {
      collect(() => compileRegexName(value, `${at}${field}`));
    }
  }
  const copy = collect(() => parseCopyArgs(p.args ?? [], `${at}args`, { preserveCase }));
  const columns = p.columns?.map(
    (spec, i) =>
      collect(() => parseColumnSpec(spec, preserveCase, `${at}columns[${i}]`)) ?? {
        name: `#${i}`,
        definition: "",
      },
  );
  if (problems.length > 0 || !copy) throw new SpecError(problems);
  return {
    dbConnId: p.db_conn_id as string,
    s3ConnId: p.s3_conn_id,
    bucket: p.bucket as string,
    key: p.key as string,
    schema: p.schema as string,
    table: p.table as string,
    mode: (p.mode === "upsert" ? "merge" : p.mode) as LoadMode,
    preserveCase,
    columns,
    copy,
    minSize: p.min_size === undefined ? undefined : parseSize(p.min_size),
    skipMissing: p.skip_missing ?? false,
    jinja: p.jinja ?? true,
    vars: p.vars ?? {},
    reload: p.reload ?? false,
    glob: p.glob === undefined ? undefined : typeof p.glob === "string" ? [p.glob] : p.glob,
    fanOut: fanOutSettings(p.fan_out),
    merge:
      p.mode === "merge" || p.mode === "upsert"
        ? {
            keyColumns: p.key_columns?.map((c) => foldName(c, preserveCase)),
            insertOnly: p.insert_only ?? false,
            deleteColumn:
              p.delete_column === undefined ? undefined : foldName(p.delete_column, preserveCase),
            deleteValues: p.delete_values ?? ["D"],
            duplicateKeys: p.duplicate_keys ?? "last",
          }
        : undefined,
    quarantine: quarantineSettings(p),
    lineage: lineageColumns(p.lineage, preserveCase),
    columnsFromHeader: p.columns_from_header ?? false,
  };
}
