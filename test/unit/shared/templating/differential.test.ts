/**
 * The yardstick (SPEC §4): every template of the corpus renders here exactly
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

/** The one context both sides render in: fixed clock, Sydney summer time (AEDT). */
const TIME_ZONE = "Australia/Sydney";
const START = new Date(Date.UTC(2026, 0, 31, 8, 5, 9, 123));
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

function python(): Outcome[] {
  const probe = spawnSync(PYTHON, ["-c", "import jinja2, dateutil"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${PYTHON} with jinja2 and dateutil is needed (Debian: apt-get install python3-jinja2 python3-dateutil): ${
        probe.error?.message ?? probe.stderr
      }`,
    );
  }
  const request = {
    timeZone: TIME_ZONE,
    start: START.getTime() / 1000,
    realm,
    job,
    runId: RUN_ID,
    globals,
    vars,
    extra,
    templates,
  };
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Outcome[];
}

function ours(): Outcome[] {
  const ctx = {
    ...baseContext({
      realm: { name: realm.realm, top: { s3_temp: realm.s3_temp, s3_payloads: realm.s3_payloads } },
      job,
      runId: RUN_ID,
      globals,
      vars,
      start: START,
      timeZone: TIME_ZONE,
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

describe("templates render as Python Jinja2 renders them with lava's context", () => {
  it(`renders all ${templates.length} corpus templates as Jinja2 does, or fails where Jinja2 fails`, () => {
    // Prepare
    const expected = python();
    // Act
    const actual = ours();
    // Assess
    const differences = templates.flatMap((t, i) => {
      const want = expected[i] as Outcome;
      const got = actual[i] as Outcome;
      const same = "ok" in want ? "ok" in got && got.ok === want.ok : "error" in got;
      return same ? [] : [{ template: t, jinja2: want, ours: got }];
    });
    expect(templates.length).toBeGreaterThanOrEqual(150);
    expect(differences).toEqual([]);
  });
});
