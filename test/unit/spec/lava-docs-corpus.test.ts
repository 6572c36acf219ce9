/**
 * lava's documented spec examples (test/fixtures/lava-docs/, copied from
 * jin-gizmo/lava doc/user-guide/) validate here as pasted: the README's
 * promise. Examples that cannot are in differences/, each with the exact
 * problems reported, so a change in either direction shows.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadRealmFile } from "../../../lambda/spec/load";
import { REPO, runCli } from "../../support/cli";

const CORPUS = "test/fixtures/lava-docs";
/** The warnings a pasted lava spec may get: lava-only fields, and lava values whose meaning differs here. */
const LAVA_ONLY_WARNING =
  /: job [^:]+: ((worker|dispatcher): lava field with no meaning here, ignored|enabled: not given: lava's default is false, so this job is skipped \(disabled\)|iteration_limit: 0: lava never attempts the job \(and reports success\); here it makes one attempt)$/;

/** What each file holds, by id: connections, jobs, triggers. */
const PASSING: Record<string, [string[], string[], string[]]> = {
  "db-from-s3.yaml": [["pg-rds-conn-01", "s3-conn-01"], ["demo/copy-mytable"], []],
  "exe.yaml": [[], ["demo/shell", "demo/multi_exe", "demo/exe_with_args"], []],
  "exe-args-parameter.yaml": [[], ["demo/exe_with_args"], []],
  "exe-args-vars.yaml": [[], ["demo/exe_with_args"], []],
  "pkg.yaml": [[], ["demo/my-pkg"], []],
  "exe-aws-connections.yaml": [
    ["aws-conn-id-1", "aws-conn-id-2", "aws-conn-id-3"],
    ["aws-cli-example", "aws-python-example"],
    [],
  ],
  "lava-values.yaml": [["pg-01"], ["demo/load-small", "demo/retry-exe"], ["demo/load-small"]],
  "s3triggers-filled-in.yaml": [
    ["pg-rds-conn-01"],
    ["demo/copy-mytable", "my_exe_job"],
    ["demo/copy-mytable", "unique_trigger_id"],
  ],
};

/** Examples lava-aurora refuses, and why (see each file's header). */
const DIFFERENCES: Record<string, string[]> = {
  "exe-mysql-connection.yaml": [
    'connection conn_id_for_mysql: type: expected one of postgres-aurora, postgres-rds, postgres, psql, aws, got "mysql"',
    'job demo/py_exe: parameters.connections.mysql_db: expected a PostgreSQL or aws connection, but it is of type mysql, got "conn_id_for_mysql"',
  ],
  "s3trigger-placeholders.yaml": [
    'trigger unique_trigger_id: bucket: expected an S3 bucket name, got "..."',
  ],
  "s3trigger-without-trigger-id.yaml": ["trigger #1: trigger_id: required: expected a trigger id"],
};

const VERBATIM = /^ {2}# From lava doc\/user-guide\/(\S+) \(lines (\d+)-(\d+)\), verbatim\.$/;

/** Each `verbatim` block of a corpus file: the doc's JSON text, dedented, and where it came from. */
function verbatimBlocks(text: string): { source: string; json: string }[] {
  const lines = text.split("\n");
  const blocks: { source: string; json: string }[] = [];
  lines.forEach((line, i) => {
    const m = VERBATIM.exec(line);
    if (!m) return;
    const body: string[] = [];
    for (const next of lines.slice(i + 2)) {
      if (next.trim() !== "" && !next.startsWith("    ")) break;
      body.push(next.slice(4));
    }
    blocks.push({ source: `${m[1]}:${m[2]}`, json: body.join("\n") });
  });
  return blocks;
}

async function problemsOfFile(file: string): Promise<string[]> {
  try {
    await loadRealmFile(join(REPO, file));
    return [];
  } catch (err) {
    return [...((err as { problems?: string[] }).problems ?? [String(err)])];
  }
}

describe("lava's documented specs", () => {
  it.each(Object.entries(PASSING))("%s validates with no problems", async (name, ids) => {
    // Act
    const realm = await loadRealmFile(join(REPO, CORPUS, name));
    // Assess
    expect([
      realm.connections.map((c) => c.conn_id),
      realm.jobs.map((j) => j.job_id),
      realm.triggers.map((t) => t.trigger_id),
    ]).toEqual(ids);
    for (const w of realm.warnings) expect(w).toMatch(LAVA_ONLY_WARNING);
  });

  it.each(Object.entries(DIFFERENCES))(
    "differences/%s fails with exactly the known problems",
    async (name, expected) => {
      const file = join(CORPUS, "differences", name);
      expect(await problemsOfFile(file)).toEqual(expected.map((p) => `${file}: ${p}`));
    },
  );

  it.each([...Object.keys(PASSING), ...Object.keys(DIFFERENCES).map((n) => `differences/${n}`)])(
    "%s holds lava's examples as printed: JSON the realm's YAML reads unchanged",
    async (name) => {
      // Prepare
      const text = await readFile(join(REPO, CORPUS, name), "utf8");
      const doc = parse(text) as Record<string, unknown[] | undefined>;
      const items = [...(doc.connections ?? []), ...(doc.jobs ?? []), ...(doc.s3triggers ?? [])];
      // Act
      const blocks = verbatimBlocks(text);
      // Assess
      if (!["s3triggers-filled-in.yaml", "lava-values.yaml"].includes(name)) {
        expect(blocks.length).toBeGreaterThan(0);
      }
      for (const { source, json } of blocks) {
        const spec = JSON.parse(json);
        expect(
          items.filter((i) => isDeepStrictEqual(i, spec)),
          source,
        ).toHaveLength(1);
      }
    },
  );

  it("lava-aurora check accepts the db_from_s3 example, with warnings for lava's worker fields", async () => {
    // Act
    const r = await runCli(["check", "--realm-file", join(CORPUS, "db-from-s3.yaml")]);
    // Assess
    expect(r.stdout).toBe(
      `${CORPUS}/db-from-s3.yaml: ok (realm lava-docs: 2 connections, 1 job, 0 triggers)\n`,
    );
    expect(r.stderr.trim().split("\n")).toEqual([
      `warning: ${CORPUS}/db-from-s3.yaml: job demo/copy-mytable: dispatcher: lava field with no meaning here, ignored`,
      `warning: ${CORPUS}/db-from-s3.yaml: job demo/copy-mytable: worker: lava field with no meaning here, ignored`,
    ]);
    expect(r.code).toBe(0);
  });
});
