/** Python's operators, subscripts and Jinja2's attribute lookup over {@link PyValue}s. */
import { PyError, typeError } from "./errors";
import { percentFormat } from "./format";
import { pyGetAttr } from "./methods";
import {
  compare,
  equals,
  intOf,
  iterate,
  numeric,
  PyDict,
  PyObject,
  PyTuple,
  type PyValue,
  typeName,
  Undefined,
  undefinedAttr,
} from "./values";

/** A slice object (`a[1:2]`). */
export class PySlice extends PyObject {
  readonly typeName = "slice";
  constructor(
    readonly start: PyValue,
    readonly stop: PyValue,
    readonly step: PyValue,
  ) {
    super();
  }
  /** Python's `slice.indices(length)` then the selected positions. */
  positions(length: number): number[] {
    const int = (v: PyValue, what: string): number | undefined => {
      if (v === null) return undefined;
      const i = intOf(v);
      if (i === undefined) throw typeError(`slice ${what} must be integers or None`);
      return Number(i);
    };
    const step = int(this.step, "indices") ?? 1;
    if (step === 0) throw new PyError("ValueError", "slice step cannot be zero");
    const clamp = (v: number | undefined, dflt: number, lo: number, hi: number) => {
      if (v === undefined) return dflt;
      const x = v < 0 ? v + length : v;
      return Math.min(Math.max(x, lo), hi);
    };
    const out: number[] = [];
    if (step > 0) {
      const start = clamp(int(this.start, "indices"), 0, 0, length);
      const stop = clamp(int(this.stop, "indices"), length, 0, length);
      for (let i = start; i < stop; i += step) out.push(i);
    } else {
      const start = clamp(int(this.start, "indices"), length - 1, -1, length - 1);
      const stop = clamp(int(this.stop, "indices"), -1, -1, length - 1);
      for (let i = start; i > stop; i += step) out.push(i);
    }
    return out;
  }
}

const OP_NAMES: Record<string, string> = {
  "+": "+",
  "-": "-",
  "*": "*",
  "/": "/",
  "//": "//",
  "%": "%",
  "**": "** or pow()",
};

function unsupported(op: string, a: PyValue, b: PyValue): never {
  throw typeError(
    `unsupported operand type(s) for ${OP_NAMES[op] ?? op}: '${typeName(a)}' and '${typeName(b)}'`,
  );
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function repeat(seq: PyValue, n: bigint): PyValue {
  const k = Math.max(0, Number(n));
  if (typeof seq === "string") return seq.repeat(k);
  const items = Array.isArray(seq) ? seq : (seq as PyTuple).items;
  if (items.length * k > 10_000_000)
    throw new PyError("MemoryError", "sequence too large to repeat here");
  const out: PyValue[] = [];
  for (let i = 0; i < k; i++) out.push(...items);
  return Array.isArray(seq) ? out : new PyTuple(out);
}

/** `a <op> b` for the arithmetic operators. */
export function binop(op: string, a: PyValue, b: PyValue): PyValue {
  if (a instanceof Undefined) return a.fail();
  if (b instanceof Undefined) return b.fail();
  const ia = intOf(a);
  const ib = intOf(b);
  if (ia !== undefined && ib !== undefined) return intOp(op, ia, ib);
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return floatOp(op, na, nb);
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (a instanceof PyTuple && b instanceof PyTuple) return new PyTuple([...a.items, ...b.items]);
    if (typeof a === "string" && !(b instanceof PyObject)) {
      throw typeError(`can only concatenate str (not "${typeName(b)}") to str`);
    }
  }
  if (op === "*") {
    const isSeq = (v: PyValue) => typeof v === "string" || Array.isArray(v) || v instanceof PyTuple;
    if (isSeq(a) && ib !== undefined) return repeat(a, ib);
    if (isSeq(b) && ia !== undefined) return repeat(b, ia);
  }
  if (op === "%" && typeof a === "string") return percentFormat(a, b);
  const r = a instanceof PyObject ? a.binop(op, b, false) : undefined;
  if (r !== undefined) return r;
  const l = b instanceof PyObject ? b.binop(op, a, true) : undefined;
  if (l !== undefined) return l;
  return unsupported(op, a, b);
}

function intOp(op: string, a: bigint, b: bigint): PyValue {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0n) throw new PyError("ZeroDivisionError", "division by zero");
      return Number(a) / Number(b);
    case "//":
      if (b === 0n) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
      return floorDiv(a, b);
    case "%":
      if (b === 0n) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
      return a - floorDiv(a, b) * b;
    case "**":
      if (b < 0n && a === 0n) {
        throw new PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      }
      return b < 0n ? Number(a) ** Number(b) : a ** b;
    default:
      throw typeError(`unknown operator ${op}`);
  }
}

function floatOp(op: string, a: number, b: number): PyValue {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) throw new PyError("ZeroDivisionError", "float division by zero");
      return a / b;
    case "//":
      if (b === 0) throw new PyError("ZeroDivisionError", "float floor division by zero");
      return Math.floor(a / b);
    case "%": {
      if (b === 0) throw new PyError("ZeroDivisionError", "float modulo");
      const m = a % b;
      return m !== 0 && m < 0 !== b < 0 ? m + b : m;
    }
    case "**":
      return a ** b;
    default:
      throw typeError(`unknown operator ${op}`);
  }
}

/** Unary `-x` / `+x`. */
export function unaryOp(op: "-" | "+", v: PyValue): PyValue {
  const i = intOf(v);
  if (i !== undefined) return op === "-" ? -i : i;
  if (typeof v === "number") return op === "-" ? -v : v;
  if (v instanceof Undefined) return v.fail();
  if (v instanceof PyObject) {
    const r = v.binop(op === "-" ? "neg" : "pos", null, false);
    if (r !== undefined) return r;
  }
  throw typeError(`bad operand type for unary ${op}: '${typeName(v)}'`);
}

/** Python `item in container`. */
export function contains(container: PyValue, item: PyValue): boolean {
  if (typeof container === "string") {
    if (item instanceof Undefined) return item.fail();
    if (typeof item !== "string") {
      throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (container instanceof PyDict) return container.has(item);
  return iterate(container).some((x) => equals(x, item));
}

/** A comparison operator. */
export function compareOp(op: string, a: PyValue, b: PyValue): boolean {
  switch (op) {
    case "==":
      return equals(a, b);
    case "!=":
      return !equals(a, b);
    case "in":
      return contains(b, a);
    case "notin":
      return !contains(b, a);
    default: {
      const c = compare(a, b, op);
      return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
    }
  }
}

/** `obj[key]` as Python does it; throws Python's errors. */
export function pyGetItem(obj: PyValue, key: PyValue): PyValue {
  if (obj instanceof Undefined) return obj.fail();
  if (obj instanceof PyDict) {
    const v = obj.get(key);
    if (v === undefined) throw new PyError("KeyError", String(key));
    return v;
  }
  const seq =
    typeof obj === "string"
      ? [...obj]
      : Array.isArray(obj)
        ? obj
        : obj instanceof PyTuple
          ? obj.items
          : undefined;
  if (seq) {
    if (key instanceof PySlice) {
      const picked = key.positions(seq.length).map((i) => seq[i] as PyValue);
      if (typeof obj === "string") return picked.join("");
      return Array.isArray(obj) ? picked : new PyTuple(picked);
    }
    const i = intOf(key);
    if (i === undefined)
      throw typeError(`${typeName(obj)} indices must be integers or slices, not ${typeName(key)}`);
    const n = Number(i) < 0 ? Number(i) + seq.length : Number(i);
    if (n < 0 || n >= seq.length)
      throw new PyError("IndexError", `${typeName(obj)} index out of range`);
    return seq[n] as PyValue;
  }
  if (obj instanceof PyObject && obj.getItem) return obj.getItem(key);
  throw typeError(`'${typeName(obj)}' object is not subscriptable`);
}

const LOOKUP_ERRORS = new Set(["TypeError", "KeyError", "IndexError", "AttributeError"]);

function lookupFailed(err: unknown): boolean {
  return err instanceof PyError && LOOKUP_ERRORS.has(err.pyType);
}

/** Jinja2's `environment.getattr`: attribute, else item, else undefined. */
export function jinjaGetAttr(obj: PyValue, name: string): PyValue {
  const a = pyGetAttr(obj, name);
  if (a !== undefined) return a;
  try {
    return pyGetItem(obj, name);
  } catch (err) {
    if (!lookupFailed(err)) throw err;
    return undefinedAttr(obj, name);
  }
}

/** Jinja2's `environment.getitem`: item, else attribute (for a str key), else undefined. */
export function jinjaGetItem(obj: PyValue, key: PyValue): PyValue {
  try {
    return pyGetItem(obj, key);
  } catch (err) {
    if (!lookupFailed(err)) throw err;
    if (typeof key === "string") {
      const a = pyGetAttr(obj, key);
      if (a !== undefined) return a;
    }
    return new Undefined(
      typeof key === "string" || obj instanceof PyDict
        ? `'${typeName(obj)} object' has no attribute '${String(key)}'`
        : `${typeName(obj)} object has no element ${String(key)}`,
    );
  }
}
