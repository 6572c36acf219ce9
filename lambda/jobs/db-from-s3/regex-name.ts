/**
 * Schema and table names taken from the S3 key (docs/db-from-s3.md §4), as lava takes
 * them (lava/handlers/db_from_s3.py): a rendered `schema` or `table` that starts with
 * `/` is a Python regular expression, `re.search`ed in the key without its suffixes
 * (`splitext2`), and the name is its group 1 (`m.group(1)`), whatever other groups it has.
 * The regex is Python's syntax, translated by `python-regex.ts`.
 *
 * The captured text is returned verbatim: it is hostile input, and the caller
 * folds it and quotes it with `identifiers.ts`.
 */
import { SpecError } from "../../shared/errors";
import { showValue } from "../../spec/format";
import { PythonRegexError, type TranslatedRegex, translatePythonRegex } from "./python-regex";

/**
 * The key without its suffixes, as lava's `splitext2(key, pathsep='/', extsep='.')[0]`:
 * everything from the first `.` of the last path segment is dropped, leading dots of that
 * segment kept (`a/b/c.csv.gz` → `a/b/c`, `a/b.d/c` unchanged, `a/.env.csv` → `a/.env`),
 * and an empty segment is dropped with its `/` (`a/b/` → `a/b`, `/c.csv` → `c`).
 */
export function keyWithoutSuffixes(key: string): string {
  const slash = key.lastIndexOf("/");
  const dir = slash < 0 ? "" : key.slice(0, slash);
  const base = slash < 0 ? key : key.slice(slash + 1);
  const dots = /^\.*/.exec(base)?.[0] ?? "";
  const rest = base.slice(dots.length);
  const dot = rest.indexOf(".");
  const root = dots + (dot < 0 ? rest : rest.slice(0, dot));
  return [dir, root].filter((part) => part !== "").join("/");
}

/** Whether a rendered schema or table value is a `/regex` name. */
export function isRegexName(value: string): boolean {
  return value.startsWith("/");
}

/** A compiled `/regex` name: the RegExp and where Python's group 1 is in its matches. */
function compileName(pattern: string, what: string): TranslatedRegex {
  const shown = showValue(pattern);
  if (!isRegexName(pattern)) {
    throw new SpecError([`${what}: expected a /regex, got ${shown}`]);
  }
  let translated: TranslatedRegex;
  try {
    translated = translatePythonRegex(pattern.slice(1));
  } catch (err) {
    if (!(err instanceof PythonRegexError)) throw err;
    throw new SpecError([
      err.kind === "invalid"
        ? `${what}: invalid regular expression ${shown}: ${err.message}`
        : `${what}: regular expression ${shown} cannot be used here: ${err.message}`,
    ]);
  }
  if (translated.groups === 0) {
    throw new SpecError([
      `${what}: regular expression ${shown} has no capture group; put ( ) around the part of the key that is the name`,
    ]);
  }
  return translated;
}

/**
 * Compile a `/regex` schema or table value: the one function that decides
 * what compiles, used by `lava-aurora check` (and synth) and at run time.
 *
 * @param pattern the value including its leading `/`; the rest is Python `re` syntax
 *   (inline flags, `(?P<n>…)`, `\Z`, `\-`, …), as lava reads it
 * @param what prefix of the problem message, e.g. `job sales/load: parameters.table`
 * @returns the JavaScript translation (Python group 1 may not be its group 1: use
 *   {@link nameFromKey})
 * @throws SpecError when the value is not a /regex, is not a valid Python regex (with
 *   Python's message and position, counted after the `/`), uses a construct JavaScript
 *   cannot run as Python does, or has no capture group (lava would fail on every key)
 */
export function compileRegexName(pattern: string, what: string): RegExp {
  return compileName(pattern, what).regex;
}

/**
 * The name captured from an S3 key by a `/regex` schema or table value: lava's
 * `re.search(pat, splitext2(key)[0]).group(1)`.
 *
 * @param pattern the rendered value including its leading `/`, compiled by
 *   {@link compileRegexName}
 * @param key the S3 key; the regex is searched (not anchored) in
 *   {@link keyWithoutSuffixes}(key)
 * @param what prefix of the problem message, e.g. `job sales/load: parameters.table`
 * @returns group 1 of the match (other groups are ignored, as lava does), verbatim (not
 *   folded, not quoted, not checked)
 * @throws SpecError when the regex is refused by {@link compileRegexName},
 *   does not match, or its group 1 took no part in the match or captured nothing
 */
export function nameFromKey(pattern: string, key: string, what: string): string {
  const shown = showValue(pattern);
  const { regex, jsGroup } = compileName(pattern, what);
  const searched = keyWithoutSuffixes(key);
  const match = regex.exec(searched);
  if (!match) {
    throw new SpecError([
      `${what}: regular expression ${shown} does not match key ${showValue(key)} (searched in ${showValue(searched)})`,
    ]);
  }
  const name = match[jsGroup(1)];
  if (name === undefined || name === "") {
    throw new SpecError([
      `${what}: regular expression ${shown} captured an empty name from key ${showValue(key)}`,
    ]);
  }
  return name;
}
