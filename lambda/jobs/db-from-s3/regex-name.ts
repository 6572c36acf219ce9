/**
 * Schema and table names taken from the S3 key (docs/db-from-s3.md §4): a rendered
 * `schema` or `table` that starts with `/` is a regular expression with one
 * capture group, searched in the key without its suffixes.
 *
 * The captured text is returned verbatim: it is hostile input, and the caller
 * folds it and quotes it with `identifiers.ts`.
 */
import { SpecError } from "../../shared/errors";
import { showValue } from "../../spec/format";

/**
 * The key without its suffixes: everything from the first `.` of the last
 * path segment is dropped (`a/b/c.csv.gz` → `a/b/c`; `a/b.d/c` unchanged).
 */
export function keyWithoutSuffixes(key: string): string {
  const segment = key.lastIndexOf("/") + 1;
  const dot = key.indexOf(".", segment);
  return dot < 0 ? key : key.slice(0, dot);
}

/** Whether a rendered schema or table value is a `/regex` name. */
export function isRegexName(value: string): boolean {
  return value.startsWith("/");
}

/**
 * Rewrite Python-only regex syntax to JavaScript: `(?P<n>…)` → `(?<n>…)` and
 * `(?P=n)` → `\k<n>`. Escapes and character classes are skipped, so a literal
 * `\(?P<` or `[(?P<]` is left alone.
 */
function pythonToJs(source: string): string {
  let out = "";
  let inClass = false;
  let i = 0;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === "\\") {
      out += source.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(" && source.startsWith("(?P<", i)) {
      out += "(?<";
      i += 4;
      continue;
    } else if (c === "(" && source.startsWith("(?P=", i)) {
      const close = source.indexOf(")", i);
      if (close > 0) {
        out += `\\k<${source.slice(i + 4, close)}>`;
        i = close + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

/**
 * Compile a `/regex` schema or table value: the one function that decides
 * what compiles, used by `lava-aurora check` (and synth) and at run time.
 *
 * @param pattern the value including its leading `/`; Python named groups
 *   `(?P<n>…)` and back references `(?P=n)` are accepted; compiled with the
 *   `u` flag; must have exactly one capture group (named or not)
 * @param what prefix of the problem message, e.g. `job sales/load: parameters.table`
 * @throws SpecError when the value is not a /regex, does not compile, or has
 *   not exactly one group
 */
export function compileRegexName(pattern: string, what: string): RegExp {
  const shown = showValue(pattern);
  if (!isRegexName(pattern)) {
    throw new SpecError([`${what}: expected a /regex, got ${shown}`]);
  }
  const source = pythonToJs(pattern.slice(1));
  let regex: RegExp;
  try {
    regex = new RegExp(source, "u");
  } catch (err) {
    throw new SpecError([
      `${what}: invalid regular expression ${shown}: ${regexReason(err, source)}`,
    ]);
  }
  // An empty alternative always matches, so every group shows up in the result.
  const groups = (new RegExp(`${source}|`, "u").exec("")?.length ?? 1) - 1;
  if (groups === 0) {
    throw new SpecError([
      `${what}: regular expression ${shown} has no capture group; put ( ) around the part of the key that is the name`,
    ]);
  }
  if (groups > 1) {
    throw new SpecError([
      `${what}: regular expression ${shown} has ${groups} capture groups; it needs exactly one (write (?:…) for the others)`,
    ]);
  }
  return regex;
}

/**
 * The name captured from an S3 key by a `/regex` schema or table value.
 *
 * @param pattern the rendered value including its leading `/`, compiled by
 *   {@link compileRegexName}
 * @param key the S3 key; the regex is searched (not anchored) in
 *   {@link keyWithoutSuffixes}(key)
 * @param what prefix of the problem message, e.g. `job sales/load: parameters.table`
 * @returns the captured text, verbatim (not folded, not quoted, not checked)
 * @throws SpecError when the regex is refused by {@link compileRegexName},
 *   does not match, or captures nothing
 */
export function nameFromKey(pattern: string, key: string, what: string): string {
  const shown = showValue(pattern);
  const regex = compileRegexName(pattern, what);
  const searched = keyWithoutSuffixes(key);
  const match = regex.exec(searched);
  if (!match) {
    throw new SpecError([
      `${what}: regular expression ${shown} does not match key ${showValue(key)} (searched in ${showValue(searched)})`,
    ]);
  }
  const name = match[1];
  if (name === undefined || name === "") {
    throw new SpecError([
      `${what}: regular expression ${shown} captured an empty name from key ${showValue(key)}`,
    ]);
  }
  return name;
}

/** V8's reason without its `Invalid regular expression: /…/u: ` preamble. */
function regexReason(err: unknown, source: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const preamble = `Invalid regular expression: /${source}/u: `;
  return message.startsWith(preamble) ? message.slice(preamble.length) : message;
}
