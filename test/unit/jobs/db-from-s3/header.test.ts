/**
 * The header reader (docs/db-from-s3.md §18): a record parsed as COPY reads it
 * in CSV and text format, ranged and pinned reads of an object's first bytes
 * (gunzipped when GZIP), and the mapping and check of the names.
 */
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { parseCopyArgs } from "../../../../lambda/jobs/db-from-s3/copy-options";
import {
  checkHeader,
  forceWithin,
  type HeaderSyntax,
  headerMode,
  headerSyntax,
  mapHeader,
  parseHeaderRecord,
  readHeader,
} from "../../../../lambda/jobs/db-from-s3/header";
import { BadDataError, SpecError } from "../../../../lambda/shared/errors";
import type { SourceObject } from "../../../../lambda/shared/s3-objects";

const syntax = (...args: string[]): HeaderSyntax => headerSyntax(parseCopyArgs(args, "args"));
const CSV = syntax("FORMAT csv");
const TEXT = syntax();

describe("parseHeaderRecord, CSV", () => {
  it.each([
    ["id,name,tier\n1,a,b\n", ["id", "name", "tier"]],
    ['"a,b",id\n', ["a,b", "id"]],
    ['"say ""hi""",x\n', ['say "hi"', "x"]],
    ['"two\nlines",x\n1,2\n', ["two\nlines", "x"]],
    ["id,name\r\n1,a\r\n", ["id", "name"]],
    ["id,name\r1,a\r", ["id", "name"]],
    ["id,,x\n", ["id", "", "x"]],
    [" id , name\n", [" id ", " name"]],
    ['a"b,c"d\n', ["ab,cd"]],
    ["\uFEFFid,name\n", ["id", "name"]],
  ])("reads %j", (text, names) => {
    expect(parseHeaderRecord(text, CSV, false)).toEqual({ names });
  });

  it("takes DELIMITER, QUOTE and ESCAPE from the load's options", () => {
    const s = syntax("FORMAT csv", "DELIMITER '|'", "QUOTE ''''", "ESCAPE E'\\\\'");
    expect(parseHeaderRecord("'a|b'|'it\\'s'|c,d\n", s, false)).toEqual({
      names: ["a|b", "it's", "c,d"],
    });
  });

  it("asks for more until the record ends, and takes the end of the object as its end", () => {
    expect(parseHeaderRecord("id,na", CSV, false)).toEqual({ more: true });
    expect(parseHeaderRecord('"a\nb', CSV, false)).toEqual({ more: true });
    // A quote at the end may be the first of a doubled pair.
    expect(parseHeaderRecord('"a"', CSV, false)).toEqual({ more: true });
    expect(parseHeaderRecord("id,name", CSV, true)).toEqual({ names: ["id", "name"] });
    expect(parseHeaderRecord('"id,name', CSV, true)).toEqual({
      problem: "the header record ends inside a quoted field",
    });
  });
});

describe("parseHeaderRecord, text format", () => {
  it.each([
    ["id\tname\n1\ta\n", ["id", "name"]],
    ["a\\tb\tc\\\\d\n", ["a\tb", "c\\d"]],
    ["\\x41\\101\\x4a1\n", ["AAJ1"]],
    ["a\\\tb\tc\n", ["a\tb", "c"]],
    ["two\\\nlines\tx\n", ["two\nlines", "x"]],
    ["\\N\tx\n", ["\\N", "x"]],
  ])("reads %j", (text, names) => {
    expect(parseHeaderRecord(text, TEXT, false)).toEqual({ names });
  });

  it("takes the DELIMITER, and waits for an escape cut by the end of what was read", () => {
    expect(parseHeaderRecord("a|b\n", syntax("DELIMITER '|'"), false)).toEqual({
      names: ["a", "b"],
    });
    expect(parseHeaderRecord("a\\x4", TEXT, false)).toEqual({ more: true });
    expect(parseHeaderRecord("a\\x4", TEXT, true)).toEqual({ names: ["a\u0004"] });
  });
});

describe("headerSyntax and headerMode", () => {
  it("has COPY's defaults per format", () => {
    expect(CSV).toEqual({
      format: "csv",
      delimiter: ",",
      quote: '"',
      escape: '"',
      null: "",
      encoding: "utf-8",
    });
    expect(TEXT).toMatchObject({ format: "text", delimiter: "\t", null: "\\N" });
  });

  it("knows PostgreSQL's encoding names, and refuses others by name", () => {
    expect(syntax("FORMAT csv", "ENCODING LATIN1").encoding).toBe("iso-8859-1");
    expect(syntax("FORMAT csv", "ENCODING 'win1252'").encoding).toBe("windows-1252");
    expect(syntax("FORMAT csv", "ENCODING 'UTF-8'").encoding).toBe("utf-8");
    expect(() => syntax("FORMAT csv", "ENCODING MULE_INTERNAL")).toThrow(
      /args: ENCODING "MULE_INTERNAL": the header cannot be read in it here/,
    );
  });

  it("maps with columns_from_header, checks with HEADER, leaves HEADER match to PostgreSQL", () => {
    const mode = (columnsFromHeader: boolean, ...args: string[]) =>
      headerMode({ copy: parseCopyArgs(args, "args"), columnsFromHeader }, "job j: parameters.");
    expect(mode(true, "FORMAT csv", "HEADER")).toBe("map");
    expect(mode(true, "FORMAT csv", "HEADER match")).toBe("map");
    expect(mode(false, "FORMAT csv", "HEADER")).toBe("check");
    expect(mode(false, "FORMAT csv", "HEADER match")).toBeUndefined();
    expect(mode(false, "FORMAT csv", "HEADER false")).toBeUndefined();
    expect(mode(false, "FORMAT csv")).toBeUndefined();
    expect(() => mode(true, "FORMAT csv", "HEADER false")).toThrow(SpecError);
    expect(() => mode(true, "FORMAT csv")).toThrow(
      "job j: parameters.columns_from_header: needs HEADER true (or match) in args",
    );
  });
});

/** An S3 client serving one object's bytes by range, recording each GetObject's input. */
function fakeS3(bytes: Buffer) {
  const calls: Record<string, unknown>[] = [];
  const s3 = {
    async send(cmd: { input: Record<string, unknown> }) {
      calls.push(cmd.input);
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(cmd.input.Range));
      if (!m) throw new Error(`no range: ${String(cmd.input.Range)}`);
      const part = bytes.subarray(Number(m[1]), Number(m[2]) + 1);
      // Served in small chunks, as a socket would.
      const chunks = Array.from({ length: Math.ceil(part.length / 7) }, (_, i) =>
        part.subarray(i * 7, i * 7 + 7),
      );
      return { Body: Readable.from(chunks) };
    },
  } as unknown as S3Client;
  return { s3, calls };
}

const object = (size: number, versionId?: string): SourceObject => ({
  bucket: "b",
  key: "k.csv",
  identity: "x",
  etag: '"e1"',
  versionId,
  lastModified: new Date(0),
  size,
  contentEncoding: undefined,
});

describe("readHeader", () => {
  it("reads ranges from the start, each twice the last, pinned to the ETag, until the record ends", async () => {
    const body = Buffer.from(`${"a".repeat(40)},id\n1,2\n${"x".repeat(200)}\n`);
    const { s3, calls } = fakeS3(body);
    const names = await readHeader(s3, object(body.length), CSV, false, { firstBytes: 16 });
    expect(names).toEqual(["a".repeat(40), "id"]);
    expect(calls).toEqual([
      { Bucket: "b", Key: "k.csv", IfMatch: '"e1"', Range: "bytes=0-15" },
      { Bucket: "b", Key: "k.csv", IfMatch: '"e1"', Range: "bytes=16-47" },
    ]);
  });

  it("pins to the version id where there is one, and never reads past the object", async () => {
    const body = Buffer.from("id,name");
    const { s3, calls } = fakeS3(body);
    expect(await readHeader(s3, object(body.length, "v9"), CSV, false)).toEqual(["id", "name"]);
    expect(calls).toEqual([{ Bucket: "b", Key: "k.csv", VersionId: "v9", Range: "bytes=0-6" }]);
  });

  it("gunzips only the start of a GZIP object", async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `${i},n${(i * 7919) % 100_003}`);
    const body = gzipSync(`name,id\n${rows.join("\n")}\n`);
    expect(body.length).toBeGreaterThan(4 * 64 * 1024);
    const { s3, calls } = fakeS3(body);
    expect(await readHeader(s3, object(body.length), CSV, true)).toEqual(["name", "id"]);
    expect(calls.map((c) => c.Range)).toEqual(["bytes=0-65535"]);
  });

  it("is undefined for an empty object, and reads no range of it", async () => {
    const { s3, calls } = fakeS3(Buffer.alloc(0));
    expect(await readHeader(s3, object(0), CSV, false)).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it("decodes the load's ENCODING", async () => {
    const body = Buffer.from("caf\xe9,id\n", "latin1");
    const { s3 } = fakeS3(body);
    const latin1 = syntax("FORMAT csv", "ENCODING LATIN1");
    expect(await readHeader(s3, object(body.length), latin1, false)).toEqual(["café", "id"]);
  });

  it("fails with a BadDataError when no record ends within the cap, or the gzip data is bad", async () => {
    const long = Buffer.from(`${"a".repeat(300)}\n`);
    const { s3 } = fakeS3(long);
    const err = await readHeader(s3, object(long.length), CSV, false, {
      firstBytes: 16,
      maxBytes: 100,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BadDataError);
    expect(err.message).toBe(
      "bad data in s3://b/k.csv: line 1: no end of the header record in the first 100 bytes: nothing loaded",
    );
    const open = Buffer.from('"id,name\n1,2\n');
    const quoted = await readHeader(fakeS3(open).s3, object(open.length), CSV, false).catch(
      (e) => e,
    );
    expect(quoted.message).toContain("line 1: the header record ends inside a quoted field");
    const notGzip = Buffer.from("id,name\n");
    const gz = await readHeader(fakeS3(notGzip).s3, object(notGzip.length), CSV, true).catch(
      (e) => e,
    );
    expect(gz).toBeInstanceOf(BadDataError);
    expect(gz.message).toMatch(/^bad data in s3:\/\/b\/k\.csv: not valid gzip data/);
  });
});

describe("mapHeader", () => {
  const o = { columns: ["id", "name", "Tier"], object: "s3://b/k", table: '"s"."t"' };

  it("folds names as column names are, keeping the header's order", () => {
    expect(mapHeader(["NAME", "Id"], { ...o, preserveCase: false })).toEqual(["name", "id"]);
    expect(mapHeader(["Tier", "id"], { ...o, preserveCase: true })).toEqual(["Tier", "id"]);
  });

  it("names unknown and repeated names, and the table's columns", () => {
    expect(() =>
      mapHeader(["id", "colour", "ID", "size", "id"], { ...o, preserveCase: false }),
    ).toThrow(
      'bad data in s3://b/k: line 1: the header names columns "colour", "size" that "s"."t" does not have (its columns: "id", "name", "Tier"); the header names "id" 3 times (fields 1, 3, 5): nothing loaded (columns_from_header)',
    );
    expect(() => mapHeader(["Tier"], { ...o, preserveCase: false })).toThrow(
      'the header names a column "tier" that "s"."t" does not have',
    );
  });
});

describe("checkHeader", () => {
  const o = { fills: ["id", "name"], preserveCase: false, object: "s3://b/k" };

  it("passes matching names silently, reports other names, fails another count", () => {
    expect(checkHeader(["ID", "Name"], o)).toBeUndefined();
    expect(checkHeader(["a", "b"], o)).toBe(
      's3://b/k: header ("a", "b") differs from the columns loaded ("id", "name"): loaded by position, as lava does (columns_from_header: true maps by name)',
    );
    expect(() => checkHeader(["id"], o)).toThrow(
      'bad data in s3://b/k: line 1: the header has 1 fields ("id") where the load fills 2 columns ("id", "name")',
    );
  });
});

describe("forceWithin", () => {
  it("keeps FORCE_* columns the object has, drops emptied lists, keeps *", () => {
    const copy = parseCopyArgs(
      ["FORMAT csv", "FORCE_NULL (a, b)", "FORCE_NOT_NULL (c)", "HEADER"],
      "args",
    );
    expect(forceWithin(copy, ["b", "x"]).options).toEqual([
      { name: "FORCE_NULL", columns: ["b"] },
      { name: "HEADER", value: true },
    ]);
    const star = parseCopyArgs(["FORMAT csv", "FORCE_NULL *"], "args");
    expect(forceWithin(star, ["x"]).options).toEqual([{ name: "FORCE_NULL", columns: "*" }]);
  });
});
