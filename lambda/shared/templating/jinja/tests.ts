/** Jinja2's built-in tests (`jinja2/tests.py`): `x is defined`, `n is divisibleby 3`, … */
import { PyError } from "./errors";
import { compareOp } from "./ops";
import {
  intOf,
  iterate,
  type Kwargs,
  len,
  PyDict,
  PyObject,
  type PyValue,
  str,
  Undefined,
} from "./values";

type Test = (v: PyValue, args: PyValue[], kwargs: Kwargs) => boolean;

const arg = (a: PyValue[], kw: Kwargs, name: string): PyValue => a[0] ?? kw.get(name) ?? null;
const cmp =
  (op: string): Test =>
  (v, a, kw) =>
    compareOp(op, v, arg(a, kw, "other"));
const tries = (f: () => unknown): boolean => {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof PyError && err.pyType === "UndefinedError") throw err;
    return false;
  }
};

const TESTS: Record<string, Test> = {
  defined: (v) => !(v instanceof Undefined),
  undefined: (v) => v instanceof Undefined,
  none: (v) => v === null,
  boolean: (v) => typeof v === "boolean",
  false: (v) => v === false,
  true: (v) => v === true,
  integer: (v) => typeof v === "bigint",
  float: (v) => typeof v === "number",
  number: (v) => typeof v === "bigint" || typeof v === "number" || typeof v === "boolean",
  string: (v) => typeof v === "string",
  mapping: (v) => v instanceof PyDict,
  iterable: (v) => !(v instanceof Undefined) && tries(() => iterate(v)),
  sequence: (v) =>
    !(v instanceof Undefined) && tries(() => len(v)) && !(v instanceof PyObject && !v.getItem),
  callable: (v) => v instanceof PyObject && v.call !== undefined,
  sameas: (v, a, kw) => {
    const o = arg(a, kw, "other");
    return v === o || (typeof v === "bigint" && v === o);
  },
  escaped: () => false,
  odd: (v) => parity(v) === 1,
  even: (v) => parity(v) === 0,
  divisibleby: (v, a, kw) => {
    const n = intOf(v);
    const d = intOf(arg(a, kw, "num"));
    if (n === undefined || d === undefined) return failNum(v);
    if (d === 0n) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
    return n % d === 0n;
  },
  lower: (v) => {
    const s = str(v);
    return s.toLowerCase() === s && s.toUpperCase() !== s;
  },
  upper: (v) => {
    const s = str(v);
    return s.toUpperCase() === s && s.toLowerCase() !== s;
  },
  in: (v, a, kw) => compareOp("in", v, arg(a, kw, "seq")),
  "==": cmp("=="),
  eq: cmp("=="),
  equalto: cmp("=="),
  "!=": cmp("!="),
  ne: cmp("!="),
  ">": cmp(">"),
  gt: cmp(">"),
  greaterthan: cmp(">"),
  ">=": cmp(">="),
  ge: cmp(">="),
  "<": cmp("<"),
  lt: cmp("<"),
  lessthan: cmp("<"),
  "<=": cmp("<="),
  le: cmp("<="),
};

/** `v % 2` as Python computes it, for ints and floats. */
function parity(v: PyValue): number {
  const i = intOf(v);
  if (i !== undefined) return Number(((i % 2n) + 2n) % 2n);
  if (typeof v === "number") return ((v % 2) + 2) % 2;
  return failNum(v) ? 0 : 0;
}

function failNum(v: PyValue): boolean {
  if (v instanceof Undefined) return v.fail();
  if (typeof v === "number") return false;
  throw new PyError("TypeError", "unsupported operand type(s) for %");
}

/** Apply the test `name`. */
export function callTest(name: string, value: PyValue, args: PyValue[], kwargs: Kwargs): boolean {
  const t = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
  if (!t) throw new PyError("TemplateAssertionError", `No test named '${name}'.`);
  return t(value, args, kwargs);
}

/** Whether a test exists (for compile-time checks). */
export const hasTest = (name: string): boolean => Object.hasOwn(TESTS, name);
