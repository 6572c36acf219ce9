import { describe, expect, it, vi } from "vitest";
import {
  ACCEPTED_COPY_OPTIONS,
  type CopyArgs,
  copyArgsProblems,
  copyOptionsSql,
  parseCopyArgs,
} from "../../../../lambda/jobs/db-from-s3/copy-options";
import { LavaError } from "../../../../lambda/shared/errors";
import { thrownProblems } from "../../../support/rejection";

const AT = "job sales/load: parameters.args";
const ACCEPTED =
  "accepted: FORMAT, HEADER, DELIMITER, NULL, QUOTE, ESCAPE, FORCE_NOT_NULL, FORCE_NULL, ENCODING, FREEZE, GZIP, MANIFEST";

/** The problems of parsing `args` with the usual prefix. */
const refusals = (...args: string[]) => thrownProblems(() => parseCopyArgs(args, AT));

/** A resolver that quotes names naively and expands `*` to two columns. */
const quoteAll = (_force: string, columns: readonly string[] | "*") =>
  columns === "*" ? ['"id"', '"Name"'] : columns.map((c) => `"${c.replaceAll('"', '""')}"`);

/** The SQL of `args`, parsed, through the naive resolver. */
const sqlOf = (...args: string[]) => copyOptionsSql(parseCopyArgs(args, AT), quoteAll);

describe("parseCopyArgs", () => {
  it("gives text format and nothing else for no args", () => {
    expect(parseCopyArgs([], AT)).toEqual({
      gzip: false,
      manifest: false,
      format: "text",
      options: [],
    });
  });

  it("reads a typical lava CSV job", () => {
    expect(
      parseCopyArgs(["FORMAT CSV", "HEADER", "DELIMITER '|'", "NULL ''", "GZIP", "MANIFEST"], AT),
    ).toEqual({
      gzip: true,
      manifest: true,
      format: "csv",
      options: [
        { name: "HEADER", value: true },
        { name: "DELIMITER", value: "|" },
        { name: "NULL", value: "" },
      ],
    });
  });

  it("lists the accepted options in the documented order", () => {
    expect(ACCEPTED_COPY_OPTIONS.join(", ")).toBe(ACCEPTED.slice("accepted: ".length));
  });

  describe("FORMAT", () => {
    it.each([
      ["FORMAT csv", "csv"],
      ["FORMAT CSV", "csv"],
      ["format Csv", "csv"],
      ["FORMAT 'csv'", "csv"],
      ['FORMAT "csv"', "csv"],
      ["FORMAT text", "text"],
      ["FORMAT binary", "binary"],
      ["  FORMAT   csv  ", "csv"],
    ])("reads %j as %s", (arg, format) => {
      expect(parseCopyArgs([arg], AT)).toEqual({
        gzip: false,
        manifest: false,
        format,
        options: [],
      });
    });

    it("refuses an unknown format", () => {
      expect(refusals("FORMAT xml")).toEqual([
        `${AT}[0]: FORMAT must be text, csv or binary, got "xml"`,
      ]);
    });

    it("refuses FORMAT without a value", () => {
      expect(refusals("FORMAT")).toEqual([`${AT}[0]: FORMAT needs a value: text, csv or binary`]);
    });

    it("refuses two values", () => {
      expect(refusals("FORMAT csv text")).toEqual([
        `${AT}[0]: FORMAT must be text, csv or binary, got "csv text"`,
      ]);
    });
  });

  describe("HEADER and FREEZE", () => {
    it.each([
      ["HEADER", true],
      ["header", true],
      ["HEADER true", true],
      ["HEADER TRUE", true],
      ["HEADER on", true],
      ["HEADER 1", true],
      ["HEADER 'true'", true],
      ["HEADER false", false],
      ["HEADER off", false],
      ["HEADER 0", false],
      ["HEADER match", "match"],
      ["HEADER MATCH", "match"],
    ])("reads %j as %j", (arg, value) => {
      expect(parseCopyArgs([arg], AT).options).toEqual([{ name: "HEADER", value }]);
    });

    it.each([
      ["FREEZE", true],
      ["FREEZE on", true],
      ["FREEZE false", false],
      ["freeze 0", false],
    ])("reads %j as %j", (arg, value) => {
      expect(parseCopyArgs([arg], AT).options).toEqual([{ name: "FREEZE", value }]);
    });

    it("refuses a value that is not a boolean", () => {
      expect(refusals("HEADER maybe", "FREEZE match")).toEqual([
        `${AT}[0]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"`,
        `${AT}[1]: FREEZE must be true, false, on, off, 1 or 0, got "match"`,
      ]);
      expect(refusals("HEADER true false")).toEqual([
        `${AT}[0]: HEADER must be true, false, on, off, 1, 0 or match, got "true false"`,
      ]);
    });

    it("refuses HEADER with FORMAT binary", () => {
      expect(refusals("FORMAT binary", "HEADER")).toEqual([
        `${AT}[1]: HEADER is not allowed with FORMAT binary`,
      ]);
    });
  });

  describe("DELIMITER, NULL, QUOTE, ESCAPE", () => {
    it.each([
      ["DELIMITER '|'", "DELIMITER", "|"],
      ["delimiter ','", "DELIMITER", ","],
      ["DELIMITER E'\\t'", "DELIMITER", "\t"],
      ["DELIMITER e'\\x7c'", "DELIMITER", "|"],
      ["DELIMITER E'\\174'", "DELIMITER", "|"],
      ["DELIMITER E'\\u007c'", "DELIMITER", "|"],
      ["DELIMITER E'\\U0000007c'", "DELIMITER", "|"],
      ["DELIMITER E'\\|'", "DELIMITER", "|"],
      ["DELIMITER ''''", "DELIMITER", "'"],
      ["DELIMITER E'\\''", "DELIMITER", "'"],
      ["NULL ''", "NULL", ""],
      ["NULL '\\N'", "NULL", "\\N"],
      ["NULL 'N/A'", "NULL", "N/A"],
      ["NULL E'\\\\N'", "NULL", "\\N"],
      ["NULL NA", "NULL", "na"],
      ['NULL "NA"', "NULL", "NA"],
      ["NULL 'it''s'", "NULL", "it's"],
      ["NULL 'Ünïcödé'", "NULL", "Ünïcödé"],
    ])("reads %j", (arg, name, value) => {
      expect(parseCopyArgs([arg], AT).options).toEqual([{ name, value }]);
    });

    it.each([
      ["QUOTE ''''", "QUOTE", "'"],
      ["QUOTE '\"'", "QUOTE", '"'],
      ["ESCAPE '\\'", "ESCAPE", "\\"],
      ["ESCAPE E'\\\\'", "ESCAPE", "\\"],
    ])("reads %j with FORMAT csv", (arg, name, value) => {
      expect(parseCopyArgs(["FORMAT csv", arg], AT).options).toEqual([{ name, value }]);
    });

    it("refuses a missing value", () => {
      expect(refusals("DELIMITER", "NULL")).toEqual([
        `${AT}[0]: DELIMITER needs a value, a quoted string like '|'`,
        `${AT}[1]: NULL needs a value, a quoted string like ''`,
      ]);
    });

    it("refuses an unquoted value PostgreSQL would not accept", () => {
      expect(refusals("DELIMITER |", "NULL \\N")).toEqual([
        `${AT}[0]: DELIMITER needs a quoted string like '|', got "|"`,
        `${AT}[1]: NULL needs a quoted string like '', got "\\\\N"`,
      ]);
      expect(refusals("NULL 'a' 'b'")).toEqual([
        `${AT}[0]: NULL needs a quoted string like '', got "'a' 'b'"`,
      ]);
    });

    it("refuses a DELIMITER, QUOTE or ESCAPE that is not one byte", () => {
      expect(
        thrownProblems(() =>
          parseCopyArgs(["FORMAT csv", "DELIMITER '||'", "QUOTE ''", "ESCAPE 'é'"], AT),
        ),
      ).toEqual([
        `${AT}[1]: DELIMITER must be a single one-byte character, got "||"`,
        `${AT}[2]: QUOTE must be a single one-byte character, got ""`,
        `${AT}[3]: ESCAPE must be a single one-byte character, got "é"`,
      ]);
    });

    it("suggests E'' when a plain string holds a backslash escape", () => {
      expect(refusals("DELIMITER '\\t'")).toEqual([
        `${AT}[0]: DELIMITER must be a single one-byte character, got "\\\\t" (write E'\\t' for a backslash escape)`,
      ]);
    });

    it("refuses newlines in DELIMITER and NULL", () => {
      expect(refusals("DELIMITER E'\\n'", "NULL E'a\\r'")).toEqual([
        `${AT}[0]: DELIMITER must not contain a newline or carriage return`,
        `${AT}[1]: NULL must not contain a newline or carriage return`,
      ]);
    });

    it("refuses a NUL character", () => {
      expect(refusals("NULL E'\\0'")).toEqual([`${AT}[0]: NULL must not contain a NUL character`]);
    });

    it("refuses escapes that are not one ASCII character or not Unicode", () => {
      expect(refusals("DELIMITER E'\\xff'", "NULL E'\\uD800'", "QUOTE E'\\u12'")).toEqual([
        `${AT}[0]: escape for byte 255 is not an ASCII character in "DELIMITER E'\\\\xff'"`,
        `${AT}[1]: invalid Unicode escape in "NULL E'\\\\uD800'"`,
        `${AT}[2]: invalid Unicode escape in "QUOTE E'\\\\u12'"`,
      ]);
    });

    it("refuses an unterminated string", () => {
      expect(refusals("NULL 'a", "DELIMITER E'\\'", "NULL E'\\")).toEqual([
        `${AT}[0]: unterminated quoted string in "NULL 'a"`,
        `${AT}[1]: unterminated quoted string in "DELIMITER E'\\\\'"`,
        `${AT}[2]: unterminated quoted string in "NULL E'\\\\"`,
      ]);
    });

    it("refuses QUOTE and ESCAPE outside FORMAT csv", () => {
      expect(refusals("QUOTE '\"'", "ESCAPE '\\'")).toEqual([
        `${AT}[0]: QUOTE is only allowed with FORMAT csv, not text (the default)`,
        `${AT}[1]: ESCAPE is only allowed with FORMAT csv, not text (the default)`,
      ]);
      expect(refusals("FORMAT text", "QUOTE '\"'")).toEqual([
        `${AT}[1]: QUOTE is only allowed with FORMAT csv, not text`,
      ]);
    });

    it("refuses DELIMITER and NULL with FORMAT binary", () => {
      expect(refusals("DELIMITER ','", "NULL ''", "FORMAT binary")).toEqual([
        `${AT}[0]: DELIMITER is not allowed with FORMAT binary`,
        `${AT}[1]: NULL is not allowed with FORMAT binary`,
      ]);
    });

    it.each([["'\\'"], ["'.'"], ["'a'"], ["'7'"]])(
      "refuses DELIMITER %s with FORMAT text, as PostgreSQL does",
      (value) => {
        const shown = JSON.stringify(value.slice(1, -1));
        expect(refusals(`DELIMITER ${value}`)).toEqual([
          `${AT}[0]: DELIMITER ${shown} is not allowed with FORMAT text (the default): it cannot be a backslash, a period, a lower-case letter or a digit`,
        ]);
      },
    );

    it("accepts such a DELIMITER with FORMAT csv", () => {
      expect(parseCopyArgs(["FORMAT csv", "DELIMITER '.'"], AT).options).toEqual([
        { name: "DELIMITER", value: "." },
      ]);
    });

    it("refuses a csv DELIMITER equal to the QUOTE", () => {
      expect(refusals("FORMAT csv", "DELIMITER '\"'")).toEqual([
        `${AT}[1]: DELIMITER and QUOTE must differ, both are "\\""`,
      ]);
      expect(refusals("FORMAT csv", "QUOTE ','")).toEqual([
        `${AT}[1]: DELIMITER and QUOTE must differ, both are ","`,
      ]);
    });
  });

  describe("FORCE_NULL and FORCE_NOT_NULL", () => {
    const forced = (arg: string, preserveCase = false) =>
      parseCopyArgs(["FORMAT csv", arg], AT, { preserveCase }).options;

    it.each([
      ["FORCE_NULL *", "FORCE_NULL", "*"],
      ["force_null *", "FORCE_NULL", "*"],
      ["FORCE NULL *", "FORCE_NULL", "*"],
      ["FORCE_NOT_NULL *", "FORCE_NOT_NULL", "*"],
      ["FORCE NOT NULL *", "FORCE_NOT_NULL", "*"],
      ["force not null *", "FORCE_NOT_NULL", "*"],
      ["FORCE_NULL (a, b)", "FORCE_NULL", ["a", "b"]],
      ["FORCE_NULL(a,b)", "FORCE_NULL", ["a", "b"]],
      ["FORCE_NULL a, b", "FORCE_NULL", ["a", "b"]],
      ["FORCE NULL (a)", "FORCE_NULL", ["a"]],
      ["FORCE NOT NULL a", "FORCE_NOT_NULL", ["a"]],
      ['FORCE_NOT_NULL (Id, "Order Id")', "FORCE_NOT_NULL", ["id", "Order Id"]],
      ['FORCE_NULL ("a""b", "*")', "FORCE_NULL", ['a"b', "*"]],
    ])("reads %j", (arg, name, columns) => {
      expect(forced(arg)).toEqual([{ name, columns }]);
    });

    it("keeps bare names' case with preserve_case", () => {
      expect(forced("FORCE_NULL (Id, name)", true)).toEqual([
        { name: "FORCE_NULL", columns: ["Id", "name"] },
      ]);
    });

    it.each([
      ["FORCE_NULL", "FORCE_NULL needs * or a column list like (a, b)"],
      ["FORCE_NULL ()", 'FORCE_NULL needs * or a column list like (a, b), got "()"'],
      ["FORCE_NULL (a,)", 'FORCE_NULL needs * or a column list like (a, b), got "(a,)"'],
      ["FORCE_NULL (a", 'FORCE_NULL needs * or a column list like (a, b), got "(a"'],
      ["FORCE_NULL a b", 'FORCE_NULL needs * or a column list like (a, b), got "a b"'],
      ["FORCE_NULL (*)", 'FORCE_NULL needs * or a column list like (a, b), got "(*)"'],
      ["FORCE_NULL a, *", 'FORCE_NULL needs * or a column list like (a, b), got "a, *"'],
      ["FORCE_NULL ('a')", `FORCE_NULL needs * or a column list like (a, b), got "('a')"`],
      ["FORCE NOT NULL", "FORCE_NOT_NULL needs * or a column list like (a, b)"],
      ['FORCE_NULL ("")', "FORCE_NULL column: empty name"],
      ["FORCE_NULL (a, A)", 'FORCE_NULL lists column "a" twice'],
      ['FORCE_NULL ("a', `unterminated quoted name in "FORCE_NULL (\\"a"`],
    ])("refuses %j", (arg, problem) => {
      expect(refusals("FORMAT csv", arg)).toEqual([`${AT}[1]: ${problem}`]);
    });

    it("refuses a column name longer than 63 bytes", () => {
      const long = "c".repeat(64);
      expect(refusals("FORMAT csv", `FORCE_NULL (${long})`)).toEqual([
        `${AT}[1]: FORCE_NULL column: name "${long}" is 64 bytes long; PostgreSQL allows at most 63 and would silently truncate it`,
      ]);
    });

    it("refuses FORCE_NULL and FORCE_NOT_NULL outside FORMAT csv", () => {
      expect(refusals("FORCE_NULL *", "FORMAT binary", "FORCE NOT NULL (a)")).toEqual([
        `${AT}[0]: FORCE_NULL is only allowed with FORMAT csv, not binary`,
        `${AT}[2]: FORCE_NOT_NULL is only allowed with FORMAT csv, not binary`,
      ]);
    });
  });

  describe("ENCODING", () => {
    it.each([
      ["ENCODING UTF8", "UTF8"],
      ["ENCODING 'UTF-8'", "UTF-8"],
      ["encoding latin1", "latin1"],
      ["ENCODING 'WIN_1252'", "WIN_1252"],
    ])("reads %j", (arg, value) => {
      expect(parseCopyArgs([arg], AT).options).toEqual([{ name: "ENCODING", value }]);
    });

    it("refuses what is not an encoding name", () => {
      expect(refusals("ENCODING 'utf 8'")).toEqual([
        `${AT}[0]: ENCODING must be an encoding name like UTF8, got "'utf 8'"`,
      ]);
      expect(refusals("ENCODING")).toEqual([
        `${AT}[0]: ENCODING needs a value: an encoding name like UTF8`,
      ]);
      expect(refusals("ENCODING 'x'';--'")).toEqual([
        `${AT}[0]: ENCODING must be an encoding name like UTF8, got "'x'';--'"`,
      ]);
    });
  });

  describe("GZIP and MANIFEST", () => {
    it("sets the flags, in any case, and adds no COPY option", () => {
      expect(parseCopyArgs(["gzip", "Manifest"], AT)).toEqual({
        gzip: true,
        manifest: true,
        format: "text",
        options: [],
      });
    });

    it("refuses a value", () => {
      expect(refusals("GZIP 1", "MANIFEST true")).toEqual([
        `${AT}[0]: GZIP takes no value, got "1"`,
        `${AT}[1]: MANIFEST takes no value, got "true"`,
      ]);
    });
  });

  describe("refusals", () => {
    it("refuses an unknown option, listing those accepted", () => {
      expect(refusals("FORMAT csv", "HEADER", "FOO")).toEqual([
        `${AT}[2]: unknown COPY option "FOO"; ${ACCEPTED}`,
      ]);
    });

    it("shows an unknown FORCE option with its second word", () => {
      expect(refusals("FORCE QUOTE *", "FORCE")).toEqual([
        `${AT}[0]: unknown COPY option "FORCE QUOTE"; ${ACCEPTED}`,
        `${AT}[1]: unknown COPY option "FORCE"; ${ACCEPTED}`,
      ]);
    });

    it("refuses Redshift-only options as unknown", () => {
      expect(refusals("IGNOREHEADER 1")).toEqual([
        `${AT}[0]: unknown COPY option "IGNOREHEADER"; ${ACCEPTED}`,
      ]);
    });

    it("refuses an entry that does not start with a name", () => {
      expect(refusals("'FORMAT' csv", "(a)")).toEqual([
        `${AT}[0]: unknown COPY option "'FORMAT' csv"; ${ACCEPTED}`,
        `${AT}[1]: unknown COPY option "(a)"; ${ACCEPTED}`,
      ]);
    });

    it("refuses OIDS with the reason", () => {
      expect(refusals("OIDS", "oids true")).toEqual([
        `${AT}[0]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS`,
        `${AT}[1]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS`,
      ]);
    });

    it("refuses an empty entry", () => {
      expect(refusals("", "  ")).toEqual([
        `${AT}[0]: empty COPY option`,
        `${AT}[1]: empty COPY option`,
      ]);
    });

    it("refuses an entry that is not a string", () => {
      expect(thrownProblems(() => parseCopyArgs([5 as unknown as string], AT))).toEqual([
        `${AT}[0]: expected a COPY option like "FORMAT csv", got 5`,
      ]);
    });

    it("refuses an option given twice, whatever the spelling", () => {
      expect(
        refusals("FORMAT csv", "format text", "FORCE_NULL (a)", "FORCE NULL (b)", "GZIP", "gzip"),
      ).toEqual([
        `${AT}[1]: duplicate option FORMAT (first given at [0])`,
        `${AT}[3]: duplicate option FORCE_NULL (first given at [2])`,
        `${AT}[5]: duplicate option GZIP (first given at [4])`,
      ]);
    });

    it("reports every problem in entry order in one SpecError", () => {
      expect(refusals("QUOTE '\"'", "FOO", "DELIMITER '||'", "OIDS", "HEADER maybe")).toEqual([
        `${AT}[0]: QUOTE is only allowed with FORMAT csv, not text (the default)`,
        `${AT}[1]: unknown COPY option "FOO"; ${ACCEPTED}`,
        `${AT}[2]: DELIMITER must be a single one-byte character, got "||"`,
        `${AT}[3]: OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS`,
        `${AT}[4]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"`,
      ]);
    });

    it("skips the format checks when FORMAT itself is refused", () => {
      expect(refusals("FORMAT xml", "QUOTE '\"'")).toEqual([
        `${AT}[0]: FORMAT must be text, csv or binary, got "xml"`,
      ]);
    });
  });
});

describe("copyArgsProblems", () => {
  const templated = (arg: string) => arg.includes("{{");

  it("reports what parseCopyArgs refuses when no entry is skipped", () => {
    const args = ["FORMAT csv", "OIDS", "HEADER maybe", "NULL 'a' ; DROP"];
    expect(copyArgsProblems(args, AT, {}, templated)).toEqual(refusals(...args));
    expect(copyArgsProblems(["FORMAT csv", "HEADER"], AT, {}, templated)).toEqual([]);
  });

  it("skips entries the caller says are templates, and keeps the others' indexes", () => {
    expect(copyArgsProblems(["{{ fmt }}", "HEADER maybe"], AT, {}, templated)).toEqual([
      `${AT}[1]: HEADER must be true, false, on, off, 1, 0 or match, got "maybe"`,
    ]);
  });

  it("does not judge entries by a FORMAT a template may set", () => {
    expect(copyArgsProblems(["FORMAT {{ fmt }}", "QUOTE '|'"], AT, {}, templated)).toEqual([]);
  });

  it("still refuses two plain entries of one option next to a template", () => {
    expect(copyArgsProblems(["{{ x }}", "HEADER", "HEADER false"], AT, {}, templated)).toEqual([
      `${AT}[2]: duplicate option HEADER (first given at [1])`,
    ]);
  });
});

describe("copyOptionsSql", () => {
  it("always starts with FORMAT, so the list is never empty", () => {
    expect(sqlOf()).toBe("(FORMAT text)");
  });

  it("renders a typical CSV job and leaves GZIP and MANIFEST out", () => {
    expect(
      sqlOf(
        "GZIP",
        "FORMAT CSV",
        "HEADER",
        "DELIMITER '|'",
        "NULL ''",
        "MANIFEST",
        "FORCE_NULL (a, b)",
      ),
    ).toBe(`(FORMAT csv, HEADER true, DELIMITER '|', NULL '', FORCE_NULL ("a", "b"))`);
  });

  it("renders every option from its parsed value", () => {
    expect(
      sqlOf(
        "format csv",
        "header match",
        "delimiter ';'",
        "null 'N/A'",
        "quote ''''",
        "escape '\\'",
        "force not null (Id)",
        "encoding 'UTF-8'",
        "freeze off",
      ),
    ).toBe(
      "(FORMAT csv, HEADER match, DELIMITER ';', NULL 'N/A', QUOTE '''', ESCAPE E'\\\\', FORCE_NOT_NULL (\"id\"), ENCODING 'UTF-8', FREEZE false)",
    );
  });

  it("renders HEADER false and FREEZE true", () => {
    expect(sqlOf("HEADER off", "FREEZE")).toBe("(FORMAT text, HEADER false, FREEZE true)");
  });

  it("renders an E'\\t' delimiter as a tab inside a plain literal", () => {
    expect(sqlOf("DELIMITER E'\\t'")).toBe("(FORMAT text, DELIMITER '\t')");
  });

  it("renders a backslash NULL string in the E'' form", () => {
    expect(sqlOf("NULL '\\N'")).toBe("(FORMAT text, NULL E'\\\\N')");
  });

  it("doubles quotes in values", () => {
    expect(sqlOf("NULL 'it''s'", "DELIMITER E'\\''")).toBe(
      "(FORMAT text, NULL 'it''s', DELIMITER '''')",
    );
  });

  it("expands FORCE_NULL * through the resolver", () => {
    const resolve = vi.fn(() => ['"id"', '"Name"', '"a""b"']);
    const sql = copyOptionsSql(parseCopyArgs(["FORMAT csv", "FORCE_NULL *"], AT), resolve);
    expect(sql).toBe('(FORMAT csv, FORCE_NULL ("id", "Name", "a""b"))');
    expect(resolve).toHaveBeenCalledWith("FORCE_NULL", "*");
  });

  it("passes listed names to the resolver as parsed", () => {
    const resolve = vi.fn(() => ['"x"']);
    copyOptionsSql(parseCopyArgs(["FORMAT csv", 'FORCE NOT NULL (A, "B c")'], AT), resolve);
    expect(resolve).toHaveBeenCalledWith("FORCE_NOT_NULL", ["a", "B c"]);
  });

  it("refuses a resolver answer that is empty", () => {
    const args: CopyArgs = parseCopyArgs(["FORMAT csv", "FORCE_NULL *"], AT);
    expect(() => copyOptionsSql(args, () => [])).toThrow(
      new LavaError("FORCE_NULL: no columns to list"),
    );
  });

  it("refuses a resolver answer that is not a quoted identifier", () => {
    const args = parseCopyArgs(["FORMAT csv", "FORCE_NULL (a)"], AT);
    for (const bad of ["a", '"a', '"a"b"', '"a"); DROP TABLE t; --', '""']) {
      expect(() => copyOptionsSql(args, () => [bad])).toThrow(LavaError);
    }
  });

  it("never pastes hostile input: quotes and backslashes stay inside literals", () => {
    const sql = sqlOf("NULL E'\\'); DROP TABLE t; --'");
    expect(sql).toBe("(FORMAT text, NULL '''); DROP TABLE t; --')");
  });
});
