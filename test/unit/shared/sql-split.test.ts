/**
 * The yardstick for the sql/sqli/sqlv splitter: every corpus script splits into exactly
 * the pieces real sqlparse gives lava (`sqlparse.split(sql.strip())`, lava/handlers/sql.py).
 * Python runs once for the whole corpus (JSON in, JSON out).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { splitSql } from "../../../lambda/shared/sql-split";

const PYTHON = "/usr/bin/python3";
const ORACLE = join(__dirname, "../../support/sqlparse-oracle.py");
const CORPUS = join(__dirname, "../../fixtures/sql-split/corpus.json");

const corpus = JSON.parse(readFileSync(CORPUS, "utf8")) as { name: string; sql: string }[];

/** Lexer corner cases no realistic script reaches: quotes, comment and keyword fragments. */
const FRAGMENTS = [
  ...[";", ";", "(", ")", " ", "\n", "\r\n", "\r", "\t", "\u00a0", "\u2028", "\x85"],
  ...["'", "''", "\\", "\\'", "E'", '"', '""', "`", "´", "[", "]", "[a]", "$$", "$a$", "$A$"],
  ...["$1", ":x", "::", ":=", "?", "%s", "%(n)s", "--", "-- c\n", "--+", "# ", "#", "/*", "*/"],
  ...["/*+", "*", "-", "+", "||", "/", "=", ".", "x.", ".end", "1", "1.5", "1e5", "-1", "0xaif"],
  ...["SELECT", "t", "AS", "AS$$", "IN", "NOT NULL", "LEFT JOIN", "HANDLER FOR", "ATOMIC"],
  ...["AT TIME ZONE 'UTC'", "BEGIN", "begin", "BEGIN(", "END", "end", "END(", "END IF"],
  ...["END  IF", "END LOOP", "END WHILE", "CASE", "IF", "FOR", "WHILE", "DECLARE", "CREATE"],
  ...["create or replace", "CREATE(", "GO", "é", "ß", "ñandú", "東京", "заказы", "ı", "\u{1F600}"],
];

/** The splitter's own words, dense enough to nest: CREATE ... BEGIN ... CASE ... END. */
const BLOCK_FRAGMENTS = [
  ...["CREATE", "BEGIN", "END", "END IF", "END WHILE", "END LOOP", "CASE", "CASE(", "CASE."],
  ...["IF", "FOR", "WHILE", "DECLARE", "HANDLER FOR", "x", "x(", ";", ";", "(", ")", "\n"],
];

/** Seeded, so a failure reproduces: scripts of 1 to 30 fragments. */
function generated(fragments: readonly string[], count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(30) }, () => fragments[next(fragments.length)]).join(
      next(2) ? " " : "",
    ),
  );
}
const fuzz = [
  ...generated(FRAGMENTS, 3000, 20260131),
  ...generated(BLOCK_FRAGMENTS, 1000, 20260201),
];

/** sqlparse's pieces for every script, from one run of the oracle. */
function python(scripts: readonly string[]): string[][] {
  const probe = spawnSync(PYTHON, ["-c", "import sqlparse"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${PYTHON} with sqlparse is needed (Debian: apt-get install python3-sqlparse): ${
        probe.error?.message ?? probe.stderr
      }`,
    );
  }
  const run = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify(scripts),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`oracle failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

describe("SQL payloads split as sqlparse splits them for lava", () => {
  it(`splits all ${corpus.length} corpus scripts into sqlparse's pieces`, () => {
    // Prepare
    const expected = python(corpus.map((c) => c.sql));
    // Act
    const actual = corpus.map((c) => splitSql(c.sql).map((p) => p.text));
    // Assess
    const differences = corpus.flatMap((c, i) =>
      JSON.stringify(actual[i]) === JSON.stringify(expected[i])
        ? []
        : [{ name: c.name, sql: c.sql, sqlparse: expected[i], ours: actual[i] }],
    );
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(expected).toHaveLength(corpus.length);
    expect(differences).toEqual([]);
    // sqlparse never returns an empty piece (blank scripts give no pieces at all).
    expect(expected.flat().filter((p) => p === "")).toEqual([]);
  });

  it(`splits ${fuzz.length} generated scripts of lexer corner cases as sqlparse does`, () => {
    // Prepare
    const expected = python(fuzz);
    // Act
    const actual = fuzz.map((sql) => splitSql(sql).map((p) => p.text));
    // Assess
    const differences = fuzz.flatMap((sql, i) =>
      JSON.stringify(actual[i]) === JSON.stringify(expected[i])
        ? []
        : [{ sql, sqlparse: expected[i], ours: actual[i] }],
    );
    expect(differences.slice(0, 5)).toEqual([]);
  });
});

describe("where each piece starts", () => {
  it("gives the first piece the line of its first character", () => {
    expect(splitSql("SELECT 1;")).toEqual([{ text: "SELECT 1;", line: 1 }]);
  });

  it("counts the lines stripped before the first piece and between pieces", () => {
    // Prepare
    const sql = "\n\n  SELECT 1;\n\n\n   SELECT 2\n";
    // Act
    const pieces = splitSql(sql);
    // Assess
    expect(pieces).toEqual([
      { text: "SELECT 1;", line: 3 },
      { text: "SELECT 2", line: 6 },
    ]);
  });

  it("starts a piece at its leading comment, which belongs to it", () => {
    // Prepare
    const sql = "SELECT 1;\n-- next one\n/* really */\nSELECT 2;";
    // Act
    const pieces = splitSql(sql);
    // Assess
    expect(pieces).toEqual([
      { text: "SELECT 1;", line: 1 },
      { text: "-- next one\n/* really */\nSELECT 2;", line: 2 },
    ]);
  });

  it("keeps a same-line comment after the `;` with the piece before it", () => {
    // Prepare
    const sql = "SELECT 1; -- one\n\nSELECT 2;";
    // Act
    const pieces = splitSql(sql);
    // Assess
    expect(pieces).toEqual([
      { text: "SELECT 1; -- one", line: 1 },
      { text: "SELECT 2;", line: 3 },
    ]);
  });

  it("leaves comment lines right under a same-line comment with the piece before", () => {
    // Prepare
    const sql = "SELECT 1; -- one\n-- about two\nSELECT 2;";
    // Act
    const pieces = splitSql(sql);
    // Assess
    expect(pieces).toEqual([
      { text: "SELECT 1; -- one\n-- about two", line: 1 },
      { text: "SELECT 2;", line: 3 },
    ]);
  });

  it("counts CRLF as one line break, and a lone CR as one", () => {
    expect(splitSql("\r\nSELECT 1;\r\n\r\nSELECT 2;\rSELECT 3;")).toEqual([
      { text: "SELECT 1;", line: 2 },
      { text: "SELECT 2;", line: 4 },
      { text: "SELECT 3;", line: 5 },
    ]);
  });

  it("counts the lines inside a multi-line piece", () => {
    // Prepare
    const sql = "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n\nSELECT 2;";
    // Act
    const pieces = splitSql(sql);
    // Assess
    expect(pieces.map((p) => p.line)).toEqual([1, 7]);
  });

  it("gives no pieces for blank or empty source", () => {
    expect(splitSql("")).toEqual([]);
    expect(splitSql(" \n\t\r\n ")).toEqual([]);
  });
});
