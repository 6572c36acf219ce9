/**
 * SQL text forms the COPY option list is rendered with: string literals, and
 * the check that a column arrives as a quoted identifier.
 */
import { LavaError } from "../../shared/errors";

/**
 * An SQL string literal for any value: `'…'` with `'` doubled; when the value
 * holds a backslash, the `E'…'` form with `\` doubled too (as node-postgres'
 * `escapeLiteral`), so it reads the same whatever `standard_conforming_strings` is.
 */
export function sqlLiteral(value: string): string {
  if (value.includes("\0")) {
    throw new LavaError("sqlLiteral: a NUL character cannot be sent to PostgreSQL");
  }
  const body = value.replaceAll("'", "''");
  return value.includes("\\") ? `E'${body.replaceAll("\\", "\\\\")}'` : `'${body}'`;
}

/** A quoted identifier as {@link quoteIdent} makes it. */
const QUOTED_IDENT = /^"(?:[^"\0]|"")+"$/;

/**
 * Whether `text` is a double-quoted identifier as {@link quoteIdent} makes it:
 * non-empty, no NUL, every inner `"` doubled.
 */
export function isQuotedIdent(text: string): boolean {
  return QUOTED_IDENT.test(text);
}
