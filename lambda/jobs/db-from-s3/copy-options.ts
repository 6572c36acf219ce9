/**
 * COPY options of a db_from_s3 job (`parameters.args`, docs/db-from-s3.md §6): parsed and
 * checked before touching the database, then rendered back to SQL from the
 * parsed values only — the raw text of an option never reaches the SQL.
 */
import { LavaError, SpecError } from "../../shared/errors";
import { showValue } from "../../spec/format";
import { ArgProblem, type Token, tokenize } from "./copy-tokens";
import { checkName, foldName } from "./identifiers";
import { isQuotedIdent, sqlLiteral } from "./sql-literal";

/** {@link sqlLiteral}, re-exported from `./sql-literal` so existing importers keep working. */
export { sqlLiteral } from "./sql-literal";

/** COPY's `FORMAT`. */
export type CopyFormat = "text" | "csv" | "binary";

/** The options that take one string value. */
export type CopyStringOptionName = "DELIMITER" | "NULL" | "QUOTE" | "ESCAPE";

/** The options that take a column list or `*`. */
export type CopyForceOptionName = "FORCE_NULL" | "FORCE_NOT_NULL";

/** One parsed COPY option (other than FORMAT, which is {@link CopyArgs.format}). */
export type CopyOption =
  | { readonly name: "HEADER"; readonly value: boolean | "match" }
  | { readonly name: "FREEZE"; readonly value: boolean }
  | { readonly name: CopyStringOptionName; readonly value: string }
  | { readonly name: "ENCODING"; readonly value: string }
  | {
      readonly name: CopyForceOptionName;
      /** Column names (bare names folded, quoted names exact), or `*` for every target column. */
      readonly columns: readonly string[] | "*";
    };

/** The parsed `args` of a db_from_s3 job. */
export interface CopyArgs {
  /** lava's `GZIP`: the object is gzip-compressed. */
  readonly gzip: boolean;
  /** lava's `MANIFEST`: the object is a Redshift-style manifest of the objects to load. */
  readonly manifest: boolean;
  /** `FORMAT`, `text` when not given. */
  readonly format: CopyFormat;
  /** Every other COPY option, in the order given. */
  readonly options: readonly CopyOption[];
}

/** Options for {@link parseCopyArgs}. */
export interface ParseCopyArgsOptions {
  /** The connection's `preserve_case`: bare column names in FORCE_* lists are not folded. */
  readonly preserveCase?: boolean;
}

/** Every option name accepted, in the order the error message lists them. */
export const ACCEPTED_COPY_OPTIONS = [
  "FORMAT",
  "HEADER",
  "DELIMITER",
  "NULL",
  "QUOTE",
  "ESCAPE",
  "FORCE_NOT_NULL",
  "FORCE_NULL",
  "ENCODING",
  "FREEZE",
  "GZIP",
  "MANIFEST",
] as const;

type OptionName = (typeof ACCEPTED_COPY_OPTIONS)[number];

const FORMATS: readonly CopyFormat[] = ["text", "csv", "binary"];
const TRUE_WORDS = new Set(["true", "on", "1"]);
const FALSE_WORDS = new Set(["false", "off", "0"]);
const ENCODING_NAME = /^[A-Za-z0-9_-]+$/;
/** What PostgreSQL accepts as a bare option value: an identifier or an integer. */
const BARE_VALUE = /^(?:[A-Za-z_\u0080-\u{10FFFF}][A-Za-z0-9_$\u0080-\u{10FFFF}]*|[0-9]+)$/u;
/** Characters PostgreSQL refuses as a text-format delimiter. */
const TEXT_DELIMITER_REFUSED = "\\.abcdefghijklmnopqrstuvwxyz0123456789";

/** The value tokens of one entry, and their raw text for messages. */
interface Values {
  readonly tokens: readonly Token[];
  readonly shown: string;
}

/**
 * Parse and check a job's `args`. Option names are case-insensitive;
 * `FORCE NULL` / `FORCE NOT NULL` may be spelt with spaces. Values may be SQL
 * string literals (`'|'`, `''''`, `E'\t'`), double-quoted names (in column
 * lists) or bare words (folded to lower case as PostgreSQL does).
 *
 * @param prefix prepended to every message, e.g. `job sales/load: parameters.args`;
 *   each message then names the entry: `${prefix}[2]: …`
 * @throws SpecError listing every problem of every entry, in entry order
 */
export function parseCopyArgs(
  args: readonly string[],
  prefix: string,
  parseOptions: ParseCopyArgsOptions = {},
): CopyArgs {
  const { copy, problems } = readCopyArgs(args, prefix, parseOptions, () => false);
  if (problems.length > 0) throw new SpecError(problems);
  return copy;
}

/**
 * The problems {@link parseCopyArgs} finds in `args`, for `lava-aurora check`:
 * entries for which `skip` is true (templates, checked once rendered) are
 * passed over, and when any is, so are the rules that depend on other
 * entries' values (FORMAT-dependent options, DELIMITER vs QUOTE) — duplicates
 * among the others are still refused.
 */
export function copyArgsProblems(
  args: readonly unknown[],
  prefix: string,
  parseOptions: ParseCopyArgsOptions,
  skip: (arg: string) => boolean,
): string[] {
  return readCopyArgs(args, prefix, parseOptions, skip).problems;
}

function readCopyArgs(
  args: readonly unknown[],
  prefix: string,
  parseOptions: ParseCopyArgsOptions,
  skip: (arg: string) => boolean,
): { copy: CopyArgs; problems: string[] } {
  const preserveCase = parseOptions.preserveCase ?? false;
  const problems: { index: number; message: string }[] = [];
  const report = (index: number, message: string) => {
    problems.push({ index, message: `${prefix}[${index}]: ${message}` });
  };
  const seen = new Map<OptionName, number>();
  const at = new Map<CopyOption, number>();
  const options: CopyOption[] = [];
  let gzip = false;
  let manifest = false;
  let format: CopyFormat = "text";
  let formatAt: number | undefined;
  /** A bad FORMAT or a skipped entry: the rules across entries cannot be judged. */
  let unsure = false;

  for (const [index, arg] of args.entries()) {
    if (typeof arg === "string" && skip(arg)) {
      unsure = true;
      continue;
    }
    try {
      if (typeof arg !== "string") {
        throw new ArgProblem(`expected a COPY option like "FORMAT csv", got ${showValue(arg)}`);
      }
      const tokens = tokenize(arg);
      const { name, values } = optionName(tokens, arg);
      const first = seen.get(name);
      if (first !== undefined) {
        throw new ArgProblem(`duplicate option ${name} (first given at [${first}])`);
      }
      seen.set(name, index);
      if (name === "FORMAT") formatAt = index;
      const parsed = parseOption(name, values, preserveCase);
      if (parsed === "GZIP") gzip = true;
      else if (parsed === "MANIFEST") manifest = true;
      else if (typeof parsed === "string") format = parsed;
      else {
        options.push(parsed);
        at.set(parsed, index);
      }
    } catch (err) {
      if (!(err instanceof ArgProblem)) throw err;
      if (index === formatAt) unsure = true;
      report(index, err.message);
    }
  }

  if (!unsure) {
    const formatNote = formatAt === undefined ? " (the default)" : "";
    let delimiter = format === "csv" ? "," : "\t";
    let quote = '"';
    let delimiterAt = -1;
    let quoteAt = -1;
    for (const option of options) {
      const index = at.get(option) ?? -1;
      if (option.name === "DELIMITER") {
        delimiter = option.value;
        delimiterAt = index;
      }
      if (option.name === "QUOTE") {
        quote = option.value;
        quoteAt = index;
      }
      if (
        format !== "csv" &&
        (option.name === "QUOTE" || option.name === "ESCAPE" || isForce(option))
      ) {
        report(index, `${option.name} is only allowed with FORMAT csv, not ${format}${formatNote}`);
      }
      if (format === "binary" && ["HEADER", "DELIMITER", "NULL"].includes(option.name)) {
        report(index, `${option.name} is not allowed with FORMAT binary`);
      }
    }
    if (format === "text" && delimiterAt >= 0 && TEXT_DELIMITER_REFUSED.includes(delimiter)) {
      report(
        delimiterAt,
        `DELIMITER ${showValue(delimiter)} is not allowed with FORMAT text${formatNote}: it cannot be a backslash, a period, a lower-case letter or a digit`,
      );
    }
    if (format === "csv" && delimiter === quote) {
      report(
        Math.max(delimiterAt, quoteAt),
        `DELIMITER and QUOTE must differ, both are ${showValue(delimiter)}`,
      );
    }
  }

  problems.sort((a, b) => a.index - b.index);
  return { copy: { gzip, manifest, format, options }, problems: problems.map((p) => p.message) };
}

function isForce(option: CopyOption): option is Extract<CopyOption, { name: CopyForceOptionName }> {
  return option.name === "FORCE_NULL" || option.name === "FORCE_NOT_NULL";
}

/** The canonical option name at the start of `tokens`, and the tokens after it. */
function optionName(tokens: readonly Token[], arg: string): { name: OptionName; values: Values } {
  const values = (from: number): Values => {
    const rest = tokens.slice(from);
    return { tokens: rest, shown: showValue(arg.slice(rest[0]?.start ?? arg.length).trim()) };
  };
  const [first, second, third] = tokens;
  if (first === undefined) throw new ArgProblem("empty COPY option");
  if (first.kind !== "word") throw unknownOption(arg.trim());
  const upper = first.text.toUpperCase();
  if (upper === "OIDS") {
    throw new ArgProblem("OIDS is not supported: PostgreSQL 12 removed tables WITH OIDS");
  }
  if (upper === "FORCE") {
    const w2 = second?.kind === "word" ? second.text.toUpperCase() : undefined;
    const w3 = third?.kind === "word" ? third.text.toUpperCase() : undefined;
    if (w2 === "NULL") return { name: "FORCE_NULL", values: values(2) };
    if (w2 === "NOT" && w3 === "NULL") return { name: "FORCE_NOT_NULL", values: values(3) };
    throw unknownOption(second?.kind === "word" ? `${first.text} ${second.text}` : first.text);
  }
  const name = ACCEPTED_COPY_OPTIONS.find((n) => n === upper);
  if (name === undefined) throw unknownOption(first.text);
  return { name, values: values(1) };
}

function unknownOption(shown: string): ArgProblem {
  return new ArgProblem(
    `unknown COPY option ${showValue(shown)}; accepted: ${ACCEPTED_COPY_OPTIONS.join(", ")}`,
  );
}

/** Parse the value tokens of one option. GZIP/MANIFEST and FORMAT come back as strings. */
function parseOption(
  name: OptionName,
  v: Values,
  preserveCase: boolean,
): CopyOption | CopyFormat | "GZIP" | "MANIFEST" {
  const values = v.tokens;
  switch (name) {
    case "GZIP":
    case "MANIFEST":
      if (values.length > 0) throw new ArgProblem(`${name} takes no value, got ${v.shown}`);
      return name;
    case "FORMAT": {
      const word = oneValue(name, v, "text, csv or binary")?.toLowerCase();
      const format = FORMATS.find((f) => f === word);
      if (format === undefined) {
        throw new ArgProblem(`FORMAT must be text, csv or binary, got ${v.shown}`);
      }
      return format;
    }
    case "HEADER":
    case "FREEZE": {
      const expected =
        name === "HEADER" ? "true, false, on, off, 1, 0 or match" : "true, false, on, off, 1 or 0";
      if (values.length === 0) return { name, value: true };
      const word = oneValue(name, v, expected)?.toLowerCase() ?? "";
      if (TRUE_WORDS.has(word)) return { name, value: true };
      if (FALSE_WORDS.has(word)) return { name, value: false };
      if (name === "HEADER" && word === "match") return { name, value: "match" };
      throw new ArgProblem(`${name} must be ${expected}, got ${v.shown}`);
    }
    case "ENCODING": {
      const value = oneValue(name, v, "an encoding name like UTF8");
      if (value === undefined || !ENCODING_NAME.test(value)) {
        throw new ArgProblem(`ENCODING must be an encoding name like UTF8, got ${v.shown}`);
      }
      return { name, value };
    }
    case "DELIMITER":
    case "NULL":
    case "QUOTE":
    case "ESCAPE":
      return { name, value: stringValue(name, v) };
    case "FORCE_NULL":
    case "FORCE_NOT_NULL":
      return { name, columns: columnList(name, v, preserveCase) };
  }
}

/**
 * The one value of a scalar option: a string literal, a quoted name (exact)
 * or a bare word (as written). `undefined` when it is not a single such token.
 */
function oneValue(name: string, v: Values, expected: string): string | undefined {
  const values = v.tokens;
  if (values.length === 0) throw new ArgProblem(`${name} needs a value: ${expected}`);
  const [only] = values;
  if (values.length !== 1 || only === undefined) return undefined;
  if (only.kind === "word") return only.text;
  if (only.kind === "punct") return undefined;
  return only.value;
}

/** DELIMITER, NULL, QUOTE, ESCAPE: a string literal, or a bare word folded as PostgreSQL does. */
function stringValue(name: CopyStringOptionName, v: Values): string {
  const values = v.tokens;
  const example = name === "NULL" ? "''" : "'|'";
  if (values.length === 0) {
    throw new ArgProblem(`${name} needs a value, a quoted string like ${example}`);
  }
  const [only] = values;
  let value: string | undefined;
  if (values.length === 1 && only !== undefined) {
    if (only.kind === "string" || only.kind === "ident") value = only.value;
    else if (only.kind === "word" && BARE_VALUE.test(only.text)) value = asciiLower(only.text);
  }
  if (value === undefined) {
    throw new ArgProblem(`${name} needs a quoted string like ${example}, got ${v.shown}`);
  }
  if (value.includes("\0")) throw new ArgProblem(`${name} must not contain a NUL character`);
  if (name === "NULL" || name === "DELIMITER") {
    if (value.includes("\n") || value.includes("\r")) {
      throw new ArgProblem(`${name} must not contain a newline or carriage return`);
    }
  }
  if (name !== "NULL" && Buffer.byteLength(value, "utf8") !== 1) {
    const hint = value.startsWith("\\") ? ` (write E'${value}' for a backslash escape)` : "";
    throw new ArgProblem(
      `${name} must be a single one-byte character, got ${showValue(value)}${hint}`,
    );
  }
  return value;
}

/** FORCE_NULL / FORCE_NOT_NULL: `*`, `(a, "B")` or `a, "B"`. */
function columnList(
  name: CopyForceOptionName,
  v: Values,
  preserveCase: boolean,
): readonly string[] | "*" {
  const values = v.tokens;
  const bad = () =>
    new ArgProblem(
      values.length === 0
        ? `${name} needs * or a column list like (a, b)`
        : `${name} needs * or a column list like (a, b), got ${v.shown}`,
    );
  const [first] = values;
  if (first === undefined) throw bad();
  if (values.length === 1 && first.kind === "word" && first.text === "*") return "*";
  let items = values;
  if (first.kind === "punct" && first.text === "(") {
    const last = values[values.length - 1];
    if (values.length < 2 || last?.kind !== "punct" || last.text !== ")") throw bad();
    items = values.slice(1, -1);
  }
  const columns: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (i % 2 === 1) {
      if (item?.kind !== "punct" || item.text !== ",") throw bad();
      continue;
    }
    let column: string;
    if (item?.kind === "ident") column = item.value;
    else if (item?.kind === "word" && item.text !== "*") column = foldName(item.text, preserveCase);
    else throw bad();
    try {
      checkName(column, `${name} column`);
    } catch (err) {
      if (err instanceof SpecError) throw new ArgProblem(err.problems.join("; "));
      throw err;
    }
    if (columns.includes(column)) {
      throw new ArgProblem(`${name} lists column ${showValue(column)} twice`);
    }
    columns.push(column);
  }
  if (columns.length === 0 || items.length % 2 === 0) throw bad();
  return columns;
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * The parenthesised COPY option list, for `COPY … WITH <here>` and for the
 * options argument of Aurora's `aws_s3.table_import_from_s3`, e.g.
 * `(FORMAT csv, HEADER true, DELIMITER '|', NULL '', FORCE_NULL ("a", "b"))`.
 * FORMAT always comes first, so the list is never empty; GZIP and MANIFEST
 * are not COPY options and never appear.
 *
 * @param resolveColumns turns a FORCE_* column list (or `*`, every target
 *   column) into quoted identifiers; must return at least one, each quoted
 * @throws LavaError when the resolver returns nothing or something not quoted
 */
export function copyOptionsSql(
  args: CopyArgs,
  resolveColumns: (
    force: CopyForceOptionName,
    columns: readonly string[] | "*",
  ) => readonly string[],
): string {
  const parts = [`FORMAT ${args.format}`];
  for (const option of args.options) {
    switch (option.name) {
      case "HEADER":
        parts.push(`HEADER ${option.value === "match" ? "match" : String(option.value)}`);
        break;
      case "FREEZE":
        parts.push(`FREEZE ${String(option.value)}`);
        break;
      case "DELIMITER":
      case "NULL":
      case "QUOTE":
      case "ESCAPE":
      case "ENCODING":
        parts.push(`${option.name} ${sqlLiteral(option.value)}`);
        break;
      case "FORCE_NULL":
      case "FORCE_NOT_NULL": {
        const quoted = resolveColumns(option.name, option.columns);
        if (quoted.length === 0) {
          throw new LavaError(`${option.name}: no columns to list`);
        }
        for (const q of quoted) {
          if (!isQuotedIdent(q)) {
            throw new LavaError(
              `${option.name}: column ${showValue(q)} is not a quoted identifier`,
            );
          }
        }
        parts.push(`${option.name} (${quoted.join(", ")})`);
        break;
      }
    }
  }
  return `(${parts.join(", ")})`;
}
