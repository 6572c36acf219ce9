/** Jinja2's built-in filters (`jinja2/filters.py`), with Python semantics. */
import { PyError, typeError } from "./errors";
import { formatValue, percentFormat } from "./format";
import { jinjaGetAttr, jinjaGetItem } from "./ops";
import { pyCapitalize, pyCenter } from "./str-methods";
import { callTest } from "./tests";
import { toJson } from "./tojson";
import {
  bind,
  compare,
  hashKey,
  intOf,
  iterate,
  type Kwargs,
  len,
  numeric,
  PyDict,
  PyObject,
  PyTuple,
  type PyValue,
  repr,
  str,
  truthy,
  typeName,
  Undefined,
} from "./values";

/** A one-shot iterator (what Jinja2's generator filters return). */
export class PyIterator extends PyObject {
  constructor(
    readonly typeName: string,
    private readonly items: PyValue[],
  ) {
    super();
  }
  override iter(): PyValue[] {
    return this.items;
  }
  override repr(): string {
    return `<${this.typeName} object>`;
  }
}

type Filter = (value: PyValue, args: PyValue[], kwargs: Kwargs) => PyValue;

const s = (v: PyValue) => str(v);

/** Python's `float(v)`; throws ValueError / TypeError. */
export function toFloat(v: PyValue): number {
  const n = numeric(v);
  if (n !== undefined) return n;
  if (typeof v === "string") {
    const t = v.trim().replace(/_/g, "");
    if (/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)$/i.test(t)) return Number(t);
    if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
    if (/^[+-]?nan$/i.test(t)) return Number.NaN;
    throw new PyError("ValueError", `could not convert string to float: ${repr(v)}`);
  }
  if (v instanceof Undefined) return v.fail();
  throw typeError(`float() argument must be a string or a real number, not '${typeName(v)}'`);
}

/** Python's `int(v, base)`. */
export function toInt(v: PyValue, base = 10): bigint {
  const i = intOf(v);
  if (i !== undefined) return i;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new PyError("ValueError", "cannot convert float to integer");
    return BigInt(Math.trunc(v));
  }
  if (typeof v === "string") {
    const t = v.trim().replace(/_/g, "").toLowerCase();
    const digits = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, base);
    const m = /^([+-]?)(?:0[box])?(.+)$/.exec(base === 10 ? t : t);
    const body = base === 10 ? t.replace(/^[+-]/, "") : (m?.[2] ?? "");
    if (body !== "" && [...body].every((c) => digits.includes(c))) {
      let n = 0n;
      for (const c of body) n = n * BigInt(base) + BigInt(digits.indexOf(c));
      return t.startsWith("-") ? -n : n;
    }
    throw new PyError("ValueError", `invalid literal for int() with base ${base}: ${repr(v)}`);
  }
  if (v instanceof Undefined) return v.fail();
  throw typeError(`int() argument must be a string or a real number, not '${typeName(v)}'`);
}

/** Python's `round(x, n)` for floats: from the exact value, ties to even. */
export function pyRound(x: number, n: number): number {
  if (!Number.isFinite(x)) return x;
  const text = formatValue(x, `.${Math.max(n, 0)}f`);
  if (n >= 0) return Number(text);
  const p = 10 ** -n;
  const q = x / p;
  const r = Math.round(q);
  const even = Math.abs(q - Math.trunc(q)) === 0.5 ? 2 * Math.round(q / 2) : r;
  return even * p;
}

function attrGetter(attribute: PyValue): (v: PyValue) => PyValue {
  if (attribute === null) return (v) => v;
  const parts = str(attribute).split(".");
  return (v) =>
    parts.reduce<PyValue>(
      (o, p) => (/^\d+$/.test(p) ? jinjaGetItem(o, BigInt(p)) : jinjaGetAttr(o, p)),
      v,
    );
}

function sortKey(caseSensitive: boolean, attribute: PyValue): (v: PyValue) => PyValue {
  const get = attrGetter(attribute);
  return (v) => {
    const x = get(v);
    return !caseSensitive && typeof x === "string" ? x.toLowerCase() : x;
  };
}

function sorted(items: PyValue[], key: (v: PyValue) => PyValue, reverse = false): PyValue[] {
  const keyed = items.map((v) => [key(v), v] as const);
  keyed.sort((a, b) => compare(a[0], b[0]));
  if (reverse) keyed.reverse();
  return keyed.map((p) => p[1]);
}

function selectOrReject(
  value: PyValue,
  args: PyValue[],
  kwargs: Kwargs,
  mode: boolean,
  byAttr: boolean,
): PyValue {
  const [first, ...rest] = args;
  const get = byAttr ? attrGetter(first ?? null) : (v: PyValue) => v;
  const testArgs = byAttr ? rest : args;
  const [testName, ...targs] = testArgs;
  const check = (v: PyValue) =>
    testName === undefined
      ? truthy(get(v))
      : truthy(callTest(str(testName), get(v), targs, kwargs));
  return new PyIterator(
    "generator",
    iterate(value).filter((v) => check(v) === mode),
  );
}

function escapeHtml(v: PyValue): string {
  return str(v)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&#34;")
    .replace(/'/g, "&#39;");
}

const FILTERS: Record<string, Filter> = {
  abs: (v) => {
    const i = intOf(v);
    if (i !== undefined) return i < 0n ? -i : i;
    if (typeof v === "number") return Math.abs(v);
    if (v instanceof PyObject) {
      const r = v.binop("abs", null, false);
      if (r !== undefined) return r;
    }
    if (v instanceof Undefined) return v.fail();
    throw typeError(`bad operand type for abs(): '${typeName(v)}'`);
  },
  attr: (v, a) => jinjaGetAttr(v, str(a[0] ?? null)),
  batch: (v, a, kw) => {
    const b = bind("batch", ["linecount", "fill_with"], a, kw, { fill_with: null });
    // Jinja2's algorithm, also for a line count below 1 (one batch of everything).
    const n = Number(toInt(b.linecount ?? null));
    const out: PyValue[][] = [];
    let tmp: PyValue[] = [];
    for (const item of iterate(v)) {
      if (tmp.length === n) {
        out.push(tmp);
        tmp = [];
      }
      tmp.push(item);
    }
    if (tmp.length) {
      if (b.fill_with !== null && tmp.length < n) {
        while (tmp.length < n) tmp.push(b.fill_with ?? null);
      }
      out.push(tmp);
    }
    return new PyIterator("generator", out);
  },
  capitalize: (v) => pyCapitalize(s(v)),
  center: (v, a, kw) =>
    pyCenter(s(v), Number(toInt(bind("center", ["width"], a, kw, { width: 80n }).width ?? 80n))),
  default: (v, a, kw) => {
    const b = bind("default", ["default_value", "boolean"], a, kw, {
      default_value: "",
      boolean: false,
    });
    return v instanceof Undefined || (truthy(b.boolean ?? false) && !truthy(v))
      ? (b.default_value ?? "")
      : v;
  },
  dictsort: (v, a, kw) => {
    const b = bind("dictsort", ["case_sensitive", "by", "reverse"], a, kw, {
      case_sensitive: false,
      by: "key",
      reverse: false,
    });
    if (!(v instanceof PyDict)) throw typeError("dictsort requires a mapping");
    const pos = b.by === "value" ? 1 : 0;
    const key = sortKey(truthy(b.case_sensitive ?? false), null);
    return sorted(
      v.items().map(([k, x]) => new PyTuple([k, x])),
      (t) => key((t as PyTuple).items[pos] ?? null),
      truthy(b.reverse ?? false),
    );
  },
  escape: (v) => escapeHtml(v),
  filesizeformat: (v, a, kw) => {
    const binary = truthy(
      bind("filesizeformat", ["binary"], a, kw, { binary: false }).binary ?? false,
    );
    const bytes = toFloat(v);
    const base = binary ? 1024 : 1000;
    const prefixes = binary
      ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
      : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    if (bytes === 1) return "1 Byte";
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    let unit = base;
    let i = 0;
    for (; i < prefixes.length; i++) {
      unit = base ** (i + 2);
      if (bytes < unit) break;
    }
    return `${formatValue((base * bytes) / unit, ".1f")} ${prefixes[Math.min(i, prefixes.length - 1)]}`;
  },
  first: (v) => {
    const items = iterate(v);
    return items.length
      ? (items[0] as PyValue)
      : new Undefined("No first item, sequence was empty.");
  },
  float: (v, a, kw) => {
    const d = bind("float", ["default"], a, kw, { default: 0.0 }).default ?? 0;
    try {
      return toFloat(v);
    } catch (err) {
      if (err instanceof PyError && (err.pyType === "ValueError" || err.pyType === "TypeError"))
        return d;
      throw err;
    }
  },
  forceescape: (v) => escapeHtml(v),
  format: (v, a, kw) => percentFormat(s(v), kw.size ? new PyDict(kw) : new PyTuple(a)),
  indent: (v, a, kw) => {
    const b = bind("indent", ["width", "first", "blank"], a, kw, {
      width: 4n,
      first: false,
      blank: false,
    });
    const w = b.width ?? 4n;
    const ind = typeof w === "string" ? w : " ".repeat(Number(toInt(w)));
    const text = `${s(v)}\n`;
    const lines = text.split("\n").slice(0, -1);
    const [head = "", ...rest] = lines;
    const body = rest
      .map((l) => (truthy(b.blank ?? false) || l.trim() !== "" ? ind + l : l))
      .join("\n");
    const out = rest.length ? `${head}\n${body}` : head;
    return truthy(b.first ?? false) ? ind + out : out;
  },
  int: (v, a, kw) => {
    const b = bind("int", ["default", "base"], a, kw, { default: 0n, base: 10n });
    const base = Number(b.base);
    try {
      if (typeof v === "string" && base !== 10) return toInt(v, base);
      return toInt(v);
    } catch (err) {
      if (
        !(err instanceof PyError) ||
        !["ValueError", "TypeError", "OverflowError"].includes(err.pyType)
      )
        throw err;
      try {
        return toInt(toFloat(v));
      } catch {
        return b.default ?? 0n;
      }
    }
  },
  items: (v) => {
    if (v instanceof Undefined) return new PyIterator("generator", []);
    if (!(v instanceof PyDict)) throw typeError(`Can only get item pairs from a mapping.`);
    return new PyIterator(
      "generator",
      v.items().map(([k, x]) => new PyTuple([k, x])),
    );
  },
  join: (v, a, kw) => {
    const b = bind("join", ["d", "attribute"], a, kw, { d: "", attribute: null });
    const get = attrGetter(b.attribute ?? null);
    return iterate(v)
      .map((x) => s(get(x)))
      .join(s(b.d ?? ""));
  },
  last: (v) => {
    const items = iterate(v);
    return items.length
      ? (items.at(-1) as PyValue)
      : new Undefined("No last item, sequence was empty.");
  },
  length: (v) => BigInt(len(v)),
  list: (v) => iterate(v),
  lower: (v) => s(v).toLowerCase(),
  map: (v, a, kw) => {
    const items = iterate(v);
    if (kw.has("attribute")) {
      const get = attrGetter(kw.get("attribute") ?? null);
      const dflt = kw.get("default");
      return new PyIterator(
        "generator",
        items.map((x) => {
          const r = get(x);
          return r instanceof Undefined && dflt !== undefined ? dflt : r;
        }),
      );
    }
    const [name, ...rest] = a;
    if (name === undefined) return new PyIterator("generator", items);
    return new PyIterator(
      "generator",
      items.map((x) => callFilter(str(name), x, rest, kw)),
    );
  },
  max: (v, a, kw) => minMax(v, a, kw, 1),
  min: (v, a, kw) => minMax(v, a, kw, -1),
  pprint: (v) => repr(v),
  reject: (v, a, kw) => selectOrReject(v, a, kw, false, false),
  rejectattr: (v, a, kw) => selectOrReject(v, a, kw, false, true),
  replace: (v, a, kw) => {
    const b = bind("replace", ["old", "new", "count"], a, kw, { count: null });
    const text = s(v);
    const old = s(b.old ?? null);
    const neu = s(b.new ?? null);
    if (b.count === null) return text.split(old).join(neu);
    let n = Number(toInt(b.count ?? null));
    const parts = text.split(old);
    let out = parts[0] ?? "";
    for (let i = 1; i < parts.length; i++) out += (n-- > 0 ? neu : old) + parts[i];
    return out;
  },
  reverse: (v) => {
    if (typeof v === "string") return [...v].reverse().join("");
    const items = iterate(v).reverse();
    return Array.isArray(v)
      ? new PyIterator("list_reverseiterator", items)
      : new PyIterator("reversed", items);
  },
  round: (v, a, kw) => {
    const b = bind("round", ["precision", "method"], a, kw, { precision: 0n, method: "common" });
    const p = Number(toInt(b.precision ?? 0n));
    const method = str(b.method ?? "common");
    if (method === "common") {
      const i = intOf(v);
      if (i !== undefined) return i;
      if (typeof v !== "number") {
        if (v instanceof Undefined) return v.fail();
        throw typeError(`type ${typeName(v)} doesn't define __round__ method`);
      }
      return pyRound(v, p);
    }
    if (method !== "ceil" && method !== "floor")
      throw typeError("method must be common, ceil or floor");
    const x = toFloat(v) * 10 ** p;
    return (method === "ceil" ? Math.ceil(x) : Math.floor(x)) / 10 ** p;
  },
  safe: (v) => s(v),
  select: (v, a, kw) => selectOrReject(v, a, kw, true, false),
  selectattr: (v, a, kw) => selectOrReject(v, a, kw, true, true),
  slice: (v, a, kw) => {
    const b = bind("slice", ["slices", "fill_with"], a, kw, { fill_with: null });
    const items = iterate(v);
    const n = Number(toInt(b.slices ?? null));
    if (n === 0) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: PyValue[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const start = offset + i * per;
      if (i < extra) offset++;
      const tmp = items.slice(start, offset + (i + 1) * per);
      if (b.fill_with !== null && i >= extra) tmp.push(b.fill_with ?? null);
      out.push(tmp);
    }
    return new PyIterator("generator", out);
  },
  sort: (v, a, kw) => {
    const b = bind("sort", ["reverse", "case_sensitive", "attribute"], a, kw, {
      reverse: false,
      case_sensitive: false,
      attribute: null,
    });
    return sorted(
      iterate(v),
      sortKey(truthy(b.case_sensitive ?? false), b.attribute ?? null),
      truthy(b.reverse ?? false),
    );
  },
  string: (v) => s(v),
  striptags: (v) =>
    s(v)
      .replace(/<!--.*?-->|<[^>]*>/gs, "")
      .split(/\s+/)
      .filter(Boolean)
      .join(" "),
  sum: (v, a, kw) => {
    const b = bind("sum", ["attribute", "start"], a, kw, { attribute: null, start: 0n });
    const get = attrGetter(b.attribute ?? null);
    return iterate(v).reduce<PyValue>((acc, x) => binopAdd(acc, get(x)), b.start ?? 0n);
  },
  title: (v) =>
    s(v)
      .split(/([-\s({[<]+)/u)
      .filter((x) => x !== "")
      .map((w) => [...w][0]?.toUpperCase() + [...w].slice(1).join("").toLowerCase())
      .join(""),
  tojson: (v, a, kw) =>
    toJson(v, bind("tojson", ["indent"], a, kw, { indent: null }).indent ?? null),
  trim: (v, a, kw) => {
    const chars = bind("trim", ["chars"], a, kw, { chars: null }).chars ?? null;
    const text = s(v);
    if (chars === null) return text.trim();
    const set = s(chars);
    let i = 0;
    let j = text.length;
    while (i < j && set.includes(text[i] as string)) i++;
    while (j > i && set.includes(text[j - 1] as string)) j--;
    return text.slice(i, j);
  },
  truncate: (v, a, kw) => {
    const b = bind("truncate", ["length", "killwords", "end", "leeway"], a, kw, {
      length: 255n,
      killwords: false,
      end: "...",
      leeway: null,
    });
    const text = s(v);
    const length = Number(toInt(b.length ?? 255n));
    const end = s(b.end ?? "...");
    const leeway = b.leeway === null ? 5 : Number(toInt(b.leeway ?? 5n));
    if (length < end.length)
      throw new PyError("AssertionError", `expected length >= ${end.length}, got ${length}`);
    if (leeway < 0) throw new PyError("AssertionError", `expected leeway >= 0, got ${leeway}`);
    if (text.length <= length + leeway) return text;
    if (truthy(b.killwords ?? false)) return text.slice(0, length - end.length) + end;
    const cut = text.slice(0, length - end.length);
    const i = cut.lastIndexOf(" ");
    return (i < 0 ? "" : cut.slice(0, i)) + end;
  },
  unique: (v, a, kw) => {
    const b = bind("unique", ["case_sensitive", "attribute"], a, kw, {
      case_sensitive: false,
      attribute: null,
    });
    const key = sortKey(truthy(b.case_sensitive ?? false), b.attribute ?? null);
    const seen = new Set<string>();
    return new PyIterator(
      "generator",
      iterate(v).filter((x) => {
        const h = hashKey(key(x));
        if (seen.has(h)) return false;
        seen.add(h);
        return true;
      }),
    );
  },
  upper: (v) => s(v).toUpperCase(),
  urlencode: (v) => {
    const q = (x: PyValue, safe: string) =>
      [...new TextEncoder().encode(s(x))]
        .map((c) => {
          const ch = String.fromCharCode(c);
          return /[A-Za-z0-9_.~-]/.test(ch) || safe.includes(ch)
            ? ch
            : `%${c.toString(16).toUpperCase().padStart(2, "0")}`;
        })
        .join("");
    if (typeof v === "string") return q(v, "/");
    const pairs =
      v instanceof PyDict ? v.items() : iterate(v).map((p) => iterate(p) as [PyValue, PyValue]);
    const qs = (x: PyValue) => q(x, "").replace(/%20/g, "+");
    return pairs.map(([k, x]) => `${qs(k)}=${qs(x)}`).join("&");
  },
  wordcount: (v) => BigInt((s(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length),
};
FILTERS.d = FILTERS.default as Filter;
FILTERS.e = FILTERS.escape as Filter;
FILTERS.count = FILTERS.length as Filter;

function binopAdd(a: PyValue, b: PyValue): PyValue {
  const ia = intOf(a);
  const ib = intOf(b);
  if (ia !== undefined && ib !== undefined) return ia + ib;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na + nb;
  if (a instanceof PyObject) {
    const r = a.binop("+", b, false);
    if (r !== undefined) return r;
  }
  if (b instanceof PyObject) {
    const r = b.binop("+", a, true);
    if (r !== undefined) return r;
  }
  throw typeError(`unsupported operand type(s) for +: '${typeName(a)}' and '${typeName(b)}'`);
}

function minMax(v: PyValue, a: PyValue[], kw: Kwargs, sign: number): PyValue {
  const b = bind(sign > 0 ? "max" : "min", ["case_sensitive", "attribute"], a, kw, {
    case_sensitive: false,
    attribute: null,
  });
  const items = iterate(v);
  if (items.length === 0) return new Undefined(`No aggregated item, sequence was empty.`);
  const key = sortKey(truthy(b.case_sensitive ?? false), b.attribute ?? null);
  let best = items[0] as PyValue;
  for (const x of items.slice(1)) if (compare(key(x), key(best)) * sign > 0) best = x;
  return best;
}

/** Apply the filter `name`; TemplateAssertionError-like error for unknown filters. */
export function callFilter(name: string, value: PyValue, args: PyValue[], kwargs: Kwargs): PyValue {
  const f = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
  if (!f) throw new PyError("TemplateAssertionError", `No filter named '${name}'.`);
  return f(value, args, kwargs);
}

/** Whether a filter exists (for `check`). */
export const hasFilter = (name: string): boolean => Object.hasOwn(FILTERS, name);
