/**
 * A dispatch's run id (docs/state-machine.md §1): a db_from_s3 run's must be a
 * UUID — its ledger rows' run_id column is uuid, and a fan-out load's staging
 * table is named from its hex digits — so any other is refused before any work,
 * naming the field, from the runner, Resolve and `lava-aurora run --run-id`
 * alike; other job types keep any run id of letters, digits and `_ . : -`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDispatch } from "../../lambda/handlers/resolve";
import type { Realm } from "../../lambda/spec/realm";
import { runCli } from "../support/cli";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const UUID = "5d0c6f1e-7a2b-4c3d-9e8f-0a1b2c3d4e5f";
const REFUSED =
  'dispatch: run_id: job ids/load is a db_from_s3 load, whose run id must be a UUID (its ledger rows\' run_id is uuid), got "nightly-1": leave it out for a new one';

let realm: Realm;
let dir: string;
let realmFile: string;

const jobs = () => [
  loadJob("ids/load", {
    key: "ids/1.csv",
    table: "ids_load",
    columns: ["id INTEGER"],
    args: ["FORMAT CSV"],
  }),
  {
    job_id: "ids/chain",
    type: "chain",
    enabled: true,
    payload: ["ids/load"],
  },
  {
    job_id: "ids/sql",
    type: "sqli",
    enabled: true,
    payload: ["SELECT 1"],
    parameters: { conn_id: "pg" },
  },
];

beforeAll(async () => {
  const top = { s3_temp: `s3://${BUCKET}/tmp` };
  realm = world.realm(jobs(), {}, top);
  await world.s3.put(BUCKET, "ids/1.csv", "1\n2\n");
  dir = await mkdtemp(join(tmpdir(), "lava-run-ids-"));
  realmFile = join(dir, "dev.yaml");
  await writeFile(realmFile, JSON.stringify(world.realmDoc(jobs(), {}, top)));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ledgerRows = () =>
  world.rows<{ run_id: string }>(
    "SELECT run_id::text FROM lava.load_ledger WHERE key = 'ids/1.csv' ORDER BY loaded_at",
  );

describe("a db_from_s3 run's run id", () => {
  it("that is not a UUID is refused before any work, naming run_id; nothing is loaded", async () => {
    const r = await world.run(realm, { job_id: "ids/load", run_id: "nightly-1" });
    expect(r).toMatchObject({
      status: "failed",
      error: { name: "SpecError", message: REFUSED, retryable: false },
    });
    expect(await world.rows("SELECT to_regclass('sales.ids_load')::text AS t")).toEqual([
      { t: null },
    ]);
    expect(r.events.at(-1)).toBe("run log: not written to pg (refused before any work)");
  });

  it("that is a UUID is the run's, in the ledger and the run log", async () => {
    const r = await world.run(realm, { job_id: "ids/load", run_id: UUID });
    expect(r).toMatchObject({ status: "ok", rows: 2, run_id: UUID, run_logged: true });
    expect(await ledgerRows()).toEqual([{ run_id: UUID }]);
    expect(await world.rows("SELECT status FROM lava.run_log WHERE run_id = $1", [UUID])).toEqual([
      { status: "ok" },
    ]);
  });

  it("is refused by Resolve before any attempt, and a pipeline's db_from_s3 child says why", async () => {
    expect(() => resolveDispatch(realm, { job_id: "ids/load", run_id: "nightly-1" })).toThrow(
      REFUSED,
    );
    // Other job types keep any run id (a chain's children run under it).
    expect(
      resolveDispatch(realm, { job_id: "ids/sql", run_id: "nightly-1" }).dispatch,
    ).toMatchObject({ run_id: "nightly-1" });
    const chain = await world.run(realm, { job_id: "ids/chain", run_id: "nightly-1" });
    expect(chain.status).toBe("failed");
    expect(chain.children).toMatchObject([
      { job_id: "ids/load", status: "failed", error: { name: "SpecError", message: REFUSED } },
    ]);
  });

  it("given to lava-aurora run --run-id is refused with exit 2, before any execution starts with --remote", async () => {
    const env = { ...world.aws.env(), ...world.s3.env() };
    const local = await runCli(
      ["run", "ids/load", "--realm-file", realmFile, "--run-id", "nightly-1"],
      { env },
    );
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(
      "--run-id: job ids/load is a db_from_s3 load, whose run id must be a UUID",
    );
    world.aws.setParameter(
      "/lava/dev/state-machine-arn",
      "arn:aws:states:us-east-1:123456789012:stateMachine:lava-dev-jobs",
    );
    const before = world.aws.states.executions.size;
    const remote = await runCli(
      ["run", "ids/load", "--realm-file", realmFile, "--run-id", "nightly-1", "--remote"],
      { env },
    );
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("--run-id: job ids/load is a db_from_s3 load");
    expect(world.aws.states.executions.size).toBe(before);
  });
});
