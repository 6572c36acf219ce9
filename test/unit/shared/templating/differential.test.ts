/**
 * The yardstick (docs/templates.md §1): every template of the corpus renders here exactly
 * as real Python Jinja2 renders it with lava's context, or fails in both.
 * Python runs once for the whole corpus (JSON in, JSON out).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baseContext, renderTemplate, TemplateError } from "../../../../lambda/shared/templating";

const PYTHON = "/usr/bin/python3";
const ORACLE = join(__dirname, "../../../support/jinja2-oracle.py");
const CORPUS = join(__dirname, "../../../fixtures/jinja2/corpus.json");

const corpus = JSON.parse(readFileSync(CORPUS, "utf8")) as { doc: string[]; edge: string[] };
const templates = [...corpus.doc, ...corpus.edge];

/** Fixed run starts and time zones both sides render in (the run start is the clock). */
const SCENARIOS = [
  {
    name: "Sydney in summer (AEDT)",
    timeZone: "Australia/Sydney",
    start: new Date(Date.UTC(2026, 0, 31, 8, 5, 9, 123)),
  },
  {
    name: "New York in summer (EDT)",
    timeZone: "America/New_York",
    start: new Date(Date.UTC(2026, 6, 4, 3, 59, 58, 999)),
  },
  {
    name: "London on its spring-forward day",
    timeZone: "Europe/London",
    start: new Date(Date.UTC(2026, 2, 29, 0, 30)),
  },
];
type Scenario = (typeof SCENARIOS)[number];
const realm = {
  realm: "prod",
  s3_temp: "s3://lava-prod-temp/lava/tmp",
  s3_payloads: "s3://lava-prod-payloads/payloads",
};
const job = {
  job_id: "sales/load-orders",
  type: "db_from_s3",
  owner: "data-team",
  parameters: { file: "in/orders/2026/orders.csv", table: "orders", vars: { level: "info" } },
};
const globals = {
  g1: "G1",
  g2: "G2",
  a: "Level",
  a_global: "AG",
  n: 3,
  empty: "",
  bucket: "my-bucket",
  key: "a/b/c.csv",
  s3obj: { Bucket: "b1", Key: "k1/x.csv" },
  lava: { iteration: 2, master_ustart: "2026-01-31T08:00:00+00:00" },
};
const vars = { cmd: "ls -l", level: "info", realm: "prod", up_days: 7, wait_mins: 30 };
const extra = {
  bucket: "landing-bucket",
  key: "landing/sales/2026/orders.csv",
  schema: "sales",
  relation: "orders",
  result: { error: "boom", exit_status: 1 },
};
const RUN_ID = "7d0c6f5e-2a8b-4c1d-9e3f-0123456789ab";

type Outcome = { ok: string } | { error: string };

/** Python's outcomes for every scenario, from one run of the oracle. */
function python(): Outcome[][] {
  const probe = spawnSync(PYTHON, ["-c", "import jinja2, dateutil"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${PYTHON} with jinja2 and dateutil is needed (Debian: apt-get install python3-jinja2 python3-dateutil): ${
        probe.error?.message ?? probe.stderr
      }`,
    );
  }
  const request = SCENARIOS.map((sc) => ({
    timeZone: sc.timeZone,
    start: sc.start.getTime() / 1000,
    realm,
    job,
    runId: RUN_ID,
    globals,
    vars,
    extra,
    templates,
  }));
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Outcome[][];
}

function ours(sc: Scenario): Outcome[] {
  const ctx = {
    ...baseContext({
      realm: { name: realm.realm, top: { s3_temp: realm.s3_temp, s3_payloads: realm.s3_payloads } },
      job,
      runId: RUN_ID,
      globals,
      vars,
      start: sc.start,
      timeZone: sc.timeZone,
    }),
    ...extra,
  };
  return templates.map((t) => {
    try {
      return { ok: renderTemplate(t, ctx, "corpus") };
    } catch (err) {
      if (err instanceof TemplateError) return { error: err.message };
      throw err;
    }
  });
}

let expected: Outcome[][] | undefined;

describe("templates render as Python Jinja2 renders them with lava's context", () => {
  it.each(SCENARIOS.map((sc, i) => [sc.name, i] as const))(
    `renders all ${templates.length} corpus templates as Jinja2 does, or fails where Jinja2 fails: %s`,
    (_name, i) => {
      // Prepare
      expected ??= python();
      const scenario = SCENARIOS[i] as Scenario;
      // Act
      const actual = ours(scenario);
      // Assess
      const differences = templates.flatMap((t, j) => {
        const want = (expected as Outcome[][])[i]?.[j] as Outcome;
        const got = actual[j] as Outcome;
        const same = "ok" in want ? "ok" in got && got.ok === want.ok : "error" in got;
        return same ? [] : [{ template: t, jinja2: want, ours: got }];
      });
      expect(templates.length).toBeGreaterThanOrEqual(150);
      expect(differences).toEqual([]);
    },
  );
});
