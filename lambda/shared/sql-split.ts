/**
 * SQL payload splitting for the sql/sqli/sqlv jobs: `sqlparse.split(source.strip())`, as
 * lava does it (lava/handlers/sql.py), reproduced piece for piece. The oracle is sqlparse
 * 0.4.2 (Debian bookworm's python3-sqlparse 0.4.2-1+deb12u1, which already carries
 * upstream 0.4.4's ReDoS-safe string regexes); test/unit/jobs/sql/split.test.ts checks
 * every corpus script against it.
 *
 * sqlparse does not parse SQL to split it. Its lexer (sqlparse/lexer.py) tries the
 * regexes of keywords.py SQL_REGEX in order at each position, first match wins; the
 * StatementSplitter (engine/statement_splitter.py) then counts a nesting level over the
 * tokens and ends a statement at a `;` at level <= 0. RULES below is SQL_REGEX, in the
 * same order, in JavaScript syntax; the tokens' boundaries, not only the "SQL" ones,
 * decide where a `;` is hidden, so none is left out. Consequences, all kept on purpose:
 * - '...' and "..." take \' and \" as escapes everywhere (not only in E'...'), so with
 *   standard_conforming_strings `SELECT 'C:\'; SELECT 1` is one piece.
 * - $tag$ quoting only starts after whitespace or at the start: `x ||$$a;b$$` splits
 *   (inside parentheses the level hides the `;`). Tags close case-insensitively.
 * - /* *\/ comments do not nest; `# ` (hash, space) starts a line comment (MySQL) even
 *   though # is PostgreSQL's XOR; an operator run such as `||/` swallows the `/` of `/*`.
 * - BEGIN, END, CASE, IF, FOR, WHILE, DECLARE count only as the splitter says: a plain
 *   `BEGIN;` is a transaction; in a CREATE, BEGIN (ATOMIC) nests, and so do IF, FOR,
 *   WHILE, CASE inside it (so `FOR UPDATE` there never closes); every END closes one
 *   level, opened or not (a CASE ... END in CREATE RULE's (...) lets its `;` split);
 *   `END IF` only with one space between.
 * - After the `;`, spaces and `-- comments` (each with its newline) stay with the piece,
 *   so do comment lines right under `SELECT 1; -- one`; a newline, a block comment or
 *   anything else starts the next piece.
 *
 * Known differences in sqlparse 0.5.3 (lava's pin), where this 0.4.2 mirror would differ:
 * - dollar quoting starts unless after a word character, `"` or `$` (issue763), so
 *   `x ||$$a;b$$` is one piece there;
 * - END after a CASE inside a CREATE's BEGIN block closes the CASE, not the block
 *   (issue784): 0.4.2 splits inside a BEGIN ATOMIC body with two CASE expressions;
 * - a keyword token spelled exactly `GO` (or `GO 2`) ends a statement (T-SQL, issue762);
 * - words may start with any Unicode letter (0.4.3, issue641), here only with A-Z, À-Ü;
 * - a lone `-` is lexed as an operator of its own (JSON operators), so `1 -/* ; *\/ 2`
 *   keeps its comment there.
 * Unicode: \w, \s, \d follow Python's definitions; letters newer than Python's Unicode
 * tables may differ.
 */

/** One statement, exactly as sqlparse.split returns it. */
export interface SqlPiece {
  readonly text: string;
  /** 1-based line, in the source as given, of the piece's first non-whitespace character. */
  readonly line: number;
}

// Python's re classes (Unicode str patterns), for use inside [...] and as classes.
const WC = String.raw`\p{L}\p{N}_`; // \w: str.isalnum() or _
const SC = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const W = `[${WC}]`;
const S = `[${SC}]`; // \s: str.isspace(), also what str.strip() removes
const D = String.raw`\p{Nd}`;
const B = `(?!${W})`; // \b after a word character
const L = String.raw`A-ZÀ-Ü\u0130\u0131`; // [A-ZÀ-Ü] under IGNORECASE, as Python folds it

/** Token kinds the splitter tells apart; everything else is "other". */
type Kind = "comment" | "space" | "newline" | "keyword" | "create" | "punct" | "word" | "other";

/** keywords.py SQL_REGEX, in order (the flags there: IGNORECASE | UNICODE). */
const RULES: readonly (readonly [string, Kind])[] = [
  [String.raw`(?:--|# )\+[^\n]*?(?:\r\n|\r|\n|$)`, "other"], // Comment.Single.Hint
  [String.raw`/\*\+[\s\S]*?\*/`, "other"], // Comment.Multiline.Hint
  [String.raw`(?:--|# )[^\n]*?(?:\r\n|\r|\n|$)`, "comment"], // Comment.Single
  [String.raw`/\*[\s\S]*?\*/`, "other"], // Comment.Multiline
  [String.raw`\r\n|\r|\n`, "newline"],
  [S, "space"], // \s+? is one character
  [":=", "other"],
  ["::", "other"],
  [String.raw`\*`, "other"],
  ["`(?:``|[^`])*`", "other"],
  ["´(?:´´|[^´])*´", "other"],
  [String.raw`((?<![^${SC}])\$(?:[_${L}]${W}*)?\$)[\s\S]*?\1`, "other"], // dollar-quoted
  [String.raw`\?`, "other"],
  [String.raw`%(?:\(${W}+\))?s`, "other"],
  [`(?<!${W})[$:?]${W}+`, "other"], // $1, :name, ?name
  [String.raw`\\${W}+`, "other"],
  [`(?:NOT${S}+)?IN${B}`, "other"],
  [`CASE${B}`, "keyword"], // (CASE|IN|VALUES|USING|FROM|AS)\b
  [`(?:IN|VALUES|USING|FROM|AS)${B}`, "other"],
  [`(?:@|##|#)[${L}]${W}+`, "other"],
  [String.raw`[${L}]${W}*(?=${S}*\.)`, "other"], // name before a dot
  [String.raw`(?<=\.)[${L}]${W}*`, "other"], // name after a dot
  [String.raw`[${L}]${W}*(?=\()`, "other"], // name before ( (so BEGIN( is no keyword)
  [`-?0x[${D}A-F]+`, "other"],
  [String.raw`-?${D}+(?:\.${D}+)?E-?${D}+`, "other"],
  [String.raw`(?![_${L}])-?(?:${D}+(?:\.${D}*)|\.${D}+)(?![_${L}])`, "other"],
  [`(?![_${L}])-?${D}+(?![_${L}])`, "other"],
  [String.raw`'(?:''|\\'|[^'])*'`, "other"],
  [String.raw`"(?:""|\\"|[^"])*"`, "other"],
  [String.raw`""|"[^\n]*?[^\\]"`, "other"],
  [String.raw`(?<![${WC}\])])\[[^\]\[]+\]`, "other"],
  [
    `(?:(?:LEFT${S}+|RIGHT${S}+|FULL${S}+)?(?:INNER${S}+|OUTER${S}+|STRAIGHT${S}+)?` +
      `|(?:CROSS${S}+|NATURAL${S}+)?)?JOIN${B}`,
    "other",
  ],
  [`END(?:${S}+IF|${S}+LOOP|${S}+WHILE)?${B}`, "keyword"],
  [`NOT${S}+NULL${B}`, "other"],
  [`NULLS${S}+(?:FIRST|LAST)${B}`, "other"],
  [`UNION${S}+ALL${B}`, "other"],
  [`CREATE(?:${S}+OR${S}+REPLACE)?${B}`, "create"], // Keyword.DDL
  [`DOUBLE${S}+PRECISION${B}`, "other"],
  [`GROUP${S}+BY${B}`, "other"],
  [`ORDER${S}+BY${B}`, "other"],
  [`HANDLER${S}+FOR${B}`, "other"], // hides the FOR
  [`LATERAL${S}+VIEW${S}+(?:EXPLODE|INLINE|PARSE_URL_TUPLE|POSEXPLODE|STACK)${B}`, "other"],
  [`(?:AT|WITH')${S}+TIME${S}+ZONE${S}+'[^']+'`, "other"], // Keyword.TZCast
  [`(?:NOT${S}+)?(?:LIKE|ILIKE|RLIKE)${B}`, "other"],
  [`[0-9_${L}][_$#${WC}]*`, "word"], // keyword or name: is_keyword()
  [String.raw`[;:()\[\],.]`, "punct"],
  ["[<>=~!]+", "other"],
  [String.raw`[+/@#%^&|\-]+`, "other"],
];

const MATCHERS = RULES.map(([src, kind]) => [new RegExp(src, "iuy"), kind] as const);

/** The words is_keyword() types as Keyword that the splitter looks at. */
const KEYWORDS = new Set(["BEGIN", "DECLARE", "END", "IF", "FOR", "WHILE", "CASE"]);

/** is_keyword(): CREATE is Keyword.DDL, KEYWORDS are Keyword, the rest do not matter. */
function wordKind(word: string): Kind {
  const upper = word.toUpperCase();
  return upper === "CREATE" ? "create" : KEYWORDS.has(upper) ? "keyword" : "other";
}

interface Token {
  readonly kind: Kind;
  readonly value: string;
  readonly start: number;
}

/** lexer.py get_tokens: the first rule matching at each position; else one Error char. */
function* tokenize(text: string): Generator<Token> {
  let pos = 0;
  while (pos < text.length) {
    let token: Token | undefined;
    for (const [rx, kind] of MATCHERS) {
      rx.lastIndex = pos;
      const m = rx.exec(text);
      if (m === null) continue;
      token = { kind: kind === "word" ? wordKind(m[0]) : kind, value: m[0], start: pos };
      break;
    }
    token ??= {
      kind: "other",
      value: String.fromCodePoint(text.codePointAt(pos) ?? 0),
      start: pos,
    };
    yield token;
    pos += token.value.length;
  }
}

const LEADING_WS = new RegExp(`^${S}*`, "u");
const SPACE = new RegExp(S, "u"); // every such character is a single UTF-16 unit

/** s without the whitespace str.rstrip() removes (a loop: `\s*$` is quadratic). */
function rstrip(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE.test(s[end - 1] as string)) end--;
  return s.slice(0, end);
}

/** The pieces of `sqlparse.split(source.strip())`, in order, with where each starts. */
export function splitSql(source: string): SqlPiece[] {
  const offset = LEADING_WS.exec(source)?.[0].length ?? 0;
  const text = rstrip(source.slice(offset));
  const pieces: SqlPiece[] = [];
  let line = 1;
  let lineScanned = 0;
  // str(stmt).strip(), and the line of its first character in `source`
  const emit = (from: number, to: number): void => {
    const raw = text.slice(from, to);
    const lead = LEADING_WS.exec(raw)?.[0].length ?? 0;
    const at = offset + from + lead;
    for (; lineScanned < at; lineScanned++) {
      const c = source[lineScanned];
      if (c === "\n" || (c === "\r" && source[lineScanned + 1] !== "\n")) line++;
    }
    pieces.push({ text: rstrip(raw.slice(lead)), line });
  };

  // StatementSplitter state (_reset)
  let start = 0;
  let level = 0;
  let isCreate = false;
  let beginDepth = 0;
  let consumeWs = false;
  let hasContent = false; // a token that is not Whitespace/Newline

  /** _change_splitlevel */
  const change = ({ kind, value }: Token): number => {
    if (kind === "punct") return value === "(" ? 1 : value === ")" ? -1 : 0;
    if (kind === "create") {
      isCreate = true;
      return 0;
    }
    if (kind !== "keyword") return 0;
    const unified = value.toUpperCase();
    if (unified === "DECLARE" && isCreate && beginDepth === 0) return 1;
    if (unified === "BEGIN") {
      beginDepth++;
      return isCreate ? 1 : 0;
    }
    if (unified === "END") {
      beginDepth = Math.max(0, beginDepth - 1);
      return -1;
    }
    const opener = ["IF", "FOR", "WHILE", "CASE"].includes(unified);
    if (opener && isCreate && beginDepth > 0) return 1;
    return ["END IF", "END FOR", "END WHILE"].includes(unified) ? -1 : 0;
  };

  for (const token of tokenize(text)) {
    // After a `;`, only Whitespace and Comment.Single (exact types, so not Newline) stay.
    if (consumeWs && token.kind !== "space" && token.kind !== "comment") {
      emit(start, token.start);
      start = token.start;
      level = 0;
      isCreate = false;
      beginDepth = 0;
      consumeWs = false;
      hasContent = false;
    }
    level += change(token);
    if (token.kind !== "space" && token.kind !== "newline") hasContent = true;
    if (level <= 0 && token.kind === "punct" && token.value === ";") consumeWs = true;
  }
  if (hasContent) emit(start, text.length);
  return pieces;
}

/** Leading whitespace and comments of a piece (sqlparse keeps a comment with the statement after it). */
const LEAD = /^(?:\s+|--[^\n]*|\/\*[\s\S]*?\*\/)*/;
const newlines = (s: string) => s.split(/\r\n|\r|\n/).length - 1;

/** The line of the piece's first SQL word, past comments above it: where a message points. */
export function codeLine(piece: SqlPiece): number {
  const lead = LEAD.exec(piece.text)?.[0] ?? "";
  const blank = /^\s*/.exec(piece.text)?.[0] ?? "";
  return piece.line + newlines(lead) - newlines(blank);
}
