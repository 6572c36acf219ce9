/**
 * lava's documented pipeline, action and schedule examples (test/fixtures/lava-docs/,
 * pasted from lava's docs) run here as `lava-aurora run` runs them: the real runner
 * (`runJob`) with `lava-aurora run`'s action senders, so a dispatch — the job type
 * or the action — runs its jobs here. Each corpus file is loaded as `check` loads
 * it, then its postgres connections are pointed at the test cluster and the realm
 * validated again. The children the examples name (added to the corpus, not
 * lava's) record each run in lava_docs.ran, so the order lava's docs describe
 * shows in the table.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { awsActionSenders } from "../../lambda/jobs/action-senders";
import { runJob } from "../../lambda/jobs/run-job";
import type { Dispatch, JobResult, RunOptions } from "../../lambda/jobs/types";
import { loadRealmFile } from "../../lambda/spec/load";
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";
import { REPO, runCli } from "../support/cli";
import { DATABASE, LOADER_PASSWORD, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const CORPUS = "test/fixtures/lava-docs";
/** Where the retargeted connections find the loader's password (the realm is lava-docs). */
const PASSWORD = "/lava/lava-docs/loader";

type Raw = Record<string, unknown>;
interface Ran {
  job_id: string;
  parent: string | null;
  run_id: string | null;
  item: string | null;
}

beforeAll(async () => {
  // The children's table, made by the superuser and handed to the loader they connect as.
  await world.rows("CREATE SCHEMA lava_docs");
  await world.rows(
    "CREATE TABLE lava_docs.ran (seq SERIAL, job_id TEXT, parent TEXT, run_id TEXT, item TEXT)",
  );
  await world.rows("ALTER SCHEMA lava_docs OWNER TO loader");
  await world.rows("ALTER TABLE lava_docs.ran OWNER TO loader");
  world.aws.setParameter(PASSWORD, LOADER_PASSWORD, "SecureString", "alias/lava-lava-docs-sys");
});

beforeEach(async () => {
  await world.rows("TRUNCATE lava_docs.ran");
  await world.rows("ALTER TABLE lava_docs.ran DROP CONSTRAINT IF EXISTS refused");
});

/** What ran, in order. */
const ran = () =>
  world.rows<Ran>("SELECT job_id, parent, run_id, item FROM lava_docs.ran ORDER BY seq");
const ranIds = async () => (await ran()).map((r) => r.job_id);

/** Make `jobId`'s insert fail (a CHECK violation): a child that fails, its spec unchanged. */
const refuse = (jobId: string) =>
  world.rows(`ALTER TABLE lava_docs.ran ADD CONSTRAINT refused CHECK (job_id <> '${jobId}')`);

/**
 * A corpus file as a realm of the local world: loaded as `check` loads it (it is
 * valid as pasted), then its postgres connections pointed at the test cluster
 * (host, port, database, user, password, TLS with the cluster's CA) and validated
 * again. `edit` may change the document first.
 */
async function localRealm(file: string, edit: (doc: Raw) => void = () => {}): Promise<Realm> {
  const path = join(REPO, CORPUS, file);
  await loadRealmFile(path);
  const doc = parse(await readFile(path, "utf8")) as Raw;
  const c = world.cluster;
  doc.ssl_ca_file = c.caFile;
  doc.connections = ((doc.connections ?? []) as Raw[]).map((conn) =>
    conn.type === "postgres"
      ? {
          ...conn,
          host: c.host,
          port: c.port,
          database: DATABASE,
          user: "loader",
          password: PASSWORD,
          ssl: true,
        }
      : conn,
  );
  edit(doc);
  return validateRealm(doc, `${CORPUS}/${file}`);
}

/** Give the job `jobId` of the document `fields` (lava's partial examples have no `enabled`). */
const withJob =
  (jobId: string, fields: Raw) =>
  (doc: Raw): void => {
    doc.jobs = (doc.jobs as Raw[]).map((j) => (j.job_id === jobId ? { ...j, ...fields } : j));
  };

interface LocalRun {
  result: JobResult;
  /** The results of the jobs a dispatch (job or action) ran here, in order. */
  dispatched: JobResult[];
  /** What log actions wrote. */
  logged: string[];
}

/** Run a job as `lava-aurora run JOB_ID` does (bin/cli/run.ts), actions included. */
async function run(realm: Realm, dispatch: Dispatch): Promise<LocalRun> {
  const dispatched: JobResult[] = [];
  const logged: string[] = [];
  const deps = world.deps();
  const options: RunOptions = {
    actions: awsActionSenders({
      log: (message) => logged.push(message),
      runHere: async (d) => {
        dispatched.push(await runJob(realm, d, deps, options));
      },
    }),
  };
  const result = await runJob(realm, dispatch, deps, options);
  return { result, dispatched, logged };
}

/** Run a job that must succeed. */
async function runOk(realm: Realm, jobId: string): Promise<LocalRun> {
  const r = await run(realm, { job_id: jobId });
  expect(r.result.status, JSON.stringify(r.result.events)).toBe("ok");
  return r;
}

const statuses = (r: JobResult) => r.children?.map((c) => [c.job_id, c.status]);

describe("chain (06-Jobs/02-job-types/chain.md)", () => {
  it("a basic chain runs its children in order, under its run id", async () => {
    const { result } = await runOk(await localRealm("chain.yaml"), "demo/chain-01");
    expect(await ran()).toEqual(
      ["demo/job_01", "demo/job_02"].map((job_id) => ({
        job_id,
        parent: "demo/chain-01",
        run_id: result.run_id,
        item: null,
      })),
    );
    expect(statuses(result)).toEqual([
      ["demo/job_01", "ok"],
      ["demo/job_02", "ok"],
    ]);
  });

  it("with a different starting point, resumes at start", async () => {
    const { result } = await runOk(await localRealm("chain-start.yaml"), "demo/chain-01");
    expect(await ranIds()).toEqual(["demo/job_02"]);
    expect(statuses(result)).toEqual([["demo/job_02", "ok"]]);
  });

  it("with a common job prefix (beside parameters, as printed): children and start", async () => {
    const { result } = await runOk(await localRealm("chain-job-prefix.yaml"), "demo/chain-01");
    expect(await ranIds()).toEqual(["demo/job_02"]);
    expect(statuses(result)).toEqual([["demo/job_02", "ok"]]);
  });

  it('an uncaring parent (can_fail "*") goes on past a failed child and succeeds', async () => {
    await refuse("demo/job_01");
    const { result } = await runOk(await localRealm("chain-can-fail.yaml"), "demo/chain-01");
    expect(await ranIds()).toEqual(["demo/job_02"]);
    expect(statuses(result)).toEqual([
      ["demo/job_01", "failed"],
      ["demo/job_02", "ok"],
    ]);
  });

  it("a parent that plays favourites tolerates demo/job_02 failing", async () => {
    await refuse("demo/job_02");
    const { result } = await runOk(await localRealm("chain-can-fail-list.yaml"), "demo/chain-01");
    expect(await ranIds()).toEqual(["demo/job_01", "demo/black_sheep"]);
    expect(statuses(result)).toEqual([
      ["demo/job_01", "ok"],
      ["demo/job_02", "failed"],
      ["demo/black_sheep", "ok"],
    ]);
  });

  it("... but not the black sheep: its failure fails the chain", async () => {
    await refuse("demo/black_sheep");
    const realm = await localRealm("chain-can-fail-list.yaml");
    const { result } = await run(realm, { job_id: "demo/chain-01" });
    expect(result.status).toBe("failed");
    expect(result.error?.name).toBe("ChildJobError");
    expect(result.error?.message).toMatch(/^child demo\/black_sheep failed: DatabaseServerError: /);
    expect(await ranIds()).toEqual(["demo/job_01", "demo/job_02"]);
  });
});

describe("dag (06-Jobs/02-job-types/dag.md)", () => {
  const ALL = ["demo/job_01", "demo/job_02", "demo/job_03", "demo/job_04", "demo/job_05"];

  /** Each predecessor ran before its successor: 03 and 04 before 02, 02 before 01. */
  async function expectDagOrder(runId: string): Promise<void> {
    const rows = await ran();
    const at = (id: string) => rows.findIndex((r) => r.job_id === id);
    expect(rows.map((r) => r.job_id).sort()).toEqual(ALL);
    expect(at("demo/job_03")).toBeLessThan(at("demo/job_02"));
    expect(at("demo/job_04")).toBeLessThan(at("demo/job_02"));
    expect(at("demo/job_02")).toBeLessThan(at("demo/job_01"));
    for (const r of rows) expect([r.parent, r.run_id]).toEqual(["demo/dag-01", runId]);
  }

  it("runs every child once, predecessors first, under its run id", async () => {
    const { result } = await runOk(await localRealm("dag.yaml"), "demo/dag-01");
    await expectDagOrder(result.run_id);
    expect(result.children?.map((c) => c.job_id).sort()).toEqual(ALL);
  });

  it('the job_prefix version is "functionally identical"', async () => {
    const { result } = await runOk(await localRealm("dag-job-prefix.yaml"), "demo/dag-01");
    await expectDagOrder(result.run_id);
  });

  it('an uncaring parent (can_fail "*") runs a failed child\'s dependents, succeeds', async () => {
    await refuse("demo/job_03");
    const { result } = await runOk(await localRealm("dag-can-fail.yaml"), "demo/dag-01");
    const ids = await ranIds();
    expect([...ids].sort()).toEqual(["demo/job_01", "demo/job_02", "demo/job_04", "demo/job_05"]);
    expect(ids.indexOf("demo/job_02")).toBeLessThan(ids.indexOf("demo/job_01"));
    expect(result.children?.find((c) => c.job_id === "demo/job_03")?.status).toBe("failed");
  });

  it('plays no favourites as printed: "*/job_[24]" matches no demo/job_NN', async () => {
    await refuse("demo/job_04");
    const realm = await localRealm("dag-can-fail-list.yaml");
    const { result } = await run(realm, { job_id: "demo/dag-01" });
    expect(result.status).toBe("failed");
    expect(result.error?.name).toBe("ChildJobError");
    expect(result.error?.message).toMatch(/^child demo\/job_04 failed: /);
    // Its layer's siblings finish; its dependents (02, then 01) never start.
    expect((await ranIds()).sort()).toEqual(["demo/job_03", "demo/job_05"]);
  });
});

describe("foreach (06-Jobs/02-job-types/foreach.md)", () => {
  const enabled = withJob("example", { enabled: true });

  /** The items the child recorded, and that each ran under the foreach's run id. */
  async function items(result: JobResult, parent = "example"): Promise<(string | null)[]> {
    const rows = await ran();
    for (const r of rows)
      expect([r.job_id, r.parent, r.run_id]).toEqual(["child_job_id", parent, result.run_id]);
    return rows.map((r) => r.item);
  }

  it("as pasted (a partial spec without enabled) is skipped, as lava skips it", async () => {
    const { result } = await run(await localRealm("foreach.yaml"), { job_id: "example" });
    expect([result.status, result.reason]).toEqual(["skipped", "disabled"]);
    expect(await ran()).toEqual([]);
  });

  it("inline: one iteration per map, globals.a=a0 then a1", async () => {
    const { result } = await runOk(await localRealm("foreach.yaml", enabled), "example");
    expect(await items(result)).toEqual(["0: a=a0 b=b0", "1: a=a1 b=b1"]);
  });

  it("range: Python's range(2) under the name a, globals.a=0 then 1", async () => {
    const { result } = await runOk(await localRealm("foreach-range.yaml", enabled), "example");
    expect(await items(result)).toEqual(["0: a=0", "1: a=1"]);
  });

  it("csv and jsonl: lava's data files in S3, globals.a=a0 then a1", async () => {
    await world.s3.createBucket("lava-docs-foreach");
    // foreach.md lines 61-63 and 118-119, as printed.
    await world.s3.put("lava-docs-foreach", "example.csv", "a,b\na0,b0\na1,b1\n");
    await world.s3.put(
      "lava-docs-foreach",
      "example.jsonl",
      '{"a": "a0", "b": "b0" }\n{"a": "a1", "b": "b1" }\n',
    );
    const realm = await localRealm("foreach.yaml");
    for (const job of ["example-csv", "example-jsonl"]) {
      await world.rows("TRUNCATE lava_docs.ran");
      const { result } = await runOk(realm, job);
      expect(await items(result, job), job).toEqual(["0: a=a0 b=b0", "1: a=a1 b=b1"]);
    }
  });

  it("s3list: the objects under the prefix matching a glob, as s3obj", async () => {
    await world.s3.createBucket("my-bucket");
    for (const key of [
      "a/prefix/somewhere/in/s3.jsonl", // foreach.md's example Key
      "a/prefix/x.csv",
      "a/prefix/notes.txt",
      "b/elsewhere.csv",
    ])
      await world.s3.put("my-bucket", key, "x\n");
    const { result } = await runOk(await localRealm("foreach-s3list.yaml", enabled), "example");
    expect(await items(result)).toEqual([
      "0: s3://my-bucket/a/prefix/somewhere/in/s3.jsonl",
      "1: s3://my-bucket/a/prefix/x.csv",
    ]);
  });

  it("query: lava's query is not PostgreSQL (SOME, TABLE are reserved): no child", async () => {
    const realm = await localRealm("foreach-query.yaml", enabled);
    const { result } = await run(realm, { job_id: "example" });
    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(/syntax error at or near "some"/);
    expect(await ran()).toEqual([]);
  });
});

describe("dispatch (06-Jobs/02-job-types/dispatch.md)", () => {
  it("dispatches two downstream jobs, each its own run id, the dispatch as parent", async () => {
    const { result, dispatched } = await runOk(await localRealm("dispatch.yaml"), "demo/dispatch2");
    expect(dispatched.map((d) => [d.job_id, d.status])).toEqual([
      ["demo/job_01", "ok"],
      ["demo/job_02", "ok"],
    ]);
    const rows = await ran();
    expect(rows.map((r) => [r.job_id, r.parent])).toEqual([
      ["demo/job_01", "demo/dispatch2"],
      ["demo/job_02", "demo/dispatch2"],
    ]);
    const runIds = new Set([result.run_id, ...rows.map((r) => r.run_id)]);
    expect(runIds.size).toBe(3);
  });

  it("with a delay and parameters: dispatched; the jobs take no param01 (nor lava's)", async () => {
    const { result, dispatched } = await runOk(await localRealm("dispatch.yaml"), "demo/dispatch1");
    // Each event line starts with the time since the run began.
    expect(result.events.filter((e) => / dispatched /.test(e))).toEqual([
      expect.stringMatching(/ dispatched demo\/job_01 \(delay 300s\) as dsp-[0-9a-f]{32}$/),
      expect.stringMatching(/ dispatched demo\/job_02 \(delay 300s\) as dsp-[0-9a-f]{32}$/),
    ]);
    expect(dispatched.map((d) => [d.job_id, d.status, d.error?.name])).toEqual([
      ["demo/job_01", "failed", "SpecError"],
      ["demo/job_02", "failed", "SpecError"],
    ]);
    expect(dispatched[0]?.error?.message).toBe(
      ["param01", "param02"]
        .map((p) => `job demo/job_01: parameters.${p}: unknown field`)
        .join("\n"),
    );
    expect(await ran()).toEqual([]);
  });
});

describe("actions (08-Actions)", () => {
  it("the typical specification: on_success logs, then runs downstream_job here", async () => {
    const realm = await localRealm("actions.yaml");
    const { dispatched, logged } = await runOk(realm, "action/typical");
    expect(logged).toEqual(["It worked!"]);
    expect(dispatched.map((d) => [d.job_id, d.status])).toEqual([["downstream_job", "ok"]]);
    expect(await ranIds()).toEqual(["action/typical", "downstream_job"]);
  });

  it("the typical specification: on_fail publishes lava's message to lava's topic", async () => {
    const topic = "arn:aws:sns:ap-southeast-2:990565496141:lava-proto-notices";
    world.aws.sns.topics.set(topic, []);
    await refuse("action/typical");
    const { result, dispatched, logged } = await run(await localRealm("actions.yaml"), {
      job_id: "action/typical",
    });
    expect(result.status).toBe("failed");
    expect([dispatched, logged]).toEqual([[], []]);
    const [published] = world.aws.sns.topics.get(topic) ?? [];
    expect(published?.message).toMatch(
      new RegExp(
        `^action/typical@lava-docs \\(${result.run_id}\\) failed: DatabaseServerError: .*refused`,
      ),
    );
  });

  it("event: the minimal and the custom event reach the default bus", async () => {
    const realm = await localRealm("actions.yaml");
    const before = world.aws.events.length;
    const minimal = await runOk(realm, "action/event/default");
    const custom = await runOk(realm, "action/event/custom");
    const [a, b] = world.aws.events.slice(before);
    // lava's defaults: its detail's five fields (the worker is this product's name).
    expect(a).toMatchObject({
      bus: "default",
      source: "lava.lava-docs",
      detailType: "Lava Job Action",
      resources: [],
    });
    expect(a?.detail).toEqual({
      realm: "lava-docs",
      worker: expect.any(String),
      job_id: "action/event/default",
      run_id: minimal.result.run_id,
      exit_status: 0,
    });
    expect(b?.detail).toMatchObject({
      job_id: "action/event/custom",
      realm: "lava-docs",
      run_id: custom.result.run_id,
      status: "success",
    });
    expect(JSON.parse(String(b?.detail.result))).toMatchObject({ exit_status: 0 });
  });

  it("sns: a JSON object message, rendered", async () => {
    const topic = "arn:aws:sns:ap-southeast-2:123456789012:mytopic";
    world.aws.sns.topics.set(topic, []);
    await runOk(await localRealm("actions.yaml"), "action/sns");
    const [published] = world.aws.sns.topics.get(topic) ?? [];
    expect(JSON.parse(published?.message ?? "null")).toEqual({
      key1: "Hello world",
      key2: { key2a: "a global of the job", key2b: 42 },
    });
  });
});

/** What `check` prints for a job's next runs, in UTC. */
const nextRuns = (jobId: string, times: string[]) =>
  `job ${jobId}: next runs (UTC): ${times.join(", ")}`;

describe("schedules (05-Dispatch/02-scheduled.md)", () => {
  it("lava-aurora check prints each example's next runs (UTC)", async () => {
    // A Thursday.
    const r = await runCli(["check", "--realm-file", join(CORPUS, "schedules.yaml")], {
      frozenAt: new Date("2026-12-03T09:00:00Z"),
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([
      `${CORPUS}/schedules.yaml: ok (realm lava-docs: 0 connections, 3 jobs, 0 triggers)`,
      // "0 12 * * Mon"
      nextRuns("schedule/monday-noon", [
        "2026-12-07 12:00",
        "2026-12-14 12:00",
        "2026-12-21 12:00",
        "2026-12-28 12:00",
        "2027-01-04 12:00",
      ]),
      // "midday on weekdays and 2pm on weekends"
      nextRuns("schedule/weekdays-noon-weekends-2pm", [
        "2026-12-03 12:00",
        "2026-12-04 12:00",
        "2026-12-05 14:00",
        "2026-12-06 14:00",
        "2026-12-07 12:00",
      ]),
      // "daily at midday before 30 June 2019 and daily at 2pm after that"
      nextRuns("schedule/noon-then-2pm", [
        "2026-12-03 14:00",
        "2026-12-04 14:00",
        "2026-12-05 14:00",
        "2026-12-06 14:00",
        "2026-12-07 14:00",
      ]),
    ]);
    expect(r.code).toBe(0);
  });

  it("... and around 30 June 2019, midday before it and 2pm from it", async () => {
    const r = await runCli(["check", "--realm-file", join(CORPUS, "schedules.yaml")], {
      frozenAt: new Date("2019-06-28T00:00:00Z"),
    });
    expect(r.stdout.split("\n")).toContain(
      nextRuns("schedule/noon-then-2pm", [
        "2019-06-28 12:00",
        "2019-06-29 12:00",
        "2019-06-30 14:00",
        "2019-07-01 14:00",
        "2019-07-02 14:00",
      ]),
    );
  });

  it("the chain and dag examples' schedule, 0 0 * * *, runs daily at midnight", async () => {
    const r = await runCli(["check", "--realm-file", join(CORPUS, "chain.yaml")], {
      frozenAt: new Date("2026-12-03T09:00:00Z"),
    });
    expect(r.stdout.split("\n")).toContain(
      nextRuns("demo/chain-01", [
        "2026-12-04 00:00",
        "2026-12-05 00:00",
        "2026-12-06 00:00",
        "2026-12-07 00:00",
        "2026-12-08 00:00",
      ]),
    );
    expect(r.code).toBe(0);
  });
});
