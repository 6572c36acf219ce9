/** The runner Lambda handler: the runner with the function's remaining time as deadline. */
import { describe, expect, it } from "vitest";
import { handler, makeRunnerHandler } from "../../lambda/handlers/runner";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

describe("runner handler", () => {
  it("runs the dispatch and returns the result", async () => {
    await world.s3.put(BUCKET, "h/1.csv", "id\n1\n2\n");
    const realm = world.realm([
      loadJob("h", {
        key: "h/1.csv",
        table: "h",
        columns: ["id INTEGER"],
        args: ["FORMAT CSV", "HEADER"],
      }),
    ]);
    const handle = makeRunnerHandler(realm, world.deps());
    const r = await handle({ job_id: "h" }, { getRemainingTimeInMillis: () => 60_000 });
    expect(r).toMatchObject({ status: "ok", rows: 2 });
  });

  it("turns too little remaining time into a failed LoadTimeoutError result before loading", async () => {
    await world.s3.put(BUCKET, "h/2.csv", "id\n1\n");
    const realm = world.realm([
      loadJob("h", {
        key: "h/2.csv",
        table: "h2",
        columns: ["id INTEGER"],
        args: ["FORMAT CSV", "HEADER"],
      }),
    ]);
    const r = await makeRunnerHandler(realm, world.deps())(
      { job_id: "h" },
      { getRemainingTimeInMillis: () => 2_000 },
    );
    expect(r.error).toMatchObject({ name: "LoadTimeoutError", retryable: true });
    expect(await world.rows("SELECT to_regclass('sales.h2') AS t")).toEqual([{ t: null }]);
  });

  it("refuses to run from a bundle without a realm", async () => {
    await expect(
      handler({ job_id: "x" }, { getRemainingTimeInMillis: () => 1000 }),
    ).rejects.toThrow("this bundle carries no realm");
  });
});
