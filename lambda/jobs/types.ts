/** Dispatches, results and the services a job run uses (docs/state-machine.md §1, §5). */
import type { RoleAssumer } from "../connectors/aws-connection";
import type { ResolveDeps } from "../connectors/resolve-connection";
import type { S3ClientFactory } from "../shared/s3-clients";
import type { JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import type { EventLog } from "./event-log";

/** A request to run a job. Parameters and globals are merged over the job's (top-level keys replace). */
export interface Dispatch {
  readonly job_id: string;
  readonly parameters?: Record<string, unknown>;
  readonly globals?: Record<string, unknown>;
  /**
   * Names of `parameters` already rendered (a trigger rendered them from an S3
   * event, so they may hold text from an S3 key): taken literally, never rendered
   * again. Other dispatched parameters are rendered like the job's own, as lava does.
   */
  readonly literal_parameters?: readonly string[];
  /** A run id to run under: a chain's children run under the chain's, as in lava. */
  readonly run_id?: string;
  /**
   * The time (ISO 8601) of the S3 event that caused the run, set by the s3trigger:
   * the start of `RunDelay` and `Lag` (docs/operations.md §1).
   */
  readonly event_time?: string;
  /**
   * When the run was asked for (ISO 8601): given by the dispatcher, else Resolve
   * sets a schedule's time or the execution's start (docs/state-machine.md §1).
   */
  readonly dispatched_at?: string;
  /** The Step Functions execution running it (its ARN), set by Resolve; in every log line. */
  readonly execution?: string;
  /**
   * When a fan-out load's run started (its plan step), set by the runner in the
   * plan's dispatch, so its publish can tell `RunTime` (docs/operations.md §1).
   */
  readonly started_at?: string;
  /**
   * Which attempt of the run this is, from 1 (the job's `iteration_limit`): set by
   * the state machine ("Attempt number"), for the run log (docs/operations.md §3).
   */
  readonly attempt?: number;
}

export const SKIP_REASONS = [
  "disabled",
  "duplicate",
  "stale",
  "missing",
  "below_min_size",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The one shape every job run returns. */
export interface JobResult {
  status: "ok" | "skipped" | "failed";
  reason?: SkipReason;
  error?: { name: string; message: string; retryable: boolean };
  job_id: string;
  run_id: string;
  bucket?: string;
  key?: string;
  /** The logical target, `"schema"."table"`. */
  table?: string;
  /** The physical table loaded (`_a`/`_b` in switch mode). */
  loaded_table?: string;
  rows?: number;
  /** on_bad_rows: quarantine: rows set aside, and the reject file (docs/db-from-s3.md §16). */
  rows_rejected?: number;
  rejects?: string;
  /** mode merge: rows inserted, updated (changed only) and deleted (docs/db-from-s3.md §15). */
  merged?: { inserted: number; updated: number; deleted: number };
  exit_code?: number;
  /** SQL jobs: each statement run, in order. */
  statements?: StatementResult[];
  /** SQL jobs: the S3 objects written (result tuples, sqlc/sqlv outputs). */
  outputs?: string[];
  /** Fan-out loads (docs/db-from-s3.md §14): how the load was split and published. */
  fan_out?: FanOutSummary;
  /** Pipelines: what each child run said. */
  children?: Pick<JobResult, "job_id" | "status" | "reason" | "error">[];
  /**
   * db_from_s3: the run's row is in lava.run_log (docs/operations.md §3), written in
   * the load's transaction (a commit), else afterwards, best effort.
   */
  run_logged?: boolean;
  /** Human-readable step log; never holds a secret. */
  events: string[];
}

/** What a fan-out load did. */
export interface FanOutSummary {
  /** Work items planned, and parts (objects) over them. */
  items: number;
  parts: number;
  /** Items loading at once. */
  workers: number;
  /** Items not loaded (within `tolerated_failures`); their parts are not in the ledger. */
  failed_items: number[];
  /** The publish transaction, from taking the table's lock to commit (readers block at most this long). */
  publish_ms: number;
}

/** One statement of a SQL job. */
export interface StatementResult {
  /** sqli: `payload[<m>]`; otherwise the SQL file's S3 URL. */
  source: string;
  /** The statement's number within its source, from 0 (lava's `<n>`). */
  statement: number;
  /** Line of the source where the statement starts. */
  line: number;
  /** PostgreSQL's command tag word (`SELECT`, `INSERT`, …). */
  command: string;
  /** Rows affected or returned, where PostgreSQL reports them. */
  rows: number | null;
  /** Where its result tuples went. */
  output?: string;
}

/** What a job type returns; the runner adds job_id, run_id and the events. */
export type JobOutcome = Omit<JobResult, "job_id" | "run_id" | "events">;

/** Load progress, for a progress bar. */
export interface Progress {
  readonly object: string;
  readonly bytes: number;
  readonly totalBytes: number;
  /**
   * Rows of the object so far, with `RunOptions.progressRows`: while it streams,
   * the lines passed to COPY (a newline inside a quoted CSV field, and a header,
   * count too: COPY says its count only at the end); at its end, the rows
   * loaded. An aws_s3 import's rows come only at its end. @default - not counted
   */
  readonly rows?: number;
}

/** Where actions go: AWS's services on Lambda, the same (or stubs) from the CLI. */
export interface ActionSenders {
  sns(topic: string, message: string, subject: string | undefined): Promise<void>;
  sqs(
    queue: string,
    body: string,
    options: { delaySeconds?: number; groupId?: string; dedupId?: string },
  ): Promise<void>;
  event(entry: {
    bus: string;
    source: string;
    detailType: string;
    detail: string;
    resources: string[];
  }): Promise<void>;
  log(message: string): void;
  /** Start the job: `name` is the same for the same action of the same run (no double dispatch). */
  dispatch(dispatch: Dispatch & { delay?: number }, name: string): Promise<void>;
}

/** Services injected into job runs (the Lambda handler and the CLI pass the real ones). */
export interface JobDeps {
  readonly resolve: ResolveDeps;
  readonly s3: S3ClientFactory;
  readonly assumeRole?: RoleAssumer;
  /** How a dispatch job starts jobs (the runner function: executions of the state machine). */
  readonly send?: ActionSenders;
}

/** Per-run settings. */
export interface RunOptions {
  /** Epoch ms by which the run must be over (Lambda: now + remaining time). */
  readonly deadline?: number;
  readonly runId?: string;
  /** Run start; default now. */
  readonly start?: Date;
  readonly onProgress?: (p: Progress) => void;
  /**
   * `onProgress` counts rows too (`Progress.rows`): the streamed data is scanned
   * for newlines, about 0.7 ms per MB, so only the CLI's progress bar asks. @default false
   */
  readonly progressRows?: boolean;
  /** The Step Functions execution ARN running this, for the run log. @default - none (the CLI) */
  readonly execution?: string;
  /** Which attempt of the run this is, from 1, for the run log. @default 1 */
  readonly attempt?: number;
  /** A fan-out load's plan, one line (parts, items, workers, staging), before its items run. */
  readonly onPlan?: (line: string) => void;
  /**
   * Run the job's on_success / on_fail actions after the run (`lava-aurora run`). On
   * AWS the state machine runs them instead, where it knows whether another
   * attempt follows (on_retry).
   */
  readonly actions?: ActionSenders;
}

/** One run of a job, as the runner hands it to the job type. */
export interface JobRun {
  readonly realm: Realm;
  readonly job: JobSpec;
  /** The job's parameters with the dispatch's merged over them. */
  readonly params: Record<string, unknown>;
  /**
   * The dispatch's `literal_parameters`: taken literally, never rendered again. A trigger
   * has already rendered them, and what it rendered may hold an S3 key — hostile
   * input (docs/templates.md §7) that must not run as a template.
   */
  readonly literal: ReadonlySet<string>;
  readonly globals: Record<string, unknown>;
  readonly runId: string;
  readonly start: Date;
  readonly deps: JobDeps;
  readonly events: EventLog;
  readonly options: RunOptions;
}
