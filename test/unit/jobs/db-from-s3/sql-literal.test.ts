import { describe, expect, it } from "vitest";
import { sqlLiteral } from "../../../../lambda/jobs/db-from-s3/sql-literal";
import { LavaError } from "../../../../lambda/shared/errors";

describe("sqlLiteral", () => {
  it.each([
    ["|", "'|'"],
    ["", "''"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ["\\N", "E'\\\\N'"],
    ["\\", "E'\\\\'"],
    ["a\\'b", "E'a\\\\''b'"],
    ["\t", "'\t'"],
    ["é", "'é'"],
  ])("renders %j as %s", (value, literal) => {
    expect(sqlLiteral(value)).toBe(literal);
  });

  it("refuses a NUL character", () => {
    expect(() => sqlLiteral("a\0")).toThrow(LavaError);
  });
});
