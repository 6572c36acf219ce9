/**
 * SELECT results as lava writes them (lava/handlers/sql.py, bin/lava-sql):
 * `csv.writer(ofp, delimiter=, doublequote=, escapechar=, quotechar=, quoting=,
 * dialect=)`, byte for byte as CPython 3.11's _csv.c writes. lava passes every
 * format parameter explicitly, so the dialect only contributes its
 * lineterminator (excel and excel-tab `\r\n`, unix `\n`); excel-tab's tab
 * delimiter never applies.
 */
import type { ColumnText } from "./py-cells";
import { isNumeric, type PyCell, pyStr } from "./py-values";

export interface CsvParams {
  delimiter: string;
  dialect: "excel" | "excel-tab" | "unix";
  doublequote: boolean;
  escapechar: string | null;
  quotechar: string | null;
  quoting: "all" | "minimal" | "nonnumeric" | "none";
}

/** lava/config.py: SQL_DELIMITER, SQL_DIALECT, SQL_DOUBLEQUOTE, SQL_ESCAPECHAR, SQL_QUOTECHAR, SQL_QUOTING. */
export const DEFAULT_CSV: CsvParams = Object.freeze({
  delimiter: "|",
  dialect: "excel",
  doublequote: false,
  escapechar: null,
  quotechar: '"',
  quoting: "minimal",
});

const LINE_TERMINATORS: Record<CsvParams["dialect"], string> = {
  excel: "\r\n",
  "excel-tab": "\r\n",
  unix: "\n",
};
const QUOTINGS: readonly CsvParams["quoting"][] = ["all", "minimal", "nonnumeric", "none"];

/** Where lava's csv.writer raises `_csv.Error` for a row (lava's job then fails). */
export class CsvWriteError extends Error {
  override readonly name = "CsvWriteError";
  constructor(
    message: string,
    /** 1-based; 0 for the record as a whole. */
    readonly column: number,
  ) {
    super(message);
  }
}

/** The Python type name csv's TypeErrors print for a JSON value. */
function pyType(v: unknown): string {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  return Array.isArray(v) ? "list" : "dict";
}

/** Python's len(): code points, not UTF-16 units. */
const pyLen = (s: string) => [...s].length;

/**
 * What lava and Python's csv.writer (3.11) reject in these parameters, each
 * message starting with the parameter's name (`delimiter: ...`). Values may be
 * raw job-spec values; undefined means absent (lava's default applies).
 * Accepted as Python accepts them: a delimiter, quotechar and escapechar equal
 * to each other, a delimiter of a space or a newline, any doublequote value
 * (Python's truthiness) and any non-string dialect (excel's attributes).
 */
export function csvParamsProblems(p: { readonly [K in keyof CsvParams]?: unknown }): string[] {
  const problems: string[] = [];
  const one = (name: string, v: unknown, nullable: boolean) => {
    if (v === undefined || (nullable && v === null)) return;
    if (typeof v !== "string")
      problems.push(`${name}: must be a string${nullable ? " or null" : ""}, not ${pyType(v)}`);
    else if (pyLen(v) !== 1)
      problems.push(`${name}: must be a 1-character string, got ${JSON.stringify(v)}`);
  };
  const style = p.quoting;
  if (style !== undefined) {
    // lava: getattr(csv, 'QUOTE_' + quoting.upper()), before anything runs.
    if (typeof style !== "string")
      problems.push(`quoting: must be a string (one of ${QUOTINGS.join(", ")})`);
    else if (!QUOTINGS.some((q) => q.toUpperCase() === style.toUpperCase()))
      problems.push(
        `quoting: Bad quoting style: ${style.toUpperCase()} (expected one of ${QUOTINGS.join(", ")})`,
      );
  }
  if (typeof p.dialect === "string" && !(p.dialect in LINE_TERMINATORS))
    problems.push(
      `dialect: unknown dialect ${JSON.stringify(p.dialect)} (expected excel, excel-tab or unix)`,
    );
  one("delimiter", p.delimiter, false);
  one("escapechar", p.escapechar, true);
  one("quotechar", p.quotechar, true);
  const quoting = typeof style === "string" ? style.toUpperCase() : "MINIMAL";
  if (p.quotechar === null && quoting !== "NONE")
    problems.push(
      "quotechar: must be set if quoting is not none (quotechar must be set if quoting enabled)",
    );
  return problems;
}

/**
 * A writer of lines, each with the dialect's lineterminator, as
 * `csv.writer(...).writerow()` writes them (Modules/_csv.c join_append_data):
 *
 * - None is an empty field; any other value is `str(value)`.
 * - all quotes every field, nonnumeric every field but bools, ints, floats,
 *   Decimals, UUIDs and IP addresses (and None: `""`); minimal quotes a field
 *   holding the delimiter, the quotechar or a lineterminator character
 *   (so under unix a lone `\r` is not quoted); none never quotes.
 * - A quotechar inside is doubled with doublequote, else escaped; an escapechar
 *   inside is escaped; under none, the delimiter, quotechar and lineterminator
 *   characters are escaped too. Escaping without an escapechar is
 *   `need to escape, but no escapechar set` (CsvWriteError).
 * - A record of one empty field is written `""` (under none it is an error).
 *
 * `columns` names the columns in CsvWriteError messages.
 */
export function csvWriter(
  p: CsvParams,
  columns?: readonly string[],
): {
  header(names: readonly string[]): string;
  row(cells: readonly PyCell[]): string;
  /** A row of PostgreSQL texts, each through its column's converter (no cells built). */
  textRow(columns: readonly ColumnText[], texts: readonly (string | null)[]): string;
} {
  const lt = LINE_TERMINATORS[p.dialect];
  const q = p.quotechar ?? "";
  const special = new Set([p.delimiter, ...lt]);
  if (p.quotechar !== null) special.add(p.quotechar);
  if (p.escapechar !== null) special.add(p.escapechar);
  const where = (i: number) => {
    const name = columns?.[i];
    return `column ${i + 1}${name === undefined ? "" : ` (${JSON.stringify(name)})`}`;
  };

  // Most values hold none of the special characters: one regex test, no per-character walk.
  const plain = new RegExp(
    `^[^${[...special].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}]*$`,
  );

  function field(s: string, quotedAtStart: boolean, i: number): string {
    if (plain.test(s)) return quotedAtStart ? q + s + q : s;
    let quoted = quotedAtStart;
    let out = "";
    for (const c of s) {
      if (special.has(c)) {
        let wantEscape = p.quoting === "none";
        if (!wantEscape) {
          if (c === p.quotechar) {
            if (p.doublequote) out += c;
            else wantEscape = true;
          } else if (c === p.escapechar) wantEscape = true;
          if (!wantEscape) quoted = true;
        }
        if (wantEscape) {
          if (p.escapechar === null)
            throw new CsvWriteError(`${where(i)}: need to escape, but no escapechar set`, i + 1);
          out += p.escapechar;
        }
      }
      out += c;
    }
    return quoted ? q + out + q : out;
  }

  function line(
    count: number,
    text: (i: number) => string,
    numeric: (i: number) => boolean,
  ): string {
    let out = "";
    for (let i = 0; i < count; i++) {
      const quoted = p.quoting === "all" || (p.quoting === "nonnumeric" && !numeric(i));
      out += (i === 0 ? "" : p.delimiter) + field(text(i), quoted, i);
    }
    if (count === 0 || out !== "") return out + lt;
    if (p.quoting === "none")
      throw new CsvWriteError(`${where(0)}: single empty field record must be quoted`, 1);
    return q + q + lt;
  }

  return {
    header: (names) =>
      line(
        names.length,
        (i) => names[i] ?? "",
        () => false,
      ),
    row: (cells) =>
      line(
        cells.length,
        (i) => {
          const c = cells[i] as PyCell;
          return c.t === "none" ? "" : pyStr(c);
        },
        (i) => isNumeric(cells[i] as PyCell),
      ),
    textRow: (columns, texts) =>
      line(
        texts.length,
        (i) => (columns[i] as ColumnText).str(texts[i] ?? null),
        (i) => (columns[i] as ColumnText).numeric(texts[i] ?? null),
      ),
  };
}
