/**
 * The lexical layer of a db_from_s3 column spec (`parameters.columns`,
 * docs/db-from-s3.md §5): plain words, double-quoted names, unsigned numbers, plain
 * `'…'` strings and `( ) [ ] , . + -`, read as PostgreSQL's scanner reads
 * them. Everything else PostgreSQL's scanner knows — comments, `;`, casts,
 * operators, dollar quotes, `E'…'`/`U&'…'`/`B'…'`/`X'…'`/`N'…'` strings,
 * parameters — is a problem here, so nothing in a spec can mean more to the
 * server than it means to the parser.
 */
import { showValue } from "../../spec/format";

/** One token of a column spec. */
export type ColumnToken =
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "ident"; readonly value: string }
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "punct"; readonly text: "(" | ")" | "[" | "]" | "," | "." | "+" | "-" };

/** The tokens read, and what stopped the reading if it did not reach the end. */
export interface ColumnTokens {
  readonly tokens: readonly ColumnToken[];
  readonly problem: string | undefined;
}

/** PostgreSQL's whitespace (scan.l `space`). */
const SPACE = /[ \t\n\r\f\v]/;
/** scan.l `ident_start` / `ident_cont`: ASCII letters, `_`, any non-ASCII character; then digits and `$`. */
const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const PUNCT = new Set(["(", ")", "[", "]", ",", ".", "+", "-"]);
/** Letters that turn a following `'…'` into another kind of string. */
const STRING_PREFIX = new Set(["e", "b", "x", "n"]);
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const NUMBER = /[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]+)?/y;

class Stop extends Error {}

/**
 * Split a column spec into tokens. Never throws: a problem stops the reading
 * and is returned with the tokens before it (so the caller can still name
 * the column).
 */
export function tokenizeColumn(spec: string): ColumnTokens {
  const tokens: ColumnToken[] = [];
  const bad = spec.search(/\0|\p{Cs}/u);
  // Read up to a NUL or lone surrogate, so the problem still comes after the name.
  const src = bad < 0 ? spec : spec.slice(0, bad);
  let stopped: string | undefined;
  try {
    tokenizeInto(src, tokens);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    stopped = err.message;
  }
  if (bad < 0) return { tokens, problem: stopped };
  const problem =
    spec.charAt(bad) === "\0"
      ? "contains a NUL character"
      : "contains an unpaired surrogate (not valid Unicode)";
  return { tokens, problem };
}

function tokenizeInto(spec: string, tokens: ColumnToken[]): void {
  let i = 0;
  while (i < spec.length) {
    const c = spec.charAt(i);
    const next = spec.charAt(i + 1);
    if (SPACE.test(c)) {
      i++;
    } else if (c === "-" && next === "-") {
      throw new Stop("comments (--) are not allowed");
    } else if (c === "/" && next === "*") {
      throw new Stop("comments (/* */) are not allowed");
    } else if (c === ":" && next === ":") {
      throw new Stop("casts (::) are not allowed");
    } else if (c === ";") {
      throw new Stop("';' is not allowed");
    } else if (c === "$") {
      throw new Stop(
        DOLLAR_TAG.test(spec.slice(i))
          ? "dollar-quoted strings are not allowed"
          : "'$' is not allowed",
      );
    } else if (DIGIT.test(c) || (c === "." && DIGIT.test(next))) {
      i = readNumber(spec, i, tokens);
    } else if (PUNCT.has(c)) {
      tokens.push({ kind: "punct", text: c as "(" });
      i++;
    } else if (c === "'") {
      i = readQuoted(spec, i, "'", tokens);
    } else if (c === '"') {
      i = readQuoted(spec, i, '"', tokens);
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < spec.length && IDENT_CONT.test(spec.charAt(j))) j++;
      const text = spec.slice(i, j);
      const lower = text.toLowerCase();
      const after = spec.charAt(j);
      if ((STRING_PREFIX.has(lower) && after === "'") || (lower === "u" && after === "&")) {
        const prefix = lower === "u" ? "U&" : text.toUpperCase();
        throw new Stop(`${prefix}'…' strings are not allowed: write a plain '…' string`);
      }
      tokens.push({ kind: "word", text });
      i = j;
    } else {
      throw new Stop(`unexpected character ${showValue(c)}`);
    }
  }
}

/** An unsigned number (`12`, `1.5`, `.5`, `2.`, `1e-3`); it must not run into letters. */
function readNumber(spec: string, i: number, tokens: ColumnToken[]): number {
  NUMBER.lastIndex = i;
  NUMBER.exec(spec);
  let j = NUMBER.lastIndex;
  if (j < spec.length && IDENT_CONT.test(spec.charAt(j))) {
    while (j < spec.length && IDENT_CONT.test(spec.charAt(j))) j++;
    throw new Stop(`a number must not run into letters: ${spec.slice(i, j)}`);
  }
  tokens.push({ kind: "number", text: spec.slice(i, NUMBER.lastIndex) });
  return NUMBER.lastIndex;
}

/** A `'string'` or `"quoted name"` starting at `i`; the quote doubled stands for itself. */
function readQuoted(spec: string, i: number, quote: "'" | '"', tokens: ColumnToken[]): number {
  let value = "";
  let j = i + 1;
  for (;;) {
    if (j >= spec.length) {
      throw new Stop(quote === "'" ? "unterminated 'string'" : 'unterminated "quoted name"');
    }
    const d = spec.charAt(j);
    if (d === quote) {
      if (spec.charAt(j + 1) !== quote) break;
      value += quote;
      j += 2;
    } else {
      value += d;
      j++;
    }
  }
  tokens.push({ kind: quote === "'" ? "string" : "ident", value });
  return j + 1;
}
