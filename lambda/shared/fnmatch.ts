/**
 * Shell-style globs with Python's `fnmatch.fnmatchcase` semantics, which is
 * what lava's trigger conditions use (docs/triggers.md §3):
 *
 * - `*` matches any run of characters, `/` included;
 * - `?` matches exactly one character;
 * - `[seq]` one character in seq, `[!seq]` one character not in it; ranges
 *   `a-z`; a `]` first in the set and a `-` first or last are literal; a
 *   reversed range (`z-a`) is empty; `[` without a closing `]` is a literal `[`;
 * - everything else is literal; the match is case-sensitive and covers the
 *   whole string.
 *
 * Characters are code points, as in Python.
 */

/** Compiled patterns by source; trigger conditions reuse a few globs. */
const CACHE_LIMIT = 256;
const cache = new Map<string, RegExp>();

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const CLASS_SPECIAL = /[\\\][^-]/g;

function escapeLiteral(s: string): string {
  return s.replace(REGEX_SPECIAL, "\\$&");
}

function escapeInClass(c: string): string {
  return c.replace(CLASS_SPECIAL, "\\$&");
}

/**
 * The body of a `[...]` set (without the brackets and the leading `!`) as the
 * inside of a RegExp character class; empty when the set has no members.
 */
function classBody(chars: readonly string[]): string {
  let out = "";
  let i = 0;
  while (i < chars.length) {
    const c = chars[i] as string;
    const to = chars[i + 2];
    if (chars[i + 1] === "-" && to !== undefined) {
      // A range; Python drops reversed ones (they match nothing).
      if ((c.codePointAt(0) as number) <= (to.codePointAt(0) as number)) {
        out += `${escapeInClass(c)}-${escapeInClass(to)}`;
      }
      i += 3;
    } else {
      out += escapeInClass(c);
      i += 1;
    }
  }
  return out;
}

/** Translate a glob to a RegExp source (anchored), as Python's `fnmatch.translate`. */
export function globToRegExpSource(pattern: string): string {
  const chars = Array.from(pattern);
  const n = chars.length;
  let out = "";
  let i = 0;
  while (i < n) {
    const c = chars[i] as string;
    i += 1;
    if (c === "*") {
      // Consecutive stars are one star.
      while (chars[i] === "*") i += 1;
      out += ".*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      let j = i;
      if (chars[j] === "!") j += 1;
      if (chars[j] === "]") j += 1;
      while (j < n && chars[j] !== "]") j += 1;
      if (j >= n) {
        out += "\\[";
        continue;
      }
      const negated = chars[i] === "!";
      const body = classBody(chars.slice(negated ? i + 1 : i, j));
      i = j + 1;
      if (body === "") out += negated ? "." : "(?!)";
      else out += negated ? `[^${body}]` : `[${body}]`;
    } else {
      out += escapeLiteral(c);
    }
  }
  return `^${out}$`;
}

/** The compiled RegExp for a glob (cached, bounded). */
export function compileGlob(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const re = new RegExp(globToRegExpSource(pattern), "su");
  cache.set(pattern, re);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return re;
}

/** Python's `fnmatch.fnmatchcase(name, pattern)`. */
export function fnmatchcase(name: string, pattern: string): boolean {
  return compileGlob(pattern).test(name);
}

/** Whether `name` matches any of the globs (one glob or a list of them). */
export function fnmatchAny(name: string, patterns: string | readonly string[]): boolean {
  const list = typeof patterns === "string" ? [patterns] : patterns;
  return list.some((p) => fnmatchcase(name, p));
}
