/**
 * PostgreSQL identifier safety for db_from_s3 (SPEC §5.2).
 *
 * Schema and table names may come from S3 keys (§5.3), so they are hostile
 * input: they are checked, then always double-quoted with every `"` doubled.
 * Values never go into SQL text — they are query parameters; only names do,
 * and only through {@link quoteIdent}.
 */
import { SpecError } from "../../shared/errors";
import { showValue } from "../../spec/format";

/**
 * PostgreSQL's NAMEDATALEN - 1. Longer names are silently truncated by the
 * server, which could map two different names onto one table — so we refuse.
 */
export const MAX_IDENTIFIER_BYTES = 63;

/** An unpaired UTF-16 surrogate: not Unicode, so it cannot be sent as UTF-8 faithfully. */
const LONE_SURROGATE = /\p{Cs}/u;

/** PostgreSQL's whitespace (scan.l `space`): space, tab, newline, carriage return, form feed, vertical tab. */
const SQL_SPACE = /[ \t\n\r\f\v]/;

/** Lower-case a name (`toLowerCase`) unless the connection has `preserve_case: true`. */
export function foldName(name: string, preserveCase: boolean): string {
  return preserveCase ? name : name.toLowerCase();
}

/**
 * Check that a name can be a PostgreSQL identifier exactly as given: not empty,
 * no NUL, valid Unicode, at most {@link MAX_IDENTIFIER_BYTES} UTF-8 bytes.
 *
 * @param what prefix of the problem message, e.g. `job sales/load: parameters.table`
 * @returns the name, unchanged
 * @throws SpecError with one problem `${what}: …`
 */
export function checkName(name: string, what: string): string {
  if (name === "") throw new SpecError([`${what}: empty name`]);
  if (name.includes("\0")) {
    throw new SpecError([`${what}: name ${showValue(name)} contains a NUL character`]);
  }
  if (LONE_SURROGATE.test(name)) {
    throw new SpecError([
      `${what}: name ${showValue(name)} contains an unpaired surrogate (not valid Unicode)`,
    ]);
  }
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new SpecError([
      `${what}: name ${showValue(name)} is ${bytes} bytes long; PostgreSQL allows at most ${MAX_IDENTIFIER_BYTES} and would silently truncate it`,
    ]);
  }
  return name;
}

/**
 * Quote a name as a PostgreSQL identifier: `"` + name with every `"` doubled + `"`.
 * The name is checked first ({@link checkName}); it is not folded.
 *
 * @param what prefix of the problem message if the name is refused
 */
export function quoteIdent(name: string, what = "identifier"): string {
  checkName(name, what);
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `"schema"."table"`, both parts checked and quoted.
 *
 * @param what prefix of the problem messages; `: schema` / `: table` is appended
 */
export function qualifiedName(schema: string, table: string, what?: string): string {
  const at = what ? `${what}: ` : "";
  return `${quoteIdent(schema, `${at}schema`)}.${quoteIdent(table, `${at}table`)}`;
}

/** A lava column spec split into its name and a safe column definition. */
export interface ColumnSpec {
  /** The column name, folded unless it was double-quoted or `preserveCase`. */
  readonly name: string;
  /** The quoted name, a space, then the rest of the spec as written: `"id" INTEGER PRIMARY KEY`. */
  readonly definition: string;
}

/**
 * Parse a lava column spec like `id INTEGER PRIMARY KEY` or `"Order Id" BIGINT`.
 *
 * The first word is the name: unquoted it is folded ({@link foldName});
 * double-quoted it is kept exactly, with `""` read as `"`. The rest is SQL
 * written by the job owner in the realm file and is kept as written, but it
 * must be present, and it must not contain a `;`, a comment (`--`, `/*`), an
 * unterminated quote or unbalanced parentheses outside quotes, so that the
 * definitions can be joined safely into one `CREATE TABLE … (…)`.
 *
 * @param what prefix of the problem messages, e.g. `job sales/load: parameters.columns[0]`
 * @throws SpecError with one problem `${what}: …`
 */
export function parseColumnSpec(spec: string, preserveCase: boolean, what = "column"): ColumnSpec {
  const fail = (problem: string): never => {
    throw new SpecError([`${what}: ${problem}, got ${showValue(spec)}`]);
  };
  const text = trimSql(spec);
  if (text === "") return fail("empty column spec");
  let name: string;
  let end: number;
  if (text.startsWith('"')) {
    const close = closingDoubleQuote(text, 0);
    if (close < 0) return fail("unterminated quoted name");
    name = text.slice(1, close).replaceAll('""', '"');
    end = close + 1;
    if (end < text.length && !SQL_SPACE.test(text.charAt(end))) {
      return fail("expected a space after the quoted name");
    }
  } else {
    end = 0;
    while (end < text.length && !SQL_SPACE.test(text.charAt(end))) end++;
    name = foldName(text.slice(0, end), preserveCase);
  }
  const rest = trimSql(text.slice(end));
  if (rest === "") return fail("no type after the column name");
  const problem = checkSqlFragment(rest);
  if (problem) return fail(problem);
  return { name, definition: `${quoteIdent(name, what)} ${rest}` };
}

function trimSql(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && SQL_SPACE.test(text.charAt(start))) start++;
  while (end > start && SQL_SPACE.test(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Index of the `"` closing the quoted identifier opened at `open`, or -1. */
function closingDoubleQuote(text: string, open: number): number {
  let i = open + 1;
  while (i < text.length) {
    if (text[i] === '"') {
      if (text[i + 1] === '"') i += 2;
      else return i;
    } else {
      i++;
    }
  }
  return -1;
}

const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Scan trusted-but-fallible SQL (the type part of a column spec) and say what
 * is wrong with it, if anything: a `;`, a comment, an unterminated quote or
 * unbalanced parentheses outside quoted text.
 */
function checkSqlFragment(sql: string): string | undefined {
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql.charAt(i);
    const prev = i > 0 ? sql.charAt(i - 1) : "";
    if (c === "'") {
      const escapes = (prev === "E" || prev === "e") && !IDENT_CHAR.test(sql.charAt(i - 2));
      let j = i + 1;
      let closed = false;
      while (j < sql.length) {
        const d = sql.charAt(j);
        if (escapes && d === "\\") {
          j += 2;
        } else if (d === "'") {
          if (sql.charAt(j + 1) === "'") j += 2;
          else {
            closed = true;
            break;
          }
        } else {
          j++;
        }
      }
      if (!closed) return "unterminated quoted string";
      i = j + 1;
    } else if (c === '"') {
      const close = closingDoubleQuote(sql, i);
      if (close < 0) return "unterminated quoted name";
      i = close + 1;
    } else if (c === "$" && !IDENT_CHAR.test(prev)) {
      const tag = DOLLAR_TAG.exec(sql.slice(i))?.[0];
      if (tag === undefined) {
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      if (close < 0) return "unterminated dollar-quoted string";
      i = close + tag.length;
    } else if (c === ";") {
      return "';' outside quotes";
    } else if (c === "-" && sql.charAt(i + 1) === "-") {
      return "'--' comment";
    } else if (c === "/" && sql.charAt(i + 1) === "*") {
      return "'/*' comment";
    } else if (c === "(") {
      depth++;
      i++;
    } else if (c === ")") {
      if (depth === 0) return "unbalanced ')'";
      depth--;
      i++;
    } else {
      i++;
    }
  }
  return depth > 0 ? "unbalanced '('" : undefined;
}
