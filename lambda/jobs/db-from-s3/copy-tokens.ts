/**
 * The lexical layer of lava's COPY options (`parameters.args`, docs/db-from-s3.md §6):
 * one `args` entry split into words, SQL string literals (`'…'`, `E'…'`),
 * double-quoted names and `( ) ,`, read as PostgreSQL reads them.
 */
import { showValue } from "../../spec/format";

/**
 * A problem with one `args` entry. {@link parseCopyArgs} reports its message
 * after the entry's index; it never escapes the parser.
 */
export class ArgProblem extends Error {}

/** One token of an `args` entry. */
export type Token = (
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ident"; readonly value: string }
  | { readonly kind: "punct"; readonly text: "(" | ")" | "," }
) & {
  /** Where the token starts in the entry, for showing the raw text in messages. */
  readonly start: number;
};

const SPACE = /[ \t\n\r\f\v]/;
const WORD_END = /[ \t\n\r\f\v'"(),]/;

/**
 * Split one `args` entry into words, string literals, quoted names and `( ) ,`.
 *
 * @throws ArgProblem for an unterminated string or name, or a bad escape
 */
export function tokenize(arg: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < arg.length) {
    const c = arg.charAt(i);
    if (SPACE.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c, start: i });
      i++;
    } else if (c === "'") {
      const { value, end } = readString(arg, i + 1, false);
      tokens.push({ kind: "string", value, start: i });
      i = end;
    } else if ((c === "E" || c === "e") && arg.charAt(i + 1) === "'") {
      const { value, end } = readString(arg, i + 2, true);
      tokens.push({ kind: "string", value, start: i });
      i = end;
    } else if (c === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= arg.length) throw new ArgProblem(`unterminated quoted name in ${showValue(arg)}`);
        const d = arg.charAt(j);
        if (d === '"') {
          if (arg.charAt(j + 1) !== '"') break;
          value += '"';
          j += 2;
        } else {
          value += d;
          j++;
        }
      }
      tokens.push({ kind: "ident", value, start: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < arg.length && !WORD_END.test(arg.charAt(j))) j++;
      tokens.push({ kind: "word", text: arg.slice(i, j), start: i });
      i = j;
    }
  }
  return tokens;
}

/** One backslash escape of an `E'…'` string, at `lastIndex`. */
const ESCAPE =
  /\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([\s\S]))/y;

const SIMPLE_ESCAPES: Record<string, string> = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Read a string literal whose body starts at `start` (after the opening
 * quote). `''` is a quote; with `escapes` (the `E'…'` form) backslash escapes
 * are read as PostgreSQL does: `\b \f \n \r \t`, octal `\ooo`, hex `\xhh`,
 * `\uXXXX`, `\UXXXXXXXX`, and `\c` for any other character c.
 */
function readString(arg: string, start: number, escapes: boolean): { value: string; end: number } {
  let value = "";
  let j = start;
  for (;;) {
    if (j >= arg.length) throw new ArgProblem(`unterminated quoted string in ${showValue(arg)}`);
    const d = arg.charAt(j);
    if (d === "'") {
      if (arg.charAt(j + 1) !== "'") return { value, end: j + 1 };
      value += "'";
      j += 2;
    } else if (escapes && d === "\\") {
      ESCAPE.lastIndex = j;
      const m = ESCAPE.exec(arg);
      if (!m) throw new ArgProblem(`unterminated quoted string in ${showValue(arg)}`);
      const [all, octal, hex, u4, u8, other = ""] = m;
      if (octal !== undefined) value += asciiByte(Number.parseInt(octal, 8) & 0xff, arg);
      else if (hex !== undefined) value += asciiByte(Number.parseInt(hex, 16), arg);
      else if (u4 !== undefined || u8 !== undefined) value += codePoint(u4 ?? u8 ?? "", arg);
      else if (other === "u" || other === "U") {
        throw new ArgProblem(`invalid Unicode escape in ${showValue(arg)}`);
      } else value += SIMPLE_ESCAPES[other] ?? other;
      j += all.length;
    } else {
      value += d;
      j++;
    }
  }
}

/** The character of a `\uXXXX` / `\UXXXXXXXX` escape. */
function codePoint(hex: string, arg: string): string {
  const code = Number.parseInt(hex, 16);
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw new ArgProblem(`invalid Unicode escape in ${showValue(arg)}`);
  }
  return String.fromCodePoint(code);
}

/** An octal or hex escape's byte, which must be ASCII to stand alone as a character. */
function asciiByte(byte: number, arg: string): string {
  if (byte > 0x7f) {
    throw new ArgProblem(`escape for byte ${byte} is not an ASCII character in ${showValue(arg)}`);
  }
  return String.fromCharCode(byte);
}
