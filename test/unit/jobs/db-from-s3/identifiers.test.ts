import { describe, expect, it } from "vitest";
import {
  checkName,
  foldName,
  MAX_IDENTIFIER_BYTES,
  parseColumnSpec,
  qualifiedName,
  quoteIdent,
} from "../../../../lambda/jobs/db-from-s3/identifiers";
import { thrownProblems } from "../../../support/rejection";

describe("foldName", () => {
  it("lower-cases a name", () => {
    expect(foldName("Sales_Orders", false)).toBe("sales_orders");
  });

  it("lower-cases non-ASCII letters too", () => {
    expect(foldName("ÉTÉ", false)).toBe("été");
  });

  it("keeps the name as it is with preserve_case", () => {
    expect(foldName("Sales_Orders", true)).toBe("Sales_Orders");
  });
});

describe("checkName", () => {
  it("returns a good name unchanged", () => {
    expect(checkName("orders", "parameters.table")).toBe("orders");
  });

  it(`accepts exactly ${MAX_IDENTIFIER_BYTES} bytes`, () => {
    expect(MAX_IDENTIFIER_BYTES).toBe(63);
    expect(checkName("a".repeat(63), "t")).toBe("a".repeat(63));
    expect(checkName(`${"é".repeat(31)}a`, "t")).toBe(`${"é".repeat(31)}a`);
  });

  it("refuses an empty name", () => {
    expect(thrownProblems(() => checkName("", "job j: parameters.table"))).toEqual([
      "job j: parameters.table: empty name",
    ]);
  });

  it("refuses a name with a NUL character", () => {
    expect(thrownProblems(() => checkName("a\0b", "job j: parameters.table"))).toEqual([
      'job j: parameters.table: name "a\\u0000b" contains a NUL character',
    ]);
  });

  it("refuses a name longer than 63 bytes, counting bytes not characters", () => {
    // 32 × "é" is 32 characters but 64 UTF-8 bytes.
    const name = "é".repeat(32);
    expect(thrownProblems(() => checkName(name, "job j: parameters.table"))).toEqual([
      `job j: parameters.table: name "${name}" is 64 bytes long; PostgreSQL allows at most 63 and would silently truncate it`,
    ]);
  });

  it("refuses 64 ASCII characters", () => {
    expect(thrownProblems(() => checkName("x".repeat(64), "t"))).toEqual([
      `t: name "${"x".repeat(64)}" is 64 bytes long; PostgreSQL allows at most 63 and would silently truncate it`,
    ]);
  });

  it("refuses an unpaired surrogate, which is not Unicode", () => {
    expect(thrownProblems(() => checkName("a\uD800", "t"))).toEqual([
      't: name "a\\ud800" contains an unpaired surrogate (not valid Unicode)',
    ]);
  });
});

describe("quoteIdent", () => {
  it.each([
    ["orders", '"orders"'],
    ['a"b', '"a""b"'],
    ['""', '""""""'],
    ["Order Id", '"Order Id"'],
    ["x; DROP TABLE y; --", '"x; DROP TABLE y; --"'],
    ["a'b", `"a'b"`],
    ["a\\b", '"a\\b"'],
    ["日本語の表", '"日本語の表"'],
    ["😀", '"😀"'],
    ["Mixed", '"Mixed"'],
  ])("quotes %j as %s", (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it("refuses what checkName refuses, naming what it was", () => {
    expect(thrownProblems(() => quoteIdent(""))).toEqual(["identifier: empty name"]);
    expect(thrownProblems(() => quoteIdent("a\0", "parameters.schema"))).toEqual([
      'parameters.schema: name "a\\u0000" contains a NUL character',
    ]);
  });

  it("checks the length before quoting, so doubled quotes do not count", () => {
    const name = `${'"'.repeat(30)}${"a".repeat(33)}`;
    expect(quoteIdent(name)).toBe(`"${'""'.repeat(30)}${"a".repeat(33)}"`);
  });
});

describe("qualifiedName", () => {
  it("quotes schema and table", () => {
    expect(qualifiedName("public", "orders")).toBe('"public"."orders"');
  });

  it("quotes hostile parts so they stay one name each", () => {
    expect(qualifiedName('s"."x', "t; --")).toBe('"s"".""x"."t; --"');
  });

  it("names the part that is refused", () => {
    expect(thrownProblems(() => qualifiedName("", "t"))).toEqual(["schema: empty name"]);
    expect(thrownProblems(() => qualifiedName("s", "", "job j"))).toEqual([
      "job j: table: empty name",
    ]);
  });
});

describe("parseColumnSpec", () => {
  it("splits the name from the definition and quotes it", () => {
    expect(parseColumnSpec("id INTEGER PRIMARY KEY", false)).toEqual({
      name: "id",
      definition: '"id" INTEGER PRIMARY KEY',
    });
  });

  it("folds an unquoted name to lower case", () => {
    expect(parseColumnSpec("OrderId BIGINT", false)).toEqual({
      name: "orderid",
      definition: '"orderid" BIGINT',
    });
  });

  it("keeps an unquoted name's case with preserve_case", () => {
    expect(parseColumnSpec("OrderId BIGINT", true)).toEqual({
      name: "OrderId",
      definition: '"OrderId" BIGINT',
    });
  });

  it("keeps a quoted name exactly, without folding", () => {
    expect(parseColumnSpec('"Order Id" BIGINT NOT NULL', false)).toEqual({
      name: "Order Id",
      definition: '"Order Id" BIGINT NOT NULL',
    });
  });

  it('reads "" inside a quoted name as one quote and doubles it again when quoting', () => {
    expect(parseColumnSpec('"say ""hi""" TEXT', false)).toEqual({
      name: 'say "hi"',
      definition: '"say ""hi""" TEXT',
    });
  });

  it("trims the spec and joins name and type with one space", () => {
    expect(parseColumnSpec("  id \t INTEGER  ", false)).toEqual({
      name: "id",
      definition: '"id" INTEGER',
    });
  });

  it("keeps the rest as written, quotes, parentheses and all", () => {
    expect(
      parseColumnSpec(
        "price NUMERIC(10, 2) DEFAULT 0 CHECK (price >= 0 AND note <> 'a;b') COLLATE \"C\"",
        false,
      ).definition,
    ).toBe('"price" NUMERIC(10, 2) DEFAULT 0 CHECK (price >= 0 AND note <> \'a;b\') COLLATE "C"');
  });

  it("accepts ; inside E'' strings, dollar quotes and quoted names", () => {
    expect(parseColumnSpec("a TEXT DEFAULT E'it\\'s;'", false).definition).toBe(
      "\"a\" TEXT DEFAULT E'it\\'s;'",
    );
    expect(parseColumnSpec("a TEXT DEFAULT $x$it's; ok$x$", false).definition).toBe(
      '"a" TEXT DEFAULT $x$it\'s; ok$x$',
    );
    expect(parseColumnSpec('a "my;type"', false).definition).toBe('"a" "my;type"');
  });

  it("quotes an unquoted first word with odd characters safely", () => {
    expect(parseColumnSpec('a"b;c INT', false)).toEqual({
      name: 'a"b;c',
      definition: '"a""b;c" INT',
    });
  });

  it("quotes a unicode name", () => {
    expect(parseColumnSpec("Größe INT", false)).toEqual({
      name: "größe",
      definition: '"größe" INT',
    });
  });

  it.each([
    ["", "empty column spec"],
    ["   ", "empty column spec"],
    ["id", "no type after the column name"],
    ['"Order Id"', "no type after the column name"],
    ['"Order Id BIGINT', "unterminated quoted name"],
    ['"a"b INT', "expected a space after the quoted name"],
    ["id INT; DROP TABLE x", "';' outside quotes"],
    ["id INT DEFAULT 'x", "unterminated quoted string"],
    ["id INT DEFAULT E'x\\'", "unterminated quoted string"],
    ['id "INT', "unterminated quoted name"],
    ["id TEXT DEFAULT $$x", "unterminated dollar-quoted string"],
    ["id INT -- note", "'--' comment"],
    ["id INT /* note */", "'/*' comment"],
    ["id INT) , (x INT", "unbalanced ')'"],
    ["id NUMERIC(10", "unbalanced '('"],
  ])("refuses %j: %s", (spec, problem) => {
    expect(
      thrownProblems(() => parseColumnSpec(spec, false, "job j: parameters.columns[0]")),
    ).toEqual([`job j: parameters.columns[0]: ${problem}, got ${JSON.stringify(spec)}`]);
  });

  it("refuses a bad name through checkName", () => {
    expect(thrownProblems(() => parseColumnSpec('"" INT', false, "c"))).toEqual(["c: empty name"]);
    expect(thrownProblems(() => parseColumnSpec(`${"é".repeat(32)} INT`, false, "c"))).toEqual([
      `c: name "${"é".repeat(32)}" is 64 bytes long; PostgreSQL allows at most 63 and would silently truncate it`,
    ]);
  });

  it("says column when no prefix is given", () => {
    expect(thrownProblems(() => parseColumnSpec("id", false))).toEqual([
      'column: no type after the column name, got "id"',
    ]);
  });
});
