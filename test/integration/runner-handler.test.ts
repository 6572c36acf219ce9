/** The runner Lambda handler: the runner with the function's remaining time as deadline. */
import { describe, expect, it } from "vitest";
import {
  handler,
  JobRunError,
  makeRunnerHandler,
  type RunnerTelemetry,
} from "../../lambda/handlers/runner";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

/** A logger and a metrics sink that record what the handler reports, one record per publish. */
function recordingTelemetry() {
  const logged: [string, Record<string, unknown>][] = [];
  const records: { dimensions: [string, string][]; metrics: [string, string, number][] }[] = [];
  let next = { dimensions: [] as [string, string][], metrics: [] as [string, string, number][] };
  const telemetry: RunnerTelemetry = {
    logger: {
      info: (m: string, x: unknown) => logged.push([m, x as Record<string, unknown>]),
      error: (m: string, x: unknown) => logged.push([m, x as Record<string, unknown>]),
    } as RunnerTelemetry["logger"],
    metrics: {
      addMetric: (n, u, v) => next.metrics.push([n, u, v]),
      addDimension: (n, v) => next.dimensions.push([n, v]),
      publishStoredMetrics: () => {
        records.push(next);
        next = { dimensions: [], metrics: [] };
      },
    },
  };
  return { telemetry, logged, records };
}

/** Put `body` at h/<table>.csv and a realm whose job `h` loads it into sales.<table>. */
async function loadRealm(table: string, body: string) {
  await world.s3.put(BUCKET, `h/${table}.csv`, body);
  return world.realm([
    loadJob("h", {
      key: `h/${table}.csv`,
      table,
      columns: ["id INTEGER"],
      args: ["FORMAT CSV", "HEADER"],
    }),
  ]);
}

describe("runner handler", () => {
  it("runs the dispatch and returns the result", async () => {
    const realm = await loadRealm("h1", "id\n1\n2\n");
    const handle = makeRunnerHandler(realm, world.deps());
    const r = await handle({ job_id: "h" }, { getRemainingTimeInMillis: () => 60_000 });
    expect(r).toMatchObject({ status: "ok", rows: 2 });
  });

  it("throws a retryable failure named after its cause, for the state machine's Retry, before loading", async () => {
    const realm = await loadRealm("h2", "id\n1\n");
    const err = await makeRunnerHandler(realm, world.deps())(
      { job_id: "h" },
      { getRemainingTimeInMillis: () => 2_000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobRunError);
    expect((err as JobRunError).name).toBe("LoadTimeoutError");
    expect(JSON.parse((err as JobRunError).message)).toMatchObject({
      status: "failed",
      job_id: "h",
      error: { name: "LoadTimeoutError", retryable: true },
    });
    expect(await world.rows("SELECT to_regclass('sales.h2') AS t")).toEqual([{ t: null }]);
  });

  it("returns permanent failures as results", async () => {
    const realm = await loadRealm("h4", "id\nnot-a-number\n");
    const r = await makeRunnerHandler(realm, world.deps())(
      { job_id: "h" },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(r.error).toMatchObject({ name: "BadDataError", retryable: false });
  });

  it("logs the result without its step log, with the run's keys, and publishes the run's metrics per realm and job", async () => {
    // Prepare
    const realm = await loadRealm("h3", "id\n1\n2\n3\n");
    const { telemetry, logged, records } = recordingTelemetry();
    const eventTime = new Date(Date.now() - 60_000).toISOString();
    const execution = "arn:aws:states:us-east-1:123456789012:execution:lava-dev-jobs:h-1";
    // Act
    const r = await makeRunnerHandler(
      realm,
      world.deps(),
      telemetry,
    )(
      { job_id: "h", event_time: eventTime, execution },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    // Assess
    expect(r.status).toBe("ok");
    expect(logged).toEqual([
      [
        "job run finished",
        {
          realm: "dev",
          job_id: "h",
          run_id: r.run_id,
          execution,
          object: "s3://landing/h/h3.csv",
          result: expect.not.objectContaining({ events: expect.anything() }),
        },
      ],
    ]);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.dimensions).toEqual([
      ["realm", "dev"],
      ["job_id", "h"],
    ]);
    expect(record?.metrics.map(([n, u]) => `${n}:${u}`)).toEqual([
      "JobFailed:Count",
      "RunTime:Milliseconds",
      "RunDelay:Milliseconds",
      "DuplicatesSkipped:Count",
      "StaleSkipped:Count",
      "RowsLoaded:Count",
      "BytesLoaded:Bytes",
      "LoadThroughput:Megabytes/Second",
      "Lag:Milliseconds",
    ]);
    const value = (name: string) => record?.metrics.find(([n]) => n === name)?.[2];
    expect(value("JobFailed")).toBe(0);
    expect(value("RowsLoaded")).toBe(3);
    expect(value("BytesLoaded")).toBe(9);
    expect(value("RunDelay")).toBeGreaterThanOrEqual(60_000);
    expect(value("Lag")).toBeGreaterThanOrEqual((value("RunDelay") ?? 0) + (value("RunTime") ?? 0));
  });

  it("counts a failed run in JobFailed and a duplicate in DuplicatesSkipped, with no rows, bytes or lag", async () => {
    const realm = await loadRealm("h5", "id\nx\n");
    const { telemetry, logged, records } = recordingTelemetry();
    const handle = makeRunnerHandler(realm, world.deps(), telemetry);
    const failed = await handle({ job_id: "h" }, { getRemainingTimeInMillis: () => 60_000 });
    await world.s3.put(BUCKET, "h/h5.csv", "id\n1\n");
    await handle({ job_id: "h" }, { getRemainingTimeInMillis: () => 60_000 });
    const again = await handle(
      { job_id: "h", event_time: new Date().toISOString() },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect([failed.status, again.status, again.reason]).toEqual(["failed", "skipped", "duplicate"]);
    expect(logged.map(([m]) => m)).toEqual([
      "job run failed",
      "job run finished",
      "job run finished",
    ]);
    const names = (i: number) =>
      Object.fromEntries(records[i]?.metrics.map(([n, , v]) => [n, v]) ?? []);
    expect(names(0)).toEqual({
      JobFailed: 1,
      RunTime: expect.any(Number),
      DuplicatesSkipped: 0,
      StaleSkipped: 0,
    });
    expect(names(2)).toEqual({
      JobFailed: 0,
      RunTime: expect.any(Number),
      RunDelay: expect.any(Number),
      DuplicatesSkipped: 1,
      StaleSkipped: 0,
    });
  });

  it("publishes no metrics for a job the realm does not define: job ids from dispatches never become dimensions", async () => {
    const realm = await loadRealm("h6", "id\n1\n");
    const { telemetry, logged, records } = recordingTelemetry();
    const r = await makeRunnerHandler(
      realm,
      world.deps(),
      telemetry,
    )({ job_id: "no/such-job-7f3a" }, { getRemainingTimeInMillis: () => 60_000 });
    expect(r.error?.name).toBe("SpecError");
    expect(records).toEqual([]);
    expect(logged).toEqual([
      ["job run failed", expect.objectContaining({ job_id: "no/such-job-7f3a" })],
    ]);
  });

  it("refuses to run from a bundle without a realm", async () => {
    await expect(
      handler({ job_id: "x" }, { getRemainingTimeInMillis: () => 1000 }),
    ).rejects.toThrow("this bundle carries no realm");
  });
});
