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
  ...Object.fromEntries(
    ["chain.yaml", "chain-start.yaml", "chain-job-prefix.yaml", "chain-can-fail.yaml"].map(
      (f): [string, [string[], string[], string[]]] => [
        f,
        [["db-conn-01"], ["demo/chain-01", "demo/job_01", "demo/job_02"], []],
      ],
    ),
  ),
  "chain-can-fail-list.yaml": [
    ["db-conn-01"],
    ["demo/chain-01", "demo/job_01", "demo/job_02", "demo/black_sheep"],
    [],
  ],
  ...Object.fromEntries(
    ["dag.yaml", "dag-job-prefix.yaml", "dag-can-fail.yaml", "dag-can-fail-list.yaml"].map(
      (f): [string, [string[], string[], string[]]] => [
        f,
        [["db-conn-01"], ["demo/dag-01", ...[1, 2, 3, 4, 5].map((n) => `demo/job_0${n}`)], []],
      ],
    ),
  ),
  "foreach.yaml": [["db-conn-01"], ["example", "child_job_id", "example-csv", "example-jsonl"], []],
  "foreach-query.yaml": [["my_db_conn_id", "db-conn-01"], ["example", "child_job_id"], []],
  "foreach-range.yaml": [["db-conn-01"], ["example", "child_job_id"], []],
  "foreach-s3list.yaml": [["db-conn-01"], ["example", "child_job_id"], []],
  "dispatch.yaml": [
    ["db-conn-01"],
    ["demo/dispatch2", "demo/dispatch1", "demo/job_01", "demo/job_02"],
    [],
  ],
  "actions.yaml": [
    ["db-conn-01"],
    [
      "action/typical",
      "action/event/default",
      "action/event/custom",
      "action/sns",
      "downstream_job",
    ],
    [],
  ],
  "schedules.yaml": [
    [],
    ["schedule/monday-noon", "schedule/weekdays-noon-weekends-2pm", "schedule/noon-then-2pm"],
    [],
  ],
  "sql.yaml": [["db-conn-01"], ["demo/sql-query-01"], []],
  "sqli.yaml": [["db-conn-01"], ["demo/sql-query-01"], []],
  "sqli-transaction.yaml": [["db-conn-01"], ["demo/sql-query-01"], []],
};

const JOB_TYPES = "db_from_s3, exe, pkg, sql, sqli, sqlc, sqlv, chain, dag, foreach, dispatch";

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
  "sqlc-typed-sql.yaml": ["job demo/sqlc-query-01: parameters.args: unknown field"],
  "sqlc-prefix-typed-sql.yaml": [
    "job demo/sqlc-query-01: parameters.args: unknown field",
    "job demo/sqlc-query-01: timeout: unknown field",
  ],
  "sqlv-typed-sqlc.yaml": [
    "job demo/sql-query-01: parameters.delimiter: unknown field",
    "job demo/sql-query-01: parameters.quoting: unknown field",
    "job demo/sql-query-01: parameters.transaction: unknown field",
  ],
  "actions-sqs-topic.yaml": [
    "job action/sqs: on_success[0].queue: required: expected a queue name or URL",
    "job action/sqs: on_success[0].topic: unknown field",
  ],
  "schedule-to-colon.yaml": ["job schedule/not-in-february: schedule.to:: unknown field"],
  "lavasched.yaml": [`job ...: type: expected one of ${JOB_TYPES}, got "lavasched"`],
  "lavasched-suspended.yaml": [`job ...: type: expected one of ${JOB_TYPES}, got "lavasched"`],
};

/**
 * A verbatim block's comment: `verbatim.` (the doc's JSON is the spec), `verbatim
 * (YAML, not JSON).` (the doc's text is not JSON, but YAML reads it), or `verbatim
 * in an added job:` (the doc's lines are members of an added job: they are the
 * first or the last lines inside its braces).
 */
const VERBATIM = new RegExp(
  String.raw`^ {2}# From lava doc/user-guide/(\S+) \(lines (\d+)-(\d+)\), ` +
    String.raw`verbatim(\.| \(YAML, not JSON\)\.| in an added job:)$`,
);

type BlockKind = "json" | "yaml" | "wrapped";
const KINDS: Record<string, BlockKind> = {
  ".": "json",
  " (YAML, not JSON).": "yaml",
  " in an added job:": "wrapped",
};

interface Block {
  source: string;
  kind: BlockKind;
  /** How many of the doc's lines it holds. */
  lines: number;
  json: string;
}

/** Each `verbatim` block of a corpus file: the doc's text, dedented, and where it came from. */
function verbatimBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  lines.forEach((line, i) => {
    const m = VERBATIM.exec(line);
    if (!m) return;
    // The list entry's `-`, after any further comment lines.
    const dash = lines.findIndex((l, j) => j > i && l === "  -");
    const body: string[] = [];
    for (const next of lines.slice(dash + 1)) {
      if (next.trim() !== "" && !next.startsWith("    ")) break;
      body.push(next.slice(4));
    }
    blocks.push({
      source: `${m[1]}:${m[2]}`,
      kind: KINDS[m[4] ?? "."] ?? "json",
      lines: Number(m[3]) - Number(m[2]) + 1,
      json: body.join("\n").trimEnd(),
    });
  });
  return blocks;
}

/**
 * The doc's members of a wrapped block: its first or last `count` lines inside the
 * braces, as an object (a trailing comma dropped), when they are whole members.
 */
function wrappedMembers(json: string, count: number): Record<string, unknown>[] {
  const inner = json.split("\n").slice(1, -1);
  const found: Record<string, unknown>[] = [];
  for (const part of [inner.slice(0, count), inner.slice(-count)]) {
    try {
      found.push(JSON.parse(`{\n${part.join("\n").replace(/,$/, "")}\n}`));
    } catch {
      // Not whole members at this end.
    }
  }
  return found;
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
      for (const { source, kind, lines, json } of blocks) {
        const spec = kind === "yaml" ? parse(json) : JSON.parse(json);
        const matches = items.filter((i) => isDeepStrictEqual(i, spec));
        expect(matches, source).toHaveLength(1);
        if (kind !== "wrapped") continue;
        const item = matches[0] as Record<string, unknown>;
        // The doc's lines are whole members of the job, each as the doc has it.
        const members = wrappedMembers(json, lines);
        expect(members.length, source).toBeGreaterThan(0);
        expect(
          members.some((m) => Object.entries(m).every(([k, v]) => isDeepStrictEqual(item[k], v))),
          source,
        ).toBe(true);
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
