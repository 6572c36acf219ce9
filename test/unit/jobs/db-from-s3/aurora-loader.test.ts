import { describe, expect, it } from "vitest";
import {
  importError,
  importedRows,
  isEmptyImport,
} from "../../../../lambda/jobs/db-from-s3/aurora-loader";

describe("importedRows", () => {
  it("reads the row count from aws_s3's answer", () => {
    expect(importedRows('2 rows imported into relation "sales.t" from file k of 17 bytes')).toBe(2);
    expect(importedRows('1 row imported into relation "t" from file k of 5 bytes')).toBe(1);
  });

  it("refuses an answer it does not understand (a NULL from a strict call, say)", () => {
    expect(() => importedRows(null)).toThrow(
      "unexpected answer from aws_s3.table_import_from_s3: null",
    );
  });
});

describe("isEmptyImport", () => {
  it("recognises Aurora's error for an empty object", () => {
    expect(isEmptyImport(new Error("0 rows were copied successfully"))).toBe(true);
    expect(isEmptyImport(new Error("HTTP 404. Requested file does not exist."))).toBe(false);
    expect(isEmptyImport(undefined)).toBe(false);
  });
});

describe("importError", () => {
  const url = "s3://b/k.csv";
  it("maps Aurora's HTTP errors to errors naming the object", () => {
    expect(
      importError(new Error("HTTP 412. The file has changed since the import started."), url),
    ).toMatchObject({
      name: "ObjectChangedError",
      message: "s3://b/k.csv was replaced during the load; nothing loaded",
    });
    expect(importError(new Error("HTTP 404. Requested file does not exist."), url)).toMatchObject({
      name: "ObjectMissingError",
      message: "s3://b/k.csv does not exist (aws_s3: HTTP 404. Requested file does not exist.)",
    });
    expect(importError(new Error("HTTP 403. Permission denied."), url).message).toBe(
      "s3://b/k.csv: the database may not read it (aws_s3: HTTP 403. Permission denied.); check the cluster's S3-import role or s3_conn_id",
    );
  });

  it("reports bad data with the object", () => {
    const err = Object.assign(new Error('invalid input syntax for type integer: "x"'), {
      code: "22P02",
      where: "COPY t, line 2, column id",
    });
    expect(importError(err, url)).toMatchObject({ name: "BadDataError", line: 2 });
  });
});
