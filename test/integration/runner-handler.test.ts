/** The runner Lambda handler: the runner with the function's remaining time as deadline. */
import { describe, expect, it } from "vitest";
import { handler, JobRunError, makeRunnerHandler } from "../../lambda/handlers/runner";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

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

  it("logs the result without its step log and publishes rows, bytes and duration per job", async () => {
    const realm = await loadRealm("h3", "id\n1\n2\n3\n");
    const logged: unknown[] = [];
    const metrics: [string, string, number][] = [];
    const dimensions: [string, string][] = [];
    let published = 0;
    const telemetry = {
      logger: {
        info: (m: string, x: unknown) => logged.push([m, x]),
        error: (m: string, x: unknown) => logged.push([m, x]),
      },
      metrics: {
        addMetric: (n: string, u: string, v: number) => metrics.push([n, u, v]),
        addDimension: (n: string, v: string) => dimensions.push([n, v]),
        publishStoredMetrics: () => {
          published += 1;
        },
      },
    };
    const r = await makeRunnerHandler(
      realm,
      world.deps(),
      telemetry as never,
    )({ job_id: "h" }, { getRemainingTimeInMillis: () => 60_000 });
    expect(r.status).toBe("ok");
    expect(logged).toEqual([
      ["job run finished", { result: expect.not.objectContaining({ events: expect.anything() }) }],
    ]);
    expect(dimensions).toEqual([["job_id", "h"]]);
    expect(metrics.map(([n, u]) => `${n}:${u}`)).toEqual([
      "runs_ok:Count",
      "rows:Count",
      "bytes:Bytes",
      "duration:Milliseconds",
    ]);
    expect(metrics.find(([n]) => n === "rows")?.[2]).toBe(3);
    expect(metrics.find(([n]) => n === "bytes")?.[2]).toBe(9);
    expect(published).toBe(1);
  });

  it("refuses to run from a bundle without a realm", async () => {
    await expect(
      handler({ job_id: "x" }, { getRemainingTimeInMillis: () => 1000 }),
    ).rejects.toThrow("this bundle carries no realm");
  });
});
