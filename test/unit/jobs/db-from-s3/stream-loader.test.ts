import { describe, expect, it } from "vitest";
import { copyError, copySql } from "../../../../lambda/jobs/db-from-s3/stream-loader";

const pgError = (code: string, message: string, where?: string) =>
  Object.assign(new Error(message), { code, ...(where ? { where } : {}) });

describe("copySql", () => {
  it("names the table, the columns and the options", () => {
    expect(copySql({ table: '"s"."t"', columns: ['"a"', '"b"'], options: "(FORMAT csv)" })).toBe(
      'COPY "s"."t" ("a", "b") FROM STDIN WITH (FORMAT csv)',
    );
    expect(copySql({ table: '"s"."t"', columns: undefined, options: "" })).toBe(
      'COPY "s"."t" FROM STDIN',
    );
  });
});

describe("copyError", () => {
  it("names the object, line and column of bad data", () => {
    const err = copyError(
      pgError(
        "22P02",
        'invalid input syntax for type integer: "x"',
        'COPY t, line 3, column id: "x"',
      ),
      "s3://b/k",
    );
    expect(err).toMatchObject({ name: "BadDataError", line: 3, code: "22P02", retryable: false });
    expect(err.message).toBe(
      'bad data in s3://b/k: line 3, column id: invalid input syntax for type integer: "x"',
    );
  });

  it("reports constraint violations as bad data", () => {
    const err = copyError(
      pgError("23505", "duplicate key value violates unique constraint", "COPY t, line 9"),
      "s3://b/k",
    );
    expect(err).toMatchObject({ name: "BadDataError", line: 9 });
  });

  it("reports corrupt gzip as bad data", () => {
    const err = copyError(pgError("Z_DATA_ERROR", "incorrect header check"), "s3://b/k.gz");
    expect(err.message).toBe(
      "bad data in s3://b/k.gz: not valid gzip data (incorrect header check)",
    );
  });

  it("reports the deadline's cancel as a retryable timeout", () => {
    expect(
      copyError(pgError("57014", "canceling statement due to statement timeout"), "s3://b/k"),
    ).toMatchObject({
      name: "LoadTimeoutError",
      retryable: true,
    });
  });

  it("keeps other SQLSTATEs, retryable where transient", () => {
    expect(copyError(pgError("57P01", "terminating connection"), "s3://b/k")).toMatchObject({
      name: "DatabaseServerError",
      code: "57P01",
      retryable: true,
    });
    expect(copyError(pgError("42501", "permission denied"), "s3://b/k")).toMatchObject({
      name: "DatabaseServerError",
      retryable: false,
    });
  });
});
