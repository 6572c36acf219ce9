/**
 * PostgreSQL identifier safety for db_from_s3 (docs/db-from-s3.md §3).
 *
 * Schema and table names may come from S3 keys (docs/db-from-s3.md §4), so they are hostile
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
