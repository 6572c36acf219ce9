/**
 * Python `re` patterns, as lava's `re.search(pat, key)` reads them (CPython 3.11, str
 * patterns), run on JavaScript's engine (docs/db-from-s3.md §4).
 *
 * The pattern is parsed the way CPython's `re._parser` parses it — same syntax, same
 * errors with the same messages and positions — and then written out as a JavaScript
 * source for the `v` flag that matches what Python matches:
 *
 * - `.` is `[^\n]` (Python excludes only `\n`), `^`/`$` are Python's (`$` also before a
 *   final `\n`; with `(?m)` only `\n` ends a line), `\A` and `\Z` are the ends of the input;
 * - `\d`, `\w`, `\s`, `\b` are Python's Unicode classes (`\p{Nd}`, `[\p{L}\p{N}_]`,
 *   `str.isspace()`), or ASCII ones under `(?a)`;
 * - inline flags `(?aimsux)` at the start, scoped `(?ms-x:…)`, verbose mode, `(?P<n>…)`,
 *   `(?P=n)`, `\1`, octal and `\x`/`\u`/`\U` escapes, identity escapes of anything but
 *   ASCII letters and digits (`\-`, `\/`, `\ `, `\#`);
 * - atomic groups `(?>…)` and possessive repeats `*+` become `(?=(…))\k` (JavaScript's
 *   look-aheads do not backtrack).
 *
 * What JavaScript cannot do the way Python does is refused ({@link PythonRegexError} of
 * kind `unsupported`), never approximated: conditional groups `(?(1)…)`, `\N{name}`,
 * `(?t)`, a scoped group that switches case-insensitivity (or its ASCII/Unicode folding),
 * atomic or possessive inside a look-behind, a back reference to a group that may not
 * have matched (Python fails, JavaScript matches "") or under `(?ai)`, and the repeats
 * where the engines keep different text: group 1 (or a back-referenced group) inside a
 * repeat that may skip it or that may repeat an empty match, and any repeat of something
 * that can match empty before it tries longer matches (Python stops after one empty
 * repetition, JavaScript refuses it and tries the longer ones).
 *
 * Case-insensitive matching is Python's: with `(?i)`, JavaScript's Unicode case folding
 * plus Python's `i`/`I`/`İ`/`ı` class; with `(?a)` too, only ASCII letters fold, their other
 * case written out. What remains: under `(?i)`, `\w` also matches U+0345 (JavaScript folds
 * it to `ι`) and a back reference tells `İ` from `i`; Unicode properties follow Node's
 * Unicode version (Python 3.11's is 14.0: characters assigned since then are letters or
 * digits here only). test/unit/jobs/db-from-s3/regex-name-oracle.test.ts holds it to CPython.
 */

/** Python's `re.error` (kind `invalid`), or a construct JavaScript cannot run as Python does. */
export class PythonRegexError extends Error {
  constructor(
    message: string,
    readonly kind: "invalid" | "unsupported",
  ) {
    super(message);
    this.name = "PythonRegexError";
  }
}

/** A Python pattern as a JavaScript RegExp, with Python's group numbers mapped. */
export interface TranslatedRegex {
  readonly regex: RegExp;
  /** Number of Python capture groups (`Pattern.groups`). */
  readonly groups: number;
  /** Index in the JavaScript match of Python's group `g` (1-based), for g ≤ groups. */
  readonly jsGroup: (g: number) => number;
}

const MAXREPEAT = 4294967295;
const MAXGROUPS = 1073741823;

const F_TEMPLATE = 1;
const F_IGNORECASE = 2;
const F_LOCALE = 4;
const F_MULTILINE = 8;
const F_DOTALL = 16;
const F_UNICODE = 32;
const F_VERBOSE = 64;
const F_ASCII = 256;
const FLAGS: Readonly<Record<string, number>> = {
  i: F_IGNORECASE,
  L: F_LOCALE,
  m: F_MULTILINE,
  s: F_DOTALL,
  x: F_VERBOSE,
  a: F_ASCII,
  t: F_TEMPLATE,
  u: F_UNICODE,
};
const TYPE_FLAGS = F_ASCII | F_LOCALE | F_UNICODE;
const GLOBAL_FLAGS = F_TEMPLATE;

const SPECIAL_CHARS = ".\\[{()*+?^$|";
const REPEAT_CHARS = "*+?{";
const DIGITS = "0123456789";
const OCTDIGITS = "01234567";
const HEXDIGITS = "0123456789abcdefABCDEF";
const ASCIILETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const WHITESPACE = " \t\n\r\v\f";

const ESCAPES: Readonly<Record<string, number>> = {
  "\\a": 7,
  "\\b": 8,
  "\\f": 12,
  "\\n": 10,
  "\\r": 13,
  "\\t": 9,
  "\\v": 11,
  "\\\\": 92,
};

type Cat = "d" | "D" | "s" | "S" | "w" | "W";
const CATEGORY_ESCAPES: Readonly<Record<string, Cat>> = {
  "\\d": "d",
  "\\D": "D",
  "\\s": "s",
  "\\S": "S",
  "\\w": "w",
  "\\W": "W",
};

type At = "beginning" | "end" | "beginString" | "endString" | "boundary" | "nonBoundary";
const AT_ESCAPES: Readonly<Record<string, At>> = {
  "\\A": "beginString",
  "\\b": "boundary",
  "\\B": "nonBoundary",
  "\\Z": "endString",
};

type SetItem =
  | { readonly op: "lit"; readonly c: number }
  | { readonly op: "range"; readonly lo: number; readonly hi: number }
  | { readonly op: "cat"; readonly cat: Cat };

type Node =
  | { readonly op: "lit"; readonly c: number }
  | { readonly op: "notlit"; readonly c: number }
  | { readonly op: "in"; readonly negate: boolean; readonly items: readonly SetItem[] }
  | { readonly op: "any" }
  | { readonly op: "at"; readonly at: At }
  | {
      readonly op: "sub";
      readonly group: number | null;
      readonly add: number;
      readonly del: number;
      readonly p: Seq;
      readonly pos: number;
    }
  | { readonly op: "atomic"; readonly p: Seq; readonly pos: number }
  | { readonly op: "assert"; readonly behind: boolean; readonly neg: boolean; readonly p: Seq }
  | {
      readonly op: "repeat";
      readonly kind: "max" | "min" | "poss";
      readonly min: number;
      readonly max: number;
      readonly item: Seq;
      readonly pos: number;
    }
  | { readonly op: "branch"; readonly items: readonly Seq[] }
  | { readonly op: "groupref"; readonly g: number; readonly pos: number }
  | { readonly op: "cond"; readonly g: number; readonly yes: Seq; readonly no: Seq | null };

interface Seq {
  readonly items: Node[];
  width?: readonly [number, number];
}

/** A `re.error` (with a position) or Python's ValueError/OverflowError (without). */
class PyError {
  constructor(
    readonly msg: string,
    readonly pos?: number,
  ) {}
}

const cpLength = (s: string): number => Array.from(s).length;
const cp = (s: string): number => s.codePointAt(0) ?? 0;
const isAlpha = (s: string): boolean => /^\p{L}+$/u.test(s);
const isIdentifier = (s: string): boolean => /^[\p{XID_Start}_]\p{XID_Continue}*$/u.test(s);
const inSet = (c: string | null, set: string): boolean =>
  c !== null && c.length === 1 && set.includes(c);
const isFlag = (c: string | null): c is string => c !== null && Object.hasOwn(FLAGS, c);

/** Python's `repr()` of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = cp(ch);
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch !== " " && /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u.test(ch)) {
      out +=
        c < 0x100
          ? `\\x${c.toString(16).padStart(2, "0")}`
          : c < 0x10000
            ? `\\u${c.toString(16).padStart(4, "0")}`
            : `\\U${c.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/** `re._parser.Tokenizer`: single characters, or `\` with the character after it. */
class Tokenizer {
  private readonly chars: readonly string[];
  private index = 0;
  private nextLength = 0;
  next: string | null = null;

  constructor(pattern: string) {
    this.chars = Array.from(pattern);
    this.advance();
  }

  private advance(): void {
    let index = this.index;
    const char = this.chars[index];
    if (char === undefined) {
      this.next = null;
      this.nextLength = 0;
      return;
    }
    let token = char;
    let length = 1;
    if (char === "\\") {
      index += 1;
      const escaped = this.chars[index];
      if (escaped === undefined)
        throw new PyError("bad escape (end of pattern)", this.chars.length - 1);
      token += escaped;
      length = 2;
    }
    this.index = index + 1;
    this.next = token;
    this.nextLength = length;
  }

  match(char: string): boolean {
    if (char === this.next) {
      this.advance();
      return true;
    }
    return false;
  }

  get(): string | null {
    const token = this.next;
    this.advance();
    return token;
  }

  getwhile(n: number, set: string): string {
    let result = "";
    for (let k = 0; k < n; k++) {
      const c = this.next;
      if (!inSet(c, set)) break;
      result += c;
      this.advance();
    }
    return result;
  }

  getuntil(terminator: string, name: string): string {
    let result = "";
    for (;;) {
      const c = this.next;
      this.advance();
      if (c === null) {
        if (!result) throw this.error(`missing ${name}`);
        throw this.error(`missing ${terminator}, unterminated name`, cpLength(result));
      }
      if (c === terminator) {
        if (!result) throw this.error(`missing ${name}`, 1);
        break;
      }
      result += c;
    }
    return result;
  }

  tell(): number {
    return this.index - this.nextLength;
  }

  seek(index: number): void {
    this.index = index;
    this.advance();
  }

  error(msg: string, offset = 0): PyError {
    return new PyError(msg, this.tell() - offset);
  }

  checkgroupname(name: string, offset: number): void {
    if (!isIdentifier(name)) {
      throw this.error(`bad character in group name ${pyRepr(name)}`, cpLength(name) + offset);
    }
  }
}

/** `re._parser.State`, plus the constructs the translation cannot run. */
class State {
  flags = 0;
  readonly groupdict = new Map<string, number>();
  readonly groupwidths: (readonly [number, number] | null)[] = [null];
  lookbehindgroups: number | null = null;
  readonly grouprefpos = new Map<number, number>();
  readonly unsupported: string[] = [];

  get groups(): number {
    return this.groupwidths.length;
  }

  opengroup(name: string | null): number {
    const gid = this.groups;
    this.groupwidths.push(null);
    if (name !== null) {
      const ogid = this.groupdict.get(name);
      if (ogid !== undefined) {
        throw new PyError(
          `redefinition of group name ${pyRepr(name)} as group ${gid}; was group ${ogid}`,
        );
      }
      this.groupdict.set(name, gid);
    }
    return gid;
  }

  closegroup(gid: number, p: Seq): void {
    this.groupwidths[gid] = this.width(p);
  }

  checkgroup(gid: number): boolean {
    return gid < this.groups && this.groupwidths[gid] != null;
  }

  checklookbehindgroup(gid: number, source: Tokenizer): void {
    if (this.lookbehindgroups !== null) {
      if (!this.checkgroup(gid)) throw source.error("cannot refer to an open group");
      if (gid >= this.lookbehindgroups) {
        throw source.error("cannot refer to group defined in the same lookbehind subpattern");
      }
    }
  }

  /** `SubPattern.getwidth()`. */
  width(p: Seq): readonly [number, number] {
    if (p.width) return p.width;
    let lo = 0;
    let hi = 0;
    for (const n of p.items) {
      if (n.op === "branch") {
        let i = MAXREPEAT - 1;
        let j = 0;
        for (const b of n.items) {
          const [l, h] = this.width(b);
          i = Math.min(i, l);
          j = Math.max(j, h);
        }
        lo += i;
        hi += j;
      } else if (n.op === "atomic" || n.op === "sub") {
        const [i, j] = this.width(n.p);
        lo += i;
        hi += j;
      } else if (n.op === "repeat") {
        const [i, j] = this.width(n.item);
        lo += i * n.min;
        hi += j * n.max;
      } else if (n.op === "lit" || n.op === "notlit" || n.op === "in" || n.op === "any") {
        lo += 1;
        hi += 1;
      } else if (n.op === "groupref") {
        const [i, j] = this.groupwidths[n.g] ?? [0, 0];
        lo += i;
        hi += j;
      } else if (n.op === "cond") {
        let [i, j] = this.width(n.yes);
        if (n.no) {
          const [l, h] = this.width(n.no);
          i = Math.min(i, l);
          j = Math.max(j, h);
        } else i = 0;
        lo += i;
        hi += j;
      }
    }
    p.width = [Math.min(lo, MAXREPEAT - 1), Math.min(hi, MAXREPEAT)];
    return p.width;
  }
}

type ClassCode =
  | { readonly kind: "lit"; readonly c: number }
  | { readonly kind: "cat"; readonly cat: Cat };

/** `re._parser._class_escape`. */
function classEscape(source: Tokenizer, state: State, token: string): ClassCode {
  const simple = ESCAPES[token];
  if (simple !== undefined) return { kind: "lit", c: simple };
  const cat = CATEGORY_ESCAPES[token];
  if (cat) return { kind: "cat", cat };
  return { kind: "lit", c: literalEscape(source, state, token, true) };
}

/**
 * The `\x`, `\u`, `\U`, `\N`, octal and identity escapes shared by `_class_escape` and
 * `_escape` (`inClass` picks `_class_escape`'s octal rule): the code point, or Python's
 * "bad escape".
 */
function literalEscape(source: Tokenizer, state: State, start: string, inClass: boolean): number {
  let token = start;
  const c = token.slice(1);
  const bad = () => source.error(`bad escape ${token}`, cpLength(token));
  const hexDigits = (digits: number): number => {
    token += source.getwhile(digits, HEXDIGITS);
    if (cpLength(token) !== digits + 2) {
      throw source.error(`incomplete escape ${token}`, cpLength(token));
    }
    return Number.parseInt(token.slice(2), 16);
  };
  if (c === "x") return hexDigits(2);
  if (c === "u") return hexDigits(4);
  if (c === "U") {
    const value = hexDigits(8);
    if (value > 0x10ffff) throw bad();
    return value;
  }
  if (c === "N") {
    const at = source.tell() - 2;
    if (!source.match("{")) throw source.error("missing {");
    source.getuntil("}", "character name");
    state.unsupported.push(
      `the named character escape \\N{…} at position ${at} is not supported here: write the character itself, or \\uXXXX`,
    );
    return 0xfffd;
  }
  if (inClass && inSet(c, OCTDIGITS)) {
    token += source.getwhile(2, OCTDIGITS);
    const value = Number.parseInt(token.slice(1), 8);
    if (value > 0o377) {
      throw source.error(`octal escape value ${token} outside of range 0-0o377`, cpLength(token));
    }
    return value;
  }
  if (inSet(c, DIGITS) || inSet(c, ASCIILETTERS)) throw bad();
  return cp(c);
}

/** `re._parser._escape`: an escape outside a character class. */
function escapeNode(source: Tokenizer, state: State, start: string): Node {
  const at = AT_ESCAPES[start];
  if (at) return { op: "at", at };
  const cat = CATEGORY_ESCAPES[start];
  if (cat) return { op: "in", negate: false, items: [{ op: "cat", cat }] };
  const simple = ESCAPES[start];
  if (simple !== undefined) return { op: "lit", c: simple };
  let token = start;
  const c = token.slice(1);
  if (c === "0") {
    token += source.getwhile(2, OCTDIGITS);
    return { op: "lit", c: Number.parseInt(token.slice(1), 8) };
  }
  if (inSet(c, DIGITS)) {
    const pos = source.tell() - 2;
    if (inSet(source.next, DIGITS)) {
      token += source.get();
      if (
        inSet(token[1] ?? null, OCTDIGITS) &&
        inSet(token[2] ?? null, OCTDIGITS) &&
        inSet(source.next, OCTDIGITS)
      ) {
        token += source.get();
        const value = Number.parseInt(token.slice(1), 8);
        if (value > 0o377) {
          throw source.error(
            `octal escape value ${token} outside of range 0-0o377`,
            cpLength(token),
          );
        }
        return { op: "lit", c: value };
      }
    }
    const group = Number.parseInt(token.slice(1), 10);
    if (group < state.groups) {
      if (!state.checkgroup(group)) {
        throw source.error("cannot refer to an open group", cpLength(token));
      }
      state.checklookbehindgroup(group, source);
      return { op: "groupref", g: group, pos };
    }
    throw source.error(`invalid group reference ${group}`, cpLength(token) - 1);
  }
  return { op: "lit", c: literalEscape(source, state, token, false) };
}

/** `re._parser._parse_sub`: alternatives separated by `|`. */
function parseSub(source: Tokenizer, state: State, verbose: boolean, nested: number): Seq {
  const items: Seq[] = [];
  let v = verbose;
  for (;;) {
    items.push(parse(source, state, v, nested + 1, !nested && items.length === 0));
    if (!source.match("|")) break;
    if (!nested) v = (state.flags & F_VERBOSE) !== 0;
  }
  const [only] = items;
  if (items.length === 1 && only) return only;
  return { items: [{ op: "branch", items }] };
}

/** `re._parser._parse`: one alternative. */
function parse(
  source: Tokenizer,
  state: State,
  verboseIn: boolean,
  nested: number,
  first = false,
): Seq {
  let verbose = verboseIn;
  const subpattern: Seq = { items: [] };
  const items = subpattern.items;
  for (;;) {
    const token = source.next;
    if (token === null) break;
    if (token === "|" || token === ")") break;
    source.get();

    if (verbose) {
      if (inSet(token, WHITESPACE)) continue;
      if (token === "#") {
        for (;;) {
          const skipped = source.get();
          if (skipped === null || skipped === "\n") break;
        }
        continue;
      }
    }

    if (token[0] === "\\") {
      items.push(escapeNode(source, state, token));
    } else if (!SPECIAL_CHARS.includes(token)) {
      items.push({ op: "lit", c: cp(token) });
    } else if (token === "[") {
      items.push(parseClass(source, state));
    } else if (REPEAT_CHARS.includes(token)) {
      const here = source.tell();
      let min: number;
      let max: number;
      if (token === "?") [min, max] = [0, 1];
      else if (token === "*") [min, max] = [0, MAXREPEAT];
      else if (token === "+") [min, max] = [1, MAXREPEAT];
      else {
        if (source.next === "}") {
          items.push({ op: "lit", c: cp(token) });
          continue;
        }
        [min, max] = [0, MAXREPEAT];
        let lo = "";
        let hi = "";
        while (inSet(source.next, DIGITS)) lo += source.get();
        if (source.match(",")) {
          while (inSet(source.next, DIGITS)) hi += source.get();
        } else hi = lo;
        if (!source.match("}")) {
          items.push({ op: "lit", c: cp(token) });
          source.seek(here);
          continue;
        }
        if (lo) {
          min = Number(lo);
          if (min >= MAXREPEAT) throw new PyError("the repetition number is too large");
        }
        if (hi) {
          max = Number(hi);
          if (max >= MAXREPEAT) throw new PyError("the repetition number is too large");
          if (max < min) {
            throw source.error("min repeat greater than max repeat", source.tell() - here);
          }
        }
      }
      const last = items[items.length - 1];
      if (!last || last.op === "at") {
        throw source.error("nothing to repeat", source.tell() - here + 1);
      }
      if (last.op === "repeat") throw source.error("multiple repeat", source.tell() - here + 1);
      const item: Seq =
        last.op === "sub" && last.group === null && !last.add && !last.del
          ? last.p
          : { items: [last] };
      const kind = source.match("?") ? "min" : source.match("+") ? "poss" : "max";
      items[items.length - 1] = { op: "repeat", kind, min, max, item, pos: here - 1 };
    } else if (token === ".") {
      items.push({ op: "any" });
    } else if (token === "(") {
      const node = parseGroup(source, state, verbose, nested, first, items.length > 0);
      if (node === "global") {
        verbose = (state.flags & F_VERBOSE) !== 0;
        continue;
      }
      if (node) items.push(node);
    } else if (token === "^") {
      items.push({ op: "at", at: "beginning" });
    } else if (token === "$") {
      items.push({ op: "at", at: "end" });
    }
  }
  return subpattern;
}

/** The `[` … `]` branch of `_parse`. */
function parseClass(source: Tokenizer, state: State): Node {
  const here = source.tell() - 1;
  const set: SetItem[] = [];
  const negate = source.match("^");
  const unterminated = () => source.error("unterminated character set", source.tell() - here);
  const asItem = (code: ClassCode): SetItem =>
    code.kind === "lit" ? { op: "lit", c: code.c } : { op: "cat", cat: code.cat };
  for (;;) {
    const token = source.get();
    if (token === null) throw unterminated();
    if (token === "]" && set.length > 0) break;
    const code1: ClassCode =
      token[0] === "\\" ? classEscape(source, state, token) : { kind: "lit", c: cp(token) };
    if (source.match("-")) {
      const that = source.get();
      if (that === null) throw unterminated();
      if (that === "]") {
        set.push(asItem(code1), { op: "lit", c: 0x2d });
        break;
      }
      const code2: ClassCode =
        that[0] === "\\" ? classEscape(source, state, that) : { kind: "lit", c: cp(that) };
      const bad = () =>
        source.error(`bad character range ${token}-${that}`, cpLength(token) + 1 + cpLength(that));
      if (code1.kind !== "lit" || code2.kind !== "lit") throw bad();
      if (code2.c < code1.c) throw bad();
      set.push({ op: "range", lo: code1.c, hi: code2.c });
    } else {
      set.push(asItem(code1));
    }
  }
  const [only] = set;
  if (set.length === 1 && only?.op === "lit") {
    return negate ? { op: "notlit", c: only.c } : { op: "lit", c: only.c };
  }
  return { op: "in", negate, items: set };
}

/** The `(` branch of `_parse`: "global" for leading global flags, null for a comment. */
function parseGroup(
  source: Tokenizer,
  state: State,
  verbose: boolean,
  nested: number,
  first: boolean,
  hasItems: boolean,
): Node | "global" | null {
  const start = source.tell() - 1;
  let capture = true;
  let atomic = false;
  let name: string | null = null;
  let add = 0;
  let del = 0;
  const unterminated = () =>
    source.error("missing ), unterminated subpattern", source.tell() - start);
  if (source.match("?")) {
    const char = source.get();
    if (char === null) throw source.error("unexpected end of pattern");
    if (char === "P") {
      if (source.match("<")) {
        name = source.getuntil(">", "group name");
        source.checkgroupname(name, 1);
      } else if (source.match("=")) {
        const ref = source.getuntil(")", "group name");
        source.checkgroupname(ref, 1);
        const gid = state.groupdict.get(ref);
        if (gid === undefined) {
          throw source.error(`unknown group name ${pyRepr(ref)}`, cpLength(ref) + 1);
        }
        if (!state.checkgroup(gid)) {
          throw source.error("cannot refer to an open group", cpLength(ref) + 1);
        }
        state.checklookbehindgroup(gid, source);
        return { op: "groupref", g: gid, pos: start };
      } else {
        const next = source.get();
        if (next === null) throw source.error("unexpected end of pattern");
        throw source.error(`unknown extension ?P${next}`, cpLength(next) + 2);
      }
    } else if (char === ":") {
      capture = false;
    } else if (char === "#") {
      for (;;) {
        if (source.next === null) {
          throw source.error("missing ), unterminated comment", source.tell() - start);
        }
        if (source.get() === ")") break;
      }
      return null;
    } else if (char === "=" || char === "!" || char === "<") {
      let kind = char;
      let behind = false;
      let outerLookbehind: number | null = null;
      if (char === "<") {
        const next = source.get();
        if (next === null) throw source.error("unexpected end of pattern");
        if (next !== "=" && next !== "!") {
          throw source.error(`unknown extension ?<${next}`, cpLength(next) + 2);
        }
        kind = next;
        behind = true;
        outerLookbehind = state.lookbehindgroups;
        if (outerLookbehind === null) state.lookbehindgroups = state.groups;
      }
      const p = parseSub(source, state, verbose, nested + 1);
      if (behind && outerLookbehind === null) state.lookbehindgroups = null;
      if (!source.match(")")) throw unterminated();
      return { op: "assert", behind, neg: kind === "!", p };
    } else if (char === "(") {
      const condname = source.getuntil(")", "group name");
      let condgroup: number;
      if (isIdentifier(condname)) {
        source.checkgroupname(condname, 1);
        const gid = state.groupdict.get(condname);
        if (gid === undefined) {
          throw source.error(`unknown group name ${pyRepr(condname)}`, cpLength(condname) + 1);
        }
        condgroup = gid;
      } else {
        const text = condname.trim().replace(/^\+/, "");
        if (!/^[0-9]+(?:_[0-9]+)*$/.test(text)) {
          throw source.error(
            `bad character in group name ${pyRepr(condname)}`,
            cpLength(condname) + 1,
          );
        }
        condgroup = Number(text.replaceAll("_", ""));
        if (!condgroup) throw source.error("bad group number", cpLength(condname) + 1);
        if (condgroup >= MAXGROUPS) {
          throw source.error(`invalid group reference ${condgroup}`, cpLength(condname) + 1);
        }
        if (!state.grouprefpos.has(condgroup)) {
          state.grouprefpos.set(condgroup, source.tell() - cpLength(condname) - 1);
        }
      }
      state.checklookbehindgroup(condgroup, source);
      const yes = parse(source, state, verbose, nested + 1);
      let no: Seq | null = null;
      if (source.match("|")) {
        no = parse(source, state, verbose, nested + 1);
        if (source.next === "|") {
          throw source.error("conditional backref with more than two branches");
        }
      }
      if (!source.match(")")) throw unterminated();
      state.unsupported.push(
        `the conditional group (?(…)…) at position ${start} has no JavaScript equivalent`,
      );
      return { op: "cond", g: condgroup, yes, no };
    } else if (char === ">") {
      capture = false;
      atomic = true;
    } else if (isFlag(char) || char === "-") {
      const flags = parseFlags(source, state, char);
      if (flags === null) {
        if (!first || hasItems) {
          throw source.error(
            "global flags not at the start of the expression",
            source.tell() - start,
          );
        }
        return "global";
      }
      [add, del] = flags;
      capture = false;
    } else {
      throw source.error(`unknown extension ?${char}`, cpLength(char) + 1);
    }
  }
  let group: number | null = null;
  if (capture) {
    try {
      group = state.opengroup(name);
    } catch (err) {
      if (err instanceof PyError) throw source.error(err.msg, cpLength(name ?? "") + 1);
      throw err;
    }
  }
  const subVerbose = (verbose || (add & F_VERBOSE) !== 0) && !(del & F_VERBOSE);
  const p = parseSub(source, state, subVerbose, nested + 1);
  if (!source.match(")")) throw unterminated();
  if (group !== null) state.closegroup(group, p);
  if (atomic) return { op: "atomic", p, pos: start };
  return { op: "sub", group, add, del, p, pos: start };
}

/** `re._parser._parse_flags`: null for global flags `(?…)`, else [added, removed]. */
function parseFlags(source: Tokenizer, state: State, first: string): [number, number] | null {
  let char: string | null = first;
  let add = 0;
  let del = 0;
  if (char !== "-") {
    for (;;) {
      const flag = FLAGS[char] ?? 0;
      if (char === "L") {
        throw source.error("bad inline flags: cannot use 'L' flag with a str pattern");
      }
      add |= flag;
      if (flag & TYPE_FLAGS && (add & TYPE_FLAGS) !== flag) {
        throw source.error("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
      }
      char = source.get();
      if (char === null) throw source.error("missing -, : or )");
      if (char === ")" || char === "-" || char === ":") break;
      if (!isFlag(char)) {
        throw source.error(isAlpha(char) ? "unknown flag" : "missing -, : or )", cpLength(char));
      }
    }
  }
  if (char === ")") {
    state.flags |= add;
    return null;
  }
  if (add & GLOBAL_FLAGS) throw source.error("bad inline flags: cannot turn on global flag", 1);
  if (char === "-") {
    char = source.get();
    if (char === null) throw source.error("missing flag");
    if (!isFlag(char)) {
      throw source.error(isAlpha(char) ? "unknown flag" : "missing flag", cpLength(char));
    }
    for (;;) {
      const flag = FLAGS[char] ?? 0;
      if (flag & TYPE_FLAGS) {
        throw source.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
      }
      del |= flag;
      char = source.get();
      if (char === null) throw source.error("missing :");
      if (char === ":") break;
      if (!isFlag(char)) {
        throw source.error(isAlpha(char) ? "unknown flag" : "missing :", cpLength(char));
      }
    }
  }
  if (del & GLOBAL_FLAGS) throw source.error("bad inline flags: cannot turn off global flag", 1);
  if (add & del) throw source.error("bad inline flags: flag turned on and off", 1);
  return [add, del];
}

/** Python's `re.error` text: `msg at position N`, with line and column when the pattern has lines. */
function pythonMessage(err: PyError, pattern: string): string {
  if (err.pos === undefined) return err.msg;
  const chars = Array.from(pattern);
  const before = chars.slice(0, err.pos).join("");
  let msg = `${err.msg} at position ${err.pos}`;
  if (pattern.includes("\n")) {
    const lineno = before.split("\n").length;
    const lastNewline = before.lastIndexOf("\n");
    const colno = lastNewline < 0 ? err.pos + 1 : err.pos - cpLength(before.slice(0, lastNewline));
    msg += ` (line ${lineno}, column ${colno})`;
  }
  return msg;
}

/** What `re.compile` checks after parsing: look-behind widths and the TEMPLATE flag. */
function compileChecks(seq: Seq, state: State, flags: number): void {
  for (const n of seq.items) {
    if (n.op === "repeat") {
      if (flags & F_TEMPLATE) {
        const op = { max: "MAX_REPEAT", min: "MIN_REPEAT", poss: "POSSESSIVE_REPEAT" }[n.kind];
        throw new PyError(`internal: unsupported template operator ${op}`);
      }
      compileChecks(n.item, state, flags);
    } else if (n.op === "sub") compileChecks(n.p, state, combineFlags(flags, n.add, n.del));
    else if (n.op === "atomic") compileChecks(n.p, state, flags);
    else if (n.op === "assert") {
      if (n.behind) {
        const [lo, hi] = state.width(n.p);
        if (lo !== hi) throw new PyError("look-behind requires fixed-width pattern");
      }
      compileChecks(n.p, state, flags);
    } else if (n.op === "branch") {
      for (const b of n.items) compileChecks(b, state, flags);
    } else if (n.op === "cond") {
      compileChecks(n.yes, state, flags);
      if (n.no) compileChecks(n.no, state, flags);
    }
  }
}

/** `re._compiler._combine_flags`. */
function combineFlags(flags: number, add: number, del: number): number {
  const base = add & TYPE_FLAGS ? flags & ~TYPE_FLAGS : flags;
  return (base | add) & ~del;
}

/** Parse like `re.compile(pattern)`: the tree, the effective global flags, the state. */
function parsePython(pattern: string): { tree: Seq; flags: number; state: State } {
  const state = new State();
  const source = new Tokenizer(pattern);
  const tree = parseSub(source, state, false, 0);
  let flags = state.flags;
  if (!(flags & F_ASCII)) flags |= F_UNICODE;
  else if (flags & F_UNICODE) throw new PyError("ASCII and UNICODE flags are incompatible");
  if (source.next !== null) throw source.error("unbalanced parenthesis");
  for (const [g, pos] of state.grouprefpos) {
    if (g >= state.groups) throw new PyError(`invalid group reference ${g}`, pos);
  }
  compileChecks(tree, state, flags);
  return { tree, flags, state };
}

/**
 * Groups certainly set once `seq` matched, given `known` before it, as JavaScript keeps
 * them (a repeat forgets the groups inside it at each repetition); pushes a problem for
 * each back reference to a group that may be unset there.
 */
function settledGroups(seq: Seq, known: ReadonlySet<number>, problems: string[]): Set<number> {
  let now = new Set(known);
  for (const n of seq.items) {
    if (n.op === "groupref") {
      if (!now.has(n.g)) {
        problems.push(
          `the back reference at position ${n.pos} may refer to group ${n.g} when it took no part in the match: Python then fails to match, JavaScript matches the empty string`,
        );
      }
    } else if (n.op === "sub") {
      now = settledGroups(n.p, now, problems);
      if (n.group !== null) now.add(n.group);
    } else if (n.op === "atomic") {
      now = settledGroups(n.p, now, problems);
    } else if (n.op === "branch") {
      const outcomes = n.items.map((b) => settledGroups(b, now, problems));
      now = new Set(
        [...now, ...(outcomes[0] ?? [])].filter((g) => outcomes.every((o) => o.has(g))),
      );
    } else if (n.op === "repeat") {
      const body = settledGroups(n.item, now, problems);
      if (n.min >= 1) now = body;
    } else if (n.op === "assert") {
      const inside = settledGroups(n.p, now, problems);
      if (!n.neg) now = inside;
    } else if (n.op === "cond") {
      settledGroups(n.yes, now, problems);
      if (n.no) settledGroups(n.no, now, problems);
    }
  }
  return now;
}

/**
 * Whether a nullable `seq` tries its empty match after every non-empty one: then refusing an
 * empty repetition (JavaScript) and making it (Python) leave the same text matched.
 */
function emptyLast(seq: Seq, state: State): boolean {
  return seq.items.every((n) => {
    if (n.op === "repeat" && n.kind === "poss") return true;
    const width = state.width({ items: [n] });
    if (width[0] > 0 || width[1] === 0) return true;
    switch (n.op) {
      case "repeat":
        return n.kind === "max" && emptyLast(n.item, state);
      case "branch":
        return n.items.every(
          (b, i) => emptyLast(b, state) && (i === n.items.length - 1 || state.width(b)[0] > 0),
        );
      case "sub":
        return emptyLast(n.p, state);
      case "cond":
        return false;
      default:
        return true;
    }
  });
}

/**
 * Where the engines part at a repeat of something that can match the empty string: once
 * the required repetitions are made, Python accepts one more, empty, repetition and
 * JavaScript refuses it — trying the body's other ways to match instead.
 */
function nullableRepeatProblem(seq: Seq, state: State): string | undefined {
  for (const n of seq.items) {
    const inner: Seq[] =
      n.op === "sub" || n.op === "atomic" || n.op === "assert"
        ? [n.p]
        : n.op === "repeat"
          ? [n.item]
          : n.op === "branch"
            ? [...n.items]
            : n.op === "cond"
              ? [n.yes, ...(n.no ? [n.no] : [])]
              : [];
    if (n.op === "repeat" && n.max > n.min) {
      const [lo, hi] = state.width(n.item);
      if (lo === 0 && hi > 0 && (n.kind === "min" || !emptyLast(n.item, state))) {
        return `the repeat (its quantifier at position ${n.pos}) repeats something that can match the empty string before it tries longer matches: Python then stops after one empty repetition, JavaScript goes on to the longer ones`;
      }
    }
    for (const s of inner) {
      const problem = nullableRepeatProblem(s, state);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** The repeats around Python group `g`, outermost first; undefined when there is no such group. */
function repeatsAround(seq: Seq, g: number): Extract<Node, { op: "repeat" }>[] | undefined {
  for (const n of seq.items) {
    if (n.op === "sub" && n.group === g) return [];
    const inner: Seq[] =
      n.op === "sub" || n.op === "atomic" || n.op === "assert"
        ? [n.p]
        : n.op === "repeat"
          ? [n.item]
          : n.op === "branch"
            ? [...n.items]
            : n.op === "cond"
              ? [n.yes, ...(n.no ? [n.no] : [])]
              : [];
    for (const s of inner) {
      const found = repeatsAround(s, g);
      if (found) return n.op === "repeat" ? [n, ...found] : found;
    }
  }
  return undefined;
}

/** The groups back references name. */
function referencedGroups(seq: Seq, into = new Set<number>()): Set<number> {
  for (const n of seq.items) {
    if (n.op === "groupref") into.add(n.g);
    else if (n.op === "sub" || n.op === "atomic" || n.op === "assert") referencedGroups(n.p, into);
    else if (n.op === "repeat") referencedGroups(n.item, into);
    else if (n.op === "branch") for (const b of n.items) referencedGroups(b, into);
    else if (n.op === "cond") {
      referencedGroups(n.yes, into);
      if (n.no) referencedGroups(n.no, into);
    }
  }
  return into;
}

/**
 * Why the value of group `g` may differ between Python and JavaScript, if it may: repeats
 * are the one place the engines keep different captures. JavaScript forgets a repeat's
 * groups at each repetition (Python keeps the last value set), and refuses an optional
 * repetition that matches the empty string (Python makes it once, setting its groups).
 */
function repeatProblem(tree: Seq, state: State, g: number): string | undefined {
  const what = g === 1 ? "group 1" : `group ${g}, which a back reference uses,`;
  for (const r of repeatsAround(tree, g) ?? []) {
    if (r.max > 1 && !settledGroups(r.item, new Set(), []).has(g)) {
      return `${what} is inside a repeat (its quantifier at position ${r.pos}) that may match without it: Python then keeps its value from an earlier repetition, JavaScript forgets it`;
    }
    if (r.max > r.min && state.width(r.item)[0] === 0) {
      return `${what} is inside a repeat (its quantifier at position ${r.pos}) of something that can match the empty string: Python then makes one more, empty, repetition and sets the group to it, JavaScript does not`;
    }
  }
  return undefined;
}

const hex = (c: number): string => `\\u{${c.toString(16).toUpperCase()}}`;
/** A code point as a `v`-mode literal, inside or outside a class. */
const esc = (c: number): string =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    ? String.fromCodePoint(c)
    : hex(c);

const UNICODE_SPACE = `[${hex(9)}-${hex(0xd)}${hex(0x1c)}-${hex(0x20)}${hex(0x85)}${hex(0xa0)}${hex(0x1680)}${hex(0x2000)}-${hex(0x200a)}${hex(0x2028)}${hex(0x2029)}${hex(0x202f)}${hex(0x205f)}${hex(0x3000)}]`;
const CATEGORIES: Readonly<Record<"unicode" | "ascii", Readonly<Record<Cat, string>>>> = {
  unicode: {
    d: "\\p{Nd}",
    D: "\\P{Nd}",
    w: `[\\p{L}\\p{N}${hex(0x5f)}]`,
    W: `[^\\p{L}\\p{N}${hex(0x5f)}]`,
    s: UNICODE_SPACE,
    S: `[^${UNICODE_SPACE.slice(1)}`,
  },
  ascii: {
    d: "[0-9]",
    D: "[^0-9]",
    w: `[0-9A-Za-z${hex(0x5f)}]`,
    W: `[^0-9A-Za-z${hex(0x5f)}]`,
    s: `[${hex(9)}-${hex(0xd)}${hex(0x20)}]`,
    S: `[^${hex(9)}-${hex(0xd)}${hex(0x20)}]`,
  },
};

/**
 * How a pattern folds case: not at all, Unicode (JavaScript's `i` flag), or ASCII letters
 * only (`(?a)` with `(?i)`: Python leaves `é`/`É`, `K`/`k` (Kelvin) apart; written out here).
 */
type Fold = "none" | "unicode" | "ascii";
const foldOf = (flags: number): Fold =>
  flags & F_IGNORECASE ? (flags & F_ASCII ? "ascii" : "unicode") : "none";

/** The other case of an ASCII letter, or undefined. */
function asciiPartner(c: number): number | undefined {
  if (c >= 0x41 && c <= 0x5a) return c + 0x20;
  if (c >= 0x61 && c <= 0x7a) return c - 0x20;
  return undefined;
}

/** The other case of the ASCII letters of a class item (Python's ASCII IGNORECASE). */
function asciiPartners(i: SetItem): SetItem[] {
  if (i.op === "lit") {
    const partner = asciiPartner(i.c);
    return partner === undefined ? [] : [{ op: "lit", c: partner }];
  }
  if (i.op === "cat") return [];
  const out: SetItem[] = [];
  for (const [from, to, shift] of [
    [0x41, 0x5a, 0x20],
    [0x61, 0x7a, -0x20],
  ] as const) {
    const lo = Math.max(i.lo, from);
    const hi = Math.min(i.hi, to);
    if (lo <= hi) out.push({ op: "range", lo: lo + shift, hi: hi + shift });
  }
  return out;
}

/**
 * `I`, `i`, `İ` (U+0130), `ı` (U+0131): one case class for Python's IGNORECASE (simple
 * lower-casing takes `İ` to `i`, and `re` adds `ı`), three for JavaScript's case folding.
 * Every other single character folds alike in both (checked over all of Unicode's case pairs).
 */
const DOTTED_I: readonly number[] = [0x49, 0x69, 0x130, 0x131];

const holdsDottedI = (i: SetItem): boolean =>
  i.op === "lit"
    ? DOTTED_I.includes(i.c)
    : i.op === "range" && DOTTED_I.some((c) => i.lo <= c && c <= i.hi);

/** Writes the parsed tree as a JavaScript `v`-mode source. */
class Emitter {
  private jsGroups = 0;
  private behind = 0;
  readonly pyToJs: number[] = [0];

  /** How the whole pattern folds case: JavaScript's `i` flag can do Unicode folding, not ASCII's. */
  private readonly fold: Fold;

  constructor(
    globalFlags: number,
    private readonly unsupported: string[],
  ) {
    this.fold = foldOf(globalFlags);
  }

  seq(seq: Seq, flags: number): string {
    return seq.items.map((n) => this.node(n, flags)).join("");
  }

  private categories(flags: number) {
    return CATEGORIES[flags & F_ASCII ? "ascii" : "unicode"];
  }

  private node(n: Node, flags: number): string {
    switch (n.op) {
      case "lit":
        return (this.fold === "ascii" && asciiPartner(n.c)) ||
          (this.fold === "unicode" && DOTTED_I.includes(n.c))
          ? this.set(false, [n], flags)
          : esc(n.c);
      case "notlit":
        return this.set(true, [{ op: "lit", c: n.c }], flags);
      case "in":
        return this.set(n.negate, n.items, flags);
      case "any":
        return flags & F_DOTALL ? "[^]" : `[^${hex(0xa)}]`;
      case "at":
        return this.at(n.at, flags);
      case "sub": {
        const inner = combineFlags(flags, n.add, n.del);
        const fold = foldOf(inner);
        if (fold !== this.fold) {
          this.unsupported.push(
            fold === "none" || this.fold === "none"
              ? `the group at position ${n.pos} turns case-insensitive matching ${fold === "none" ? "off" : "on"} for part of the pattern, which JavaScript cannot do; put (?i) at the start to make all of it case-insensitive`
              : `the group at position ${n.pos} folds case ${fold === "ascii" ? "for ASCII letters only" : "for all letters"} in part of a case-insensitive pattern, which JavaScript cannot do; put (?a) at the start, or leave it out, for all of it`,
          );
        }
        if (n.group === null) return `(?:${this.seq(n.p, inner)})`;
        this.jsGroups += 1;
        this.pyToJs[n.group] = this.jsGroups;
        return `(${this.seq(n.p, inner)})`;
      }
      case "atomic":
        return this.atomic(n.pos, "an atomic group", () => this.seq(n.p, flags));
      case "assert": {
        if (n.behind) this.behind += 1;
        const inner = this.seq(n.p, flags);
        if (n.behind) this.behind -= 1;
        return `(?${n.behind ? "<" : ""}${n.neg ? "!" : "="}${inner})`;
      }
      case "repeat": {
        const quantifier = repeatQuantifier(n.min, n.max) + (n.kind === "min" ? "?" : "");
        if (n.kind === "poss") {
          return this.atomic(
            n.pos,
            "a possessive repeat",
            () => `(?:${this.seq(n.item, flags)})${quantifier}`,
          );
        }
        return `(?:${this.seq(n.item, flags)})${quantifier}`;
      }
      case "branch":
        return `(?:${n.items.map((b) => this.seq(b, flags)).join("|")})`;
      case "groupref":
        if (this.fold === "ascii") {
          this.unsupported.push(
            `the back reference at position ${n.pos} would compare ASCII letters only case-insensitively ((?a) with (?i)), which JavaScript cannot do`,
          );
        }
        return `(?:\\${this.pyToJs[n.g] ?? 0})`;
      case "cond":
        return "";
    }
  }

  /** `(?>X)` as `(?=(X))\k`: the look-ahead cannot be backtracked into, the back reference takes its text. */
  private atomic(pos: number, what: string, body: () => string): string {
    if (this.behind > 0) {
      this.unsupported.push(
        `${what} at position ${pos} inside a look-behind has no JavaScript equivalent`,
      );
    }
    this.jsGroups += 1;
    const helper = this.jsGroups;
    return `(?:(?=(${body()}))\\${helper})`;
  }

  /**
   * A class; under ASCII-only folding with the other case of every ASCII letter in it, under
   * Unicode folding with all of `i I İ ı` when it holds one of them (Python folds them together).
   */
  private set(negate: boolean, items: readonly SetItem[], flags: number): string {
    const all =
      this.fold === "ascii"
        ? [...items, ...items.flatMap(asciiPartners)]
        : this.fold === "unicode" && items.some(holdsDottedI)
          ? [...items, ...DOTTED_I.map((c): SetItem => ({ op: "lit", c }))]
          : items;
    return `[${negate ? "^" : ""}${all.map((i) => this.item(i, flags)).join("")}]`;
  }

  private item(i: SetItem, flags: number): string {
    if (i.op === "lit") return esc(i.c);
    if (i.op === "range") return `${esc(i.lo)}-${esc(i.hi)}`;
    return this.categories(flags)[i.cat];
  }

  private at(at: At, flags: number): string {
    const word = this.categories(flags).w;
    switch (at) {
      case "beginning":
        return flags & F_MULTILINE ? `(?<![^${hex(0xa)}])` : "^";
      case "end":
        return flags & F_MULTILINE ? `(?=${hex(0xa)}|$)` : `(?=${hex(0xa)}?$)`;
      case "beginString":
        return "^";
      case "endString":
        return "$";
      case "boundary":
        return `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`;
      case "nonBoundary":
        return `(?!^$)(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`;
    }
  }
}

function repeatQuantifier(min: number, max: number): string {
  if (max === MAXREPEAT) return min === 0 ? "*" : min === 1 ? "+" : `{${min},}`;
  if (min === 0 && max === 1) return "?";
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

/**
 * Translate a Python `re` pattern (without lava's leading `/`) for `re.search`.
 *
 * @throws PythonRegexError of kind `invalid` with Python's own message (what lava's
 *   `re.search` would raise), or `unsupported` naming the construct JavaScript cannot run
 */
export function translatePythonRegex(pattern: string): TranslatedRegex {
  let parsed: ReturnType<typeof parsePython>;
  try {
    parsed = parsePython(pattern);
  } catch (err) {
    if (err instanceof PyError) throw new PythonRegexError(pythonMessage(err, pattern), "invalid");
    throw err;
  }
  const { tree, flags, state } = parsed;
  const unsupported = [...state.unsupported];
  if (flags & F_TEMPLATE) unsupported.push("the TEMPLATE flag (?t) has no JavaScript equivalent");
  settledGroups(tree, new Set(), unsupported);
  const nullable = nullableRepeatProblem(tree, state);
  if (nullable) unsupported.push(nullable);
  for (const g of new Set([1, ...referencedGroups(tree)])) {
    const problem = g < state.groups ? repeatProblem(tree, state, g) : undefined;
    if (problem) unsupported.push(problem);
  }
  const emitter = new Emitter(flags, unsupported);
  const source = emitter.seq(tree, flags);
  const [problem] = unsupported;
  if (problem !== undefined) throw new PythonRegexError(problem, "unsupported");
  let regex: RegExp;
  try {
    regex = new RegExp(source, foldOf(flags) === "unicode" ? "iv" : "v");
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new PythonRegexError(`JavaScript refused the translation: ${message}`, "unsupported");
  }
  const groups = state.groups - 1;
  const pyToJs = emitter.pyToJs;
  return { regex, groups, jsGroup: (g) => pyToJs[g] ?? g };
}
