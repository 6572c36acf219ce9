import { describe, expect, it } from "vitest";
import {
  checkName,
  foldName,
  MAX_IDENTIFIER_BYTES,
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
