/**
 * Jinja2's lexer with its default settings: `{{ }}`, `{% %}`, `{# #}`,
 * whitespace control with `-` (and `+`, a no-op without `lstrip_blocks` /
 * `trim_blocks`), `{% raw %}`, newlines normalised to `\n` and one trailing
 * newline dropped (`keep_trailing_newline=False`).
 */
import { TemplateSyntaxError } from "./errors";

/** One token; `value` is the text (decoded for strings). */
export interface Token {
  readonly type:
    | "data"
    | "variable_begin"
    | "variable_end"
    | "block_begin"
    | "block_end"
    | "name"
    | "string"
    | "integer"
    | "float"
    | "operator"
    | "eof";
  readonly value: string;
  readonly line: number;
}

const FLOAT = /(?<!\.)(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?e[+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/iy;
const INTEGER = /(?:0b(?:_?[01])+|0o(?:_?[0-7])+|0x(?:_?[\da-f])+|[1-9](?:_?\d)*|0(?:_?0)*)/iy;
const NAME = /[\p{L}_][\p{L}\p{N}_]*/uy;
const STRING = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const WHITESPACE = /\s+/y;
const OPERATORS = [
  "//",
  "**",
  "==",
  "!=",
  "<=",
  ">=",
  "+",
  "-",
  "/",
  "*",
  "%",
  "~",
  "[",
  "]",
  "(",
  ")",
  "{",
  "}",
  "<",
  ">",
  "=",
  ".",
  ":",
  "|",
  ",",
  ";",
];
const CLOSE: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const RAW_BEGIN = /\{%([-+]?)\s*raw\s*([-+]?)%\}/y;
const RAW_END = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

function match(re: RegExp, source: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(source);
}

/** Python's `unicode_escape` decoding of a string literal's body. */
function decodeEscapes(body: string): string {
  return body.replace(
    /\\(?:([\\'"abfnrtv\n])|([0-7]{1,3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))/gs,
    (_m, simple?: string, oct?: string, x?: string, u?: string, bigU?: string, other?: string) => {
      if (simple !== undefined) {
        const map: Record<string, string> = {
          "\\": "\\",
          "'": "'",
          '"': '"',
          a: "\x07",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
          v: "\v",
          "\n": "",
        };
        return map[simple] ?? simple;
      }
      const code = oct ?? x ?? u ?? bigU;
      if (code !== undefined) {
        return String.fromCodePoint(Number.parseInt(code, oct !== undefined ? 8 : 16));
      }
      return `\\${other ?? ""}`;
    },
  );
}

/** Tokenize a template as Jinja2 does with its default environment. */
export function tokenize(input: string): Token[] {
  let source = input.replace(/\r\n|\r/g, "\n");
  if (source.endsWith("\n")) source = source.slice(0, -1);
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lstripNext = false;
  const lineAt = (p: number) => {
    line += (source.slice(pos, p).match(/\n/g) ?? []).length;
  };
  const data = (text: string, rstrip: boolean) => {
    let t = lstripNext ? text.replace(/^\s+/, "") : text;
    if (rstrip) t = t.replace(/\s+$/, "");
    lstripNext = false;
    if (t !== "") tokens.push({ type: "data", value: t, line });
  };
  while (pos < source.length) {
    const open = /\{[{%#]/g;
    open.lastIndex = pos;
    const found = open.exec(source);
    if (!found) {
      data(source.slice(pos), false);
      break;
    }
    const start = found.index;
    const kind = found[0][1];
    const raw = kind === "%" ? match(RAW_BEGIN, source, start) : null;
    data(source.slice(pos, start), source[start + 2] === "-" || raw?.[1] === "-");
    lineAt(start);
    pos = start;
    if (raw) {
      RAW_END.lastIndex = start + raw[0].length;
      const end = RAW_END.exec(source);
      if (!end) throw new TemplateSyntaxError("Missing end of raw directive", line);
      let body = source.slice(start + raw[0].length, end.index);
      if (raw[2] === "-") body = body.replace(/^\s+/, "");
      if (end[1] === "-") body = body.replace(/\s+$/, "");
      if (body !== "") tokens.push({ type: "data", value: body, line });
      lineAt(end.index + end[0].length);
      pos = end.index + end[0].length;
      lstripNext = end[2] === "-";
      continue;
    }
    if (kind === "#") {
      const end = /(-?)#\}/g;
      end.lastIndex = start + 2;
      const close = end.exec(source);
      if (!close) throw new TemplateSyntaxError("Missing end of comment tag", line);
      lineAt(close.index + close[0].length);
      pos = close.index + close[0].length;
      lstripNext = close[1] === "-";
      continue;
    }
    const [end, strip] = lexTag(source, start, kind === "{" ? "variable" : "block", tokens, line);
    lineAt(end);
    pos = end;
    lstripNext = strip;
  }
  tokens.push({ type: "eof", value: "", line });
  return tokens;
}

/**
 * Tokens of one `{{ … }}` or `{% … %}` from `start`; returns the position after
 * it and whether it ended with `-` (strip the whitespace that follows).
 */
function lexTag(
  source: string,
  start: number,
  kind: "variable" | "block",
  tokens: Token[],
  line: number,
): [number, boolean] {
  const endText = kind === "variable" ? "}}" : "%}";
  tokens.push({ type: `${kind}_begin`, value: "", line });
  let pos = start + 2;
  if (source[pos] === "-" || source[pos] === "+") pos++;
  const balance: string[] = [];
  for (;;) {
    if (pos >= source.length) {
      throw new TemplateSyntaxError(
        `unexpected end of template, expected '${balance.at(-1) ?? endText}'`,
        line,
      );
    }
    if (balance.length === 0) {
      const strip = source.startsWith(`-${endText}`, pos);
      if (strip || source.startsWith(endText, pos)) {
        tokens.push({ type: `${kind}_end`, value: "", line });
        return [pos + endText.length + (strip ? 1 : 0), strip];
      }
    }
    const ws = match(WHITESPACE, source, pos);
    if (ws) {
      pos += ws[0].length;
      continue;
    }
    const f = match(FLOAT, source, pos);
    if (f) {
      tokens.push({ type: "float", value: f[0].replace(/_/g, ""), line });
      pos += f[0].length;
      continue;
    }
    const i = match(INTEGER, source, pos);
    if (i) {
      tokens.push({ type: "integer", value: i[0].replace(/_/g, ""), line });
      pos += i[0].length;
      continue;
    }
    const n = match(NAME, source, pos);
    if (n) {
      tokens.push({ type: "name", value: n[0], line });
      pos += n[0].length;
      continue;
    }
    const s = match(STRING, source, pos);
    if (s) {
      tokens.push({ type: "string", value: decodeEscapes(s[1] ?? s[2] ?? ""), line });
      pos += s[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, pos));
    if (!op) throw new TemplateSyntaxError(`unexpected char '${source[pos]}'`, line);
    if (op in CLOSE) balance.push(CLOSE[op] as string);
    else if (op === ")" || op === "]" || op === "}") {
      if (balance.length === 0) throw new TemplateSyntaxError(`unexpected '${op}'`, line);
      const want = balance.pop();
      if (want !== op) {
        throw new TemplateSyntaxError(`unexpected '${op}', expected '${want}'`, line);
      }
    }
    tokens.push({ type: "operator", value: op, line });
    pos += op.length;
  }
}
