/**
 * Python's number and string formatting: `'%05.2f' % x` (printf style),
 * `format(x, spec)` and `'{:>5}'.format(x)` (the format mini-language). Floats
 * are rounded from their exact binary value, ties to even, as CPython does.
 */
import { PyError, typeError, valueError } from "./errors";
import {
  floatRepr,
  intOf,
  type Kwargs,
  PyDict,
  PyObject,
  PyTuple,
  type PyValue,
  repr,
  str,
  typeName,
  Undefined,
} from "./values";

/** A finite double's exact value: `digits × 10^exp10`. */
function exactDecimal(x: number): { digits: bigint; exp10: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  const e2 = exp - 1075;
  if (e2 >= 0) return { digits: mant << BigInt(e2), exp10: 0 };
  return { digits: mant * 5n ** BigInt(-e2), exp10: e2 };
}

/** `n / 10^k` rounded half to even. */
function roundDigits(n: bigint, k: number): bigint {
  if (k <= 0) return n * 10n ** BigInt(-k);
  const p = 10n ** BigInt(k);
  let q = n / p;
  const r = n % p;
  const half = p / 2n;
  if (r > half || (r === half && q % 2n === 1n)) q += 1n;
  return q;
}

/** `|x|` in fixed notation with `prec` fraction digits. */
export function fixed(x: number, prec: number): string {
  const { digits, exp10 } = exactDecimal(x);
  const q = roundDigits(digits, -exp10 - prec)
    .toString()
    .padStart(prec + 1, "0");
  return prec === 0 ? q : `${q.slice(0, -prec)}.${q.slice(-prec)}`;
}

/** `|x|` as `d.ddd` and a decimal exponent, `prec` digits after the point. */
function expParts(x: number, prec: number): [string, number] {
  if (x === 0) return [prec ? `0.${"0".repeat(prec)}` : "0", 0];
  const { digits, exp10 } = exactDecimal(x);
  const len = digits.toString().length;
  let e = len - 1 + exp10;
  let q = roundDigits(digits, len - (prec + 1)).toString();
  if (q.length > prec + 1) {
    q = q.slice(0, prec + 1);
    e += 1;
  }
  return [prec ? `${q[0]}.${q.slice(1)}` : q, e];
}

const expText = (e: number) => `${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;

/** `|x|` formatted with a float presentation type (`e f g %`, upper-case too). */
function floatBody(x: number, type: string, precision: number | undefined, alt: boolean): string {
  const ax = Math.abs(x);
  if (!Number.isFinite(ax)) {
    const t = Number.isNaN(ax) ? "nan" : "inf";
    return type === type.toUpperCase() && type !== "%" ? t.toUpperCase() : t;
  }
  const lower = type.toLowerCase();
  let out: string;
  if (lower === "f") out = fixed(ax, precision ?? 6);
  else if (lower === "%") out = `${fixed(ax * 100, precision ?? 6)}%`;
  else if (lower === "e") {
    const [m, e] = expParts(ax, precision ?? 6);
    out = `${m}e${expText(e)}`;
  } else {
    const p = precision === 0 ? 1 : (precision ?? 6);
    const [, e] = expParts(ax, p - 1);
    if (e >= -4 && e < p) out = fixed(ax, p - 1 - e);
    else {
      const [m] = expParts(ax, p - 1);
      out = `${m}e${expText(e)}`;
    }
    if (!alt) {
      const [mant, exp] = out.split("e") as [string, string | undefined];
      const trimmed = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
      out = exp === undefined ? trimmed : `${trimmed}e${exp}`;
    }
  }
  if (alt && !out.includes(".") && lower !== "%") out = out.replace(/^(\d+)/, "$1.");
  return type === type.toUpperCase() && type !== "%" ? out.toUpperCase() : out;
}

function asNumber(v: PyValue, spec: string): number | bigint {
  const i = intOf(v);
  if (i !== undefined) return i;
  if (typeof v === "number") return v;
  if (v instanceof Undefined) return v.fail();
  throw typeError(`%${spec} format: a real number is required, not ${typeName(v)}`);
}

function groupDigits(intPart: string, sep: string, every: number): string {
  return intPart.replace(new RegExp(`\\B(?=(\\d{${every}})+(?!\\d))`, "g"), sep);
}

interface Spec {
  fill: string;
  align: string | undefined;
  sign: string;
  alt: boolean;
  zero: boolean;
  width: number;
  grouping: string;
  precision: number | undefined;
  type: string;
}

function parseSpec(spec: string): Spec {
  const m =
    /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s.exec(spec);
  if (!m) throw valueError("Invalid format specifier");
  return {
    fill: m[1] ?? (m[5] && !m[2] ? "0" : " "),
    align: m[2] ?? (m[5] ? "=" : undefined),
    sign: m[3] ?? "-",
    alt: m[4] !== undefined,
    zero: m[5] !== undefined,
    width: m[6] ? Number(m[6]) : 0,
    grouping: m[7] ?? "",
    precision: m[8] !== undefined ? Number(m[8]) : undefined,
    type: m[9] ?? "",
  };
}

function pad(body: string, prefix: string, s: Spec, defaultAlign: string): string {
  const align = s.align ?? defaultAlign;
  const n = s.width - body.length - prefix.length;
  if (n <= 0) return prefix + body;
  const fill = s.fill.repeat(n);
  if (align === "<") return prefix + body + fill;
  if (align === ">") return fill + prefix + body;
  if (align === "=") return prefix + fill + body;
  const left = s.fill.repeat(Math.floor(n / 2));
  return left + prefix + body + s.fill.repeat(n - left.length);
}

/** Python's `format(value, spec)`. */
export function formatValue(v: PyValue, spec: string): string {
  if (v instanceof Undefined) return v.fail();
  if (v instanceof PyObject) {
    const custom = v.getAttr("__format__");
    if (custom instanceof PyObject && custom.call) return str(custom.call([spec], new Map()));
    if (spec !== "")
      throw typeError(`unsupported format string passed to ${v.typeName}.__format__`);
    return v.str();
  }
  if (spec === "") return str(v);
  const s = parseSpec(spec);
  const i = typeof v === "boolean" && s.type === "" ? undefined : intOf(v);
  if (typeof v === "string" || (i === undefined && typeof v !== "number")) {
    if (s.type !== "" && s.type !== "s") {
      throw valueError(`Unknown format code '${s.type}' for object of type '${typeName(v)}'`);
    }
    const text = typeof v === "string" ? v : str(v);
    return pad(s.precision !== undefined ? text.slice(0, s.precision) : text, "", s, "<");
  }
  const neg = i !== undefined ? i < 0n : (v as number) < 0 || Object.is(v, -0);
  const signText = neg ? "-" : s.sign === "-" ? "" : s.sign;
  let body: string;
  let prefix = signText;
  if (i !== undefined && "bcdoxXn".includes(s.type)) {
    const a = i < 0n ? -i : i;
    if (s.type === "c") body = String.fromCodePoint(Number(i));
    else {
      const radix = { b: 2, o: 8, x: 16, X: 16 }[s.type as "b"] ?? 10;
      body = a.toString(radix);
      if (s.type === "X") body = body.toUpperCase();
      if (s.alt && radix !== 10) prefix += `0${s.type === "X" ? "X" : s.type}`;
    }
  } else {
    const x = i !== undefined ? Number(i) : (v as number);
    if (s.type === "" && s.precision === undefined)
      body = i !== undefined ? (i < 0n ? -i : i).toString() : floatRepr(Math.abs(x));
    else if (s.type === "") {
      body = floatBody(x, "g", s.precision, s.alt);
      if (!/[.e]|inf|nan/.test(body)) body += ".0";
    } else if ("eEfFgG%".includes(s.type)) body = floatBody(x, s.type, s.precision, s.alt);
    else throw valueError(`Unknown format code '${s.type}' for object of type '${typeName(v)}'`);
  }
  if (s.grouping) {
    const [intPart, rest] = splitNumber(body);
    body =
      groupDigits(intPart, s.grouping, "boxX".includes(s.type) && s.type !== "" ? 4 : 3) + rest;
  }
  return pad(body, prefix, s, ">");
}

function splitNumber(body: string): [string, string] {
  const m = /^(\d*)(.*)$/s.exec(body);
  return [m?.[1] ?? "", m?.[2] ?? ""];
}

/** Python's `str.format`. */
export function strFormat(
  fmt: string,
  args: PyValue[],
  kwargs: Kwargs,
  getField: (v: PyValue, attr: string) => PyValue,
): string {
  let auto = 0;
  return fmt.replace(
    /\{\{|\}\}|\{((?:[^{}]|\{[^{}]*\})*)\}|\}|\{/g,
    (m, field: string | undefined) => {
      if (m === "{") throw valueError("Single '{' encountered in format string");
      if (m === "{{") return "{";
      if (m === "}}") return "}";
      if (field === undefined) throw valueError("Single '}' encountered in format string");
      const fm = /^([^.[!:]*)((?:\.[^.[!:]+|\[[^\]]*\])*)(?:!([rsa]))?(?::(.*))?$/s.exec(field);
      if (!fm) throw valueError("Invalid format string");
      const [, name = "", path = "", conv, nestedSpec = ""] = fm;
      let v: PyValue;
      if (name === "") {
        v = args[auto++] ?? missingIndex(auto - 1, args);
      } else if (/^\d+$/.test(name)) {
        v = args[Number(name)] ?? missingIndex(Number(name), args);
      } else {
        const kv = kwargs.get(name);
        if (kv === undefined) throw new PyError("KeyError", repr(name));
        v = kv;
      }
      for (const part of path.match(/\.[^.[]+|\[[^\]]*\]/g) ?? []) {
        if (part.startsWith(".")) v = getField(v, part.slice(1));
        else {
          const key = part.slice(1, -1);
          const k: PyValue = /^\d+$/.test(key) ? BigInt(key) : key;
          if (Array.isArray(v)) v = v[Number(k)] ?? missingIndex(Number(k), v);
          else if (v instanceof PyTuple) v = v.items[Number(k)] ?? missingIndex(Number(k), v.items);
          else if (v instanceof PyDict && v.has(k)) v = v.get(k) ?? null;
          else throw new PyError("KeyError", repr(k));
        }
      }
      // `{0:>{1}}`: fields inside the spec are formatted after the field's own.
      const spec = nestedSpec.replace(/\{[^{}]*\}/g, (inner) => {
        const fieldText = inner.slice(1, -1);
        if (fieldText === "") return formatValue(args[auto++] ?? missingIndex(auto - 1, args), "");
        return strFormat(inner, args, kwargs, getField);
      });
      if (conv === "r" || conv === "a") v = repr(v);
      else if (conv === "s") v = str(v);
      return formatValue(v, spec);
    },
  );
}

function missingIndex(i: number, args: readonly PyValue[]): never {
  throw new PyError(
    "IndexError",
    `Replacement index ${i} out of range for positional args tuple (${args.length} given)`,
  );
}

/** Python's printf-style `fmt % args`. */
export function percentFormat(fmt: string, args: PyValue): string {
  const positional = args instanceof PyTuple ? [...args.items] : [args];
  const mapping = args instanceof PyDict ? args : undefined;
  let next = 0;
  let usedMapping = false;
  const take = (): PyValue => {
    if (next >= positional.length) throw typeError("not enough arguments for format string");
    return positional[next++] as PyValue;
  };
  const re = /%(?:\(([^)]*)\))?([-#0 +]*)(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)?/gs;
  const out = fmt.replace(
    re,
    (_m, key: string | undefined, flags: string, w?: string, p?: string, type?: string) => {
      if (type === undefined) throw valueError("incomplete format");
      if (type === "%" && key === undefined && !flags && !w && p === undefined) return "%";
      let v: PyValue;
      const width = w === "*" ? Number(take()) : w ? Number(w) : 0;
      const prec = p === "*" ? Number(take()) : p !== undefined ? Number(p || "0") : undefined;
      if (key !== undefined) {
        if (!mapping) throw typeError("format requires a mapping");
        usedMapping = true;
        if (!mapping.has(key)) throw new PyError("KeyError", repr(key));
        v = mapping.get(key) ?? null;
      } else v = type === "%" ? "%" : take();
      const left = flags.includes("-");
      const zero = flags.includes("0") && !left;
      const sign = flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
      const alt = flags.includes("#");
      let body: string;
      let prefix = "";
      if (type === "s" || type === "r" || type === "a" || type === "%") {
        body = type === "s" ? str(v) : type === "%" ? "%" : repr(v);
        if (prec !== undefined) body = body.slice(0, prec);
        return left ? body.padEnd(width) : body.padStart(width);
      }
      if (type === "c") {
        body = typeof v === "string" ? v : String.fromCodePoint(Number(asNumber(v, "c")));
        return left ? body.padEnd(width) : body.padStart(width);
      }
      const n = asNumber(v, type);
      if ("diuoxX".includes(type)) {
        if (typeof n === "number" && "oxX".includes(type)) {
          throw typeError(`%${type} format: an integer is required, not float`);
        }
        const bi = typeof n === "bigint" ? n : BigInt(Math.trunc(n));
        const radix = type === "o" ? 8 : type === "x" || type === "X" ? 16 : 10;
        body = (bi < 0n ? -bi : bi).toString(radix);
        if (type === "X") body = body.toUpperCase();
        if (prec !== undefined) body = body.padStart(prec, "0");
        prefix = bi < 0n ? "-" : sign;
        if (alt && radix !== 10) prefix += `0${type === "o" ? "o" : type}`;
      } else if ("eEfFgG".includes(type)) {
        const x = Number(n);
        body = floatBody(x, type, prec, alt);
        prefix = x < 0 || Object.is(x, -0) ? "-" : sign;
      } else
        throw valueError(
          `unsupported format character '${type}' (0x${type.charCodeAt(0).toString(16)})`,
        );
      const fill = width - body.length - prefix.length;
      if (fill <= 0) return prefix + body;
      if (left) return prefix + body + " ".repeat(fill);
      return zero ? prefix + "0".repeat(fill) + body : " ".repeat(fill) + prefix + body;
    },
  );
  if (!mapping && next < positional.length) {
    throw typeError("not all arguments converted during string formatting");
  }
  void usedMapping;
  return out;
}
