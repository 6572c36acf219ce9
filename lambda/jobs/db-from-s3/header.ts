/**
 * Header mapping and the header check (docs/db-from-s3.md §18). With `HEADER`,
 * each object's header record is read before any row loads — a ranged
 * GetObject of its first bytes, pinned like every read, gunzipped (the start
 * only) when GZIP — and parsed with the load's own COPY options. With
 * `columns_from_header: true` the header names the columns the object fills
 * ({@link mapHeader}); without it, a header with another number of fields than
 * the columns the load fills fails the run, other names are only reported
 * ({@link checkHeader}): lava loads by position.
 */
import { createGunzip } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import type { ClientBase } from "pg";
import { BadDataError, SpecError } from "../../shared/errors";
import { openObject, type SourceObject, s3Url } from "../../shared/s3-objects";
import { showValue } from "../../spec/format";
import type { CopyArgs } from "./copy-options";
import { foldName, quoteIdent } from "./identifiers";
import type { MergeStage } from "./merge";
import type { LoadParams } from "./params";
import { mapLimit } from "./sources";
import { copyError } from "./stream-loader";
import { fillableColumns } from "./target";

/** The first range read of an object; each further range is twice the last. */
export const HEADER_FIRST_BYTES = 64 * 1024;
/** The longest header record read (bytes of the file, after gunzip). */
export const HEADER_MAX_BYTES = 1024 * 1024;
/** Objects whose headers are read at once. */
const HEADER_CONCURRENCY = 8;
/** PostgreSQL's SQLSTATE for a header that does not fit (bad_copy_file_format), as HEADER MATCH reports. */
const BAD_COPY_FILE_FORMAT = "22P04";

/** How a header record is written: the load's FORMAT and the options that shape a record. */
export interface HeaderSyntax {
  readonly format: "csv" | "text";
  readonly delimiter: string;
  readonly quote: string;
  readonly escape: string;
  /** The NULL string (text format: a field equal to it raw is kept as written). */
  readonly null: string;
  /** A WHATWG encoding label for TextDecoder. */
  readonly encoding: string;
}

/** The HEADER option's value; false when absent. */
export function headerOption(copy: CopyArgs): boolean | "match" {
  for (const o of copy.options) if (o.name === "HEADER") return o.value;
  return false;
}

/**
 * What a load does with headers: `map` (columns_from_header), `check` (HEADER
 * true, by position), or nothing (no HEADER, or HEADER match: PostgreSQL checks).
 *
 * @throws SpecError for columns_from_header without a header to read
 */
export function headerMode(
  p: { readonly copy: CopyArgs; readonly columnsFromHeader: boolean },
  at = "parameters.",
): "map" | "check" | undefined {
  const header = headerOption(p.copy);
  if (p.columnsFromHeader) {
    if (header === false)
      throw new SpecError([
        `${at}columns_from_header: needs HEADER true (or match) in args: the header names the columns`,
      ]);
    return "map";
  }
  return header === true ? "check" : undefined;
}

/** PostgreSQL encoding names (cleaned: lower case, letters and digits only) → TextDecoder labels. */
const ENCODINGS: Record<string, string> = {
  utf8: "utf-8",
  unicode: "utf-8",
  sqlascii: "utf-8",
  latin1: "iso-8859-1",
  latin2: "iso-8859-2",
  latin3: "iso-8859-3",
  latin4: "iso-8859-4",
  latin5: "iso-8859-9",
  latin6: "iso-8859-10",
  latin7: "iso-8859-13",
  latin8: "iso-8859-14",
  latin9: "iso-8859-15",
  latin10: "iso-8859-16",
  iso88591: "iso-8859-1",
  iso88595: "iso-8859-5",
  iso88596: "iso-8859-6",
  iso88597: "iso-8859-7",
  iso88598: "iso-8859-8",
  win866: "ibm866",
  win874: "windows-874",
  koi8r: "koi8-r",
  koi8u: "koi8-u",
  eucjp: "euc-jp",
  sjis: "shift_jis",
  shiftjis: "shift_jis",
  euckr: "euc-kr",
  uhc: "euc-kr",
  euccn: "gbk",
  big5: "big5",
  gbk: "gbk",
  gb18030: "gb18030",
  ...Object.fromEntries(
    [1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258].map((n) => [`win${n}`, `windows-${n}`]),
  ),
};

/**
 * The syntax of the load's header record, from its parsed COPY options.
 *
 * @param at prefix of messages, e.g. `job sales/load: parameters.`
 * @throws SpecError for an ENCODING the header reader does not know
 */
export function headerSyntax(copy: CopyArgs, at = "parameters."): HeaderSyntax {
  if (copy.format === "binary")
    throw new SpecError([`${at}args: FORMAT binary has no header record`]);
  const csv = copy.format === "csv";
  const value = (name: string) => {
    for (const o of copy.options) if (o.name === name && "value" in o) return String(o.value);
    return undefined;
  };
  const quote = value("QUOTE") ?? '"';
  const encodingName = value("ENCODING");
  let encoding = "utf-8";
  if (encodingName !== undefined) {
    const known = ENCODINGS[encodingName.toLowerCase().replace(/[^a-z0-9]/g, "")];
    if (known === undefined)
      throw new SpecError([
        `${at}args: ENCODING ${showValue(encodingName)}: the header cannot be read in it here (known: UTF8, SQL_ASCII, LATIN1–LATIN10, ISO_8859_5–8, WIN866, WIN874, WIN1250–WIN1258, KOI8R, KOI8U, EUC_JP, SJIS, EUC_KR, UHC, EUC_CN, BIG5, GBK, GB18030)`,
      ]);
    encoding = known;
  }
  return {
    format: csv ? "csv" : "text",
    delimiter: value("DELIMITER") ?? (csv ? "," : "\t"),
    quote,
    escape: value("ESCAPE") ?? quote,
    null: value("NULL") ?? (csv ? "" : "\\N"),
    encoding,
  };
}

/** The first record's fields; `more` when the text ends before the record does (and more may come). */
export type HeaderParse =
  | { readonly names: string[] }
  | { readonly more: true }
  | { readonly problem: string };

/**
 * Parse the first record of `text` as COPY reads it: CSV with its quote and
 * escape (fields may hold the delimiter and newlines when quoted), or text
 * format with backslash escapes. A record ends at a newline or carriage return
 * outside quotes (text format: not escaped), or at the end of the object.
 *
 * @param atEnd `text` is the whole object
 */
export function parseHeaderRecord(text: string, syntax: HeaderSyntax, atEnd: boolean): HeaderParse {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  return syntax.format === "csv"
    ? parseCsvRecord(body, syntax, atEnd)
    : parseTextRecord(body, syntax, atEnd);
}

function parseCsvRecord(text: string, s: HeaderSyntax, atEnd: boolean): HeaderParse {
  const names: string[] = [];
  let field = "";
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inQuote) {
      if (c === s.escape && i + 1 >= text.length && !atEnd) return { more: true };
      const next = text[i + 1];
      if (c === s.escape && (next === s.escape || next === s.quote)) {
        field += next;
        i++;
      } else if (c === s.quote) inQuote = false;
      else field += c;
    } else if (c === s.delimiter) {
      names.push(field);
      field = "";
    } else if (c === s.quote) inQuote = true;
    else if (c === "\n" || c === "\r") {
      names.push(field);
      return { names };
    } else field += c;
  }
  if (!atEnd) return { more: true };
  if (inQuote) return { problem: "the header record ends inside a quoted field" };
  names.push(field);
  return { names };
}

const TEXT_ESCAPES: Record<string, string> = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

function parseTextRecord(text: string, s: HeaderSyntax, atEnd: boolean): HeaderParse {
  const names: string[] = [];
  let field = "";
  let raw = "";
  const end = () => names.push(raw === s.null ? raw : field);
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) {
        if (!atEnd) return { more: true };
        raw += c;
        field += c;
        continue;
      }
      let j = i + 1;
      const run = (from: number, digit: RegExp, most: number) => {
        let k = from;
        while (k < from + most && digit.test(text[k] ?? "")) k++;
        // The digits may go on past what was read: wait for the rest.
        return k === text.length && k < from + most && !atEnd ? undefined : k;
      };
      if (/[0-7]/.test(next)) {
        const k = run(i + 1, /[0-7]/, 3);
        if (k === undefined) return { more: true };
        j = k;
        field += String.fromCharCode(Number.parseInt(text.slice(i + 1, j), 8) & 0xff);
      } else if (next === "x" && i + 2 >= text.length && !atEnd) {
        return { more: true };
      } else if (next === "x" && /[0-9a-fA-F]/.test(text[i + 2] ?? "")) {
        const k = run(i + 2, /[0-9a-fA-F]/, 2);
        if (k === undefined) return { more: true };
        j = k;
        field += String.fromCharCode(Number.parseInt(text.slice(i + 2, j), 16));
      } else {
        field += TEXT_ESCAPES[next] ?? next;
        j = i + 2;
      }
      raw += text.slice(i, j);
      i = j - 1;
    } else if (c === s.delimiter) {
      end();
      field = "";
      raw = "";
    } else if (c === "\n" || c === "\r") {
      end();
      return { names };
    } else {
      field += c;
      raw += c;
    }
  }
  if (!atEnd) return { more: true };
  end();
  return { names };
}

/** Successive ranges of the object from its start, each twice the last, up to `limit` bytes. */
async function* ranges(
  s3: S3Client,
  obj: SourceObject,
  first: number,
  limit: number,
): AsyncGenerator<Buffer> {
  let offset = 0;
  let size = first;
  const last = Math.min(obj.size, limit);
  while (offset < last) {
    const end = Math.min(offset + size, last) - 1;
    for await (const chunk of await openObject(s3, obj, `bytes=${offset}-${end}`))
      yield chunk as Buffer;
    offset = end + 1;
    size *= 2;
  }
}

/**
 * gunzip fed by hand: each compressed chunk's output, before the next chunk is
 * asked for (so nothing beyond what the header needs is read).
 */
function gunzipByHand(): {
  feed(chunk: Buffer): Promise<Buffer[]>;
  end(): Promise<Buffer[]>;
  close(): void;
} {
  const gunzip = createGunzip();
  let out: Buffer[] = [];
  let failure: unknown;
  /** Settled by the step's own callback, or by gunzip failing (the callback may then never come). */
  let fail: ((err: unknown) => void) | undefined;
  gunzip.on("data", (d: Buffer) => out.push(d));
  gunzip.on("error", (err) => {
    failure = err;
    fail?.(err);
  });
  const step = async (start: (done: (err?: unknown) => void) => void) => {
    if (failure) throw failure;
    await new Promise<void>((resolve, reject) => {
      fail = reject;
      start((err) => (err ? reject(err) : resolve()));
    });
    await new Promise((resolve) => setImmediate(resolve));
    if (failure) throw failure;
    const taken = out;
    out = [];
    return taken;
  };
  return {
    feed: (chunk) => step((done) => gunzip.write(chunk, (err) => done(err ?? undefined))),
    end: () =>
      step((done) => {
        gunzip.once("end", () => done());
        gunzip.end();
      }),
    close: () => gunzip.destroy(),
  };
}

/** Limits of {@link readHeader}, for tests. */
export interface HeaderReadLimits {
  readonly firstBytes?: number;
  readonly maxBytes?: number;
}

/**
 * Read an object's header record: ranged reads of its first bytes (pinned to
 * the version seen, as every read), gunzipped when `gzip`, until the record
 * ends; undefined for an empty object.
 *
 * @throws BadDataError when no record ends within the limit, a quote is left
 *   open, or the gzip data is bad
 */
export async function readHeader(
  s3: S3Client,
  obj: SourceObject,
  syntax: HeaderSyntax,
  gzip: boolean,
  limits: HeaderReadLimits = {},
): Promise<string[] | undefined> {
  const url = s3Url(obj.bucket, obj.key);
  const max = limits.maxBytes ?? HEADER_MAX_BYTES;
  const first = Math.min(limits.firstBytes ?? HEADER_FIRST_BYTES, max);
  const decoder = new TextDecoder(syntax.encoding);
  const problem = (what: string) =>
    new BadDataError(`bad data in ${url}: line 1: ${what}: nothing loaded`, {
      code: BAD_COPY_FILE_FORMAT,
      line: 1,
    });
  const chunks: Buffer[] = [];
  let bytes = 0;
  /** The names once the record has ended in what was read. */
  const parse = (atEnd: boolean): string[] | undefined => {
    const r = parseHeaderRecord(decoder.decode(Buffer.concat(chunks)), syntax, atEnd);
    if ("problem" in r) throw problem(r.problem);
    if ("names" in r) return r.names;
    if (bytes >= max) throw problem(`no end of the header record in the first ${max} bytes`);
    return undefined;
  };
  const add = (out: readonly Buffer[]) => {
    for (const c of out) {
      chunks.push(c);
      bytes += c.length;
    }
    return out.length ? parse(false) : undefined;
  };
  const gunzip = gzip ? gunzipByHand() : undefined;
  try {
    // Compressed, a record of `max` bytes fits in not much more (deflate's stored blocks).
    for await (const chunk of ranges(s3, obj, first, gzip ? 2 * max + 1024 : max)) {
      const names = add(gunzip ? await gunzip.feed(chunk) : [chunk]);
      if (names) return names;
    }
    const names = gunzip ? add(await gunzip.end()) : undefined;
    if (names) return names;
  } catch (err) {
    if (err instanceof BadDataError) throw err;
    const code = (err as { code?: unknown }).code;
    throw typeof code === "string" && code.startsWith("Z_") ? copyError(err, url) : err;
  } finally {
    gunzip?.close();
  }
  if (bytes === 0) return undefined;
  return parse(true);
}

/** `"a", "b"`: names shown as SQL identifiers (for messages only). */
export function showNames(names: readonly string[]): string {
  return names.map((n) => `"${n.replaceAll('"', '""')}"`).join(", ");
}

/** What {@link mapHeader} needs besides the header. */
export interface MapHeaderOptions {
  /** Unquoted columns a header may name: the table's (merge: the staging table's). */
  readonly columns: readonly string[];
  readonly preserveCase: boolean;
  /** The object, for messages: `s3://bucket/key`. */
  readonly object: string;
  /** The table, quoted, for messages. */
  readonly table: string;
}

/**
 * The COPY column list of an object from its header (columns_from_header):
 * each name folded as column names are (docs/db-from-s3.md §3), in the header's
 * order. A subset of the columns is fine (the others get their defaults).
 *
 * @returns unquoted column names
 * @throws BadDataError naming the object, the names that are not columns (and
 *   the table's columns), or a name given twice
 */
export function mapHeader(header: readonly string[], o: MapHeaderOptions): string[] {
  const names = header.map((h) => foldName(h, o.preserveCase));
  const problems: string[] = [];
  const unknown = [...new Set(names.filter((n) => !o.columns.includes(n)))];
  if (unknown.length)
    problems.push(
      `the header names ${unknown.length === 1 ? "a column" : "columns"} ${showNames(unknown)} that ${o.table} does not have (its columns: ${showNames(o.columns)})`,
    );
  const twice = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  for (const n of twice) {
    const fields = names.flatMap((m, i) => (m === n ? [i + 1] : []));
    problems.push(
      `the header names ${showNames([n])} ${fields.length} times (fields ${fields.join(", ")})`,
    );
  }
  if (problems.length)
    throw new BadDataError(
      `bad data in ${o.object}: line 1: ${problems.join("; ")}: nothing loaded (columns_from_header)`,
      { code: BAD_COPY_FILE_FORMAT, line: 1 },
    );
  return names;
}

/** What {@link checkHeader} needs besides the header. */
export interface CheckHeaderOptions {
  /** Unquoted columns the load fills, in order: the job's `columns`, else the table's. */
  readonly fills: readonly string[];
  readonly preserveCase: boolean;
  readonly object: string;
}

/**
 * Check a header against the columns the load fills by position (HEADER
 * without columns_from_header). Another number of fields fails, as COPY would
 * on the first row, but before any row loads and naming both lists; the same
 * number with other names loads (lava loads by position) and is reported.
 *
 * @returns an event line when the names differ
 * @throws BadDataError when the number of fields differs
 */
export function checkHeader(header: readonly string[], o: CheckHeaderOptions): string | undefined {
  const names = header.map((h) => foldName(h, o.preserveCase));
  if (names.length !== o.fills.length)
    throw new BadDataError(
      `bad data in ${o.object}: line 1: the header has ${names.length} fields (${showNames(header)}) where the load fills ${o.fills.length} columns (${showNames(o.fills)}): nothing loaded; give columns matching the file, or columns_from_header: true to fill the columns the header names`,
      { code: BAD_COPY_FILE_FORMAT, line: 1 },
    );
  if (names.every((n, i) => n === o.fills[i])) return undefined;
  return `${o.object}: header (${showNames(header)}) differs from the columns loaded (${showNames(o.fills)}): loaded by position, as lava does (columns_from_header: true maps by name)`;
}

/** What {@link headerColumns} needs: the load, and the table's columns as the mode needs them. */
export interface HeaderPlan {
  readonly s3: S3Client;
  readonly copy: CopyArgs;
  readonly preserveCase: boolean;
  readonly mode: "map" | "check";
  /** map: the columns a header may name. */
  readonly columns: readonly string[];
  /** check: the columns the load fills, in order. */
  readonly fills: readonly string[];
  /** The table loaded into, quoted, for messages. */
  readonly table: string;
  readonly events: { add(line: string): void };
  /** Prefix of spec messages, e.g. `job sales/load: parameters.` */
  readonly at?: string;
  readonly limits?: HeaderReadLimits;
}

/**
 * Read and map (or check) the headers of every object, before any loads; the
 * first problem in object order fails.
 *
 * @returns per object, in `map` mode its unquoted COPY column list (undefined:
 *   empty, no header); in `check` mode undefined (the load's own list)
 */
export async function headerColumns(
  plan: HeaderPlan,
  objects: readonly SourceObject[],
): Promise<(string[] | undefined)[]> {
  const syntax = headerSyntax(plan.copy, plan.at);
  const read = await mapLimit(objects, HEADER_CONCURRENCY, async (obj) => {
    try {
      return { header: await readHeader(plan.s3, obj, syntax, plan.copy.gzip, plan.limits) };
    } catch (error) {
      return { error };
    }
  });
  const out: (string[] | undefined)[] = [];
  for (const [i, r] of read.entries()) {
    if ("error" in r) throw r.error;
    const obj = objects[i] as SourceObject;
    const object = s3Url(obj.bucket, obj.key);
    if (r.header === undefined) out.push(undefined);
    else if (plan.mode === "map")
      out.push(
        mapHeader(r.header, {
          columns: plan.columns,
          preserveCase: plan.preserveCase,
          object,
          table: plan.table,
        }),
      );
    else {
      const line = checkHeader(r.header, {
        fills: plan.fills,
        preserveCase: plan.preserveCase,
        object,
      });
      if (line) plan.events.add(line);
      out.push(undefined);
    }
  }
  return out;
}

/**
 * The COPY options for an object whose header names `columns`: FORCE_NULL /
 * FORCE_NOT_NULL lists keep only the columns the object has (PostgreSQL
 * refuses others), an emptied list is left out; `*` stays (every listed column).
 */
export function forceWithin(copy: CopyArgs, columns: readonly string[]): CopyArgs {
  const options = copy.options.flatMap((o) => {
    if (!("columns" in o) || o.columns === "*") return [o];
    const kept = o.columns.filter((c) => columns.includes(c));
    return kept.length ? [{ ...o, columns: kept }] : [];
  });
  return { ...copy, options };
}

/** A quoted identifier's name: `"a""b"` → `a"b`. */
function unquoteIdent(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('""', '"');
}

/** What {@link columnsFromHeaders} needs of a load. */
export interface HeaderLoad {
  readonly p: LoadParams;
  readonly s3: S3Client;
  readonly client: ClientBase;
  /** The table COPY fills (quoted): its columns are those a header may name. */
  readonly table: string;
  /** The table for messages, when `table` is a staging table. */
  readonly shown?: string;
  /** merge: its stage; headers may also name the operation column, and must name the keys. */
  readonly merge?: MergeStage;
  /** Quoted columns the files fill by position (the load's list); undefined: the table's. */
  readonly fileColumns: readonly string[] | undefined;
  /** Quoted columns no file fills (lineage, a staging table's part): never named, never counted. */
  readonly exclude?: readonly string[];
  readonly objects: readonly SourceObject[];
  readonly events: { add(line: string): void };
  /** Prefix of spec messages, e.g. `job sales/load: parameters.` */
  readonly at: string;
}

/** Per object, the file columns (quoted) and COPY options its header decides. */
export interface HeaderColumns {
  /** Per object of `objects`: undefined where the load's own list holds. */
  readonly perObject: readonly ({ columns: string[]; copy: CopyArgs } | undefined)[];
  /** merge with columns_from_header: the stage, its columns the ones the headers name. */
  readonly merge?: MergeStage;
}

/**
 * The headers of a load's objects, read before any row loads
 * (docs/db-from-s3.md §18): with columns_from_header each object's COPY column
 * list from its header; with HEADER alone the check by position (events for
 * other names). Nothing is read without HEADER, or with HEADER match.
 */
export async function columnsFromHeaders(h: HeaderLoad): Promise<HeaderColumns> {
  const mode = headerMode(h.p, h.at);
  if (!mode || h.objects.length === 0) return { perObject: [] };
  const exclude = (h.exclude ?? []).map(unquoteIdent);
  const tableColumns = (await fillableColumns(h.client, h.table)).filter(
    (c) => !exclude.includes(c),
  );
  const op = h.merge?.op;
  const columns = op && !tableColumns.includes(op) ? [...tableColumns, op] : tableColumns;
  const table = h.shown ?? h.table;
  const mapped = await headerColumns(
    {
      s3: h.s3,
      copy: h.p.copy,
      preserveCase: h.p.preserveCase,
      mode,
      columns,
      fills: h.fileColumns?.map(unquoteIdent) ?? tableColumns,
      table,
      events: h.events,
      at: h.at,
    },
    h.objects,
  );
  const perObject = mapped.map((m) =>
    m ? { columns: m.map((c) => quoteIdent(c)), copy: forceWithin(h.p.copy, m) } : undefined,
  );
  return { perObject, merge: h.merge && mergeStage(h.merge, h.objects, mapped, tableColumns) };
}

/**
 * merge with columns_from_header: every object must name the same columns (any
 * order), keys included — the merge inserts and updates those columns, leaving
 * the others to their defaults (new rows) or as they were (updated rows).
 */
function mergeStage(
  stage: MergeStage,
  objects: readonly SourceObject[],
  mapped: readonly (string[] | undefined)[],
  tableColumns: readonly string[],
): MergeStage {
  const named = mapped.flatMap((m, i) => (m ? [{ m, obj: objects[i] as SourceObject }] : []));
  const first = named[0];
  if (!first) return stage;
  const url = (o: SourceObject) => s3Url(o.bucket, o.key);
  const set = (m: readonly string[]) => [...m].sort().join("\u0000");
  for (const { m, obj } of named) {
    const keys = stage.keys.filter((k) => !m.includes(k));
    if (keys.length)
      throw new BadDataError(
        `bad data in ${url(obj)}: line 1: the header does not name the merge's key ${keys.length === 1 ? "column" : "columns"} ${showNames(keys)} (it names ${showNames(m)}): nothing loaded (columns_from_header)`,
        { code: BAD_COPY_FILE_FORMAT, line: 1 },
      );
    if (set(m) !== set(first.m))
      throw new BadDataError(
        `bad data in ${url(obj)}: line 1: the header names ${showNames(m)} where ${url(first.obj)} names ${showNames(first.m)}: a merge's objects must name the same columns, in any order: nothing loaded (columns_from_header)`,
        { code: BAD_COPY_FILE_FORMAT, line: 1 },
      );
  }
  return {
    ...stage,
    columns: first.m.filter((c) => c !== stage.op || tableColumns.includes(c)),
  };
}
