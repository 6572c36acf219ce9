/**
 * Python's value model for templates: `str` is a JS string, `int` a bigint,
 * `float` a number, `bool` a boolean, `None` null, `list` an array; tuples,
 * dicts, callables and other objects are the classes below. `str()`, `repr()`,
 * truth, equality and ordering follow Python.
 */
import { PyError, typeError, UndefinedError } from "./errors";

/** A Python value. */
export type PyValue =
  | string
  | bigint
  | number
  | boolean
  | null
  | PyValue[]
  | PyTuple
  | PyDict
  | PyObject
  | Undefined;

/** Keyword arguments of a call. */
export type Kwargs = Map<string, PyValue>;

/** Python's `tuple`. */
export class PyTuple {
  constructor(
    readonly items: readonly PyValue[],
    /** A named tuple's type and field names, for its repr. */
    readonly named?: { readonly type: string; readonly fields: readonly string[] },
  ) {}
}

/** Any other Python object: override what the type supports. */
export abstract class PyObject {
  /** The type's name as Python's messages print it (`datetime.datetime`). */
  abstract readonly typeName: string;
  getAttr(_name: string): PyValue | undefined {
    return undefined;
  }
  repr(): string {
    return `<${this.typeName} object>`;
  }
  str(): string {
    return this.repr();
  }
  truthy(): boolean {
    return true;
  }
  /** `this <op> other` (or `other <op> this` when `reflected`); undefined: unsupported. */
  binop(_op: string, _other: PyValue, _reflected: boolean): PyValue | undefined {
    return undefined;
  }
  equals(other: PyValue): boolean {
    return other === this;
  }
  /** Ordering against `other`: negative, 0, positive; undefined if not comparable. */
  compare(_other: PyValue): number | undefined {
    return undefined;
  }
  /** A hash key for dict keys; undefined: unhashable. */
  hashKey(): string | undefined {
    return `o:${this.repr()}`;
  }
  call?(args: PyValue[], kwargs: Kwargs): PyValue;
  iter?(): PyValue[];
  len?(): number;
  getItem?(key: PyValue): PyValue;
}

/** A callable: a builtin function, method or class. */
export class PyFunction extends PyObject {
  readonly typeName: string = "builtin_function_or_method";
  constructor(
    readonly name: string,
    private readonly fn: (args: PyValue[], kwargs: Kwargs) => PyValue,
    private readonly attrs: Record<string, PyValue> = {},
  ) {
    super();
  }
  override call(args: PyValue[], kwargs: Kwargs): PyValue {
    return this.fn(args, kwargs);
  }
  override getAttr(name: string): PyValue | undefined {
    return Object.hasOwn(this.attrs, name) ? this.attrs[name] : undefined;
  }
  override repr(): string {
    return `<built-in function ${this.name}>`;
  }
  override hashKey(): string {
    return `f:${this.name}`;
  }
}

/** A module (`re`, `os.path`, …): attributes only. */
export class PyModule extends PyObject {
  readonly typeName = "module";
  constructor(
    readonly name: string,
    private readonly attrs: Record<string, PyValue>,
  ) {
    super();
  }
  override getAttr(name: string): PyValue | undefined {
    return Object.hasOwn(this.attrs, name) ? this.attrs[name] : undefined;
  }
  override repr(): string {
    return `<module '${this.name}'>`;
  }
}

/**
 * Jinja2's StrictUndefined: fails when used for anything but `is defined`/`default`.
 * Not `strict`: Jinja2's plain `Undefined`, which the implicit `else` of an
 * inline `if` gives even under StrictUndefined (prints `''`, is false, empty).
 */
export class Undefined {
  constructor(
    readonly hint: string,
    readonly strict = true,
  ) {}
  fail(): never {
    throw new UndefinedError(this.hint);
  }
}

/** An undefined name. */
export const undefinedName = (name: string): Undefined => new Undefined(`'${name}' is undefined`);

/** An attribute that `obj` lacks. */
export const undefinedAttr = (obj: PyValue, name: string): Undefined =>
  new Undefined(`'${typeName(obj)} object' has no attribute '${name}'`);

/** Python's `dict`, keyed by {@link hashKey}. */
export class PyDict {
  readonly entries = new Map<string, [PyValue, PyValue]>();
  constructor(pairs: Iterable<[PyValue, PyValue]> = []) {
    for (const [k, v] of pairs) this.set(k, v);
  }
  static of(record: Record<string, PyValue>): PyDict {
    return new PyDict(Object.entries(record));
  }
  get(key: PyValue): PyValue | undefined {
    return this.entries.get(hashKey(key))?.[1];
  }
  has(key: PyValue): boolean {
    return this.entries.has(hashKey(key));
  }
  set(key: PyValue, value: PyValue): void {
    const h = hashKey(key);
    const old = this.entries.get(h);
    this.entries.set(h, [old ? old[0] : key, value]);
  }
  delete(key: PyValue): boolean {
    return this.entries.delete(hashKey(key));
  }
  keys(): PyValue[] {
    return [...this.entries.values()].map(([k]) => k);
  }
  values(): PyValue[] {
    return [...this.entries.values()].map(([, v]) => v);
  }
  items(): [PyValue, PyValue][] {
    return [...this.entries.values()];
  }
  get size(): number {
    return this.entries.size;
  }
}

/** Python's type name of a value, as error messages print it. */
export function typeName(v: PyValue): string {
  if (typeof v === "string") return "str";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "boolean") return "bool";
  if (v === null) return "NoneType";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyDict) return "dict";
  if (v instanceof Undefined) return "Undefined";
  return v.typeName;
}

/** The key under which a value is stored in a dict (equal values, equal keys). */
export function hashKey(v: PyValue): string {
  if (typeof v === "string") return `s:${v}`;
  if (typeof v === "bigint") return `n:${v}`;
  if (typeof v === "boolean") return `n:${v ? 1 : 0}`;
  if (typeof v === "number") return Number.isInteger(v) ? `n:${BigInt(v)}` : `n:${v}`;
  if (v === null) return "None";
  if (v instanceof PyTuple) return `t:(${v.items.map(hashKey).join(",")})`;
  if (v instanceof Undefined) return v.fail();
  const key = v instanceof PyObject ? v.hashKey() : undefined;
  if (key === undefined) throw typeError(`unhashable type: '${typeName(v)}'`);
  return key;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent outside 1e-4 … 1e16. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = mant.replace(/\.?0+$/, "");
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(x);
  if (s.includes("e")) {
    const neg = x < 0;
    const digits = mant.replace("-", "").replace(".", "");
    const body =
      exp < 0
        ? `0.${"0".repeat(-exp - 1)}${digits}`
        : digits.padEnd(exp + 1, "0").slice(0, exp + 1);
    return `${neg ? "-" : ""}${body}${body.includes(".") ? "" : ".0"}`;
  }
  return s.includes(".") ? s : `${s}.0`;
}

/** Python's `repr(str)`. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python's `repr()`. */
export function repr(v: PyValue): string {
  if (typeof v === "string") return strRepr(v);
  if (v instanceof Undefined) return "Undefined";
  if (Array.isArray(v)) return `[${v.map(repr).join(", ")}]`;
  if (v instanceof PyTuple && v.named) {
    const { type, fields } = v.named;
    return `${type}(${v.items.map((x, i) => `${fields[i]}=${repr(x)}`).join(", ")})`;
  }
  if (v instanceof PyTuple) {
    return v.items.length === 1
      ? `(${repr(v.items[0] ?? null)},)`
      : `(${v.items.map(repr).join(", ")})`;
  }
  if (v instanceof PyDict) {
    return `{${v
      .items()
      .map(([k, x]) => `${repr(k)}: ${repr(x)}`)
      .join(", ")}}`;
  }
  if (v instanceof PyObject) return v.repr();
  return str(v);
}

/** Python's `str()` (Jinja2's output of `{{ v }}`). */
export function str(v: PyValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return floatRepr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null) return "None";
  if (v instanceof Undefined) return v.strict ? v.fail() : "";
  if (v instanceof PyObject) return v.str();
  return repr(v);
}

/** Python truth. */
export function truthy(v: PyValue): boolean {
  if (typeof v === "string") return v !== "";
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "boolean") return v;
  if (v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof PyDict) return v.size > 0;
  if (v instanceof Undefined) return v.strict ? v.fail() : false;
  if (v.len) return v.len() > 0;
  return v.truthy();
}

/** A number's value as a JS number, or undefined for non-numbers (bools count). */
export function numeric(v: PyValue): number | undefined {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return undefined;
}

/** An int-like value (int or bool) as a bigint, else undefined. */
export function intOf(v: PyValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return undefined;
}

/**
 * The operands of `==` or `<` as numbers when both are: exact bigints when both
 * are ints, else floats; undefined when either is not a number. An Undefined
 * operand fails first.
 */
function numericOperands(a: PyValue, b: PyValue): [bigint, bigint] | [number, number] | undefined {
  if (a instanceof Undefined) return a.fail();
  if (b instanceof Undefined) return b.fail();
  const na = numeric(a);
  const nb = numeric(b);
  if (na === undefined || nb === undefined) return undefined;
  const ia = intOf(a);
  const ib = intOf(b);
  return ia !== undefined && ib !== undefined ? [ia, ib] : [na, nb];
}

/** Python `==`. */
export function equals(a: PyValue, b: PyValue): boolean {
  const n = numericOperands(a, b);
  if (n) return n[0] === n[1];
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && seqEquals(a, b);
  }
  if (a instanceof PyTuple || b instanceof PyTuple) {
    return a instanceof PyTuple && b instanceof PyTuple && seqEquals(a.items, b.items);
  }
  if (a instanceof PyDict || b instanceof PyDict) {
    if (!(a instanceof PyDict && b instanceof PyDict) || a.size !== b.size) return false;
    return a.items().every(([k, v]) => b.has(k) && equals(v, b.get(k) ?? null));
  }
  if (a instanceof PyObject) return a.equals(b);
  return false;
}

function seqEquals(a: readonly PyValue[], b: readonly PyValue[]): boolean {
  return a.length === b.length && a.every((x, i) => equals(x, b[i] ?? null));
}

/** Python ordering (`<` …): negative, zero or positive; TypeError when not comparable. */
export function compare(a: PyValue, b: PyValue, op = "<"): number {
  const n = numericOperands(a, b);
  if (n) return n[0] < n[1] ? -1 : n[0] > n[1] ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const seq = (x: PyValue) => (Array.isArray(x) ? x : x instanceof PyTuple ? x.items : undefined);
  const sa = seq(a);
  const sb = seq(b);
  if (sa && sb && Array.isArray(a) === Array.isArray(b)) {
    for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
      if (!equals(sa[i] ?? null, sb[i] ?? null)) return compare(sa[i] ?? null, sb[i] ?? null, op);
    }
    return sa.length - sb.length;
  }
  const c = a instanceof PyObject ? a.compare(b) : undefined;
  if (c !== undefined) return c;
  const r = b instanceof PyObject ? b.compare(a) : undefined;
  if (r !== undefined) return -r;
  throw typeError(
    `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
  );
}

/** Python iteration (`for x in v`). */
export function iterate(v: PyValue): PyValue[] {
  if (typeof v === "string") return [...v];
  if (Array.isArray(v)) return [...v];
  if (v instanceof PyTuple) return [...v.items];
  if (v instanceof PyDict) return v.keys();
  if (v instanceof Undefined) return v.strict ? v.fail() : [];
  if (v instanceof PyObject && v.iter) return v.iter();
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

/** Python `len()`. */
export function len(v: PyValue): number {
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof PyTuple) return v.items.length;
  if (v instanceof PyDict) return v.size;
  if (v instanceof Undefined) return v.strict ? v.fail() : 0;
  if (v instanceof PyObject && v.len) return v.len();
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

/**
 * Bind call arguments to a signature like Python: `names` in order, `defaults`
 * for the optional ones. Returns the values by name; TypeError on too many,
 * unknown or missing arguments.
 */
export function bind(
  fn: string,
  names: readonly string[],
  args: readonly PyValue[],
  kwargs: Kwargs,
  defaults: Record<string, PyValue> = {},
): Record<string, PyValue> {
  if (args.length > names.length) {
    throw typeError(`${fn}() takes at most ${names.length} arguments (${args.length} given)`);
  }
  const out: Record<string, PyValue> = {};
  names.forEach((n, i) => {
    if (i < args.length) out[n] = args[i] ?? null;
  });
  for (const [k, v] of kwargs) {
    if (!names.includes(k)) throw typeError(`${fn}() got an unexpected keyword argument '${k}'`);
    if (k in out) throw typeError(`${fn}() got multiple values for argument '${k}'`);
    out[k] = v;
  }
  for (const n of names) {
    if (!(n in out)) {
      if (!(n in defaults)) throw typeError(`${fn}() missing required argument: '${n}'`);
      out[n] = defaults[n] ?? null;
    }
  }
  return out;
}

/** A value that must be a str. */
export function asStr(v: PyValue, what: string): string {
  if (typeof v === "string") return v;
  if (v instanceof Undefined) return v.fail();
  throw typeError(`${what} must be str, not ${typeName(v)}`);
}

/** A value that must be an int (or bool), as a JS number. */
export function asInt(v: PyValue, what: string): number {
  const i = intOf(v);
  if (i !== undefined) return Number(i);
  if (v instanceof Undefined) return v.fail();
  throw typeError(`${what} must be an integer, not ${typeName(v)}`);
}

/** A JS value from the outside (spec, event) as a Python value; dates as aware UTC datetimes. */
export function toPy(v: unknown, date: (d: Date) => PyValue): PyValue {
  if (v === undefined) return null;
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === "bigint") return v;
  if (Array.isArray(v)) return v.map((x) => toPy(x, date));
  if (v instanceof Date) return date(v);
  if (
    v instanceof PyTuple ||
    v instanceof PyDict ||
    v instanceof PyObject ||
    v instanceof Undefined
  ) {
    return v;
  }
  if (typeof v === "object") {
    return new PyDict(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, toPy(x, date)]),
    );
  }
  throw new PyError("TypeError", `cannot use a ${typeof v} in a template`);
}
