/**
 * Job specs (docs/realm-files.md §3; docs/db-from-s3.md §1; docs/exe-pkg.md §3). Parameters are validated statically here
 * (names and types); what only a merged dispatch can show (required
 * parameters) is checked by the job type at run time with the same schemas.
 */
import { z } from "zod";
import { actionFields } from "./actions";
import {
  argList,
  bool,
  duration,
  intIn,
  lavaBool,
  mapping,
  objectId,
  size,
  text,
  textList,
  textOrList,
} from "./fields";
import { scheduleField } from "./schedule";

/** Job fields lava has that mean nothing here: accepted with a warning. */
export const LAVA_ONLY_JOB_FIELDS = [
  "worker",
  "dispatcher",
  "max_tries",
  "cw_metrics",
  "event_log",
  "state",
] as const;

/** The most work items a fan-out load runs at once (docs/db-from-s3.md §14). */
export const FAN_OUT_MAX_WORKERS = 16;

export const LOAD_MODES = ["abort", "append", "delete", "drop", "switch", "truncate"] as const;

/** What lineage columns can record, and their default column names (docs/db-from-s3.md §17). */
export const LINEAGE_FIELDS = ["source_key", "source_line", "run_id"] as const;
export const LINEAGE_DEFAULT_COLUMNS = {
  source_key: "_lava_source_key",
  source_line: "_lava_source_line",
  run_id: "_lava_run_id",
} as const;

/** Ours, beyond lava's six: merge rows by key into the table; `upsert` is a synonym (docs/db-from-s3.md §15). */
export const MERGE_MODES = ["merge", "upsert"] as const;
const ALL_MODES = [...LOAD_MODES, ...MERGE_MODES] as const;

/** db_from_s3 parameters (docs/db-from-s3.md §1); all optional here, see `dbFromS3Required`. */
export const dbFromS3ParamsSchema = z.strictObject({
  db_conn_id: objectId("connection id").optional(),
  bucket: text("a bucket name or template").optional(),
  key: text("an object key or template").optional(),
  schema: text("a schema name, template or /regex").optional(),
  table: text("a table name, template or /regex").optional(),
  mode: z.enum(ALL_MODES, { error: `expected one of ${ALL_MODES.join(", ")}` }).optional(),
  /** merge: the columns that identify a row (default: the table's primary key). */
  key_columns: textList("a list of column names").min(1).optional(),
  /** merge: insert new keys only, leave existing rows alone (ON CONFLICT DO NOTHING). */
  insert_only: bool().optional(),
  /** merge: a column saying what happened to the row (AWS DMS's `Op`); rows with a `delete_values` value delete their key. */
  delete_column: text("a column name").optional(),
  delete_values: textList("a list of values").min(1).optional(),
  /** merge: a key twice in one load — `last`: the last row wins (default); `error`: the run fails. */
  duplicate_keys: z.enum(["last", "error"], { error: "expected last or error" }).optional(),
  /** Bad rows: `fail` the run (default) or `quarantine` them to s3_temp and load the rest (docs/db-from-s3.md §16). */
  on_bad_rows: z.enum(["fail", "quarantine"], { error: "expected fail or quarantine" }).optional(),
  /** quarantine: the most bad rows a run may set aside, a count or a percentage of the rows (`"1%"`); default 0. */
  max_bad_rows: z
    .union([
      z.int().min(0),
      z.string().regex(/^\d+(\.\d+)?%$/, { error: 'expected a count or a percentage like "1%"' }),
    ])
    .optional(),
  /** Lineage columns: `true` (all three, default names), a list of them, or a mapping to column names (docs/db-from-s3.md §17). */
  lineage: z
    .union([
      bool(),
      z.array(z.enum(LINEAGE_FIELDS, { error: `expected ${LINEAGE_FIELDS.join(", ")}` })),
      z.partialRecord(
        z.enum(LINEAGE_FIELDS, { error: `expected ${LINEAGE_FIELDS.join(", ")}` }),
        z.string({ error: "expected a column name" }).min(1, { error: "expected a column name" }),
      ),
    ])
    .optional(),
  /** With HEADER: the header names the columns each object fills (docs/db-from-s3.md §18). */
  columns_from_header: bool().optional(),
  columns: textList('a list of column specs like "id INTEGER"').min(1).optional(),
  args: textList("a list of COPY options").optional(),
  s3_conn_id: objectId("connection id").optional(),
  s3_iam_role: z.string({ error: "expected a string" }).optional(),
  min_size: size().optional(),
  // lava reads it with str2bool (lava/handlers/db_from_s3.py), so "true"/"no"/"1" work there.
  skip_missing: lavaBool().optional(),
  jinja: bool().optional(),
  vars: mapping().optional(),
  reload: bool().optional(),
  /** Ours: a dispatch (trigger, CLI, state machine input) may set `columns`. Only the job spec can set it. */
  allow_dispatch_columns: bool().optional(),
  /** Ours: `key` is a prefix (ending in `/`); the objects under it whose rest of key matches load as parts. Job spec only. */
  glob: textOrList("a glob like *.csv.gz").optional(),
  /** Ours: load the parts in parallel, one Lambda per work item, then publish once (docs/db-from-s3.md §14). Job spec only. */
  fan_out: z
    .union(
      [
        bool(),
        z.strictObject({
          workers: intIn(1, FAN_OUT_MAX_WORKERS).optional(),
          item_size: size().optional(),
          max_part_size: size().optional(),
          tolerated_failures: intIn(0, 10_000).optional(),
        }),
      ],
      { error: "expected true, false or {workers, item_size, max_part_size, tolerated_failures}" },
    )
    .optional(),
});

/** Parameters a db_from_s3 run cannot do without (after dispatch merge). */
export const DB_FROM_S3_REQUIRED = [
  "db_conn_id",
  "bucket",
  "key",
  "schema",
  "table",
  "mode",
] as const;

const connectionLabels = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: "expected connection labels made of letters, digits and _",
  }),
  objectId("connection id"),
  { error: "expected a mapping of labels to connection ids" },
);

const exeCommon = {
  args: argList().optional(),
  env: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected environment variable names" }),
      z.union([z.string(), z.number(), z.boolean()], { error: "expected a string value" }),
      { error: "expected a mapping of environment variables to values" },
    )
    .optional(),
  connections: connectionLabels.optional(),
  timeout: duration().optional(),
  vars: mapping().optional(),
  jinja: bool().optional(),
};

/** exe parameters (docs/exe-pkg.md §3). */
export const exeParamsSchema = z.strictObject(exeCommon);
/** pkg parameters (docs/exe-pkg.md §3): exe's plus the entry point inside the archive. */
export const pkgParamsSchema = z.strictObject({
  ...exeCommon,
  command: text("the command to run inside the package").optional(),
});

const CSV_QUOTING = ["all", "minimal", "nonnumeric", "none"] as const;
const CSV_DIALECTS = ["excel", "excel-tab", "unix"] as const;
const oneChar = (what: string) =>
  z.string({ error: `expected ${what}: one character` }).length(1, {
    error: `expected ${what}: one character`,
  });

/** lava's csv.writer parameters for SELECT results (lava/handlers/sql.py), case-insensitive quoting. */
const csvParams = {
  delimiter: oneChar("a delimiter").optional(),
  dialect: z.enum(CSV_DIALECTS, { error: `expected one of ${CSV_DIALECTS.join(", ")}` }).optional(),
  doublequote: bool().optional(),
  escapechar: oneChar("an escape character").nullable().optional(),
  quotechar: oneChar("a quote character").nullable().optional(),
  quoting: z
    .string({ error: `expected one of ${CSV_QUOTING.join(", ")}` })
    .transform((q) => q.toLowerCase())
    .pipe(z.enum(CSV_QUOTING, { error: `expected one of ${CSV_QUOTING.join(", ")}` }))
    .optional(),
  header: bool().optional(),
};

const sqlCommon = {
  conn_id: objectId("connection id").optional(),
  batch_size: intIn(1, 1_000_000).optional(),
  jinja: bool().optional(),
  raw: bool().optional(),
  transaction: bool().optional(),
  vars: mapping().optional(),
  ...csvParams,
};

/** sql and sqli parameters (lava's, docs/sql-jobs.md §2), plus `timeout` (ours: the whole run). */
export const sqlParamsSchema = z.strictObject({
  ...sqlCommon,
  output: z
    .string({ error: "expected letters, digits and _" })
    .regex(/^\w+$/, { error: "expected letters, digits and _" })
    .optional(),
  timeout: duration().optional(),
});

export const SQLV_FORMATS = ["csv", "jsonl", "html"] as const;

/** sqlv parameters (lava's, docs/sql-jobs.md §4). */
export const sqlvParamsSchema = z.strictObject({
  ...sqlCommon,
  format: z.enum(SQLV_FORMATS, { error: `expected one of ${SQLV_FORMATS.join(", ")}` }).optional(),
  level: z.string({ error: "expected a log level name" }).optional(),
  timeout: duration().optional(),
});

/** sqlc parameters (lava's, docs/sql-jobs.md §3). */
export const sqlcParamsSchema = z.strictObject({
  conn_id: objectId("connection id").optional(),
  args: argList().optional(),
  jinja: bool().optional(),
  timeout: duration().optional(),
  vars: mapping().optional(),
});

/** chain parameters (lava's, docs/pipelines.md §1). */
export const chainParamsSchema = z.strictObject({
  can_fail: textOrList("a glob of child job ids").optional(),
  job_prefix: z.string({ error: "expected a string" }).optional(),
  start: text("a child job id").optional(),
});

/** dag: lava's DAG_WORKERS is the worker's CPU count; here a fixed default, and a cap. */
export const DAG_WORKERS = 4;
export const DAG_MAX_WORKERS = 40;

/** dag parameters (lava's, docs/pipelines.md §5). */
export const dagParamsSchema = z.strictObject({
  can_fail: textOrList("a glob of child job ids").optional(),
  job_prefix: z.string({ error: "expected a string" }).optional(),
  workers: intIn(1, DAG_MAX_WORKERS).optional(),
});

/** dag payload: child → predecessor, list of predecessors, or none (null / []). */
export const dagPayloadSchema = z.record(
  z.string().min(1, { error: "expected job ids" }),
  z.union([z.string().min(1), z.array(z.string().min(1)), z.null()], {
    error: "expected a predecessor job id, a list of them, or null",
  }),
  { error: "expected a mapping of child job ids to their predecessors" },
);

/**
 * foreach: lava's FOREACH_LIMIT (10) is the default; lava's FOREACH_MAX_LIMIT (25)
 * is not a cap here: past FOREACH_INLINE_ITEMS the items run from S3 in a
 * Distributed Map (docs/pipelines.md §7).
 */
export const FOREACH_LIMIT = 10;
export const FOREACH_MAX_LIMIT = 10_000;
export const FOREACH_INLINE_ITEMS = 40;

const foreachGenerator = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("inline"),
      values: z.array(mapping(), { error: "expected a list of mappings" }),
    }),
    z.strictObject({
      type: z.literal("range"),
      name: z.string({ error: "expected a string" }).optional(),
      start: z.int({ error: "expected an integer" }).optional(),
      stop: z.int({ error: "expected an integer" }),
      step: z.int({ error: "expected an integer" }).optional(),
    }),
    z.strictObject({ type: z.literal("csv"), filename: text("an s3:// location or template") }),
    z.strictObject({ type: z.literal("jsonl"), filename: text("an s3:// location or template") }),
    z.strictObject({
      type: z.literal("s3list"),
      bucket: text("a bucket name or template"),
      prefix: z.string({ error: "expected a string" }).optional(),
      glob: textOrList("a glob").optional(),
    }),
    z.strictObject({
      type: z.literal("query"),
      conn_id: objectId("connection id"),
      query: text("a query"),
    }),
  ],
  { error: "expected a generator: inline, range, csv, jsonl, s3list or query" },
);

/** foreach parameters (lava's, docs/pipelines.md §7). */
export const foreachParamsSchema = z.strictObject({
  can_fail: bool().optional(),
  foreach: foreachGenerator,
  jinja: bool().optional(),
  limit: intIn(1, FOREACH_MAX_LIMIT).optional(),
});

/** A dispatch's delay: lava caps it at 15m (SQS); a Wait state can wait longer, within the execution's day. */
export const MAX_DISPATCH_DELAY_MS = 23 * 3600_000;

/** dispatch parameters (lava's, docs/pipelines.md §6). */
export const dispatchParamsSchema = z.strictObject({
  delay: duration(MAX_DISPATCH_DELAY_MS, "23h").optional(),
  jinja: bool().optional(),
  job_prefix: z.string({ error: "expected a string" }).optional(),
  parameters: mapping().optional(),
});

/** The SQL job types. */
export const SQL_JOB_TYPES = ["sql", "sqli", "sqlc", "sqlv"] as const;

const jobCommon = {
  job_id: objectId("job id"),
  // Omitted means false, as in lava (lava/lavacore.py get_job_spec): the job is skipped.
  enabled: z
    .union([z.boolean(), z.string()], {
      error: "expected true, false or a template that renders to true",
    })
    .default(false),
  description: z.string({ error: "expected a string" }).optional(),
  owner: z.string({ error: "expected a string" }).optional(),
  // lava requires a payload and says to set it to null where the type needs none: null is none.
  payload: z.preprocess(
    (p) => p ?? undefined,
    text("an S3 key or prefix under s3_payloads").optional(),
  ),
  globals: mapping().optional(),
  // lava's schema allows 0, with which lava never attempts the job yet reports success;
  // here a run always makes at least one attempt, so 0 is 1.
  iteration_limit: intIn(0, 100)
    .transform((n) => Math.max(n, 1))
    .optional(),
  iteration_delay: duration(15 * 60_000, "15m").optional(),
  // EventBridge Scheduler schedules, and how late a run may start (docs/schedules.md §1, §5).
  schedule: scheduleField().optional(),
  max_run_delay: duration().optional(),
  // Ours: alarm when a run commits longer than this after its S3 event or dispatch.
  max_lag: duration().optional(),
  // on_success, on_fail, on_retry (docs/actions.md §1).
  ...actionFields,
};

export const jobSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      ...jobCommon,
      type: z.literal("db_from_s3"),
      parameters: dbFromS3ParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("exe"),
      parameters: exeParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("pkg"),
      parameters: pkgParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("sql"),
      parameters: sqlParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("sqli"),
      // The SQL itself: a string or a list of them, each one or more statements.
      payload: z.preprocess((p) => p ?? undefined, textOrList("SQL statements").optional()),
      parameters: sqlParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("chain"),
      // Child job ids: a list, or lava's comma-separated string.
      payload: z.preprocess((p) => p ?? undefined, textOrList("child job ids").optional()),
      // lava's docs show job_prefix beside parameters too; either place works here.
      job_prefix: z.string({ error: "expected a string" }).optional(),
      parameters: chainParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("dag"),
      payload: z.preprocess((p) => p ?? undefined, dagPayloadSchema.optional()),
      parameters: dagParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("foreach"),
      // The one child job, run once per item.
      payload: z.preprocess((p) => p ?? undefined, text("the child job id").optional()),
      parameters: foreachParamsSchema.partial({ foreach: true }).optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("dispatch"),
      payload: z.preprocess((p) => p ?? undefined, textOrList("job ids to dispatch").optional()),
      parameters: dispatchParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("sqlc"),
      parameters: sqlcParamsSchema.optional(),
    }),
    z.strictObject({
      ...jobCommon,
      type: z.literal("sqlv"),
      parameters: sqlvParamsSchema.optional(),
    }),
  ],
  {
    error:
      "expected one of db_from_s3, exe, pkg, sql, sqli, sqlc, sqlv, chain, dag, foreach, dispatch",
  },
);

export type JobSpec = z.infer<typeof jobSchema>;
export type DbFromS3Params = z.infer<typeof dbFromS3ParamsSchema>;
