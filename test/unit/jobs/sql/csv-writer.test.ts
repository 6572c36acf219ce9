/**
 * The result writers write what lava writes: every line as Python 3.11's
 * csv.writer writes it with lava's parameters (lava/handlers/sql.py), each
 * jsonl line as bin/lava-sql's json.dump, each html table as its Jinja2
 * template; failing where Python fails. Python runs once for all cases
 * (test/support/csv-oracle.py), on the very values the cells name.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type CsvParams,
  CsvWriteError,
  csvParamsProblems,
  csvWriter,
  DEFAULT_CSV,
} from "../../../../lambda/jobs/sql/csv-writer";
import { htmlWriter } from "../../../../lambda/jobs/sql/html-writer";
import { JsonlWriteError, jsonlWriter } from "../../../../lambda/jobs/sql/jsonl-writer";
import { cellFromPg, type PyCell } from "../../../../lambda/jobs/sql/py-cells";

const PYTHON = "/usr/bin/python3";
const ORACLE = join(__dirname, "../../../support/csv-oracle.py");

const S = (v: string): PyCell => ({ t: "str", v });
const NONE: PyCell = { t: "none" };

/** Values worth a field of their own: each of csv's special characters, numbers, None, repr()s. */
const VALUES: PyCell[] = [
  ...["plain", "a|b", 'say "hi"', "back\\slash", "cr\rhere", "lf\nhere", "crlf\r\n"].map(S),
  ...[" leading space", "trailing ", "", "tab\there", "comma,here", "quote'single", "~tilde"].map(
    S,
  ),
  ...["😀|astral", "\u2028sep", '"', "|", "\\"].map(S),
  NONE,
  cellFromPg("42", 23),
  cellFromPg("-1.5", 701),
  cellFromPg("NaN", 701),
  cellFromPg("1.50", 1700),
  cellFromPg("t", 16),
  cellFromPg("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 2950),
  cellFromPg("192.168.1.5", 869),
  cellFromPg("192.168.1.5/24", 869),
  cellFromPg("2026-01-02 14:04:05.123+11", 1184),
  cellFromPg("1 day 02:03:04", 1186),
  cellFromPg('{a,"b|c","say \\"hi\\"",NULL}', 1009),
  cellFromPg('{"k": "it\'s \\"x\\"", "n": [1, 2.5, null]}', 3802),
  cellFromPg("\\x2722", 17),
];
const ROWS: PyCell[][] = [...VALUES.flatMap((v) => [[v], [v, S("x")]]), VALUES, [], [NONE, NONE]];
const HEADER = ["id", "na|me", 'q"uote', "", "crlf\r\n", "tab\t"];

const QUOTINGS = ["all", "minimal", "nonnumeric", "none"] as const;
const DIALECTS = ["excel", "excel-tab", "unix"] as const;
/** Every quoting × doublequote × escapechar × dialect, then the odd ones Python allows. */
const PARAMS: CsvParams[] = [
  ...QUOTINGS.flatMap((quoting) =>
    [false, true].flatMap((doublequote) =>
      [null, "\\"].flatMap((escapechar) =>
        DIALECTS.map((dialect) => ({ ...DEFAULT_CSV, quoting, doublequote, escapechar, dialect })),
      ),
    ),
  ),
  ...QUOTINGS.map((quoting) => ({ ...DEFAULT_CSV, quoting, delimiter: ",", quotechar: "'" })),
  ...QUOTINGS.map((quoting) => ({ ...DEFAULT_CSV, quoting, delimiter: "\t", escapechar: "~" })),
  { ...DEFAULT_CSV, quoting: "none", quotechar: null, escapechar: "\\" },
  { ...DEFAULT_CSV, quoting: "none", quotechar: null },
  { ...DEFAULT_CSV, delimiter: '"', doublequote: true },
  { ...DEFAULT_CSV, escapechar: "|" },
  { ...DEFAULT_CSV, quoting: "none", escapechar: "|" },
  { ...DEFAULT_CSV, escapechar: '"' },
  { ...DEFAULT_CSV, escapechar: '"', doublequote: true, quoting: "all" },
  { ...DEFAULT_CSV, delimiter: "😀", dialect: "unix" },
  { ...DEFAULT_CSV, delimiter: "\n" },
  { ...DEFAULT_CSV, delimiter: " ", quoting: "nonnumeric" },
  { ...DEFAULT_CSV, quotechar: "\\", escapechar: "\\" },
];

interface CsvCase {
  params: CsvParams | Record<string, unknown>;
  header: string[] | null;
  rows: PyCell[][];
}
const CSV_CASES: CsvCase[] = PARAMS.flatMap((params) => [
  { params, header: HEADER, rows: [] },
  ...ROWS.map((row) => ({ params, header: null, rows: [row] })),
]);

/** Raw job values: problems exactly where lava or csv.writer raises. */
const RAW_PARAMS: Record<string, unknown>[] = [
  { delimiter: "" },
  { delimiter: "ab" },
  { delimiter: 5 },
  { delimiter: null },
  { delimiter: "😀" },
  { delimiter: "\n" },
  { escapechar: "" },
  { escapechar: "ab" },
  { escapechar: 5 },
  { escapechar: null },
  { escapechar: "|" },
  { quotechar: null },
  { quotechar: null, quoting: "none" },
  { quotechar: null, quoting: "NONE" },
  { quotechar: "" },
  { quotechar: "ab" },
  { quotechar: 1.5 },
  { quotechar: "|" },
  { dialect: "nope" },
  { dialect: "EXCEL" },
  { dialect: null },
  { dialect: 5 },
  { dialect: "excel-tab" },
  { quoting: "bogus" },
  { quoting: "ALL" },
  { quoting: "Minimal" },
  { quoting: "NonNumeric" },
  { quoting: "" },
  { quoting: "quote_all" },
  { quoting: 5 },
  { quoting: null },
  { doublequote: "false" },
  { doublequote: null },
  {},
];

interface JsonlCase {
  sortKeys: boolean;
  names: string[];
  rows: PyCell[][];
}
const SAMPLES: PyCell[] = [
  ...VALUES,
  ...(
    [
      ["0.0000001", 1700],
      ["123456789012345678901234567890.5", 1700],
      ["100000000000000000000", 1700],
      ["Infinity", 701],
      ["-0", 701],
      ["1e+16", 701],
      ["2026-01-02", 1082],
      ["03:04:05.5", 1083],
      ["2026-01-02 03:04:05", 1114],
      ["2026-01-02 08:34:05+05:30", 1184],
      ["-1 days +02:00:00", 1186],
      ["1 year 2 mons", 1186],
      ["200000 days 00:00:00.000001", 1186],
      ['{"z": 1, "é": {"b": 2, "a": [3, {"d": 4, "c": 5}]}, "\\uffff": 6, "😀": 7}', 3802],
      ['"naïve\\u0000\\u001f\\u007f\\u2028"', 114],
      ["(1,2)", 600],
      ["[1,10)", 3904],
      ["{[1,3),[5,7)}", 4451],
      ["{1.5,0.0000001,NULL}", 1231],
      ['{"2026-01-02 03:04:05+00"}', 1185],
      ["::ffff:1.2.3.4", 869],
    ] as const
  ).map(([text, oid]) => cellFromPg(text, oid)),
];
const NAMES = ["b", "a", "é", "😀", "\uffff", "Z", "a"];
const JSONL_CASES: JsonlCase[] = [false, true].flatMap((sortKeys) => [
  { sortKeys, names: ["v"], rows: SAMPLES.map((c) => [c]) },
  {
    sortKeys,
    names: NAMES,
    rows: [NAMES.map((_, i) => SAMPLES[i] ?? NONE), NAMES.map(() => NONE)],
  },
  { sortKeys, names: ["x", "y"], rows: [[S("ok"), cellFromPg("NaN", 1700)]] },
  { sortKeys, names: ["x", "y"], rows: [[cellFromPg("-Infinity", 1700), S("ok")]] },
  { sortKeys, names: [], rows: [[]] },
]);

interface HtmlCase {
  header: string[] | null;
  rows: PyCell[][];
}
const HTML_CASES: HtmlCase[] = [
  { header: ["a", "b<", "&'\""], rows: [SAMPLES.slice(0, 3), [NONE, S("<b>&amp;</b>"), S("'\"")]] },
  { header: null, rows: SAMPLES.map((c) => [c]) },
  { header: ["only"], rows: [] },
  { header: null, rows: [] },
  { header: [], rows: [[]] },
];

interface CsvOutcome {
  lines: string[];
  error: string | null;
}
type LineOutcome = { ok: string } | { error: string };
interface Expected {
  csv: CsvOutcome[];
  jsonl: LineOutcome[][];
  html: string[];
}

let expected: Expected | undefined;
function python(): Expected {
  const validation = RAW_PARAMS.map((params) => ({ params, header: null, rows: [] }));
  const out = execFileSync(PYTHON, [ORACLE], {
    input: JSON.stringify({
      csv: [...CSV_CASES, ...validation],
      jsonl: JSONL_CASES,
      html: HTML_CASES,
    }),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  expected = JSON.parse(out) as Expected;
  return expected;
}

/** An error matches when ours carries Python's message (ours also names the column). */
function sameError(ours: string | null, theirs: string | null): boolean {
  if (ours === null || theirs === null) return ours === theirs;
  return ours.endsWith(theirs.replace(/^\w+: /, ""));
}

function ourCsv(c: CsvCase): CsvOutcome {
  const writer = csvWriter(c.params as unknown as CsvParams);
  const lines: string[] = [];
  try {
    if (c.header) lines.push(writer.header(c.header));
    for (const row of c.rows) lines.push(writer.row(row));
  } catch (err) {
    if (!(err instanceof CsvWriteError)) throw err;
    return { lines, error: err.message };
  }
  return { lines, error: null };
}

describe("csvWriter writes lines as Python's csv.writer writes them with lava's parameters", () => {
  it(`writes all ${CSV_CASES.length} cases (${PARAMS.length} parameter sets) as Python does`, () => {
    // Prepare
    const want = (expected ?? python()).csv;
    // Act
    const differences = CSV_CASES.flatMap((c, i) => {
      const py = want[i] as CsvOutcome;
      const ours = ourCsv(c);
      const same = isDeepStrictEqual(ours.lines, py.lines) && sameError(ours.error, py.error);
      return same ? [] : [{ params: c.params, rows: c.rows, python: py, ours }];
    });
    // Assess
    expect(PARAMS.length).toBeGreaterThanOrEqual(60);
    expect(differences).toEqual([]);
  });

  it("finds problems in exactly the parameters lava's csv.writer rejects", () => {
    // Prepare
    const want = (expected ?? python()).csv.slice(CSV_CASES.length);
    // Act
    const differences = RAW_PARAMS.flatMap((params, i) => {
      const py = want[i] as CsvOutcome;
      const problems = csvParamsProblems(params);
      return problems.length > 0 === (py.error !== null) ? [] : [{ params, py, problems }];
    });
    // Assess
    expect(differences).toEqual([]);
    expect(csvParamsProblems({ delimiter: "ab", quotechar: null })).toEqual([
      'delimiter: must be a 1-character string, got "ab"',
      "quotechar: must be set if quoting is not none (quotechar must be set if quoting enabled)",
    ]);
  });

  it("names the column a value cannot be written in", () => {
    const writer = csvWriter(DEFAULT_CSV, ["id", "said"]);
    expect(() => writer.row([S("1"), S('say "hi"')])).toThrow(
      new CsvWriteError('column 2 ("said"): need to escape, but no escapechar set', 2),
    );
  });
});

describe("jsonlWriter writes lines as lava-sql's json.dump writes them", () => {
  it("writes every row as Python does, or fails where Python fails", () => {
    // Prepare
    const want = (expected ?? python()).jsonl;
    // Act
    const differences = JSONL_CASES.flatMap((c, i) =>
      c.rows.flatMap((row, j) => {
        const py = want[i]?.[j] as LineOutcome;
        let ours: LineOutcome;
        try {
          ours = { ok: jsonlWriter({ sortKeys: c.sortKeys }).row(c.names, row) };
        } catch (err) {
          if (!(err instanceof JsonlWriteError)) throw err;
          ours = { error: err.message };
        }
        const same =
          "ok" in py
            ? "ok" in ours && ours.ok === py.ok
            : "error" in ours && sameError(ours.error, py.error);
        return same ? [] : [{ sortKeys: c.sortKeys, names: c.names, row, python: py, ours }];
      }),
    );
    // Assess
    expect(differences).toEqual([]);
  });
});

describe("htmlWriter writes the table lava-sql's template renders", () => {
  it.each(HTML_CASES.map((c, i) => [i, c.header, c.rows.length] as const))(
    "case %i: header %j, %i rows",
    (i) => {
      // Prepare
      const c = HTML_CASES[i] as HtmlCase;
      const writer = htmlWriter();
      // Act
      const html =
        writer.start(c.header) + c.rows.map((r) => writer.row(r)).join("") + writer.end();
      // Assess
      expect(html).toBe((expected ?? python()).html[i]);
    },
  );
});
