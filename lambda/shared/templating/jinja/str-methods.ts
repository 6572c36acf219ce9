/** Python's `str` methods, for `'a/b'.rsplit('/', 1)` and friends in templates. */
import { typeError, valueError } from "./errors";
import { strFormat } from "./format";
import {
  asInt,
  asStr,
  bind,
  iterate,
  type Kwargs,
  PyFunction,
  PyTuple,
  type PyValue,
  typeName,
} from "./values";

const WS = /\s/u;
/** What Python's `str.splitlines` splits at (besides `\r\n`). */
const LINE_BREAKS = new Set([
  "\n",
  "\r",
  "\v",
  "\f",
  "\x1c",
  "\x1d",
  "\x1e",
  "\x85",
  "\u2028",
  "\u2029",
]);

/** Python `str.split` / `str.rsplit`. */
export function pySplit(s: string, sep: PyValue, maxsplit: number, fromRight: boolean): string[] {
  if (sep === null) {
    const words: string[] = [];
    let rest = fromRight ? s.replace(/\s+$/u, "") : s.replace(/^\s+/u, "");
    while (rest !== "") {
      if (maxsplit >= 0 && words.length >= maxsplit) {
        words.push(rest);
        break;
      }
      const m = fromRight ? /^(.*?)\s+(\S*)$/su.exec(rest) : /^(\S*)\s+(.*)$/su.exec(rest);
      if (!m) {
        words.push(rest);
        break;
      }
      words.push((fromRight ? m[2] : m[1]) ?? "");
      rest = (fromRight ? m[1] : m[2]) ?? "";
    }
    return fromRight ? words.reverse() : words;
  }
  const sp = asStr(sep, "must be str or None");
  if (sp === "") throw valueError("empty separator");
  const all = s.split(sp);
  if (maxsplit < 0 || all.length - 1 <= maxsplit) return all;
  if (fromRight) {
    const cut = all.length - maxsplit;
    return [all.slice(0, cut).join(sp), ...all.slice(cut)];
  }
  return [...all.slice(0, maxsplit), all.slice(maxsplit).join(sp)];
}

function stripChars(s: string, chars: PyValue, left: boolean, right: boolean): string {
  const set = chars === null ? undefined : asStr(chars, "strip arg");
  const strip = (c: string) => (set === undefined ? WS.test(c) : set.includes(c));
  const cs = [...s];
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && strip(cs[a] as string)) a++;
  if (right) while (b > a && strip(cs[b - 1] as string)) b--;
  return cs.slice(a, b).join("");
}

const isCased = (c: string) => c.toLowerCase() !== c.toUpperCase();

/** Python `str.title`. */
export function pyTitle(s: string): string {
  let prevCased = false;
  let out = "";
  for (const c of s) {
    out += prevCased ? c.toLowerCase() : c.toUpperCase();
    prevCased = isCased(c);
  }
  return out;
}

/** Python `str.capitalize`. */
export function pyCapitalize(s: string): string {
  const [first = "", ...rest] = [...s];
  return first.toUpperCase() + rest.join("").toLowerCase();
}

/** Python `str.center`. */
export function pyCenter(s: string, width: number, fill = " "): string {
  const n = [...s].length;
  const marg = width - n;
  if (marg <= 0) return s;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

function range(s: string, start: PyValue, end: PyValue): [number, number] {
  const n = s.length;
  const norm = (v: PyValue, d: number) => {
    if (v === null) return d;
    const i = asInt(v, "slice indices");
    return i < 0 ? Math.max(0, i + n) : Math.min(i, n);
  };
  return [norm(start, 0), norm(end, n)];
}

function affix(s: string, a: PyValue[], kw: Kwargs, fn: "startswith" | "endswith"): boolean {
  const b = bind(fn, ["prefix", "start", "end"], a, kw, { start: null, end: null });
  const [lo, hi] = range(s, b.start ?? null, b.end ?? null);
  const part = s.slice(lo, hi);
  const p = b.prefix ?? null;
  const options = p instanceof PyTuple ? p.items : [p];
  return options.some((o) => {
    if (typeof o !== "string") {
      throw typeError(`${fn} first arg must be str or a tuple of str, not ${typeName(o)}`);
    }
    return fn === "startswith" ? part.startsWith(o) : part.endsWith(o);
  });
}

function find(s: string, a: PyValue[], kw: Kwargs, fn: string, right: boolean): number {
  const b = bind(fn, ["sub", "start", "end"], a, kw, { start: null, end: null });
  const sub = asStr(b.sub ?? null, `${fn}() argument`);
  const [lo, hi] = range(s, b.start ?? null, b.end ?? null);
  const part = s.slice(lo, hi);
  const i = right ? part.lastIndexOf(sub) : part.indexOf(sub);
  return i < 0 ? -1 : i + lo;
}

const is = (re: RegExp) => (s: string) => s !== "" && [...s].every((c) => re.test(c));

/** The bound `str` method `name` of `s`, or undefined. */
export function strMethod(
  s: string,
  name: string,
  getField: (v: PyValue, attr: string) => PyValue,
): PyFunction | undefined {
  const m = (fn: (a: PyValue[], kw: Kwargs) => PyValue) => new PyFunction(name, fn);
  const one =
    (names: string[], defaults: Record<string, PyValue> = {}) =>
    (a: PyValue[], kw: Kwargs) =>
      bind(name, names, a, kw, defaults);
  switch (name) {
    case "upper":
      return m(() => s.toUpperCase());
    case "lower":
    case "casefold":
      return m(() => s.toLowerCase());
    case "title":
      return m(() => pyTitle(s));
    case "capitalize":
      return m(() => pyCapitalize(s));
    case "swapcase":
      return m(() =>
        [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""),
      );
    case "strip":
    case "lstrip":
    case "rstrip":
      return m((a, kw) => {
        const b = one(["chars"], { chars: null })(a, kw);
        return stripChars(s, b.chars ?? null, name !== "rstrip", name !== "lstrip");
      });
    case "split":
    case "rsplit":
      return m((a, kw) => {
        const b = one(["sep", "maxsplit"], { sep: null, maxsplit: -1n })(a, kw);
        return pySplit(s, b.sep ?? null, asInt(b.maxsplit ?? -1n, "maxsplit"), name === "rsplit");
      });
    case "splitlines":
      return m((a, kw) => {
        const keep = one(["keepends"], { keepends: false })(a, kw).keepends === true;
        const out: string[] = [];
        const cs = [...s];
        let cur = "";
        for (let i = 0; i < cs.length; i++) {
          const c = cs[i] as string;
          if (!LINE_BREAKS.has(c)) {
            cur += c;
            continue;
          }
          let end = c;
          if (c === "\r" && cs[i + 1] === "\n") {
            end = "\r\n";
            i++;
          }
          out.push(keep ? cur + end : cur);
          cur = "";
        }
        if (cur !== "") out.push(cur);
        return out;
      });
    case "join":
      return m((a, kw) => {
        const items = iterate(one(["iterable"])(a, kw).iterable ?? null);
        return items
          .map((x, i) => {
            if (typeof x !== "string") {
              throw typeError(`sequence item ${i}: expected str instance, ${typeName(x)} found`);
            }
            return x;
          })
          .join(s);
      });
    case "replace":
      return m((a, kw) => {
        const b = one(["old", "new", "count"], { count: -1n })(a, kw);
        const old = asStr(b.old ?? null, "replace() argument 1");
        const neu = asStr(b.new ?? null, "replace() argument 2");
        let count = asInt(b.count ?? -1n, "count");
        if (count < 0)
          return old === "" ? [...s].join(neu).replace(/^/, neu) + neu : s.split(old).join(neu);
        const parts = s.split(old);
        let out = parts[0] ?? "";
        for (let i = 1; i < parts.length; i++) out += (count-- > 0 ? neu : old) + parts[i];
        return out;
      });
    case "startswith":
    case "endswith":
      return m((a, kw) => affix(s, a, kw, name));
    case "find":
    case "rfind":
      return m((a, kw) => BigInt(find(s, a, kw, name, name === "rfind")));
    case "index":
    case "rindex":
      return m((a, kw) => {
        const i = find(s, a, kw, name, name === "rindex");
        if (i < 0) throw valueError("substring not found");
        return BigInt(i);
      });
    case "count":
      return m((a, kw) => {
        const b = one(["sub", "start", "end"], { start: null, end: null })(a, kw);
        const [lo, hi] = range(s, b.start ?? null, b.end ?? null);
        const sub = asStr(b.sub ?? null, "count() argument");
        const part = s.slice(lo, hi);
        return BigInt(sub === "" ? [...part].length + 1 : part.split(sub).length - 1);
      });
    case "center":
    case "ljust":
    case "rjust":
      return m((a, kw) => {
        const b = one(["width", "fillchar"], { fillchar: " " })(a, kw);
        const w = asInt(b.width ?? null, "width");
        const fill = asStr(b.fillchar ?? " ", "fillchar");
        if ([...fill].length !== 1)
          throw typeError("The fill character must be exactly one character long");
        if (name === "center") return pyCenter(s, w, fill);
        const n = Math.max(0, w - [...s].length);
        return name === "ljust" ? s + fill.repeat(n) : fill.repeat(n) + s;
      });
    case "zfill":
      return m((a, kw) => {
        const w = asInt(one(["width"])(a, kw).width ?? null, "width");
        const sign = s.startsWith("-") || s.startsWith("+") ? (s[0] as string) : "";
        return sign + s.slice(sign.length).padStart(w - sign.length, "0");
      });
    case "partition":
    case "rpartition":
      return m((a, kw) => {
        const sep = asStr(one(["sep"])(a, kw).sep ?? null, "partition() argument");
        if (sep === "") throw valueError("empty separator");
        const i = name === "partition" ? s.indexOf(sep) : s.lastIndexOf(sep);
        if (i < 0) return new PyTuple(name === "partition" ? [s, "", ""] : ["", "", s]);
        return new PyTuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
      });
    case "removeprefix":
      return m((a, kw) => {
        const p = asStr(one(["prefix"])(a, kw).prefix ?? null, "removeprefix() argument");
        return p !== "" && s.startsWith(p) ? s.slice(p.length) : s;
      });
    case "removesuffix":
      return m((a, kw) => {
        const p = asStr(one(["suffix"])(a, kw).suffix ?? null, "removesuffix() argument");
        return p !== "" && s.endsWith(p) ? s.slice(0, -p.length) : s;
      });
    case "format":
      return m((a, kw) => strFormat(s, a, kw, getField));
    case "isdigit":
    case "isnumeric":
    case "isdecimal":
      return m(() => is(/\p{Nd}/u)(s));
    case "isalpha":
      return m(() => is(/\p{L}/u)(s));
    case "isalnum":
      return m(() => is(/[\p{L}\p{Nd}]/u)(s));
    case "isspace":
      return m(() => is(/\s/u)(s));
    case "isupper":
    case "islower": {
      const want = name === "isupper";
      return m(() => {
        const cased = [...s].filter(isCased);
        return cased.length > 0 && cased.every((c) => (c === c.toUpperCase()) === want);
      });
    }
    case "istitle":
      return m(() => [...s].some(isCased) && pyTitle(s) === s);
    case "isidentifier":
      return m(() => /^[\p{L}_][\p{L}\p{N}_]*$/u.test(s));
    default:
      return undefined;
  }
}
