import { describe, expect, it } from "vitest";
import {
  type MetricsSink,
  publishRunMetrics,
  type RunMetric,
  runMetrics,
} from "../../../lambda/jobs/run-metrics";
import type { JobResult } from "../../../lambda/jobs/types";

const T0 = Date.parse("2026-01-31T08:00:00.000Z");
const load = { type: "db_from_s3" } as const;
const result = (extra: Partial<JobResult> = {}): JobResult => ({
  status: "ok",
  job_id: "j",
  run_id: "r",
  rows: 40,
  events: [],
  ...extra,
});
const byName = (metrics: RunMetric[]) => Object.fromEntries(metrics.map((m) => [m.name, m.value]));

describe("runMetrics", () => {
  it("gives a committed load of an S3 event every load metric: rows, bytes, MB/s over the run, delay and lag from the event", () => {
    // Prepare: the event 60 s before the start, a 2 s run of 4 MB.
    const dispatch = {
      job_id: "j",
      event_time: new Date(T0 - 60_000).toISOString(),
      dispatched_at: new Date(T0 - 1_000).toISOString(),
    };
    // Act
    const metrics = runMetrics(load, dispatch, result(), { start: T0, end: T0 + 2_000 }, 4_000_000);
    // Assess
    expect(byName(metrics)).toEqual({
      JobFailed: 0,
      RunTime: 2_000,
      RunDelay: 60_000,
      DuplicatesSkipped: 0,
      StaleSkipped: 0,
      RowsLoaded: 40,
      BytesLoaded: 4_000_000,
      LoadThroughput: 2,
      Lag: 62_000,
    });
    expect(metrics.map((m) => m.unit)).toEqual([
      "Count",
      "Milliseconds",
      "Milliseconds",
      "Count",
      "Count",
      "Count",
      "Bytes",
      "Megabytes/Second",
      "Milliseconds",
    ]);
  });

  it("measures RunDelay from dispatched_at without an event, and has none (nor Lag) without either or with no time", () => {
    const times = { start: T0, end: T0 + 10 };
    const dispatched = { job_id: "j", dispatched_at: new Date(T0 - 5_000).toISOString() };
    expect(byName(runMetrics(load, dispatched, result(), times, 0))).toMatchObject({
      RunDelay: 5_000,
    });
    for (const dispatch of [{ job_id: "j" }, { job_id: "j", event_time: "not a time" }]) {
      const names = runMetrics(load, dispatch, result(), times, 0).map((m) => m.name);
      expect(names).not.toContain("RunDelay");
      expect(names).not.toContain("Lag");
      // Zero bytes say nothing about throughput.
      expect(names).not.toContain("LoadThroughput");
    }
  });

  it("counts a stale skip and a duplicate, with no rows, bytes or lag: nothing was committed", () => {
    const dispatch = { job_id: "j", event_time: new Date(T0).toISOString() };
    const times = { start: T0, end: T0 + 10 };
    const stale = runMetrics(
      load,
      dispatch,
      result({ status: "skipped", reason: "stale" }),
      times,
      9,
    );
    expect(byName(stale)).toEqual({
      JobFailed: 0,
      RunTime: 10,
      RunDelay: 0,
      DuplicatesSkipped: 0,
      StaleSkipped: 1,
    });
    const dup = runMetrics(
      load,
      dispatch,
      result({ status: "skipped", reason: "duplicate" }),
      times,
      0,
    );
    expect(byName(dup)).toMatchObject({ DuplicatesSkipped: 1, StaleSkipped: 0 });
  });

  it("gives other job types JobFailed, RunTime, RunDelay and Lag only", () => {
    const dispatch = { job_id: "j", event_time: new Date(T0 - 1).toISOString() };
    const times = { start: T0, end: T0 + 3 };
    expect(byName(runMetrics({ type: "sql" }, dispatch, result(), times, 0))).toEqual({
      JobFailed: 0,
      RunTime: 3,
      RunDelay: 1,
      Lag: 4,
    });
    const failed = result({
      status: "failed",
      error: { name: "X", message: "m", retryable: false },
    });
    expect(byName(runMetrics({ type: "exe" }, dispatch, failed, times, 0))).toEqual({
      JobFailed: 1,
      RunTime: 3,
      RunDelay: 1,
    });
  });

  it("counts rows_rejected once a result carries it, and not before", () => {
    const times = { start: T0, end: T0 + 1 };
    const quarantined = result({ rows_rejected: 7 });
    expect(byName(runMetrics(load, { job_id: "j" }, quarantined, times, 1))).toMatchObject({
      RowsRejected: 7,
    });
    expect(runMetrics(load, { job_id: "j" }, result(), times, 1).map((m) => m.name)).not.toContain(
      "RowsRejected",
    );
  });
});

describe("publishRunMetrics", () => {
  it("publishes one record: dimensions realm and job_id, then the metrics", () => {
    const calls: unknown[][] = [];
    const sink: MetricsSink = {
      addDimension: (...a) => calls.push(["dimension", ...a]),
      addMetric: (...a) => calls.push(["metric", ...a]),
      publishStoredMetrics: () => calls.push(["publish"]),
    };
    publishRunMetrics(sink, "dev", "sales/load", [
      { name: "JobFailed", unit: "Count", value: 0 },
      { name: "RunTime", unit: "Milliseconds", value: 5 },
    ]);
    expect(calls).toEqual([
      ["dimension", "realm", "dev"],
      ["dimension", "job_id", "sales/load"],
      ["metric", "JobFailed", "Count", 0],
      ["metric", "RunTime", "Milliseconds", 5],
      ["publish"],
    ]);
  });
});
