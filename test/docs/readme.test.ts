/**
 * The README stays true: its realm files validate, its shell blocks that can
 * run here run (those needing an AWS account use only real commands), its
 * ledger DDL is the one the code uses, its set-up is what CI runs.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LEDGER_DDL } from "../../lambda/jobs/db-from-s3/ledger";
import { validateRealm } from "../../lambda/spec/validate";
import { decodeEvent } from "../../lambda/triggers/decode-event";
import { REPO } from "../support/cli";

const run = promisify(execFile);
const readme = readFileSync(join(REPO, "README.md"), "utf8");

/** Fenced blocks: info string and body. */
const blocks = [...readme.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  info: (m[1] ?? "").trim(),
  body: m[2] ?? "",
}));
const commands = (body: string) =>
  body
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

describe("README", () => {
  it("has fenced blocks of known kinds only", () => {
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks)
      expect([
        "sh",
        "sh setup",
        "sh aws",
        "yaml",
        "json",
        "sql",
        "text",
        "mermaid",
        "sh payload",
      ]).toContain(b.info);
  });

  it("starts with the two set-up commands CI runs (then CI runs the CLI's tests on the machine's Node)", () => {
    const setup = blocks.filter((b) => b.info === "sh setup");
    expect(setup.map((b) => commands(b.body))).toEqual([
      ["npm ci && npx lava-aurora demo", "npm test"],
    ]);
    const ci = readFileSync(join(REPO, ".ci/run"), "utf8");
    const steps = commands(ci);
    const test = steps.indexOf("npm test");
    expect(steps.slice(test - 1, test + 1)).toEqual(["npm ci --no-audit --no-fund", "npm test"]);
    // After it, only the CLI's own tests again on the machine's Node.
    expect(steps.slice(test + 1).map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual([
      "node --version",
      "node node_modules/vitest/vitest.mjs run",
    ]);
  });

  it("shows realm files that validate", () => {
    const realms = blocks.filter((b) => b.info === "yaml" && /^realm: /m.test(b.body));
    expect(realms.length).toBeGreaterThan(0);
    for (const b of realms)
      expect(validateRealm(parse(b.body), "README.md").name).toMatch(/^[a-z0-9-]+$/);
  });

  it("runs every local shell command it shows", { timeout: 120_000 }, async () => {
    const local = blocks.filter((b) => b.info === "sh").flatMap((b) => commands(b.body));
    expect(local).toContain("npx lava-aurora check --realm example");
    for (const command of local) {
      await expect(
        run("bash", ["-c", command], { cwd: REPO, env: process.env }),
        command,
      ).resolves.toBeDefined();
    }
  });

  it("uses only real lava-aurora commands in examples that need AWS", async () => {
    const { stdout } = await run(process.execPath, [join(REPO, "dist/lava-aurora.js"), "--help"]);
    const aws = blocks.filter((b) => b.info === "sh aws").flatMap((b) => commands(b.body));
    expect(aws.length).toBeGreaterThan(0);
    for (const line of aws) {
      // AWS's own CLI documents set-up steps; lava-aurora commands must exist.
      if (line.startsWith("aws ")) continue;
      const sub = /npx lava-aurora ([a-z-]+)/.exec(line)?.[1];
      expect(sub, line).toBeDefined();
      expect(stdout).toContain(`  ${sub} `);
    }
  });

  it("shows S3 events that decode to the object they name, with S3 notification keys URL-decoded and the same event type either way", () => {
    const events = blocks
      .filter((b) => b.info === "json" && /aws[.:]s3/.test(b.body))
      .map((b) => JSON.parse(b.body));
    expect(events).toHaveLength(2);
    for (const e of events) {
      const { records, failures } = decodeEvent(e);
      expect(failures).toEqual([]);
      expect(records.map((r) => [r.event.bucket, r.event.key, r.event.event_type])).toEqual([
        ["example-landing", "sales/orders/2026 01 02.csv.gz", "ObjectCreated:Put"],
      ]);
    }
  });

  it("documents the ledger DDL the code uses", () => {
    const ddl = blocks.find(
      (b) => b.info === "sql" && b.body.includes("CREATE TABLE IF NOT EXISTS lava.load_ledger"),
    );
    expect(ddl?.body.trim().startsWith(LEDGER_DDL)).toBe(true);
  });

  it("shows a runner result of the documented shape", () => {
    const json = blocks.find((b) => b.info === "json");
    expect(Object.keys(JSON.parse(json?.body ?? "{}"))).toEqual([
      "status",
      "job_id",
      "run_id",
      "bucket",
      "key",
      "table",
      "loaded_table",
      "rows",
      "run_logged",
      "events",
    ]);
  });
});
