/**
 * Python's `re` module over JS regular expressions: `search`, `match`,
 * `fullmatch`, `findall`, `finditer`, `sub`, `split`, `compile`, `escape`,
 * match objects with `group`/`groups`/`groupdict`/`start`/`end`/`span`.
 * Patterns are translated (`(?P<n>…)`, `(?P=n)`, `\A`, `\Z`, inline flags);
 * classes such as `\w` and `\d` are ASCII, as in JS.
 */
import { PyError, typeError } from "./errors";
import {
  asInt,
  asStr,
  bind,
  type Kwargs,
  PyDict,
  PyFunction,
  PyModule,
  PyObject,
  PyTuple,
  type PyValue,
  strRepr,
} from "./values";

const I = 2;
const M = 8;
const S = 16;
const X = 64;

function translate(pattern: string, flags: number): RegExp {
  let p = pattern;
  let f = flags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (inline) {
    for (const c of inline[1] ?? "")
      f |= c === "i" ? I : c === "m" ? M : c === "s" ? S : c === "x" ? X : 0;
    p = p.slice(inline[0].length);
  }
  if (f & X)
    p = p.replace(/\\#|\\\s|\[(?:\\.|[^\]])*\]|#.*$|\s+/gm, (m) =>
      m.startsWith("#") || /^\s+$/.test(m) ? "" : m,
    );
  p = p
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, "\\k<$1>")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$(?![\\s\\S])");
  try {
    return new RegExp(p, `g${f & I ? "i" : ""}${f & M ? "m" : ""}${f & S ? "s" : ""}d`);
  } catch (err) {
    throw new PyError("re.error", err instanceof Error ? err.message : String(err));
  }
}

/** A match object. */
export class PyMatch extends PyObject {
  readonly typeName = "re.Match";
  constructor(
    private readonly m: RegExpExecArray,
    private readonly text: string,
    private readonly re: RegExp,
  ) {
    super();
  }
  private index(g: PyValue): number {
    if (typeof g === "string") {
      const names = Object.keys(this.m.groups ?? {});
      if (!names.includes(g)) throw new PyError("IndexError", "no such group");
      const order = [...this.re.source.matchAll(/\((?!\?[:=!<])|\(\?<([A-Za-z_]\w*)>/g)];
      const i = order.findIndex((x) => x[1] === g);
      return i + 1;
    }
    const i = asInt(g, "group index");
    if (i < 0 || i >= this.m.length) throw new PyError("IndexError", "no such group");
    return i;
  }
  private group(g: PyValue): PyValue {
    return this.m[this.index(g)] ?? null;
  }
  private spanOf(g: PyValue): [number, number] {
    const i = this.index(g);
    const span = this.m.indices?.[i];
    return span ? [span[0], span[1]] : [-1, -1];
  }
  override getAttr(name: string): PyValue | undefined {
    const fn = (f: (a: PyValue[], kw: Kwargs) => PyValue) => new PyFunction(name, f);
    switch (name) {
      case "group":
        return fn((a) =>
          a.length <= 1 ? this.group(a[0] ?? 0n) : new PyTuple(a.map((g) => this.group(g))),
        );
      case "groups":
        return fn((a, kw) => {
          const d = bind("groups", ["default"], a, kw, { default: null }).default ?? null;
          return new PyTuple(this.m.slice(1).map((x) => x ?? d));
        });
      case "groupdict":
        return fn((a, kw) => {
          const d = bind("groupdict", ["default"], a, kw, { default: null }).default ?? null;
          return new PyDict(Object.entries(this.m.groups ?? {}).map(([k, v]) => [k, v ?? d]));
        });
      case "start":
        return fn((a) => BigInt(this.spanOf(a[0] ?? 0n)[0]));
      case "end":
        return fn((a) => BigInt(this.spanOf(a[0] ?? 0n)[1]));
      case "span":
        return fn((a) => new PyTuple(this.spanOf(a[0] ?? 0n).map(BigInt)));
      case "string":
        return this.text;
      case "lastindex": {
        const last = this.m.findLastIndex((x, i) => i > 0 && x !== undefined);
        return last > 0 ? BigInt(last) : null;
      }
      default:
        return undefined;
    }
  }
  override getItem(key: PyValue): PyValue {
    return this.group(key);
  }
  override repr(): string {
    const [a, b] = this.spanOf(0n);
    return `<re.Match object; span=(${a}, ${b}), match=${strRepr(this.m[0] ?? "")}>`;
  }
}

function expandTemplate(repl: string, m: RegExpExecArray): string {
  return repl.replace(
    /\\(?:g<([^>]+)>|(\d{1,2})|(.))/gs,
    (_x, named?: string, num?: string, other?: string) => {
      if (named !== undefined)
        return (/^\d+$/.test(named) ? m[Number(named)] : m.groups?.[named]) ?? "";
      if (num !== undefined) {
        if (Number(num) >= m.length)
          throw new PyError("re.error", `invalid group reference ${num}`);
        return m[Number(num)] ?? "";
      }
      const esc: Record<string, string> = {
        n: "\n",
        t: "\t",
        r: "\r",
        "\\": "\\",
        f: "\f",
        v: "\v",
        a: "\x07",
        b: "\b",
      };
      if (other !== undefined && other in esc) return esc[other] as string;
      if (other !== undefined && /[A-Za-z]/.test(other))
        throw new PyError("re.error", `bad escape \\${other}`);
      return `\\${other ?? ""}`;
    },
  );
}

function matchesOf(re: RegExp, text: string): RegExpExecArray[] {
  re.lastIndex = 0;
  return [...text.matchAll(re)];
}

function patternApi(
  re: RegExp,
  call: (f: PyFunction) => PyValue = (f) => f,
): Record<string, PyValue> {
  const at = (text: string, mode: "search" | "match" | "fullmatch"): PyValue => {
    const r = new RegExp(
      mode === "search" ? re.source : `^(?:${re.source})${mode === "fullmatch" ? "$" : ""}`,
      re.flags.replace("g", ""),
    );
    const m = r.exec(text);
    return m ? new PyMatch(m, text, r) : null;
  };
  const api: Record<string, PyFunction> = {
    search: new PyFunction("search", (a) => at(asStr(a[0] ?? null, "string"), "search")),
    match: new PyFunction("match", (a) => at(asStr(a[0] ?? null, "string"), "match")),
    fullmatch: new PyFunction("fullmatch", (a) => at(asStr(a[0] ?? null, "string"), "fullmatch")),
    findall: new PyFunction("findall", (a) => {
      return matchesOf(re, asStr(a[0] ?? null, "string")).map((m) =>
        m.length === 1
          ? (m[0] ?? "")
          : m.length === 2
            ? (m[1] ?? "")
            : new PyTuple(m.slice(1).map((x) => x ?? "")),
      );
    }),
    finditer: new PyFunction("finditer", (a) => {
      const text = asStr(a[0] ?? null, "string");
      return matchesOf(re, text).map((m) => new PyMatch(m, text, re));
    }),
    sub: new PyFunction("sub", (a, kw) => {
      const b = bind("sub", ["repl", "string", "count"], a, kw, { count: 0n });
      const text = asStr(b.string ?? null, "string");
      let left = asInt(b.count ?? 0n, "count") || Number.POSITIVE_INFINITY;
      const repl = b.repl ?? null;
      let out = "";
      let last = 0;
      for (const m of matchesOf(re, text)) {
        if (left-- <= 0) break;
        out += text.slice(last, m.index);
        out +=
          repl instanceof PyObject && repl.call
            ? asStr(repl.call([new PyMatch(m, text, re)], new Map()), "expected str instance")
            : expandTemplate(asStr(repl, "repl"), m);
        last = m.index + (m[0] ?? "").length;
      }
      return out + text.slice(last);
    }),
    split: new PyFunction("split", (a, kw) => {
      const b = bind("split", ["string", "maxsplit"], a, kw, { maxsplit: 0n });
      const text = asStr(b.string ?? null, "string");
      let left = asInt(b.maxsplit ?? 0n, "maxsplit") || Number.POSITIVE_INFINITY;
      const out: PyValue[] = [];
      let last = 0;
      for (const m of matchesOf(re, text)) {
        if (left-- <= 0) break;
        out.push(text.slice(last, m.index), ...m.slice(1).map((x) => x ?? null));
        last = m.index + (m[0] ?? "").length;
      }
      out.push(text.slice(last));
      return out;
    }),
  };
  return Object.fromEntries(Object.entries(api).map(([k, v]) => [k, call(v)]));
}

/** A compiled pattern. */
class PyPattern extends PyObject {
  readonly typeName = "re.Pattern";
  private readonly api: Record<string, PyValue>;
  constructor(
    readonly pattern: string,
    re: RegExp,
  ) {
    super();
    this.api = { ...patternApi(re), pattern };
  }
  override getAttr(name: string): PyValue | undefined {
    return this.api[name];
  }
  override repr(): string {
    return `re.compile(${strRepr(this.pattern)})`;
  }
}

function moduleFn(name: string, names: string[]): PyFunction {
  return new PyFunction(name, (a, kw) => {
    const pattern = a[0] ?? kw.get("pattern") ?? null;
    const rest = a.slice(1);
    const kwRest: Kwargs = new Map([...kw].filter(([k]) => k !== "pattern" && k !== "flags"));
    const flagPos = names.indexOf("flags");
    const flags = asInt(kw.get("flags") ?? rest[flagPos] ?? 0n, "flags");
    const re =
      pattern instanceof PyPattern
        ? translate(pattern.pattern, flags)
        : translate(asStr(pattern, "first argument must be string or compiled pattern"), flags);
    const target = patternApi(re)[name];
    if (!(target instanceof PyFunction)) throw typeError(`re.${name} is not available`);
    return target.call(flagPos >= 0 ? rest.slice(0, flagPos) : rest, kwRest);
  });
}

/** The `re` module. */
export const RE_MODULE = new PyModule("re", {
  search: moduleFn("search", ["string", "flags"]),
  match: moduleFn("match", ["string", "flags"]),
  fullmatch: moduleFn("fullmatch", ["string", "flags"]),
  findall: moduleFn("findall", ["string", "flags"]),
  finditer: moduleFn("finditer", ["string", "flags"]),
  sub: moduleFn("sub", ["repl", "string", "count", "flags"]),
  split: moduleFn("split", ["string", "maxsplit", "flags"]),
  compile: new PyFunction("compile", (a, kw) => {
    const p = asStr(a[0] ?? null, "first argument must be string or compiled pattern");
    return new PyPattern(p, translate(p, asInt(a[1] ?? kw.get("flags") ?? 0n, "flags")));
  }),
  escape: new PyFunction("escape", (a) =>
    asStr(a[0] ?? null, "pattern").replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, "\\$&"),
  ),
  I: BigInt(I),
  IGNORECASE: BigInt(I),
  M: BigInt(M),
  MULTILINE: BigInt(M),
  S: BigInt(S),
  DOTALL: BigInt(S),
  X: BigInt(X),
  VERBOSE: BigInt(X),
});
