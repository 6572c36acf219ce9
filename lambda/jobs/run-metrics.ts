/**
 * A run's metrics (docs/operations.md §1): lava's `JobFailed`, `RunDelay` and
 * `RunTime`, and for loads the rows, bytes, throughput, skips and the S3
 * event's lag, in namespace `lava-aurora` with dimensions realm and job_id.
 * Pure: the runner handler publishes them; the dashboard reads the same names.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { JobSpec } from "../spec/job";
import type { Dispatch, JobResult } from "./types";

export const METRICS_NAMESPACE = "lava-aurora";

/** Every metric a run may emit, with its unit. */
export const RUN_METRIC_UNITS = {
  JobFailed: MetricUnit.Count,
  RunDelay: MetricUnit.Milliseconds,
  RunTime: MetricUnit.Milliseconds,
  RowsLoaded: MetricUnit.Count,
  BytesLoaded: MetricUnit.Bytes,
  LoadThroughput: MetricUnit.MegabytesPerSecond,
  RowsRejected: MetricUnit.Count,
  DuplicatesSkipped: MetricUnit.Count,
  StaleSkipped: MetricUnit.Count,
  Lag: MetricUnit.Milliseconds,
} as const;

export type RunMetricName = keyof typeof RUN_METRIC_UNITS;

/** The dimensions of every run metric, in this order; job ids only from the realm file. */
export const RUN_METRIC_DIMENSIONS = ["realm", "job_id"] as const;

export interface RunMetric {
  readonly name: RunMetricName;
  readonly unit: (typeof RUN_METRIC_UNITS)[RunMetricName];
  readonly value: number;
}

/** When the run started and ended, epoch ms. */
export interface RunTimes {
  readonly start: number;
  readonly end: number;
}

/** Where metrics go: Powertools' `Metrics`, or a stand-in. */
export interface MetricsSink {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: RunMetric["unit"], value: number): unknown;
  publishStoredMetrics(): unknown;
}

/** Epoch ms of an ISO 8601 time, undefined when absent or not a time. */
function epochOf(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The metrics of one run of `job`: JobFailed and RunTime always; RunDelay when
 * the dispatch says when it was wanted (its S3 event, else its dispatch); for
 * db_from_s3 runs the skips, and for a committed load its rows, bytes and
 * throughput (MB = 10^6 bytes, over the run's time); Lag for a committed run
 * of an S3 event; RowsRejected when the result counts them (quarantine).
 */
export function runMetrics(
  job: Pick<JobSpec, "type">,
  dispatch: Dispatch,
  result: JobResult,
  times: RunTimes,
  bytes: number,
): RunMetric[] {
  const out: RunMetric[] = [];
  const add = (name: RunMetricName, value: number) =>
    out.push({ name, unit: RUN_METRIC_UNITS[name], value });
  const runTime = Math.max(0, times.end - times.start);
  add("JobFailed", result.status === "failed" ? 1 : 0);
  add("RunTime", runTime);
  const eventTime = epochOf(dispatch.event_time);
  const wanted = eventTime ?? epochOf(dispatch.dispatched_at);
  if (wanted !== undefined) add("RunDelay", Math.max(0, times.start - wanted));
  const ok = result.status === "ok";
  if (job.type === "db_from_s3") {
    const skipped = result.status === "skipped";
    add("DuplicatesSkipped", skipped && result.reason === "duplicate" ? 1 : 0);
    add("StaleSkipped", skipped && result.reason === "stale" ? 1 : 0);
    if (ok) {
      add("RowsLoaded", result.rows ?? 0);
      add("BytesLoaded", bytes);
      // A zero-byte load says nothing about throughput.
      if (bytes > 0) add("LoadThroughput", bytes / 1e6 / (Math.max(1, runTime) / 1000));
    }
  }
  // Only where rows are quarantined (on_bad_rows) does a result count them.
  if (result.rows_rejected !== undefined) add("RowsRejected", result.rows_rejected);
  if (ok && eventTime !== undefined) add("Lag", Math.max(0, times.end - eventTime));
  return out;
}

/** Publish one run's metrics as one EMF record, dimensions realm and job_id. */
export function publishRunMetrics(
  sink: MetricsSink,
  realm: string,
  jobId: string,
  metrics: readonly RunMetric[],
): void {
  sink.addDimension("realm", realm);
  sink.addDimension("job_id", jobId);
  for (const m of metrics) sink.addMetric(m.name, m.unit, m.value);
  sink.publishStoredMetrics();
}
